//! The deployable binary under a local Lambda runtime: the test serves AWS's Lambda Runtime API
//! (`/2018-06-01/runtime/invocation/next`, `…/{id}/response`, `…/{id}/error`) on 127.0.0.1, starts the
//! real `apigw-authorizer` binary against it with the environment Lambda gives a function, hands it
//! authorizer events, and checks what it posts back. This is the code path that runs in production:
//! `lambda_runtime`'s client, the event decoding, the handler, the response encoding.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap()
}

/// An access token for the seed 004 pool, signed with the test key, valid now.
fn token(sub: &str, groups: &[&str]) -> String {
    let pem = std::fs::read_to_string(root().join("fixtures/keys/private.pem")).unwrap();
    let key = cognito::SigningKey::from_pem(&pem).unwrap();
    let claims = json!({"sub": sub, "username": sub, "cognito:groups": groups});
    let opts = cognito::MintOptions::new(
        "us-east-1_Example",
        "exampleclient",
        cognito::TokenUse::Access,
        now(),
    );
    cognito::mint(&key, claims.as_object().unwrap(), &opts).unwrap()
}

fn event(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("fixtures/apigw-events").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

struct Posted {
    id: String,
    kind: String,
    body: Value,
}

/// Serves `events` to the binary one by one, collects what it posts, and stops the binary when every
/// event has its answer (or after 60 s).
fn run(events: Vec<Value>, extra_env: &[(&str, &str)]) -> Vec<Posted> {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_apigw-authorizer"));
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "group-authorizer")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/group-authorizer")
        .env("LAMBDA_TASK_ROOT", root())
        .env("USER_POOL_ID", "us-east-1_Example")
        .env("CLIENT_ID", "exampleclient")
        .env("JWKS", "fixtures/keys/jwks.json")
        .env("GROUPS", "policies/apigw-petstore/groups")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let total = events.len();
    let mut queue = events.into_iter().enumerate();
    let mut posted = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while posted.len() < total && Instant::now() < deadline {
        let Ok(Some(mut req)) = server.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let url = req.url().to_string();
        if url == "/2018-06-01/runtime/invocation/next" {
            // Hold back the next event until the previous one was answered: one invocation at a time.
            let Some((i, ev)) = queue.next() else {
                continue;
            };
            let h = |k: &str, v: String| tiny_http::Header::from_bytes(k, v).unwrap();
            let deadline_ms = (now() + 30) * 1000;
            let resp = tiny_http::Response::from_string(ev.to_string())
                .with_header(h("Content-Type", "application/json".into()))
                .with_header(h("Lambda-Runtime-Aws-Request-Id", format!("req-{i}")))
                .with_header(h("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()))
                .with_header(h(
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:group-authorizer".into(),
                ))
                .with_header(h("Lambda-Runtime-Trace-Id", "Root=1-0-0".into()));
            req.respond(resp).unwrap();
        } else if let Some(rest) = url.strip_prefix("/2018-06-01/runtime/invocation/") {
            let (id, kind) = rest.split_once('/').unwrap();
            let mut body = String::new();
            req.as_reader().read_to_string(&mut body).unwrap();
            posted.push(Posted {
                id: id.to_string(),
                kind: kind.to_string(),
                body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
            });
            req.respond(tiny_http::Response::empty(202)).unwrap();
        } else {
            // `/runtime/init/error`: the function could not start.
            let mut body = String::new();
            req.as_reader().read_to_string(&mut body).unwrap();
            let _ = child.kill();
            panic!("the function failed to start: {url} {body}");
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(posted.len(), total, "every event answered within 60 s");
    posted
}

#[test]
fn the_binary_answers_authorizer_events_through_the_runtime_api() {
    let vet = token("vet-sub", &["pet-veterinarian"]);
    let mut rest_token = event("token.json");
    rest_token["authorizationToken"] = json!(format!("Bearer {vet}"));
    let mut rest_request = event("request.json");
    rest_request["headers"]["Authorization"] = json!(format!("Bearer {vet}"));
    let mut no_token = event("request.json");
    no_token["headers"]
        .as_object_mut()
        .unwrap()
        .remove("Authorization");
    let mut http_v2 = event("http-v2.json");
    http_v2["headers"]["authorization"] = json!(format!("Bearer {vet}"));
    let mut stranger = event("token.json");
    stranger["authorizationToken"] = json!(format!("Bearer {}", token("s-sub", &["visitors"])));
    let posted = run(
        vec![rest_token, rest_request, no_token, http_v2, stranger],
        &[],
    );
    let by_id = |id: &str| posted.iter().find(|p| p.id == id).unwrap();
    for id in ["req-0", "req-1", "req-3"] {
        let p = by_id(id);
        assert_eq!(p.kind, "response", "{id}: {}", p.body);
        assert_eq!(p.body["principalId"], "vet-sub", "{id}");
        assert_eq!(
            p.body["policyDocument"]["Statement"][0]["Sid"],
            "PetStore-API"
        );
        assert_eq!(p.body["context"]["groups"], "pet-veterinarian");
    }
    // No token: the function fails with `Unauthorized`, which API Gateway answers with 401.
    let p = by_id("req-2");
    assert_eq!(p.kind, "error");
    assert_eq!(p.body["errorMessage"], "Unauthorized", "{}", p.body);
    // An unmapped group: a policy that denies everything.
    let p = by_id("req-4");
    assert_eq!(p.kind, "response");
    assert_eq!(p.body["policyDocument"]["Statement"][0]["Effect"], "Deny");
}

#[test]
fn simple_responses_for_http_apis() {
    let vet = token("vet-sub", &["pet-veterinarian"]);
    let on = |route: &str| {
        let mut e = event("http-v2.json");
        e["headers"]["authorization"] = json!(format!("Bearer {vet}"));
        e["routeArn"] = json!(format!(
            "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/{route}"
        ));
        e["requestContext"]["http"]["sourceIp"] = json!("192.0.2.10");
        e
    };
    let posted = run(
        vec![on("GET/petstore/v2/status"), on("GET/petstore/v2/pets")],
        &[("RESPONSE", "simple")],
    );
    assert_eq!(posted[0].body["isAuthorized"], true, "{}", posted[0].body);
    assert_eq!(posted[1].body["isAuthorized"], false, "{}", posted[1].body);
}

#[test]
fn a_broken_configuration_is_an_init_error() {
    // Without USER_POOL_ID the function cannot start: it must say so to the runtime, not serve.
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_apigw-authorizer"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "group-authorizer")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the function kept running");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("USER_POOL_ID"), "{err}");
}
