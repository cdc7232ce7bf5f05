//! Each decision is a `tracing` event with principal, action, resource, decision and deciding policy;
//! no token (nor any part of it) ever reaches the logs, whether it is accepted or refused.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use authz_layer::{AuthLayer, Decider, Keys};
use serde_json::json;
use tower::{Service, ServiceExt};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[tokio::test]
async fn decisions_are_logged_and_tokens_never_are() {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let jwks = std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap();
    let config = cognito::VerifierConfig::for_pool(
        "us-east-1_Example",
        "exampleclient",
        cognito::TokenUse::Access,
    );
    let keys = Keys::fixed(&jwks, config).unwrap();
    let store =
        apigw::GroupStore::from_path(&root().join("policies/apigw-petstore/groups")).unwrap();
    let deployment = apigw::Deployment {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: "prod".into(),
    };
    let layer = AuthLayer::new(
        keys,
        Decider::Groups(authz_layer::Groups::new(deployment, store)),
    )
    .source_ip(|_| "192.0.2.10".parse().ok());
    let mut svc = tower::Layer::layer(
        &layer,
        tower::service_fn(|_r: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
        }),
    );
    let pem = std::fs::read_to_string(root().join("fixtures/keys/private.pem")).unwrap();
    let key = cognito::SigningKey::from_pem(&pem).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let o = cognito::MintOptions::new(
        "us-east-1_Example",
        "exampleclient",
        cognito::TokenUse::Access,
        now,
    );
    let good = cognito::mint(
        &key,
        json!({"sub": "vet-sub", "cognito:groups": ["pet-veterinarian"]})
            .as_object()
            .unwrap(),
        &o,
    )
    .unwrap();
    let bad = format!("{}x", &good[..good.len() - 1]);
    for (path, tok, want) in [
        ("/petstore/v2/status", &good, 200),
        ("/petstore/v2/pets", &good, 403),
        ("/petstore/v2/status", &bad, 401),
    ] {
        let req = http::Request::get(path)
            .header("authorization", format!("Bearer {tok}"))
            .body(String::new())
            .unwrap();
        let resp = svc.ready().await.unwrap().call(req).await.unwrap();
        assert_eq!(resp.status().as_u16(), want, "{path}");
    }
    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("decision"), "{logs}");
    assert!(
        logs.contains("principal=\"vet-sub\"") || logs.contains("principal=vet-sub"),
        "{logs}"
    );
    assert!(
        logs.contains("decision=Allow") && logs.contains("decision=ImplicitDeny"),
        "{logs}"
    );
    assert!(
        logs.contains("PetStore-API"),
        "the deciding statement: {logs}"
    );
    assert!(logs.contains("token::"), "the refused token's code: {logs}");
    // No token, nor its signature or payload, in the logs.
    for t in [&good, &bad] {
        for part in t.split('.') {
            assert!(!logs.contains(part), "a token part leaked: {logs}");
        }
    }
}
