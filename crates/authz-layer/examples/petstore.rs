//! Seed 004's pet store as an axum app protected by the layer: `cargo run -p authz-layer --example
//! petstore` listens on 127.0.0.1:3000 (or the first argument), verifies tokens against the repository's
//! test JWKS (`fixtures/keys/jwks.json`, pool `us-east-1_Example`, client `exampleclient`) and decides
//! with the group policies in `policies/apigw-petstore/groups`. The caller's address is the peer's, or
//! the first `X-Forwarded-For` address (this example trusts the header, as behind a load balancer).
#![allow(clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;

use authz_layer::{AuthLayer, Authorized, Decider, Groups, Keys};
use axum::extract::{ConnectInfo, Extension};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

async fn pets(Extension(who): Extension<Authorized>) -> Json<Value> {
    Json(
        json!({"pets": [{"id": 1, "type": "dog"}], "caller": who.principal_id, "context": who.context}),
    )
}

async fn status(Extension(who): Extension<Authorized>) -> Json<Value> {
    Json(json!({"status": "ok", "caller": who.principal_id, "allowed_by": who.answer.sid()}))
}

#[tokio::main]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let jwks = std::fs::read_to_string(root.join("fixtures/keys/jwks.json")).expect("JWKS");
    let config = cognito::VerifierConfig::for_pool(
        "us-east-1_Example",
        "exampleclient",
        cognito::TokenUse::Access,
    );
    let keys = Keys::fixed(&jwks, config).expect("JWKS");
    let store = apigw::GroupStore::from_path(&root.join("policies/apigw-petstore/groups"))
        .expect("group policies");
    let deployment = apigw::Deployment {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: "prod".into(),
    };
    let layer =
        AuthLayer::new(keys, Decider::Groups(Groups::new(deployment, store))).source_ip(|p| {
            // Behind one trusted proxy (an ALB appends the address it saw): the last entry of
            // X-Forwarded-For, never the client-written left-most one.
            let forwarded = authz_layer::forwarded_client(&p.headers, 1);
            forwarded.or_else(|| {
                p.extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip())
            })
        });
    let app = Router::new()
        .route("/petstore/v2/pets", get(pets))
        .route("/petstore/v2/status", get(status))
        .route("/petstore/v1/pets", get(pets))
        .layer(layer);
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    eprintln!("pet store on http://{addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .expect("serve");
}
