//! The deployable binary under the local Lambda execution environment (`lambda_local`): the Runtime API
//! (`/2018-06-01/runtime/invocation/next`, `…/{id}/response`, `…/{id}/error`, `…/init/error`) on
//! 127.0.0.1, the real `apigw-authorizer` binary started against it with the environment Lambda gives a
//! function, authorizer events handed to it, and what it posts back checked. This is the code path that runs in production:
//! `lambda_runtime`'s client, the event decoding, the handler, the response encoding.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use lambda_local::{Code, FunctionSpec, InvokeError, LocalFunction};

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

/// What the function answered one event: `Ok` with its response, or `Err` with its error.
struct Posted {
    kind: &'static str,
    body: Value,
}

/// The binary as a function in the local execution environment (`lambda_local`), with the environment
/// the deployed function has.
fn function(extra_env: &[(&str, &str)]) -> LocalFunction {
    let code = Code::Command {
        program: PathBuf::from(env!("CARGO_BIN_EXE_apigw-authorizer")),
        args: Vec::new(),
    };
    let mut spec = FunctionSpec::new(code)
        .env("USER_POOL_ID", "us-east-1_Example")
        .env("CLIENT_ID", "exampleclient")
        .env("JWKS", "fixtures/keys/jwks.json")
        .env("GROUPS", "policies/apigw-petstore/groups");
    spec.name = "group-authorizer".into();
    spec.task_root = Some(root());
    for (k, v) in extra_env {
        spec = spec.env(k, v);
    }
    LocalFunction::new(spec).unwrap()
}

/// Invokes the binary with each event in turn, through the Runtime API, on one warm process.
fn run(events: Vec<Value>, extra_env: &[(&str, &str)]) -> Vec<Posted> {
    let f = function(extra_env);
    let posted = events
        .iter()
        .map(|e| match f.invoke(e.to_string().as_bytes()) {
            Ok(b) => Posted {
                kind: "response",
                body: serde_json::from_slice(&b).unwrap(),
            },
            Err(InvokeError::Function {
                error_type,
                message,
            }) => Posted {
                kind: "error",
                body: json!({"errorType": error_type, "errorMessage": message}),
            },
            Err(other) => panic!("the function failed: {other}"),
        })
        .collect();
    assert_eq!(f.starts(), 1, "one warm process for every event");
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
    for i in [0, 1, 3] {
        let (p, id) = (&posted[i], i);
        assert_eq!(p.kind, "response", "{id}: {}", p.body);
        assert_eq!(p.body["principalId"], "vet-sub", "{id}");
        assert_eq!(
            p.body["policyDocument"]["Statement"][0]["Sid"],
            "PetStore-API"
        );
        assert_eq!(p.body["context"]["groups"], "pet-veterinarian");
    }
    // No token: the function fails with `Unauthorized`, which API Gateway answers with 401.
    let p = &posted[2];
    assert_eq!(p.kind, "error");
    assert_eq!(p.body["errorMessage"], "Unauthorized", "{}", p.body);
    // An unmapped group: a policy that denies everything.
    let p = &posted[4];
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
    let code = Code::Command {
        program: PathBuf::from(env!("CARGO_BIN_EXE_apigw-authorizer")),
        args: Vec::new(),
    };
    let f = LocalFunction::new(FunctionSpec::new(code)).unwrap();
    let err = f
        .invoke(event("token.json").to_string().as_bytes())
        .unwrap_err();
    match &err {
        InvokeError::Init { message, logs, .. } => {
            assert!(
                message.contains("USER_POOL_ID") || logs.contains("USER_POOL_ID"),
                "{err}"
            );
        }
        InvokeError::Exited { logs, .. } => assert!(logs.contains("USER_POOL_ID"), "{err}"),
        other => panic!("{other:?}"),
    }
}
