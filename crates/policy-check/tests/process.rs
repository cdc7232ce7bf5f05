//! The `policy-check` binary as a whole process: what only shows when the real standard streams are used.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Suites run on worker threads (eight files or more); a worker that writes a note to standard error
/// while the command runs (the solver's one-time install note) must not wait for a lock the command's
/// thread holds. Here the install cannot succeed (no `python3` on an empty `PATH`), so the run ends
/// with exit 1 and the note, in bounded time; a deadlock is killed after 120 s and fails the test.
#[test]
fn a_worker_can_write_to_stderr_while_suites_run() {
    let dir = std::env::temp_dir().join(format!("pc-process-{}", std::process::id()));
    let empty = dir.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let allow = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
    for i in 0..9 {
        let case = if i == 4 {
            r#"{"name": "p", "property": {"action": "s3:GetObject"}, "expect": "Allow"}"#
        } else {
            r#"{"name": "c", "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}, "expect": "Allow"}"#
        };
        std::fs::write(
            dir.join(format!("s{i}.suite.json")),
            format!(r#"{{"identity": {allow}, "cases": [{case}]}}"#),
        )
        .unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_policy-check"))
        .arg("test")
        .arg(&dir)
        .env("PATH", &empty)
        .env("POLICY_CHECK_HOME", dir.join("home"))
        .env_remove("POLICY_CHECK_Z3")
        .env_remove("POLICY_CHECK_NO_INSTALL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let err = reader.join().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let status = status.unwrap_or_else(|| panic!("still running after 120 s (deadlock?): {err}"));
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("property cases need Z3"), "{err}");
}
