//! The `policy-check` command line, driven in-process.

use crate::root;

/// Runs the CLI with `args`; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (u8, String, String) {
    let mut argv = vec!["policy-check"];
    argv.extend_from_slice(args);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args(argv, &mut out, &mut err);
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
        &path("fixtures/golden/013-effect-lowercase/policy.json"),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid effect `allow`"), "{err}");
    assert!(
        err.contains("013-effect-lowercase/policy.json:4:15"),
        "{err}"
    );
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
        &path("fixtures/golden/002-trailing-comma-in-action-array/policy.json"),
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
            .ends_with("002-trailing-comma-in-action-array/policy.json")
    );
    assert!(d["message"].as_str().unwrap().contains("trailing comma"));
}

#[test]
fn validate_glob_and_missing_files() {
    let (code, _, err) = run(&["validate", &path("fixtures/golden/01*/policy.json")]);
    assert_eq!(code, 1);
    assert!(err.contains("file(s) checked"), "{err}");
    let (code, _, err) = run(&["validate", &path("does-not-exist.json")]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
}

/// One meaning per exit code in every command: usage errors are 1 (clap's default 2 means "denied" here),
/// `--help` is 0 and states the contract.
#[test]
fn usage_errors_exit_1_in_every_command() {
    let commands: &[&[&str]] = &[
        &["validate"],
        &["eval"],
        &["test"],
        &["authorize"],
        &["token", "mint"],
        &["token", "verify"],
        &["token", "decode"],
        &["pool", "eval"],
    ];
    for c in commands {
        let mut args = c.to_vec();
        args.push("--no-such-flag");
        let (code, _, err) = run(&args);
        assert_eq!(code, 1, "{c:?}: {err}");
        assert!(err.contains("--no-such-flag"), "{c:?}: {err}");
        let mut args = c.to_vec();
        args.push("--help");
        let (code, out, _) = run(&args);
        assert_eq!(code, 0, "{c:?} --help");
        assert!(out.contains("Usage"), "{c:?}: {out}");
        assert!(out.contains("Exit codes"), "{c:?}: {out}");
    }
    let (code, _, _) = run(&[]);
    assert_eq!(code, 1, "no subcommand");
    let (code, _, _) = run(&["frobnicate"]);
    assert_eq!(code, 1, "unknown subcommand");
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Exit codes"), "{out}");
    let (code, _, err) = run(&["eval", "--format", "xml", "--request", "r.json"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn completions_and_manual_page_come_from_the_command_line_definition() {
    let (code, out, _) = run(&["completions", "bash"]);
    assert_eq!(code, 0);
    for sub in ["validate", "lint", "serve", "apigw", "authorize"] {
        assert!(out.contains(sub), "bash completion knows `{sub}`");
    }
    let (code, out, _) = run(&["completions", "zsh"]);
    assert_eq!(code, 0);
    assert!(out.contains("#compdef policy-check"), "{out}");
    let (code, out, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(out.contains(".TH policy-check 1"), "{out}");
    assert!(out.contains("lint"), "the manual lists the commands");
    assert_eq!(
        run(&["completions", "tcsh"]).0,
        1,
        "an unknown shell is a usage error"
    );
}

/// Runs the CLI with `stdin` as standard input.
fn run_in(args: &[&str], stdin: &str) -> (u8, String, String) {
    let mut argv = vec!["policy-check"];
    argv.extend_from_slice(args);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args_with_stdin(argv, stdin.as_bytes(), &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn a_dash_reads_standard_input() {
    let bad =
        std::fs::read_to_string(root().join("fixtures/golden/013-effect-lowercase/policy.json"))
            .unwrap();
    let (code, _, err) = run_in(&["validate", "--type", "identity", "-"], &bad);
    assert_eq!(code, 1);
    assert!(err.contains("<stdin>:4:15"), "{err}");
    let (code, out, _) = run_in(&["lint", "--format", "json", "-"], &bad);
    assert_eq!(code, 1);
    assert!(
        out.contains(r#""file":"<stdin>""#) && out.contains("INVALID_EFFECT"),
        "{out}"
    );
    let request =
        std::fs::read_to_string(root().join("tests/transcripts/data/own-row.request.json"))
            .unwrap();
    let (code, out, err) = run_in(
        &[
            "eval",
            "--policy",
            &path("policies/cognito-groups-dynamodb/row-level.json"),
            "--request",
            "-",
        ],
        &request,
    );
    assert_eq!(code, 0, "{out}{err}");
    // Standard input is read once.
    let (code, _, err) = run_in(&["validate", "-", "-"], &bad);
    assert_eq!(code, 1);
    assert!(
        err.contains("only once") || err.contains("holds no JSON"),
        "{err}"
    );
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let p = path("fixtures/golden/013-effect-lowercase/policy.json");
    let (_, _, err) = run(&["validate", "--color", "always", "--type", "identity", &p]);
    assert!(err.contains('\u{1b}'), "colour with --color always");
    let (_, _, err) = run(&["validate", "--color", "never", "--type", "identity", &p]);
    assert!(!err.contains('\u{1b}'));
    let (_, _, err) = run(&["validate", "--type", "identity", &p]);
    assert!(
        !err.contains('\u{1b}'),
        "auto: the test's stderr is not a terminal"
    );
    use policy_check::ColorChoice;
    assert!(ColorChoice::Auto.resolve(true, None));
    assert!(
        ColorChoice::Auto.resolve(true, Some("")),
        "an empty NO_COLOR does not count"
    );
    assert!(!ColorChoice::Auto.resolve(true, Some("1")), "NO_COLOR");
    assert!(!ColorChoice::Auto.resolve(false, None));
    assert!(ColorChoice::Always.resolve(false, Some("1")));
}

#[test]
fn inline_suite_policies_are_located_on_the_suite_lines() {
    // An inline policy is built from the suite's own text: a failing case's explanation and a refused
    // policy's error name the suite file, line and column (not a rewritten copy of the policy).
    let dir = std::env::temp_dir().join(format!("pc-inline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let suite = |effect: &str, expect: &str| {
        format!(
            "{{\"name\": \"inline\",\n \"identity\": {{\"Version\": \"2012-10-17\",\n  \"Statement\": [\n   {{\"Sid\": \"Reads\", \"Effect\": \"{effect}\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}}]}},\n \"cases\": [{{\"name\": \"put\", \"request\": {{\"action\": \"s3:PutObject\", \"resource\": \"arn:aws:s3:::b/k\"}}, \"expect\": \"{expect}\"}}]}}\n"
        )
    };
    let failing = dir.join("failing.suite.json");
    std::fs::write(&failing, suite("Allow", "Allow")).unwrap();
    let (code, out, err) = run(&["test", failing.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    let at = format!("{}:4:4 (Sid Reads): action not matched", failing.display());
    assert!(out.contains(&at), "{out}");
    let refused = dir.join("refused.suite.json");
    std::fs::write(&refused, suite("allow", "Allow")).unwrap();
    let (code, _, err) = run(&["test", refused.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("{}:4:31]", refused.display())),
        "{err}"
    );
    assert!(err.contains("invalid effect `allow`"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
