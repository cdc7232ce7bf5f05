//! Hostile input: never a panic, always a located error, bounded time and memory.

use iam_policy::{MAX_DOCUMENT_BYTES, PolicyType, ValidateOptions};

fn check(bytes: &[u8]) -> iam_policy::Checked {
    iam_policy::check(
        "hostile.json",
        bytes,
        PolicyType::Identity,
        &ValidateOptions::default(),
    )
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let c = check("[".repeat(100_000).as_bytes());
    assert_eq!(c.diagnostics.len(), 1);
    assert_eq!(c.diagnostics[0].code, "json::too-deep");
    let c = check(format!("{{\"Statement\": {}", "{\"a\":".repeat(100_000)).as_bytes());
    assert_eq!(c.diagnostics[0].code, "json::too-deep");
}

#[test]
fn oversized_document_is_refused_with_the_limit() {
    let mut big = String::from("{\"Version\":\"2012-10-17\",\"Statement\":[");
    let stmt =
        r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/key"},"#;
    while big.len() < 50 * 1024 * 1024 {
        big.push_str(stmt);
    }
    big.pop();
    big.push_str("]}");
    let c = check(big.as_bytes());
    assert_eq!(c.diagnostics.len(), 1);
    assert_eq!(c.diagnostics[0].code, "iam::too-large");
    assert!(
        c.diagnostics[0]
            .message
            .contains(&MAX_DOCUMENT_BYTES.to_string())
    );
}

#[test]
fn document_just_under_the_limit_parses() {
    let mut big = String::from("{\"Version\":\"2012-10-17\",\"Statement\":[");
    let mut n = 0;
    while big.len() < MAX_DOCUMENT_BYTES - 200 {
        big.push_str(&format!(r#"{{"Sid":"S{n}","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/{n}"}},"#));
        n += 1;
    }
    big.pop();
    big.push_str("]}");
    let c = check(big.as_bytes());
    assert!(!c.has_errors(), "{:?}", c.diagnostics.first());
    assert_eq!(c.document.unwrap().statements.len(), n);
}

#[test]
fn invalid_utf8_is_located() {
    let mut bytes =
        br#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:Get"#.to_vec();
    let at = bytes.len();
    bytes.extend_from_slice(&[0xFF, 0xFE]);
    bytes.extend_from_slice(br#"", "Resource": "*"}}"#);
    let c = check(&bytes);
    assert_eq!(c.diagnostics[0].code, "json::utf8");
    assert_eq!(c.diagnostics[0].span.start, at);
    assert_eq!(c.source.line_col(at), (1, at + 1));
}

#[test]
fn one_megabyte_string_value() {
    let sid = "A".repeat(1024 * 1024);
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Sid":"{sid}","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}}}"#
    );
    let c = check(doc.as_bytes());
    assert!(!c.has_errors());
    assert_eq!(
        c.document.unwrap().statements[0]
            .sid
            .as_ref()
            .unwrap()
            .value
            .len(),
        sid.len()
    );
}

#[test]
fn garbage_never_panics() {
    let inputs: &[&[u8]] = &[
        b"",
        b"{",
        b"}",
        b"[",
        b"\"",
        b"{\"",
        b"{\"a\"",
        b"{\"a\":",
        b"{\"a\":}",
        b"nul",
        b"\\u",
        b"\"\\u12",
        b"\"\\ud800\"",
        b"{\"Statement\":[{}]}",
        b"{\"Statement\":[]}",
        b"{\"Statement\":{\"Effect\":1}}",
        b"{\"Statement\":{\"Condition\":{\"StringEquals\":{\"k\":[[]]}}}}",
        b"\xEF\xBB\xBF{}",
        b"/*",
        b"//",
        b"{\"Statement\":{\"Resource\":\"arn:aws:s3:::${\"}}",
    ];
    for i in inputs {
        let c = check(i);
        assert!(
            c.has_errors(),
            "{:?} was accepted",
            String::from_utf8_lossy(i)
        );
        for d in &c.diagnostics {
            assert!(
                d.span.start <= i.len() && d.span.end <= i.len() + 1,
                "span out of range for {:?}",
                String::from_utf8_lossy(i)
            );
        }
    }
}

#[test]
fn all_errors_in_one_pass() {
    let doc = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"},
    {"Effect": "Allow", "Action": "invalid", "Resource": "arn:aws:s3:::b",},
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEqualz": {"k": "v"}}}
  ]
}"#;
    let c = check(doc.as_bytes());
    let codes: Vec<_> = c
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    assert_eq!(
        codes,
        [
            "json::trailing-comma",
            "iam::effect",
            "iam::action-prefix",
            "iam::condition-operator"
        ]
    );
}

/// Output stays readable on bad input: a bounded snippet on a one-line document, one line for an
/// oversized or binary one, and never a raw control character on the terminal.
#[test]
fn diagnostics_stay_bounded_and_printable() {
    use crate::cli::run;
    let dir = std::env::temp_dir().join(format!("pc-bounded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let actions: Vec<String> = (0..5000).map(|_| "\"s3:GetObject\"".to_string()).collect();
    let one_line = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":[{}],"Resource":"*","Effect":"Deny"}}]}}"#,
        actions.join(",")
    );
    let f = dir.join("one-line.json");
    std::fs::write(&f, &one_line).unwrap();
    let (code, _, err) = run(&["validate", f.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(one_line.len() > 60_000);
    assert!(err.len() < 2_000, "{} bytes of output", err.len());
    assert!(err.lines().all(|l| l.chars().count() < 300), "{err}");
    // The real line and column, and the far first occurrence named by position.
    let col = one_line.rfind("\"Effect\"").unwrap() + 1;
    assert!(err.contains(&format!("one-line.json:1:{col}")), "{err}");
    assert!(err.contains("first occurrence at 1:"), "{err}");

    let big = dir.join("big.json");
    let mut text = String::from("{\"Statement\":[");
    while text.len() < iam_policy::MAX_DOCUMENT_BYTES + 10 {
        text.push_str(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},"#);
    }
    std::fs::write(&big, &text).unwrap();
    let (code, _, err) = run(&["validate", big.to_str().unwrap()]);
    assert_eq!(code, 1);
    let first = err.lines().next().unwrap();
    assert!(
        first.contains("big.json:1:1: error:") && first.contains("limit"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 2, "{err}");

    let bin = dir.join("bin.json");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    std::fs::write(&bin, &bytes).unwrap();
    let (code, _, err) = run(&["validate", bin.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.lines().count() <= 2, "{err}");
    assert!(!err.chars().any(|c| c.is_control() && c != '\n'), "{err:?}");

    // Control characters and bidi overrides inside a text document are replaced in snippets.
    let ctl = dir.join("ctl.json");
    std::fs::write(
        &ctl,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"allow\u{1b}[31m\u{202e}\",\"Action\":\"*\",\"Resource\":\"*\"}}",
    )
    .unwrap();
    let (code, _, err) = run(&["validate", ctl.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "{err:?}"
    );
}

/// Cedar entity hierarchies a request chooses: a 12,000-entity parent cycle and a 4,000-entity chain are
/// refused before Cedar sees them (Cedar's transitive closure is recursive), with `ValidationException`;
/// a 99-deep chain, AWS's limit, is decided. Each runs on a thread with a 512 KiB stack (a quarter of the
/// 2 MiB every server, tokio and test thread gets; debug build), so a
/// recursion that the request could deepen would abort the test.
#[test]
fn entity_cycles_and_deep_chains_are_refused_before_cedar() {
    use serde_json::json;
    let store = cedar_bridge::PolicyStore::from_parts(
        &[(
            "p.cedar".into(),
            r#"@id("g") permit(principal in Group::"g0", action == Action::"view", resource);"#
                .into(),
        )],
        None,
        None,
        Vec::new(),
        false,
    )
    .unwrap();
    let store = std::sync::Arc::new(store);
    let req = |ents: Vec<serde_json::Value>| {
        json!({"principal": {"entityType": "User", "entityId": "u"},
               "action": {"actionType": "Action", "actionId": "view"},
               "resource": {"entityType": "Photo", "entityId": "p"},
               "entities": {"entityList": ents}})
    };
    let group = |i: usize, parent: usize| {
        json!({"identifier": {"entityType": "Group", "entityId": format!("g{i}")},
               "parents": [{"entityType": "Group", "entityId": format!("g{parent}")}]})
    };
    let user_in = |g: usize| {
        json!({"identifier": {"entityType": "User", "entityId": "u"},
               "parents": [{"entityType": "Group", "entityId": format!("g{g}")}]})
    };
    // A cycle of 12,000 groups, the user in one of them.
    let n = 12_000;
    let mut cycle: Vec<serde_json::Value> = (0..n).map(|i| group(i, (i + 1) % n)).collect();
    cycle.push(user_in(5));
    // A chain of 4,000 groups.
    let mut chain: Vec<serde_json::Value> = (1..4_000).map(|i| group(i, i - 1)).collect();
    chain.push(user_in(3_999));
    // A chain at AWS's limit: the user has 99 transitive parents.
    let mut ok: Vec<serde_json::Value> = (1..99).map(|i| group(i, i - 1)).collect();
    ok.push(json!({"identifier": {"entityType": "Group", "entityId": "g0"}}));
    ok.push(user_in(98));
    for (ents, want) in [
        (cycle, Err("cycle")),
        (chain, Err("transitive parents")),
        (ok, Ok(())),
    ] {
        let store = store.clone();
        let r = req(ents);
        let got = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || {
                cedar_bridge::avp::decide(&store, &r, &Default::default(), None)
                    .map(|a| a.result.decision)
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        match (got, want) {
            (Ok(d), Ok(())) => assert_eq!(d, authz_core::Decision::Allow),
            (Err(e), Err(w)) => {
                assert_eq!(e.exception(), Some("ValidationException"));
                assert!(e.to_string().contains(w), "{e}");
            }
            (got, want) => panic!("{got:?} vs {want:?}"),
        }
    }
}

/// Two symbolic links to `..` used to make `validate`, `lint` and `test` walk forever: each real
/// directory is entered once. Run on a thread with a bounded wait.
#[cfg(unix)]
#[test]
fn symlink_loops_are_walked_once() {
    let dir = std::env::temp_dir().join(format!("pc-symlinks-{}", std::process::id()));
    let inner = dir.join("a");
    std::fs::create_dir_all(&inner).unwrap();
    std::fs::write(
        inner.join("p.json"),
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
    )
    .unwrap();
    std::fs::write(
        inner.join("t.suite.json"),
        r#"{"identity": "p.json", "cases": [{"name": "reads", "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}, "expect": "Allow"}]}"#,
    )
    .unwrap();
    for link in ["up1", "up2"] {
        let _ = std::os::unix::fs::symlink("..", inner.join(link));
    }
    let d = dir.display().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let v = crate::cli::run(&["validate", &d]);
        let l = crate::cli::run(&["lint", "--format", "json", &d]);
        let t = crate::cli::run(&["test", &d]);
        let _ = tx.send((v, l, t));
    });
    let ((vc, _, verr), (lc, lout, _), (tc, tout, _)) = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the walks finish");
    assert_eq!(vc, 0, "{verr}");
    assert!(verr.contains("1 file(s) checked"), "{verr}");
    assert_eq!(lc, 0);
    assert_eq!(lout.lines().count(), 1, "{lout}");
    assert_eq!(tc, 0, "{tout}");
    assert!(tout.contains("1 passed, 0 failed"), "{tout}");
}

/// `validate` draws at most 100 diagnostics per file and counts the rest (`--format json` lists all):
/// drawing each with its source lines would cost the file's size per diagnostic.
#[test]
fn diagnostics_drawn_per_file_are_capped() {
    let actions: Vec<String> = (0..1500).map(|i| format!("\"s3:GetObjekt{i}\"")).collect();
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":[{}],"Resource":"*"}}}}"#,
        actions.join(",")
    );
    let p = std::env::temp_dir().join(format!("pc-many-diags-{}.json", std::process::id()));
    std::fs::write(&p, text).unwrap();
    let p = p.display().to_string();
    let (_, _, err) = crate::cli::run(&["validate", "--type", "identity", &p]);
    assert_eq!(
        err.matches("iam::unknown-action").count(),
        100,
        "{}",
        &err[..err.len().min(500)]
    );
    assert!(
        err.contains("… and 1400 more diagnostic(s)"),
        "{}",
        &err[err.len().saturating_sub(500)..]
    );
    let (_, out, _) = crate::cli::run(&["validate", "--type", "identity", "--format", "json", &p]);
    assert_eq!(out.lines().count(), 1500);
}

/// Suites cannot pass vacuously: a case with no policy at all is bad input unless it says so with
/// `"identity": []`, and an `expect_error` code that is not registered is bad input (it could never
/// match).
#[test]
fn suites_refuse_vacuous_cases_and_unknown_error_codes() {
    let dir = std::env::temp_dir().join(format!("pc-vacuous-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let none = write(
        "none.suite.json",
        r#"{"cases": [{"name": "forgot identity", "request": {"action": "s3:GetObject", "resource": "*"}, "expect": "ImplicitDeny"}]}"#,
    );
    let (code, out, err) = crate::cli::run(&["test", &none]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("no policies at all"), "{err}");
    let stated = write(
        "stated.suite.json",
        r#"{"cases": [{"name": "no policies, on purpose", "identity": [], "request": {"action": "s3:GetObject", "resource": "*"}, "expect": "ImplicitDeny"}]}"#,
    );
    let (code, out, err) = crate::cli::run(&["test", &stated]);
    assert_eq!(code, 0, "{out}{err}");
    let typo = write(
        "typo.suite.json",
        r#"{"cases": [{"name": "typo", "expect_error": "iam::efect", "identity": {"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}}]}"#,
    );
    let (code, out, err) = crate::cli::run(&["test", &typo]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("not a registered code"), "{err}");
    let right = write(
        "right.suite.json",
        r#"{"cases": [{"name": "right", "expect_error": "iam::effect", "identity": {"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}}]}"#,
    );
    let (code, out, err) = crate::cli::run(&["test", &right]);
    assert_eq!(code, 0, "{out}{err}");
}

/// User data in reports: a case name with control characters still gives well-formed JUnit XML, and a
/// file name with `#`, `?`, `%` and a space gives a SARIF URI that points at that file.
#[test]
fn reports_carry_user_data_safely() {
    let dir = std::env::temp_dir().join(format!("pc-report #?% x-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let suite = dir.join("ctl.suite.json");
    std::fs::write(
        &suite,
        "{\"identity\": [], \"cases\": [{\"name\": \"bell\\u0007 and esc\\u001b[31m\", \"request\": {\"action\": \"s3:GetObject\", \"resource\": \"*\"}, \"expect\": \"Allow\"}]}",
    )
    .unwrap();
    let junit = dir.join("junit.xml");
    let (code, out, err) = crate::cli::run(&[
        "test",
        "--junit",
        junit.to_str().unwrap(),
        suite.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    // The terminal gets the escapes written out, not the control characters.
    assert!(!out.contains('\u{1b}') && out.contains("\\u{1b}"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(!xml.contains('\u{7}') && !xml.contains('\u{1b}'), "{xml}");
    let mut reader = quick_xml::Reader::from_str(&xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("ill-formed JUnit: {e}\n{xml}"),
        }
    }
    let policy = dir.join("p#1?.json");
    std::fs::write(
        &policy,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}}"#,
    )
    .unwrap();
    let (_, out, _) = crate::cli::run(&["lint", "--format", "sarif", policy.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let uri =
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .to_string();
    assert!(uri.ends_with("p%231%3F.json"), "{uri}");
    assert!(uri.contains("%20") && uri.contains("%25"), "{uri}");
}

/// `--guest` on a pool that does not allow guests is Cognito's `NotAuthorizedException` (exit 1), not a
/// decision.
#[test]
fn guest_on_a_pool_without_guests_is_refused() {
    let req = std::env::temp_dir().join(format!("pc-guest-{}.json", std::process::id()));
    std::fs::write(
        &req,
        r#"{"action":"s3:GetObject","resource":"arn:aws:s3:::b/k"}"#,
    )
    .unwrap();
    let pool = crate::root().join("policies/identity-pool/identity-pool.pool.json");
    let (code, out, err) = crate::cli::run(&[
        "pool",
        "eval",
        "--pool",
        pool.to_str().unwrap(),
        "--guest",
        "--request",
        req.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("NotAuthorizedException"), "{err}");
}

/// `lint` lists at most 1,000 findings per file and counts the rest in `lint::truncated`: a generated or
/// hostile file of many thousand mistakes costs what is shown, not more.
#[test]
fn lint_findings_per_file_are_capped() {
    let actions: Vec<String> = (0..1500).map(|i| format!("\"s3:GetObjekt{i}\"")).collect();
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":[{}],"Resource":"*"}}}}"#,
        actions.join(",")
    );
    let p = std::env::temp_dir().join(format!("pc-many-findings-{}.json", std::process::id()));
    std::fs::write(&p, text).unwrap();
    let (_, out, _) = crate::cli::run(&[
        "lint",
        "--type",
        "identity",
        "--format",
        "json",
        p.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 1001);
    let last = f.last().unwrap();
    assert_eq!(last["issueCode"], "lint::truncated");
    assert!(
        last["findingDetails"]
            .as_str()
            .unwrap()
            .starts_with("501 more finding(s)"),
        "{last}"
    );
}
