//! `policy-check check`: exit codes (0 PASS, 2 FAIL, 1 UNKNOWN or bad input), AWS's JSON shape, and
//! witnesses that `eval --request` replays as they are. Z3 comes from PyPI's z3-solver, installed under
//! the target directory on first use (or `POLICY_CHECK_Z3`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../crates/serve/tests/common/venv.rs"]
mod venv;

use std::path::PathBuf;

use crate::root;

fn z3() -> PathBuf {
    match std::env::var_os("POLICY_CHECK_Z3") {
        Some(p) => PathBuf::from(p),
        None => venv::venv("z3-venv", &[iam_reason::Z3_PACKAGE], "z3"),
    }
}

fn run(args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let z = z3();
    let mut all: Vec<String> = vec!["policy-check".into()];
    all.extend(args.iter().map(|s| s.to_string()));
    if args.first() == Some(&"check") && !args.get(1).is_some_and(|a| a.starts_with("cedar-")) {
        all.push("--solver".into());
        all.push(z.display().to_string());
    }
    let code = policy_check::run_args(all, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn fx(name: &str) -> String {
    root()
        .join("fixtures/check")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn no_new_access_exit_codes_json_and_a_replayable_witness() {
    let (code, out, err) = run(&[
        "check",
        "no-new-access",
        "--existing",
        &fx("rows-own.json"),
        "--new",
        &fx("rows-all.json"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["reasons"][0]["statementIndex"], 0);
    assert_eq!(v["reasons"][0]["statementId"], "AllRows");
    assert_eq!(v["mode"], "aws");
    let w = &v["witnesses"][0];
    assert!(w["action"].as_str().unwrap().starts_with("dynamodb:"));
    // The witness is a request `eval --request` takes as it is: allowed by the new policy, not the old.
    let dir = std::env::temp_dir().join(format!("policy-check-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let req = dir.join("witness.json");
    std::fs::write(&req, w.to_string()).unwrap();
    let (new_code, o, e) = run(&[
        "eval",
        "--policy",
        &fx("rows-all.json"),
        "--request",
        &req.display().to_string(),
    ]);
    assert_eq!(new_code, 0, "{o}{e}");
    let (old_code, o, e) = run(&[
        "eval",
        "--policy",
        &fx("rows-own.json"),
        "--request",
        &req.display().to_string(),
    ]);
    assert_eq!(old_code, 2, "{o}{e}");
    let _ = std::fs::remove_dir_all(&dir);

    let (code, out, _) = run(&[
        "check",
        "no-new-access",
        "--existing",
        &fx("rows-all.json"),
        "--new",
        &fx("rows-own.json"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("PASS  no-new-access"), "{out}");
}

#[test]
fn access_not_granted_and_no_public_access() {
    let (code, out, _) = run(&[
        "check",
        "access-not-granted",
        &fx("rows-own.json"),
        "--action",
        "dynamodb:DeleteItem",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&[
        "check",
        "access-not-granted",
        &fx("rows-own.json"),
        "--action",
        "dynamodb:Query",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("witness: {\"action\":\"dynamodb:Query\""),
        "{out}"
    );
    let (code, out, _) = run(&[
        "check",
        "access-not-granted",
        &fx("rows-own.json"),
        "--resource",
        "arn:aws:dynamodb:*:*:table/Other",
    ]);
    assert_eq!(code, 0, "{out}");

    let (code, out, _) = run(&[
        "check",
        "no-public-access",
        &fx("public-bucket.json"),
        "--resource-type",
        "AWS::S3::Bucket",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("statement 0 (Site)"), "{out}");
    let (code, out, _) = run(&[
        "check",
        "no-public-access",
        &fx("cloudfront-bucket.json"),
        "--resource-type",
        "AWS::S3::Bucket",
    ]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn unknown_and_bad_input_exit_1() {
    let (code, out, _) = run(&[
        "check",
        "no-new-access",
        "--existing",
        &fx("rows-all.json"),
        "--new",
        &fx("binary.json"),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("UNKNOWN"), "{out}");
    assert!(out.contains("binary.json:4:"), "{out}");
    let (code, _, _) = run(&[
        "check",
        "no-new-access",
        "--existing",
        &fx("rows-all.json"),
        "--new",
        &fx("binary.json"),
        "--unknown-ok",
    ]);
    assert_eq!(code, 0);
    let (code, _, err) = run(&["check", "access-not-granted", &fx("rows-own.json")]);
    assert_eq!(code, 1);
    assert!(err.contains("reason::input"), "{err}");
    let (code, _, err) = run(&[
        "check",
        "no-public-access",
        &fx("public-bucket.json"),
        "--resource-type",
        "AWS::Nope",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("reason::input"), "{err}");
    let (code, _, err) = run(&[
        "check",
        "no-new-access",
        "--existing",
        &fx("README.md"),
        "--new",
        &fx("rows-all.json"),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("README.md"), "{err}");
    // A solver that is not there is an error naming it, never a PASS.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args(
        [
            "policy-check",
            "check",
            "no-new-access",
            "--existing",
            &fx("rows-all.json"),
            "--new",
            &fx("rows-own.json"),
            "--solver",
            "/nonexistent/z3",
        ],
        &mut out,
        &mut err,
    );
    assert_eq!(code, 1);
    assert!(String::from_utf8(err).unwrap().contains("reason::solver"));
}

/// A property case that does not hold fails with a counterexample request, and one the reasoning cannot
/// decide fails too (never passes); both run through `policy-check test`.
#[test]
fn property_cases_fail_with_a_counterexample_or_unknown() {
    let dir = std::env::temp_dir().join(format!("policy-check-property-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["rows-all.json", "binary.json"] {
        std::fs::copy(root().join("fixtures/check").join(f), dir.join(f)).unwrap();
    }
    let suite = serde_json::json!({
        "identity": ["rows-all.json"],
        "cases": [
            {"name": "no foreign rows", "expect": "Deny",
             "property": {"action": "dynamodb:GetItem",
                          "where": {"ForAnyValue:StringNotEquals": {"dynamodb:LeadingKeys": "${cognito-identity.amazonaws.com:sub}"}}}},
            {"name": "never deletes", "expect": "Deny", "property": {"action": "dynamodb:DeleteItem"}},
            {"name": "undecidable here", "expect": "Deny", "identity": ["binary.json"],
             "property": {"action": "s3:GetObject"}}
        ]
    });
    let path = dir.join("p.suite.json");
    std::fs::write(&path, suite.to_string()).unwrap();
    let (code, out, err) = run_suite_cli(&["test", &path.display().to_string()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("FAIL  no foreign rows"), "{out}");
    assert!(
        out.contains("counterexample: {\"action\":\"dynamodb:GetItem\""),
        "{out}"
    );
    assert!(out.contains("PASS  never deletes"), "{out}");
    assert!(
        out.contains("FAIL  undecidable here") && out.contains("BinaryEquals"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the CLI in-process. The suite runner finds Z3 itself (`POLICY_CHECK_Z3`, `PATH`, or
/// `~/.cache/policy-check/z3`, which it installs once from PyPI when none is found), as a user's run does.
fn run_suite_cli(args: &[&str]) -> (u8, String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut all: Vec<String> = vec!["policy-check".into()];
    all.extend(args.iter().map(|s| s.to_string()));
    let code = policy_check::run_args(all, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// `diff`: both directions, one witness per responsible statement, exit 0 only for the same access.
#[test]
fn diff_shows_both_directions() {
    let (code, out, err) = run(&[
        "diff",
        &fx("rows-own.json"),
        &fx("rows-all.json"),
        "--solver",
        &z3().display().to_string(),
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("now allowed: 1 statement") && out.contains("no longer allowed: nothing"),
        "{out}"
    );
    assert!(out.contains("Now allowed: dynamodb:"), "{out}");
    let (code, out, _) = run(&[
        "diff",
        &fx("rows-all.json"),
        &fx("rows-own.json"),
        "--solver",
        &z3().display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["now_allowed"]["result"], "PASS");
    assert_eq!(v["no_longer_allowed"]["result"], "FAIL");
    assert!(
        v["no_longer_allowed"]["reasons"][0]["description"]
            .as_str()
            .unwrap()
            .starts_with("No longer allowed: ")
    );
    let (code, out, _) = run(&[
        "diff",
        &fx("rows-own.json"),
        &fx("rows-own.json"),
        "--solver",
        &z3().display().to_string(),
    ]);
    assert_eq!(code, 0, "{out}");
}

fn cvc5() -> PathBuf {
    match std::env::var_os("CVC5") {
        Some(p) => PathBuf::from(p),
        None => cedar_reason::Cvc5::install_into(
            &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cvc5-venv"),
        )
        .unwrap()
        .path()
        .to_path_buf(),
    }
}

/// The Cedar checks through the CLI: exit codes, and a counterexample `authorize` replays as a Verified
/// Permissions request with the decisions the check claims.
#[test]
fn cedar_checks_and_a_replayable_counterexample() {
    let c = cvc5().display().to_string();
    let store = |n: &str| {
        root()
            .join("fixtures/check/cedar")
            .join(n)
            .display()
            .to_string()
    };
    let (code, out, err) = run(&[
        "check",
        "cedar-implies",
        "--existing",
        &store("v2"),
        "--new",
        &store("v1"),
        "--cvc5",
        &c,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = run(&[
        "check",
        "cedar-implies",
        "--existing",
        &store("v1"),
        "--new",
        &store("v2"),
        "--cvc5",
        &c,
        "--format",
        "json",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["result"], "FAIL");
    let dir = std::env::temp_dir().join(format!("policy-check-cedar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let req = dir.join("cex.json");
    std::fs::write(&req, v["counterexamples"][0]["request"].to_string()).unwrap();
    let (code, out, err) = run(&[
        "authorize",
        "--store",
        &store("v2"),
        "--request",
        &req.display().to_string(),
    ]);
    assert_eq!(code, 0, "the new store allows it: {out}{err}");
    let (code, out, err) = run(&[
        "authorize",
        "--store",
        &store("v1"),
        "--request",
        &req.display().to_string(),
    ]);
    assert_eq!(code, 2, "the old store denies it: {out}{err}");
    let _ = std::fs::remove_dir_all(&dir);
    let (code, out, _) = run(&["check", "cedar-never-errors", &store("risky"), "--cvc5", &c]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("policy small-enough"), "{out}");
    let (code, out, _) = run(&[
        "check",
        "cedar-equivalent",
        &store("v1"),
        &store("v1"),
        "--cvc5",
        &c,
    ]);
    assert_eq!(code, 0, "{out}");
    // A store without a schema cannot be reasoned about: an error, not a pass.
    let (code, _, err) = run(&[
        "check",
        "cedar-always-denies",
        &root()
            .join("policies/photo-app-avp/store-location")
            .display()
            .to_string(),
        "--cvc5",
        &c,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("reason::input"), "{err}");
}

/// `check no-new-access --template NEW --existing-template OLD`: policy by policy, the one whose row-level
/// condition was loosened fails with a witness, the others pass; a policy the old template lacks is new.
#[test]
fn templates_are_compared_policy_by_policy() {
    let old = root().join("fixtures/templates/notes-app.yaml");
    let text = std::fs::read_to_string(&old).unwrap();
    let loosened = text.replace(
        "dynamodb:LeadingKeys: ['${cognito-identity.amazonaws.com:sub}']",
        "dynamodb:LeadingKeys: ['*']",
    );
    assert_ne!(text, loosened);
    let dir = std::env::temp_dir().join(format!("policy-check-tpl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let new = dir.join("new.yaml");
    std::fs::write(&new, &loosened).unwrap();
    let z = z3().display().to_string();
    let args = |new: &std::path::Path| {
        vec![
            "check".to_string(),
            "no-new-access".into(),
            "--existing-template".into(),
            old.display().to_string(),
            "--template".into(),
            new.display().to_string(),
            "--import-value".into(),
            "shared-topic-arn=arn:aws:sns:us-east-1:123456789012:t".into(),
            "--solver".into(),
            z.clone(),
            "--format".into(),
            "json".into(),
        ]
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args(
        std::iter::once("policy-check".to_string()).chain(args(&new)),
        &mut out,
        &mut err,
    );
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, 2, "{out}{}", String::from_utf8_lossy(&err));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v.as_array().unwrap();
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| r["result"] == "FAIL")
        .map(|r| r["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        failed,
        vec!["AuthenticatedRole.Policies[0] (own-rows)"],
        "{out}"
    );
    assert!(
        rows.len() >= 4 && rows.iter().filter(|r| r["result"] == "PASS").count() == rows.len() - 1
    );
    // In text, the responsible statement is located in the template itself (its `- Sid: OwnRows` line),
    // not in the resolved policy.
    let line = loosened
        .lines()
        .position(|l| l.contains("Sid: OwnRows"))
        .unwrap()
        + 1;
    let col = loosened.lines().nth(line - 1).unwrap().find("Sid").unwrap() + 1;
    let mut text_args = args(&new);
    text_args.truncate(text_args.len() - 2);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args(
        std::iter::once("policy-check".to_string()).chain(text_args),
        &mut out,
        &mut err,
    );
    let out = String::from_utf8(out).unwrap();
    assert_eq!(code, 2, "{out}");
    let at = format!("at {}:{line}:{col}:", new.display());
    assert!(out.contains(&at), "expected `{at}` in:\n{out}");
    // The same template against itself: nothing new.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args(
        std::iter::once("policy-check".to_string()).chain(args(&old)),
        &mut out,
        &mut err,
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
