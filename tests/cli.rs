//! The `policy-check` command line, driven in-process.

use clap::Parser as _;

use crate::root;

/// Runs the CLI with `args`; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (u8, String, String) {
    let mut argv = vec!["policy-check"];
    argv.extend_from_slice(args);
    let cli = policy_check::Cli::try_parse_from(argv).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_to(cli, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn path(p: &str) -> String {
    root().join(p).display().to_string()
}

#[test]
fn validate_exit_codes() {
    let (code, _, err) = run(&["validate", &path("policies")]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&[
        "validate",
        "--type",
        "identity",
        &path("fixtures/malformed/013-effect-lowercase.json"),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid effect `allow`"), "{err}");
    assert!(err.contains("013-effect-lowercase.json:4:15"), "{err}");
    assert!(
        err.contains("Effect is case-sensitive: write `Allow`"),
        "{err}"
    );
}

#[test]
fn validate_json_output() {
    let (code, out, _) = run(&[
        "validate",
        "--format",
        "json",
        "--type",
        "identity",
        &path("fixtures/malformed/002-trailing-comma-in-action-array.json"),
    ]);
    assert_eq!(code, 1);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    let d = &lines[0];
    assert_eq!(d["code"], "json::trailing-comma");
    assert_eq!(d["severity"], "error");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(7), Some(30))
    );
    assert!(
        d["file"]
            .as_str()
            .unwrap()
            .ends_with("002-trailing-comma-in-action-array.json")
    );
    assert!(d["message"].as_str().unwrap().contains("trailing comma"));
}

#[test]
fn validate_glob_and_missing_files() {
    let (code, _, err) = run(&["validate", &path("fixtures/malformed/01*.json")]);
    assert_eq!(code, 1);
    assert!(err.contains("file(s) checked"), "{err}");
    let (code, _, err) = run(&["validate", &path("does-not-exist.json")]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
}
