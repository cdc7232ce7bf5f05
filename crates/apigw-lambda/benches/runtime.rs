//! The local Lambda execution environment's cost (`lambda-local`), medians from criterion:
//! - `handler in-process`: the group authorizer's own time on a TOKEN event (`apigw_lambda::handle`);
//! - `rust function, warm`: the same event through the Runtime API to the real `apigw-authorizer`
//!   binary (a `lambda_runtime` function) and back: the difference is the runtime's overhead;
//! - `gateway + node, uncached`: one request through the gateway model (TTL 0, so every request runs
//!   the function) to a warm Node.js TOKEN authorizer that echoes the methodArn, and the same function
//!   invoked directly with the event (its own time plus the Runtime API round trip);
//! - `gateway + python, uncached`: the same with the Python fixture.
//!
//! Run: `cargo bench -p apigw-lambda --bench runtime`. Node.js and Python must be installed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use apigw::{Api, AuthorizerCache, FunctionAuthorizer, HttpRequest};
use criterion::{Criterion, criterion_group, criterion_main};
use lambda_local::{Code, FunctionSpec, LocalFunction};
use serde_json::json;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let pem = std::fs::read_to_string(root().join("fixtures/keys/private.pem")).unwrap();
    let key = cognito::SigningKey::from_pem(&pem).unwrap();
    let claims = json!({"sub": "vet", "username": "vet", "cognito:groups": ["pet-veterinarian"]});
    let opts = cognito::MintOptions::new(
        "us-east-1_Example",
        "exampleclient",
        cognito::TokenUse::Access,
        now(),
    );
    let token = cognito::mint(&key, claims.as_object().unwrap(), &opts).unwrap();
    let event = json!({"type": "TOKEN", "authorizationToken": format!("Bearer {token}"),
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/petstore/v2/status"});
    let payload = event.to_string();

    let config = apigw_lambda::Config::from_env(|k| match k {
        "USER_POOL_ID" => Some("us-east-1_Example".into()),
        "CLIENT_ID" => Some("exampleclient".into()),
        "JWKS" => Some("fixtures/keys/jwks.json".into()),
        "GROUPS" => Some("policies/apigw-petstore/groups".into()),
        _ => None,
    })
    .unwrap();
    let auth = config.load(&root()).unwrap();
    let mut g = c.benchmark_group("lambda-local");
    g.bench_function("handler in-process", |b| {
        b.iter(|| apigw_lambda::handle(&auth, false, &event, now()).unwrap())
    });

    let code = Code::Command {
        program: PathBuf::from(env!("CARGO_BIN_EXE_apigw-authorizer")),
        args: Vec::new(),
    };
    let mut spec = FunctionSpec::new(code)
        .env("USER_POOL_ID", "us-east-1_Example")
        .env("CLIENT_ID", "exampleclient")
        .env("JWKS", "fixtures/keys/jwks.json")
        .env("GROUPS", "policies/apigw-petstore/groups");
    spec.task_root = Some(root());
    let rust = LocalFunction::new(spec).unwrap();
    rust.invoke(payload.as_bytes()).unwrap();
    g.bench_function("rust function, warm", |b| {
        b.iter(|| rust.invoke(payload.as_bytes()).unwrap())
    });

    let api = Api::from_json(
        &json!({"region": "us-east-1", "account": "123456789012", "api_id": "a1b2c3", "stage": "prod",
            "routes": ["GET /pets/{id}"],
            "authorizer": {"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"], "ttl": 0}})
        .to_string(),
    )
    .unwrap();
    let req = HttpRequest::new("GET", "/pets/1").header("Authorization", "allow");
    let echo = json!({"type": "TOKEN", "authorizationToken": "allow",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets/1"})
    .to_string();
    for (lang, handler) in [("node", "tokenEcho"), ("python", "token_echo")] {
        let spec = |h: &str| {
            FunctionSpec::new(
                Code::handler(&format!(
                    "{}/fixtures/authorizers/{lang}/authorizers.{h}",
                    root().display()
                ))
                .unwrap(),
            )
        };
        let direct = LocalFunction::new(spec(handler)).unwrap();
        direct.invoke(echo.as_bytes()).unwrap();
        g.bench_function(format!("{lang} function, warm"), |b| {
            b.iter(|| direct.invoke(echo.as_bytes()).unwrap())
        });
        let f = FunctionAuthorizer::new(LocalFunction::new(spec(handler)).unwrap());
        let mut cache = AuthorizerCache::default();
        assert_eq!(api.invoke(&req, &f, &mut cache, now()).status, 200);
        g.bench_function(format!("gateway + {lang}, uncached"), |b| {
            b.iter(|| api.authorize(&req, &f, &mut cache, 1_700_000_000).status)
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
