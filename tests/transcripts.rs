//! The command line as its users see it: each `tests/transcripts/*.txt` holds commands (`$ policy-check …`)
//! with the exit code, standard output and standard error they must give, run in-process from the
//! repository root. `UPDATE_GOLDEN=1 cargo test` rewrites them; review the diff before committing.
//!
//! Format: `#` lines before the first command describe the transcript; each command is followed by
//! `exit N`, then `--- stdout` and `--- stderr` sections (left out when empty). Arguments are split on
//! spaces; a single-quoted argument may hold spaces.

use crate::root;

/// Splits a command line on spaces, keeping single-quoted arguments whole.
fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for ch in line.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    assert!(!quoted, "unclosed quote in `{line}`");
    if any {
        out.push(cur);
    }
    out
}

fn run(line: &str) -> String {
    let args = split(line);
    assert_eq!(
        args.first().map(String::as_str),
        Some("policy-check"),
        "a transcript command starts with `policy-check`: {line}"
    );
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args(&args, &mut out, &mut err);
    let mut s = format!("exit {code}\n");
    for (name, bytes) in [("stdout", out), ("stderr", err)] {
        let text = String::from_utf8(bytes).expect("the CLI writes UTF-8");
        if !text.is_empty() {
            s.push_str(&format!("--- {name}\n{text}"));
            if !text.ends_with('\n') {
                s.push('\n');
            }
        }
    }
    s
}

/// Runs one transcript; returns it as it should read.
fn replay(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next_if(|l| !l.starts_with("$ ")) {
        out.push_str(l);
        out.push('\n');
    }
    let mut commands = 0;
    while let Some(cmd) = lines.next() {
        while lines.next_if(|l| !l.starts_with("$ ")).is_some() {}
        let line = cmd.strip_prefix("$ ").unwrap_or(cmd);
        out.push_str(cmd);
        out.push('\n');
        out.push_str(&run(line));
        commands += 1;
    }
    assert!(commands > 0, "a transcript without commands checks nothing");
    out
}

#[test]
fn cli_transcripts() {
    // Commands name files relative to the repository root, as the README's examples do.
    std::env::set_current_dir(root()).unwrap();
    let dir = root().join("tests/transcripts");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 10, "transcripts in {}", dir.display());
    let mut stale = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let want = replay(&text);
        if want != text {
            if std::env::var_os("UPDATE_GOLDEN").is_some() {
                std::fs::write(f, &want).unwrap();
            } else {
                let first = text
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(text.lines().count().min(want.lines().count()));
                stale.push(format!(
                    "{}: differs from line {}:\n  expected: {:?}\n  actual:   {:?}",
                    f.display(),
                    first + 1,
                    text.lines().nth(first).unwrap_or("<end>"),
                    want.lines().nth(first).unwrap_or("<end>")
                ));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "CLI transcripts differ (UPDATE_GOLDEN=1 rewrites them):\n{}",
        stale.join("\n")
    );
}

#[test]
fn command_lines_split_like_a_shell() {
    assert_eq!(
        split("policy-check validate --format json 'fixtures/malformed/*.json'"),
        [
            "policy-check",
            "validate",
            "--format",
            "json",
            "fixtures/malformed/*.json"
        ]
    );
    assert_eq!(split("a  'b c' ''"), ["a", "b c", ""]);
}
