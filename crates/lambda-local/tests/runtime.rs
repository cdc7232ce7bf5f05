//! The local execution environment against real functions: the Node.js and Python fixtures through our
//! bootstraps, and raw Runtime API clients that misbehave. Node.js and Python must be installed (`.ci/run`
//! installs them); where one is missing the test fails, unless `POLICY_CHECK_SKIP_NODE=1` /
//! `POLICY_CHECK_SKIP_PYTHON=1` asks to skip it, which it then says.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
use std::path::PathBuf;
use std::time::{Duration, Instant};

use lambda_local::{Code, FunctionSpec, InvokeError, LocalFunction};
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether `program` runs here; a missing one fails the test unless skipping was asked for.
fn available(program: &str, skip_var: &str) -> bool {
    let ok = std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var(skip_var).is_ok_and(|v| v == "1"),
            "`{program}` is not installed: `.ci/run` installs it; set {skip_var}=1 to skip"
        );
        eprintln!("SKIPPED: `{program}` is not installed and {skip_var}=1");
    }
    ok
}

fn node() -> bool {
    available("node", "POLICY_CHECK_SKIP_NODE")
}

fn python() -> bool {
    available("python3", "POLICY_CHECK_SKIP_PYTHON")
}

fn handler(lang: &str, name: &str) -> LocalFunction {
    handler_with(lang, name, |s| s)
}

fn handler_with(
    lang: &str,
    name: &str,
    f: impl FnOnce(FunctionSpec) -> FunctionSpec,
) -> LocalFunction {
    let spec = format!(
        "{}/fixtures/authorizers/{lang}/authorizers.{name}",
        root().display()
    );
    LocalFunction::new(f(FunctionSpec::new(Code::handler(&spec).unwrap()))).unwrap()
}

fn token_event(token: &str) -> Vec<u8> {
    json!({"type": "TOKEN", "authorizationToken": token,
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets"})
    .to_string()
    .into_bytes()
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn node_and_python_handlers_answer_and_stay_warm() {
    for (lang, name, ok) in [
        ("node", "tokenEcho", node()),
        ("node", "tokenEchoCallback", node()),
        ("python", "token_echo", python()),
    ] {
        if !ok {
            continue;
        }
        let f = handler(lang, name);
        for _ in 0..3 {
            let out = json_of(&f.invoke(&token_event("allow")).unwrap());
            assert_eq!(out["principalId"], "user", "{lang} {name}");
            assert_eq!(
                out["policyDocument"]["Statement"][0]["Resource"],
                "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets"
            );
        }
        assert_eq!(f.starts(), 1, "{lang} {name}: one warm process");
        match f.invoke(&token_event("unauthorized")) {
            Err(InvokeError::Function { message, .. }) => assert_eq!(message, "Unauthorized"),
            other => panic!("{lang} {name}: {other:?}"),
        }
        if name != "tokenEchoCallback" {
            match f.invoke(&token_event("other")) {
                Err(InvokeError::Function { message, .. }) => {
                    assert_eq!(message, "Error: Invalid token", "{lang}")
                }
                other => panic!("{lang}: {other:?}"),
            }
        }
        assert_eq!(f.starts(), 1, "{lang} {name}: errors keep the process");
    }
}

#[test]
fn the_function_sees_lambdas_environment_and_context() {
    if !python() {
        return;
    }
    let f = handler_with("python", "remaining", |mut s| {
        s.name = "my-authorizer".into();
        s.region = "eu-west-1".into();
        s
    });
    let out = json_of(&f.invoke(&token_event("allow")).unwrap());
    let c = &out["context"];
    assert_eq!(
        c["arn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:my-authorizer"
    );
    assert_eq!(c["function"], "my-authorizer");
    assert_eq!(c["region"], "eu-west-1");
    assert_eq!(c["handler"], "authorizers.remaining");
    assert_eq!(
        c["remainingOk"], true,
        "the deadline is the timeout from now"
    );
    let id = c["requestId"].as_str().unwrap();
    assert_eq!(id.len(), 36, "{id}");
    let again = json_of(&f.invoke(&token_event("allow")).unwrap());
    assert_ne!(
        again["context"]["requestId"], c["requestId"],
        "a request id per invocation"
    );
}

#[test]
fn a_function_that_does_not_answer_in_time_fails_and_is_restarted() {
    for (lang, ok) in [("node", node()), ("python", python())] {
        if !ok {
            continue;
        }
        let f = handler_with(lang, "timeout", |s| s.timeout(Duration::from_secs(1)));
        let t = Instant::now();
        let err = f.invoke(&token_event("allow")).unwrap_err();
        assert!(
            matches!(err, InvokeError::Timeout { .. }),
            "{lang}: {err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("Task timed out after 1.00 seconds")
        );
        assert!(t.elapsed() < Duration::from_secs(20), "bounded");
        // The next invocation starts a new process (and times out again).
        let _ = f.invoke(&token_event("allow"));
        assert_eq!(f.starts(), 2, "{lang}");
    }
}

#[test]
fn a_process_that_exits_is_a_failed_invocation_and_starts_again() {
    for (lang, ok) in [("node", node()), ("python", python())] {
        if !ok {
            continue;
        }
        let f = handler(lang, "exits");
        let err = f.invoke(&token_event("allow")).unwrap_err();
        match &err {
            InvokeError::Exited { status, logs } => {
                assert!(status.contains('3'), "{lang}: {status}");
                assert!(
                    logs.contains("giving up"),
                    "{lang}: the log tail is kept: {logs}"
                );
            }
            other => panic!("{lang}: {other:?}"),
        }
        assert!(err.to_string().contains("Runtime exited with error"));
        let _ = f.invoke(&token_event("allow"));
        assert_eq!(f.starts(), 2, "{lang}: restarted");
    }
}

#[test]
fn handlers_that_cannot_load_are_init_errors() {
    if node() {
        let dir = root().join("fixtures/authorizers/node");
        let f = LocalFunction::new(FunctionSpec::new(
            Code::handler(&format!("{}/authorizers.noSuchExport", dir.display())).unwrap(),
        ))
        .unwrap();
        match f.invoke(&token_event("allow")).unwrap_err() {
            InvokeError::Init {
                error_type,
                message,
                ..
            } => {
                assert_eq!(error_type, "Runtime.HandlerNotFound");
                assert!(message.contains("authorizers.noSuchExport"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
    if python() {
        let f = handler("python", "no_such_function");
        match f.invoke(&token_event("allow")).unwrap_err() {
            InvokeError::Init { error_type, .. } => {
                assert_eq!(error_type, "Runtime.HandlerNotFound")
            }
            other => panic!("{other:?}"),
        }
        let f = handler("python", "malformed");
        match f.invoke(&token_event("not-serializable")).unwrap_err() {
            InvokeError::Function { error_type, .. } => {
                assert_eq!(error_type, "Runtime.MarshalError")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn payloads_over_six_megabytes_are_refused_both_ways() {
    if !node() {
        return;
    }
    let f = handler("node", "huge");
    match f.invoke(&token_event("allow")).unwrap_err() {
        InvokeError::TooLarge { which, bytes } => {
            assert_eq!(which, "response");
            assert!(bytes > lambda_local::MAX_PAYLOAD_BYTES);
        }
        other => panic!("{other:?}"),
    }
    let big = vec![b' '; lambda_local::MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        f.invoke(&big),
        Err(InvokeError::TooLarge {
            which: "request",
            ..
        })
    ));
}

fn misbehaving(mode: &str) -> LocalFunction {
    let script = root().join("fixtures/authorizers/runtime/misbehaving.py");
    let code = Code::command(&format!("python3 {}", script.display())).unwrap();
    LocalFunction::new(FunctionSpec::new(code).env("MODE", mode)).unwrap()
}

#[test]
fn raw_runtime_clients_that_misbehave() {
    if !python() {
        return;
    }
    // A second answer to one request is refused; the first stands, and the next invocation works.
    let f = misbehaving("twice");
    for _ in 0..2 {
        let out = json_of(&f.invoke(&token_event("x")).unwrap());
        assert_eq!(out["principalId"], "user");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f.logs().contains("second answer: 400") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        f.logs().contains("second answer: 400"),
        "the Runtime API refused the second answer: {}",
        f.logs()
    );
    assert_eq!(f.starts(), 1);
    // An answer that is not JSON is handed back as is (the caller decides what it means).
    let f = misbehaving("garbage");
    assert_eq!(
        f.invoke(&token_event("x")).unwrap(),
        b"\x00not json at all".to_vec()
    );
    // Garbage on stdout is only logs.
    let f = misbehaving("noise");
    assert_eq!(
        json_of(&f.invoke(&token_event("x")).unwrap())["principalId"],
        "user"
    );
}

#[test]
fn bad_configurations_are_coded_errors() {
    let e = LocalFunction::new(FunctionSpec::new(
        Code::command("/no/such/program --flag").unwrap(),
    ))
    .unwrap_err();
    assert_eq!(diag::Coded::code(&e), diag::codes::LAMBDA_CONFIG);
    assert!(e.to_string().contains("/no/such/program"), "{e}");
    let dir = root().join("fixtures/authorizers/node");
    let e = Code::handler(&format!("{}/missing.handler", dir.display())).unwrap_err();
    assert!(e.to_string().contains("missing.js"), "{e}");
    let mut spec = FunctionSpec::new(Code::command("python3").unwrap());
    spec.timeout = Duration::from_secs(901);
    assert!(LocalFunction::new(spec).is_err(), "above Lambda's 900 s");
    let mut spec = FunctionSpec::new(
        Code::handler(&format!("{}/authorizers.tokenEcho", dir.display())).unwrap(),
    );
    spec.interpreter = Some(PathBuf::from("/no/such/node"));
    let e = LocalFunction::new(spec).unwrap_err();
    assert!(e.to_string().contains("POLICY_CHECK_NODE"), "{e}");
}

#[test]
fn concurrent_callers_share_one_warm_process() {
    if !node() {
        return;
    }
    let f = std::sync::Arc::new(handler("node", "tokenEcho"));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let f = f.clone();
            std::thread::spawn(move || (0..10).all(|_| f.invoke(&token_event("allow")).is_ok()))
        })
        .collect();
    for t in threads {
        assert!(t.join().unwrap());
    }
    assert_eq!(f.starts(), 1);
}
