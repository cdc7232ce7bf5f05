//! The evaluator: golden edge cases, seed suites, invariants, the eval and test commands.

use authz_core::{Context, Decision, Layer, Request, StatementRef, Trace};
use iam_eval::{Authorizer, PolicySet};
use iam_policy::Source;
use proptest::prelude::*;

use crate::cli::run;
use crate::root;

fn path(p: &str) -> String {
    root().join(p).display().to_string()
}

#[test]
fn edge_case_table_every_row() {
    let results =
        policy_check::suite::run_suites(&[path("fixtures/eval/edge-cases.suite.json")]).unwrap();
    assert_eq!(results.len(), 92, "{} cases", results.len());
    let failed: Vec<_> = results
        .iter()
        .filter(|r| !r.pass)
        .map(|r| format!("{}: {}\n{}", r.name, r.actual, r.detail))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn seed_suites_pass() {
    let results = policy_check::suite::run_suites(&[path("policies")]).unwrap();
    assert_eq!(results.len(), 261);
    let failed: Vec<_> = results
        .iter()
        .filter(|r| !r.pass)
        .map(|r| format!("{}: {}", r.name, r.detail))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn failing_suite_reports_and_exits_2() {
    let dir = std::env::temp_dir().join(format!("pc-suite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let suite = dir.join("wrong.suite.json");
    std::fs::write(
        &suite,
        r#"{"identity": {"Version": "2012-10-17", "Statement": {"Sid": "Reads", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}},
            "cases": [
              {"name": "reads", "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}, "expect": "Allow", "sid": "Reads"},
              {"name": "writes (wrong expectation)", "request": {"action": "s3:PutObject", "resource": "arn:aws:s3:::b/k"}, "expect": "Allow"}
            ]}"#,
    )
    .unwrap();
    let (code, out, _) = run(&["test", suite.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("PASS  reads"), "{out}");
    assert!(out.contains("FAIL  writes (wrong expectation)"), "{out}");
    assert!(out.contains("action not matched"), "{out}");
    assert!(out.contains("1 passed, 1 failed"), "{out}");
    let (code, out, _) = run(&["test", "--format", "json", suite.to_str().unwrap()]);
    assert_eq!(code, 2);
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows[1]["pass"], false);
    assert_eq!(rows[1]["expect"], "Allow");
    assert_eq!(rows[1]["actual"], "ImplicitDeny");
    // JUnit: one test case per suite case, the failure with expected and actual; read back with an XML
    // reader, its counts match the run.
    let report = dir.join("junit.xml");
    let (code, _, _) = run(&[
        "test",
        "--junit",
        report.to_str().unwrap(),
        suite.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    let xml = std::fs::read_to_string(&report).unwrap();
    // A JUnit reader as CI servers use one: the counts and the failure.
    let parsed = junit_parser::from_reader(std::io::Cursor::new(xml.as_bytes())).unwrap();
    assert_eq!((parsed.tests, parsed.failures, parsed.errors), (2, 1, 0));
    let cases: Vec<&junit_parser::TestCase> =
        parsed.suites.iter().flat_map(|s| s.cases.iter()).collect();
    assert_eq!(cases.len(), 2);
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.status.is_failure())
        .map(|c| c.original_name.as_str())
        .collect();
    assert_eq!(failed, ["writes (wrong expectation)"]);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut suites_attr) = (0, Vec::new(), None);
    let mut in_failure = false;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                let attr = |k: &str| {
                    e.try_get_attribute(k)
                        .unwrap()
                        .map(|a| a.unescape_value().unwrap().into_owned())
                };
                match e.name().as_ref() {
                    b"testsuites" => {
                        suites_attr = Some((attr("tests"), attr("failures"), attr("errors")))
                    }
                    b"testcase" => cases += 1,
                    b"failure" => {
                        failures.push(attr("message").unwrap());
                        in_failure = true;
                    }
                    _ => {}
                }
            }
            quick_xml::events::Event::Text(t) if in_failure => {
                let body = t.decode().unwrap();
                assert!(
                    body.contains("expected: Allow") && body.contains("actual: ImplicitDeny"),
                    "{body}"
                );
                in_failure = false;
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, 2);
    assert_eq!(failures, ["expected Allow, got ImplicitDeny"]);
    assert_eq!(
        suites_attr,
        Some((Some("2".into()), Some("1".into()), Some("0".into())))
    );
    std::fs::write(
        &suite,
        r#"{"cases": [{"name": "x", "identity": [], "request": {"action": "s3:GetObject"}, "expect": "Allow"}]}"#,
    )
    .unwrap();
    let (code, _, err) = run(&["test", suite.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("missing field `resource`"), "{err}");
}

#[test]
fn eval_command_formats_and_exit_codes() {
    let dir = std::env::temp_dir().join(format!("pc-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let req = dir.join("reqs.jsonl");
    let sub = "us-east-1:11111111-aaaa-4aaa-8aaa-111111111111";
    std::fs::write(
        &req,
        format!(
            "{{\"action\": \"dynamodb:GetItem\", \"resource\": \"arn:aws:dynamodb:us-east-1:123456789012:table/Notes\", \"context\": {{\"cognito-identity.amazonaws.com:sub\": \"{sub}\", \"dynamodb:LeadingKeys\": [\"{sub}\"]}}}}\n{{\"action\": \"dynamodb:Scan\", \"resource\": \"arn:aws:dynamodb:us-east-1:123456789012:table/Notes\"}}\n"
        ),
    )
    .unwrap();
    let policy = path("policies/cognito-groups-dynamodb/row-level.json");
    let (code, out, _) = run(&[
        "eval",
        "--policy",
        &policy,
        "--request",
        req.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 2, "{out}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["decision"], "Allow");
    assert_eq!(rows[0]["decided_by"]["line"], 4);
    assert_eq!(rows[1]["decision"], "ImplicitDeny");
    let single = dir.join("one.json");
    std::fs::write(&single, format!("{{\"action\": \"dynamodb:GetItem\", \"resource\": \"arn:aws:dynamodb:us-east-1:123456789012:table/Notes\", \"context\": {{\"cognito-identity.amazonaws.com:sub\": \"{sub}\", \"dynamodb:LeadingKeys\": [\"{sub}\"]}}}}")).unwrap();
    let (code, out, _) = run(&[
        "eval",
        "--policy",
        &policy,
        "--request",
        single.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("decision: Allow by"), "{out}");
    // ForAllValues with the key absent is true (AWS's documented trap): the row-level policy allows a
    // request that carries no dynamodb:LeadingKeys at all.
    std::fs::write(&single, r#"[{"action": "dynamodb:GetItem", "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes"}]"#).unwrap();
    let (code, out, _) = run(&[
        "eval",
        "--policy",
        &policy,
        "--request",
        single.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    // A missing variable key is listed and the value matches nothing.
    std::fs::write(&single, r#"{"action": "dynamodb:GetItem", "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes", "context": {"dynamodb:LeadingKeys": ["x"]}}"#).unwrap();
    let (code, out, _) = run(&[
        "eval",
        "--policy",
        &policy,
        "--request",
        single.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["decision"], "ImplicitDeny");
    assert_eq!(
        v["missing_context"],
        serde_json::json!(["cognito-identity.amazonaws.com:sub"])
    );
    let reason = v["statements"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("ForAllValues:StringEquals") && reason.contains("dynamodb:leadingkeys"),
        "{reason}"
    );
    // Bad input: a clear error naming the field, exit 1.
    std::fs::write(
        &single,
        r#"{"action": "s3:Get*", "resource": "arn:aws:s3:::b"}"#,
    )
    .unwrap();
    let (code, _, err) = run(&[
        "eval",
        "--policy",
        &policy,
        "--request",
        single.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("field `action`"), "{err}");
    let (code, _, err) = run(&[
        "eval",
        "--policy",
        &path("fixtures/golden/013-effect-lowercase/policy.json"),
        "--request",
        single.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid effect"), "{err}");
}

#[test]
fn all_managed_policies_compile() {
    let docs: Vec<_> = crate::corpus::managed()
        .into_iter()
        .map(|(n, t)| iam_policy::parse(&Source::new(n.as_str(), t.as_str())).unwrap())
        .collect();
    let set = PolicySet::compile(Layer::Identity, docs).unwrap();
    assert_eq!(set.len(), 8853);
}

#[test]
fn readonly_access_allows_reads_and_not_writes() {
    let (_, text) = crate::corpus::managed()
        .into_iter()
        .find(|(n, _)| n == "ReadOnlyAccess")
        .unwrap();
    let set = PolicySet::compile(
        Layer::Identity,
        [iam_policy::parse(&Source::new("ReadOnlyAccess", text.as_str())).unwrap()],
    )
    .unwrap();
    let ok = |a: &str| set.evaluate(&Request::new(a, "arn:aws:s3:::b/k")).decision;
    assert_eq!(ok("s3:GetObject"), Decision::Allow);
    assert_eq!(ok("S3:getobject"), Decision::Allow);
    assert_eq!(ok("ec2:DescribeInstances"), Decision::Allow);
    assert_eq!(ok("s3:PutObject"), Decision::ImplicitDeny);
    assert_eq!(ok("iam:CreateUser"), Decision::ImplicitDeny);
}

// ---- invariants -------------------------------------------------------------------------------------

fn stmt_strategy() -> impl Strategy<Value = String> {
    let action = prop::sample::select(vec![
        "s3:GetObject",
        "s3:Get*",
        "s3:*",
        "*",
        "ec2:Describe*",
        "s3:PutObject",
    ]);
    let resource = prop::sample::select(vec![
        "*",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b/${aws:username}/*",
        "arn:aws:s3:::other/*",
    ]);
    let cond = prop::sample::select(vec![
        "",
        r#","Condition":{"StringEquals":{"aws:username":"alice"}}"#,
        r#","Condition":{"StringNotEquals":{"aws:username":"bob"}}"#,
        r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        r#","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"t*"}}"#,
        r#","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}"#,
    ]);
    (prop::bool::ANY, prop::bool::ANY, action, resource, cond).prop_map(
        |(allow, not_action, a, r, c)| {
            let key = if not_action { "NotAction" } else { "Action" };
            format!(
                r#"{{"Effect":"{}","{key}":"{a}","Resource":"{r}"{c}}}"#,
                if allow { "Allow" } else { "Deny" }
            )
        },
    )
}

fn set_of(stmts: &[String]) -> PolicySet {
    let text = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        stmts.join(",")
    );
    let doc = iam_policy::parse(&Source::new("gen", text.as_str())).unwrap();
    PolicySet::compile(Layer::Identity, [doc]).unwrap()
}

fn request_strategy() -> impl Strategy<Value = (String, String, Context)> {
    let action = prop::sample::select(vec![
        "s3:GetObject",
        "s3:PutObject",
        "ec2:DescribeInstances",
        "iam:CreateUser",
    ]);
    let resource = prop::sample::select(vec![
        "arn:aws:s3:::b/alice/k",
        "arn:aws:s3:::other/x",
        "arn:aws:s3:::b/k",
    ]);
    let user = prop::option::of(prop::sample::select(vec!["alice", "bob"]));
    let ip = prop::option::of(prop::sample::select(vec!["10.1.2.3", "192.0.2.1"]));
    (action, resource, user, ip).prop_map(|(a, r, u, ip)| {
        let mut c = Context::new();
        if let Some(u) = u {
            c.insert("aws:username", u);
        }
        if let Some(ip) = ip {
            c.insert("aws:SourceIp", ip);
        }
        c.insert_multi("aws:TagKeys", ["team"]);
        c.insert("s3:max-keys", "5");
        (a.to_string(), r.to_string(), c)
    })
}

#[derive(Default)]
struct Recorder(Vec<(StatementRef, bool)>);
impl Trace for Recorder {
    fn statement(&mut self, at: StatementRef, matched: bool) {
        self.0.push((at, matched));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_statements_is_implicit_deny((a, r, c) in request_strategy()) {
        let set = PolicySet::compile(Layer::Identity, []).unwrap();
        prop_assert_eq!(set.evaluate(&Request::new(&a, &r).context(&c)).decision, Decision::ImplicitDeny);
    }

    #[test]
    fn invariants(stmts in prop::collection::vec(stmt_strategy(), 1..6), extra in stmt_strategy(), (a, r, c) in request_strategy()) {
        let req = Request::new(&a, &r).context(&c);
        let base = set_of(&stmts).evaluate(&req).decision;
        // Adding a Deny never yields Allow.
        let mut with_deny = stmts.clone();
        with_deny.push(extra.replace(r#""Effect":"Allow""#, r#""Effect":"Deny""#));
        let d = set_of(&with_deny).evaluate(&req).decision;
        prop_assert!(d != Decision::Allow || base == Decision::Allow);
        // A Deny that applies on its own denies in any company.
        let deny = extra.replace(r#""Effect":"Allow""#, r#""Effect":"Deny""#);
        if set_of(std::slice::from_ref(&deny)).evaluate(&req).decision == Decision::ExplicitDeny {
            prop_assert_eq!(d, Decision::ExplicitDeny);
        }
        // Adding an Allow never changes an ExplicitDeny.
        if base == Decision::ExplicitDeny {
            let mut with_allow = stmts.clone();
            with_allow.push(extra.replace(r#""Effect":"Deny""#, r#""Effect":"Allow""#));
            prop_assert_eq!(set_of(&with_allow).evaluate(&req).decision, Decision::ExplicitDeny);
        }
        // Statement order never matters.
        let mut rev = stmts.clone();
        rev.reverse();
        prop_assert_eq!(set_of(&rev).evaluate(&req).decision, base);
        // Traced and untraced evaluation agree, and the tracer saw the deciding statement apply.
        let set = set_of(&stmts);
        let mut rec = Recorder::default();
        let traced = set.evaluate_with(&req, &mut rec);
        prop_assert_eq!(traced, set.evaluate(&req));
        if let Some(at) = traced.decided_by {
            prop_assert!(rec.0.contains(&(at, true)));
        }
        // The explanation agrees with the decision.
        let auth = Authorizer::new(set.clone());
        let ex = auth.explain(&req);
        prop_assert_eq!(ex.outcome.decision, base);
        let applies = ex.statements.iter().filter(|s| s.verdict == iam_eval::Verdict::Applies).count();
        prop_assert_eq!(applies > 0, base != Decision::ImplicitDeny);
    }

    /// One evaluation path: the explanation is recorded from the evaluation itself. It names the same
    /// decision and deciding statement as `evaluate`, and each statement's verdict is what evaluating that
    /// statement alone gives.
    #[test]
    fn explanation_is_the_evaluation(stmts in prop::collection::vec(stmt_strategy(), 1..6), (a, r, c) in request_strategy()) {
        let req = Request::new(&a, &r).context(&c);
        let set = set_of(&stmts);
        let auth = Authorizer::new(set.clone());
        let ex = auth.explain(&req);
        prop_assert_eq!(ex.outcome, auth.evaluate(&req));
        prop_assert_eq!(ex.statements.len(), stmts.len());
        for (i, st) in ex.statements.iter().enumerate() {
            let alone = set_of(std::slice::from_ref(&stmts[i]));
            let mut rec = iam_eval::Recorder::default();
            let d = alone.evaluate_with(&req, &mut rec).decision;
            let at = StatementRef { layer: Layer::Identity, policy: 0, statement: 0 };
            prop_assert_eq!(&st.verdict, &rec.verdict(at), "statement {}", i);
            prop_assert_eq!(st.verdict == iam_eval::Verdict::Applies, d != Decision::ImplicitDeny, "statement {}", i);
        }
    }
}

fn compiled(layer: Layer, text: &str) -> PolicySet {
    PolicySet::compile(layer, [iam_policy::parse(&Source::new("t", text)).unwrap()]).unwrap()
}

#[test]
fn rcp_levels_without_full_access_must_allow() {
    let ident = compiled(
        Layer::Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
    );
    let rcp = compiled(
        Layer::Rcp(0),
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"ec2:*","Resource":"*"}}"#,
    );
    let mut auth = Authorizer::new(ident);
    auth.rcps = vec![rcp];
    let req = Request::new("s3:GetObject", "arn:aws:s3:::b/k");
    // RCPFullAWSAccess is assumed at every level by default.
    assert_eq!(auth.evaluate(&req).decision, Decision::Allow);
    auth.rcp_full_access = false;
    let out = auth.evaluate(&req);
    assert_eq!(out.decision, Decision::ImplicitDeny);
    assert_eq!(out.blocked_by, Some(Layer::Rcp(0)));
}

#[test]
fn role_arn_with_a_path_grants_its_sessions() {
    let res = compiled(
        Layer::Resource,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/team/app"},"Action":"s3:GetObject","Resource":"*"}}"#,
    );
    let mut auth = Authorizer::new(compiled(
        Layer::Identity,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"ec2:*","Resource":"*"}}"#,
    ));
    auth.resource = Some(res);
    let ok = Request::new("s3:GetObject", "arn:aws:s3:::b/k")
        .principal("arn:aws:sts::123456789012:assumed-role/app/s1")
        .resource_account("123456789012");
    assert_eq!(auth.evaluate(&ok).decision, Decision::Allow);
    let other = Request::new("s3:GetObject", "arn:aws:s3:::b/k")
        .principal("arn:aws:sts::123456789012:assumed-role/other/s1")
        .resource_account("123456789012");
    assert_eq!(auth.evaluate(&other).decision, Decision::ImplicitDeny);
    let other_account = Request::new("s3:GetObject", "arn:aws:s3:::b/k")
        .principal("arn:aws:sts::999999999999:assumed-role/app/s1")
        .resource_account("123456789012");
    assert_eq!(
        auth.evaluate(&other_account).decision,
        Decision::ImplicitDeny
    );
}

/// Suites can pass only when they should: every stated expectation is checked, and anything that makes
/// an expectation uncheckable is bad input (exit 1), never a pass and never a "failed test".
#[test]
fn suites_fail_closed() {
    let dir = std::env::temp_dir().join(format!("pc-strict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let allow = r#"{"Version": "2012-10-17", "Statement": {"Sid": "Reads", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}"#;
    let req = r#"{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#;
    // No cases.
    let s = write("empty.suite.json", r#"{"cases": []}"#);
    let (code, _, err) = run(&["test", &s]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no cases"), "{err}");
    // A missing policy file.
    let s = write(
        "missing.suite.json",
        &format!(
            r#"{{"identity": ["nope.json"], "cases": [{{"name": "x", "request": {req}, "expect": "Allow"}}]}}"#
        ),
    );
    let (code, _, err) = run(&["test", &s]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nope.json"), "{err}");
    // An invalid policy without expect_error.
    let s = write(
        "invalid.suite.json",
        &format!(
            r#"{{"identity": {{"Statement": {{"Effect": "allow", "Action": "*", "Resource": "*"}}}}, "cases": [{{"name": "x", "request": {req}, "expect": "Allow"}}]}}"#
        ),
    );
    let (code, _, err) = run(&["test", &s]);
    assert_eq!(code, 1, "{err}");
    // `role` means nothing for an IAM case: an unknown field, not ignored.
    let s = write(
        "role.suite.json",
        &format!(
            r#"{{"identity": {allow}, "cases": [{{"name": "x", "request": {req}, "expect": "Allow", "role": "arn:aws:iam::1:role/R"}}]}}"#
        ),
    );
    let (code, _, err) = run(&["test", &s]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("an IAM case: unknown field `role`") && err.contains("role.suite.json:1:"),
        "{err}"
    );
    // Both or neither of expect / expect_error.
    let s = write(
        "both.suite.json",
        &format!(
            r#"{{"identity": {allow}, "cases": [{{"name": "x", "request": {req}, "expect": "Allow", "expect_error": "iam::effect"}}]}}"#
        ),
    );
    assert_eq!(run(&["test", &s]).0, 1);
    // A wrong Sid fails and shows both Sids.
    let s = write(
        "sid.suite.json",
        &format!(
            r#"{{"identity": {allow}, "cases": [{{"name": "wrong sid", "request": {req}, "expect": "Allow", "sid": "Writes"}}]}}"#
        ),
    );
    let (code, out, _) = run(&["test", &s]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("FAIL  wrong sid"), "{out}");
    assert!(
        out.contains("Allow, Sid Writes") && out.contains("Allow, Sid Reads"),
        "{out}"
    );
    // Paths that match nothing.
    let empty = dir.join("nothing-here");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(run(&["test", empty.to_str().unwrap()]).0, 1);
    assert_eq!(run(&["validate", empty.to_str().unwrap()]).0, 1);
    assert_eq!(
        run(&["test", &format!("{}/*.suite.jsonx", dir.display())]).0,
        1
    );
}

/// Identity-pool cases check every stated expectation, `sid` included, and print explanations in words.
#[test]
fn pool_cases_check_sid_and_role() {
    let pool = path("policies/identity-pool/identity-pool.pool.json");
    let dir = std::env::temp_dir().join(format!("pc-poolsid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let claims = r#"{"sub": "plain-user", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example", "aud": "exampleclient", "token_use": "id"}"#;
    let s = dir.join("p.suite.json");
    std::fs::write(
        &s,
        format!(
            r#"{{"identity_pool": "{pool}", "cases": [
              {{"name": "wrong sid", "claims": {claims}, "request": {{"action": "s3:PutObject", "resource": "arn:aws:s3:::mybucket/x"}}, "expect": "ImplicitDeny", "sid": "NoSuchSid"}},
              {{"name": "wrong role", "claims": {claims}, "request": {{"action": "s3:PutObject", "resource": "arn:aws:s3:::mybucket/x"}}, "expect": "ImplicitDeny", "role": "arn:aws:iam::123456789012:role/Other"}}
            ]}}"#
        ),
    )
    .unwrap();
    let (code, out, _) = run(&["test", s.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("FAIL  wrong sid"), "{out}");
    assert!(
        out.contains("Sid NoSuchSid") && out.contains("Sid none"),
        "{out}"
    );
    assert!(out.contains("FAIL  wrong role"), "{out}");
    assert!(
        out.contains("role arn:aws:iam::123456789012:role/Other"),
        "{out}"
    );
    assert!(
        !out.contains("ConditionFailed(") && !out.contains("Some(\""),
        "{out}"
    );
    assert!(out.contains("identity id: us-east-1:33333333"), "{out}");
}

/// A directory holding Cedar policies and IAM JSON checks both.
#[test]
fn validate_checks_iam_json_beside_cedar() {
    let dir = std::env::temp_dir().join(format!("pc-mixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("p.cedar"), "permit(principal, action, resource);").unwrap();
    std::fs::write(
        dir.join("bad-iam.json"),
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "*", "Resource": "*"}}"#,
    )
    .unwrap();
    let (code, _, err) = run(&["validate", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("bad-iam.json"), "{err}");
    assert!(err.contains("1 Cedar store(s) checked: 0 invalid"), "{err}");
}

/// Runs a seed suite and its template twin and holds them to the same result and answer for each case.
fn assert_twin(dir: &str, hand: &str, twin: &str, cases: usize) {
    let run = |f: &str| policy_check::suite::run_suites(&[path(&format!("{dir}/{f}"))]).unwrap();
    let view = |r: &Vec<policy_check::suite::CaseResult>| {
        r.iter()
            .map(|c| (c.name.clone(), c.pass, c.actual.clone()))
            .collect::<Vec<_>>()
    };
    let (hand, twin) = (run(hand), run(twin));
    assert_eq!(hand.len(), cases);
    assert_eq!(view(&hand), view(&twin));
}

/// Seed 004's API read from its CloudFormation twin (`petstore.template.yaml`: the REST API's resource
/// tree, method, Lambda authorizer and stage) gives every case of `apigw.suite.json` the same answer as
/// the API definition.
#[test]
fn the_template_twin_of_the_api_answers_as_the_definition() {
    assert_twin(
        "policies/apigw-petstore",
        "apigw.suite.json",
        "apigw.template.suite.json",
        12,
    );
}

/// Seed 003's two Verified Permissions stores read from their CloudFormation twin
/// (`photo-app.template.yaml`) give every case of `photos.suite.json` the same answer as the store
/// directories.
#[test]
fn the_template_twin_of_the_policy_stores_answers_as_the_directories() {
    assert_twin(
        "policies/photo-app-avp",
        "photos.suite.json",
        "photos.template.suite.json",
        14,
    );
}

/// Seed 001's identity pool read from its CloudFormation twin (`identity-pool.template.yaml`) gives every
/// case of `pool.suite.json` the same answer as the hand-written configuration.
#[test]
fn the_template_twin_of_the_identity_pool_answers_as_the_configuration() {
    assert_twin(
        "policies/identity-pool",
        "pool.suite.json",
        "identity-pool.template.suite.json",
        12,
    );
}

/// Seed 000 read from its CloudFormation twin (`groups.template.yaml`: user-pool groups with their roles,
/// an identity pool with a Token role mapping): the IAM suite naming the roles by logical id
/// (`identity_of`) and the identity-pool suite give every case the hand-written files' answer.
#[test]
fn the_template_twin_of_the_groups_answers_as_the_files() {
    assert_twin(
        "policies/cognito-groups-dynamodb",
        "groups.suite.json",
        "groups.template.suite.json",
        12,
    );
    assert_twin(
        "policies/cognito-groups-dynamodb",
        "pool.suite.json",
        "pool.template.suite.json",
        7,
    );
}

/// Seed 002 read from its CloudFormation twin (`web-app.template.yaml`: AmazonS3FullAccess attached by
/// ARN, read from the bundled AWS managed policies; the guest role inline) gives every case of
/// `pool.suite.json` the same answer.
#[test]
fn the_template_twin_of_the_web_app_answers_as_the_configuration() {
    assert_twin(
        "policies/s3-web-app",
        "pool.suite.json",
        "pool.template.suite.json",
        4,
    );
}

/// A suite over a template names its resources by logical id: `identity_of` a role (its inline and
/// attached policies), `resource_of` a role (its trust policy, declared as one); a missing template, an
/// unknown logical id and two resource-side policies are bad input (exit 1), never an empty policy set.
#[test]
fn template_suites_name_resources_by_logical_id() {
    let dir = std::env::temp_dir().join(format!("pc-tpl-suite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tpl = path("policies/cognito-groups-dynamodb/groups.template.yaml");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let template = format!(
        r#"{{"file": {tpl:?}, "physical_ids": {{"IdentityPool": "us-east-1:0000aaaa-1111-2222-3333-444455556666"}}}}"#
    );
    let assume = |amr: &str| {
        format!(
            r#"{{"principal": "cognito-identity.amazonaws.com", "action": "sts:AssumeRoleWithWebIdentity", "resource": "arn:aws:iam::123456789012:role/NotesReadOnly", "context": {{"cognito-identity.amazonaws.com:aud": "us-east-1:0000aaaa-1111-2222-3333-444455556666", "cognito-identity.amazonaws.com:amr": [{amr:?}]}}}}"#
        )
    };
    let scan = r#"{"action": "dynamodb:Scan", "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes"}"#;
    let s = write(
        "ok.suite.json",
        &format!(
            r#"{{"template": {template}, "cases": [
                {{"name": "read-only role scans", "identity_of": "ReadOnlyRole", "request": {scan}, "expect": "Allow", "sid": "Stmt1496912649000"}},
                {{"name": "row-level role does not scan", "identity_of": "RowLevelRole", "request": {scan}, "expect": "ImplicitDeny"}},
                {{"name": "signed-in identities assume it", "resource_of": "ReadOnlyRole", "identity": [], "request": {}, "expect": "Allow"}},
                {{"name": "guests do not", "resource_of": "ReadOnlyRole", "identity": [], "request": {}, "expect": "ImplicitDeny"}}
            ]}}"#,
            assume("authenticated"),
            assume("unauthenticated")
        ),
    );
    let (code, out, err) = run(&["test", &s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("4 passed, 0 failed"), "{out}");
    // The same expectations with the roles swapped fail: the logical ids decide which policies load.
    let swapped = std::fs::read_to_string(&s)
        .unwrap()
        .replace(
            "\"ReadOnlyRole\", \"request\": {\"action\": \"dynamodb:Scan\"",
            "\"X\", \"request\": {\"action\": \"dynamodb:Scan\"",
        )
        .replace(
            "\"identity_of\": \"RowLevelRole\"",
            "\"identity_of\": \"ReadOnlyRole\"",
        )
        .replace(
            "\"identity_of\": \"X\"",
            "\"identity_of\": \"RowLevelRole\"",
        );
    let s2 = write("swapped.suite.json", &swapped);
    let (code, out, _) = run(&["test", &s2]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("2 failed"), "{out}");
    // No template.
    let s = write(
        "no-template.suite.json",
        &format!(
            r#"{{"cases": [{{"name": "x", "identity_of": "ReadOnlyRole", "request": {scan}, "expect": "Allow"}}]}}"#
        ),
    );
    let (code, _, err) = run(&["test", &s]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("suite-level `template`, which is missing"),
        "{err}"
    );
    // An unknown logical id.
    let s = write(
        "unknown.suite.json",
        &format!(
            r#"{{"template": {template}, "cases": [{{"name": "x", "identity_of": "Nope", "request": {scan}, "expect": "Allow"}}]}}"#
        ),
    );
    let (code, _, err) = run(&["test", &s]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no role, user or group `Nope`") && err.contains("RowLevelRole"),
        "{err}"
    );
    // A resource-side policy twice.
    let s = write(
        "two.suite.json",
        &format!(
            r#"{{"template": {template}, "cases": [{{"name": "x", "resource_of": "ReadOnlyRole", "resource": {{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}}}}, "request": {scan}, "expect": "Allow"}}]}}"#
        ),
    );
    let (code, _, err) = run(&["test", &s]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("a request has one"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Seed 004's APIs read from a SAM template (`petstore.sam.yaml`): the REST API as
/// `AWS::Serverless::Api` with its default authorizer from `Globals.Api`, the HTTP API as the implicit
/// `ServerlessHttpApi` with `Globals.HttpApi`'s authorizer, routes from the functions' events; every case
/// of both suites answers as the API definitions do.
#[test]
fn the_sam_twin_of_the_apis_answers_as_the_definitions() {
    assert_twin(
        "policies/apigw-petstore",
        "apigw.suite.json",
        "apigw.sam.suite.json",
        12,
    );
    assert_twin(
        "policies/apigw-petstore",
        "http-simple.suite.json",
        "http-simple.sam.suite.json",
        5,
    );
}

/// The Terraform plan twins (`terraform show -json` shape): seed 002's pool with both role ARNs known
/// only after apply (the attachment's `roles` found through the plan's `configuration` references) and
/// AmazonS3FullAccess attached by `aws_iam_role_policy_attachment`; seed 000's pool with the user
/// groups' role ARNs by reference; seed 003's two new policy stores, reached by reference. Every case
/// answers as the hand-written configuration does.
#[test]
fn the_terraform_plan_twins_answer_as_the_configurations() {
    assert_twin(
        "policies/s3-web-app",
        "pool.suite.json",
        "pool.tfplan.suite.json",
        4,
    );
    assert_twin(
        "policies/cognito-groups-dynamodb",
        "pool.suite.json",
        "pool.tfplan.suite.json",
        7,
    );
    assert_twin(
        "policies/photo-app-avp",
        "photos.suite.json",
        "photos.tfplan.suite.json",
        14,
    );
    // Seed 004's REST API (resource tree, method, REQUEST authorizer, stage) and HTTP API, all new in
    // the plan: linked by reference.
    assert_twin(
        "policies/apigw-petstore",
        "apigw.suite.json",
        "apigw.tfplan.suite.json",
        12,
    );
    assert_twin(
        "policies/apigw-petstore",
        "http-simple.suite.json",
        "http-simple.tfplan.suite.json",
        5,
    );
}

/// An identity-pool configuration is read once and decoded in the same pass: a misspelled field, a wrong
/// type, a duplicate key and a truncated file are each a coded error at their line and column (exit 1).
#[test]
fn pool_configurations_are_decoded_with_located_errors() {
    let dir = std::env::temp_dir().join(format!("pc-pool-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good =
        std::fs::read_to_string(path("policies/s3-web-app/identity-pool.pool.json")).unwrap();
    let req = dir.join("r.json");
    std::fs::write(
        &req,
        r#"{"action": "s3:ListBucket", "resource": "arn:aws:s3:::b"}"#,
    )
    .unwrap();
    let cases = [
        (
            good.replace("\"allow_unauthenticated\"", "\"alow_unauthenticated\""),
            "json::shape",
            "unknown field `alow_unauthenticated`",
        ),
        (
            good.replace(
                "\"allow_unauthenticated\": true",
                "\"allow_unauthenticated\": \"yes\"",
            ),
            "json::shape",
            "expected a boolean",
        ),
        (
            good.replacen(
                "\"account\": \"123456789012\",",
                "\"account\": \"1\", \"account\": \"123456789012\",",
                1,
            ),
            "json::duplicate-key",
            "duplicate key `account`",
        ),
        (
            good[..good.find("123456789012").unwrap() + 4].to_string(),
            "json::unterminated-string",
            "never closed",
        ),
    ];
    for (i, (text, code, says)) in cases.iter().enumerate() {
        assert_ne!(text, &good, "case {i} changed nothing");
        let f = dir.join(format!("c{i}.pool.json"));
        std::fs::write(&f, text).unwrap();
        let (status, _, err) = run(&[
            "pool",
            "eval",
            "--pool",
            f.to_str().unwrap(),
            "--guest",
            "--request",
            req.to_str().unwrap(),
        ]);
        assert_eq!(status, 1, "case {i}: {err}");
        assert!(err.contains(code) && err.contains(says), "case {i}: {err}");
        // Located: the snippet names the file with a line and column.
        assert!(err.contains(&format!("c{i}.pool.json:")), "case {i}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Suites are decoded from their one read into typed fields: a misspelt field (of the suite, of each kind
/// of case, of a nested object), a wrong type, a duplicate key and a truncated file are each a coded error
/// at their line and column (exit 1), before any case runs.
#[test]
fn suites_are_decoded_with_located_errors() {
    let dir = std::env::temp_dir().join(format!("pc-suite-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = r#"{
  "name": "decode",
  "identity": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
  "cases": [
    {"name": "ok", "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}, "expect": "Allow", "sid": "S"}
  ]
}"#;
    let (ok_status, _, ok_err) = {
        let f = dir.join("good.suite.json");
        std::fs::write(&f, good.replace(", \"sid\": \"S\"", "")).unwrap();
        run(&["test", f.to_str().unwrap()])
    };
    assert_eq!(ok_status, 0, "{ok_err}");
    // (text, code, message, line:column)
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            good.replace("\"expect\": \"Allow\"", "\"expcet\": \"Allow\""),
            "json::shape",
            "an IAM case: unknown field `expcet`, expected one of",
            ":5:91",
        ),
        (
            good.replace("\"name\": \"decode\"", "\"nmae\": \"decode\""),
            "json::shape",
            "a suite: unknown field `nmae`",
            ":2:3",
        ),
        (
            good.replace("\"sid\": \"S\"", "\"sid\": 7"),
            "json::shape",
            "invalid type: integer `7`, expected a string",
            ":5:117",
        ),
        (
            good.replace("\"identity\": {", "\"identity\": 3, \"x\": {"),
            "json::shape",
            "expected a policy: a path, an inline document",
            ":3:15",
        ),
        (
            good.replace(
                "\"request\"",
                "\"claims\": {\"sub\": \"u\"}, \"expcet_error\": \"x\", \"request\"",
            ),
            "json::shape",
            "an identity-pool case: unknown field `expcet_error`",
            ":5:44",
        ),
        (
            good.replace("\"name\": \"ok\"", "\"name\": \"ok\", \"name\": \"again\""),
            "json::duplicate-key",
            "duplicate key `name`",
            ":5:20",
        ),
        (
            good[..good.find("\"cases\"").unwrap() + 12].to_string(),
            "json::",
            "",
            ":",
        ),
    ];
    for (i, (text, code, says, at)) in cases.iter().enumerate() {
        assert_ne!(text, good, "case {i} changed nothing");
        let f = dir.join(format!("decode-{i}.suite.json"));
        std::fs::write(&f, text).unwrap();
        let (status, _, err) = run(&["test", f.to_str().unwrap()]);
        assert_eq!(status, 1, "case {i}: {err}");
        assert!(err.contains(code) && err.contains(says), "case {i}: {err}");
        // Located: the snippet names the file with a line and column.
        assert!(
            err.contains(&format!("decode-{i}.suite.json{at}")) || err.contains(at),
            "case {i}: want {at}: {err}"
        );
        assert!(
            err.contains(&format!("decode-{i}.suite.json:")),
            "case {i}: {err}"
        );
    }
    // Nested objects are decoded too: the suite's `apigw.function` and `token_verifier`.
    let nested = [
        (
            r#"{"apigw": {"api": "a.json", "function": {"handler": "x.h", "timeuot": 3}}, "cases": [{"name": "c", "http_request": {"method": "GET", "path": "/"}, "now": 1, "expect_status": 200}]}"#,
            "unknown field `timeuot`",
        ),
        (
            r#"{"identity_pool": "p.json", "token_verifier": {"jwks": "k.json", "client_id": "c", "user_pool": "x"}, "cases": [{"name": "c", "guest": true, "request": {}, "expect": "Allow"}]}"#,
            "unknown field `user_pool`",
        ),
        (
            r#"{"cedar_store": {"logical_id": "S", "jkws": "k.json"}, "cases": [{"name": "c", "avp_request": {}, "expect": "Allow"}]}"#,
            "unknown field `jkws`",
        ),
        (
            r#"{"apigw": {"api": "a.json", "groups": "g"}, "cases": [{"name": "c", "http_request": {"method": "GET", "path": "/", "source_ip": 5}, "now": 1, "expect_status": 200}]}"#,
            "invalid type: integer `5`, expected a string",
        ),
    ];
    for (i, (text, says)) in nested.iter().enumerate() {
        let f = dir.join(format!("nested-{i}.suite.json"));
        std::fs::write(&f, text).unwrap();
        let (status, _, err) = run(&["test", f.to_str().unwrap()]);
        assert_eq!(status, 1, "nested {i}: {err}");
        assert!(
            err.contains("json::shape")
                && err.contains(says)
                && err.contains(&format!("nested-{i}.suite.json:1:")),
            "nested {i}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A request file's context values, read from the file's own strings: strings, numbers and booleans
/// as their text, a list as a multivalued key; an object, `null` or a list inside a list is refused
/// naming the key and showing the value.
#[test]
fn request_context_values_are_read_as_written() {
    let dir = std::env::temp_dir().join(format!("pc-request-context-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("ok.json");
    std::fs::write(
        &f,
        r#"{"action": "s3:GetObject", "resource": "*", "context": {"aws:SecureTransport": true, "aws:MultiFactorAuthAge": 7200, "s3:max-keys": 1.5, "aws:TagKeys": ["a", "b\u0041"], "aws:username": "al\"ice"}}"#,
    )
    .unwrap();
    let r = policy_check::input::read_requests(&f).unwrap();
    let ctx = &r[0].context;
    let one = |k: &str| ctx.get(k).map(|v| (v.values().to_vec(), v.is_multi()));
    assert_eq!(
        one("aws:securetransport"),
        Some((vec!["true".to_string()], false))
    );
    assert_eq!(
        one("aws:MultiFactorAuthAge"),
        Some((vec!["7200".to_string()], false))
    );
    assert_eq!(one("s3:max-keys"), Some((vec!["1.5".to_string()], false)));
    assert_eq!(
        one("aws:TagKeys"),
        Some((vec!["a".to_string(), "bA".to_string()], true))
    );
    assert_eq!(
        one("aws:username"),
        Some((vec!["al\"ice".to_string()], false))
    );
    for (value, shown) in [
        (r#"{"x": 1}"#, r#"{"x":1}"#),
        ("null", "null"),
        (r#"[["a"]]"#, r#"["a"]"#),
    ] {
        std::fs::write(
            &f,
            format!(
                r#"{{"action": "s3:GetObject", "resource": "*", "context": {{"k": {value}}}}}"#
            ),
        )
        .unwrap();
        let e = policy_check::input::read_requests(&f)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!("context key `k` has an unsupported value {shown}")),
            "{value}: {e}"
        );
    }
}

/// Request files (one object, an array, or JSON Lines) are decoded from their one read: a misspelt field,
/// a wrong type, a duplicate key and a truncated file are each a coded error at their line and column
/// (exit 1); in JSON Lines, at the line of the request in the whole file.
#[test]
fn request_files_are_decoded_with_located_errors() {
    let dir = std::env::temp_dir().join(format!("pc-request-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("p.json");
    std::fs::write(
        &policy,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#,
    )
    .unwrap();
    let good = "[\n  {\"action\": \"s3:GetObject\", \"resource\": \"arn:aws:s3:::b/k\"},\n  {\"action\": \"s3:PutObject\", \"resource\": \"arn:aws:s3:::b/k\", \"principal_has_boundary\": false}\n]";
    let f = dir.join("good.json");
    std::fs::write(&f, good).unwrap();
    let (status, _, err) = run(&[
        "eval",
        "--policy",
        policy.to_str().unwrap(),
        "--request",
        f.to_str().unwrap(),
    ]);
    assert_eq!(status, 2, "one allowed, one denied: {err}");
    let lines = "{\"action\": \"s3:GetObject\", \"resource\": \"*\"}\n{\"action\": \"s3:GetObject\", \"resuorce\": \"*\"}\n";
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            good.replace(
                "\"resource\": \"arn:aws:s3:::b/k\"}",
                "\"resource\": \"arn:aws:s3:::b/k\", \"contxt\": {}}",
            ),
            "json::shape",
            "request #1: unknown field `contxt`, expected one of",
            ":2:62",
        ),
        (
            good.replace("false", "\"no\""),
            "json::shape",
            "request #2: invalid type: string \"no\", expected a boolean",
            ":3:88",
        ),
        (
            good.replacen(
                "{\"action\": \"s3:GetObject\",",
                "{\"action\": \"s3:GetObject\", \"action\": \"s3:GetObject\",",
                1,
            ),
            "json::duplicate-key",
            "duplicate key `action`",
            ":2:",
        ),
        (good[..good.len() - 20].to_string(), "json::", "", ":"),
        (
            lines.to_string(),
            "json::shape",
            "request #2: unknown field `resuorce`",
            ":2:28",
        ),
    ];
    for (i, (text, code, says, at)) in cases.iter().enumerate() {
        let f = dir.join(format!("r{i}.json"));
        std::fs::write(&f, text).unwrap();
        let (status, _, err) = run(&[
            "eval",
            "--policy",
            policy.to_str().unwrap(),
            "--request",
            f.to_str().unwrap(),
        ]);
        assert_eq!(status, 1, "case {i}: {err}");
        assert!(err.contains(code) && err.contains(says), "case {i}: {err}");
        assert!(
            err.contains(&format!("r{i}.json{at}")),
            "case {i}: want {at}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A policy that cannot be compiled says where (file, line, column of the statement) and keeps its code.
/// The parser refuses every such document first; a program building documents itself can still hand one
/// to the compiler (here: a statement whose `Action` was taken away).
#[test]
fn compile_errors_are_located_and_coded() {
    let text = "{\"Version\": \"2012-10-17\",\n \"Statement\": [\n  {\"Effect\": \"Allow\", \"Action\": \"s3:ListBucket\", \"Resource\": \"*\"}]}";
    let mut doc = iam_policy::parse(&iam_policy::Source::new("no-action.json", text)).unwrap();
    doc.statements[0].action = None;
    let e = iam_eval::PolicySet::compile(authz_core::Layer::Identity, [doc]).unwrap_err();
    assert_eq!(e.code, diag::codes::EVAL_COMPILE);
    assert_eq!((e.line, e.column), (3, 3), "{e}");
    assert!(e.to_string().starts_with("no-action.json:3:3: "), "{e}");
}
