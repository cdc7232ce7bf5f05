//! Bounded loopback load test of the pet store with and without the layer (`cargo bench -p authz-layer
//! --bench load`): a fixed number of requests over a fixed number of keep-alive connections, with a
//! time limit, reporting requests per second and p50/p99 latency; then the layer's own cost per
//! request in process (a cached token, group policies, the IAM decision), as the median of many runs.
//! Not a test: it asserts nothing about time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use authz_layer::{AuthLayer, Decider, Groups, Keys};
use axum::Router;
use axum::routing::get;
use serde_json::json;
use tower::{Service, ServiceExt};

const REQUESTS: usize = 20_000;
const CONNECTIONS: usize = 16;
const LIMIT: Duration = Duration::from_secs(60);

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn layer() -> AuthLayer {
    let jwks = std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap();
    let config = cognito::VerifierConfig::for_pool(
        "us-east-1_Example",
        "exampleclient",
        cognito::TokenUse::Access,
    );
    let store =
        apigw::GroupStore::from_path(&root().join("policies/apigw-petstore/groups")).unwrap();
    let deployment = apigw::Deployment {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: "prod".into(),
    };
    AuthLayer::new(
        Keys::fixed(&jwks, config).unwrap(),
        Decider::Groups(Groups::new(deployment, store)),
    )
    .source_ip(|_| "192.0.2.10".parse().ok())
}

fn token() -> String {
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
    let c = json!({"sub": "vet-sub", "cognito:groups": ["pet-veterinarian"]});
    cognito::mint(&key, c.as_object().unwrap(), &o).unwrap()
}

async fn status() -> &'static str {
    r#"{"status":"ok"}"#
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Runs the load; returns (requests/s, p50, p99, non-200 answers).
async fn load(
    addr: SocketAddr,
    token: &str,
    requests: usize,
    connections: usize,
) -> (f64, Duration, Duration, usize) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let url = format!("http://{addr}/petstore/v2/status");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, auth) = (client.clone(), url.clone(), format!("Bearer {token}"));
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(requests / connections);
            let mut bad = 0;
            for _ in 0..requests / connections {
                if started.elapsed() > LIMIT {
                    break;
                }
                let t = Instant::now();
                let r = client
                    .get(&url)
                    .header("authorization", &auth)
                    .send()
                    .await
                    .unwrap();
                let ok = r.status() == 200;
                let _ = r.bytes().await.unwrap();
                lat.push(t.elapsed());
                bad += usize::from(!ok);
            }
            (lat, bad)
        }));
    }
    let mut all = Vec::with_capacity(requests);
    let mut bad = 0;
    for t in tasks {
        let (l, b) = t.await.unwrap();
        all.extend(l);
        bad += b;
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    (all.len() as f64 / secs, pct(0.50), pct(0.99), bad)
}

/// The median over 51 runs of the time per request of 2,000 requests through `svc`.
async fn median<S>(svc: &mut S, req: &impl Fn() -> http::Request<String>) -> Duration
where
    S: Service<http::Request<String>, Response = http::Response<String>>,
    S::Error: std::fmt::Debug,
{
    let mut runs = Vec::new();
    for _ in 0..51 {
        let n = 2_000u32;
        let reqs: Vec<_> = (0..n).map(|_| req()).collect();
        let t = Instant::now();
        for r in reqs {
            let resp = svc.ready().await.unwrap().call(r).await.unwrap();
            assert_eq!(resp.status(), 200);
        }
        runs.push(t.elapsed() / n);
    }
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects nothing here.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = token();
    rt.block_on(async {
        let plain = serve(Router::new().route("/petstore/v2/status", get(status))).await;
        let guarded = serve(
            Router::new()
                .route("/petstore/v2/status", get(status))
                .layer(layer()),
        )
        .await;
        // Warm both (connections, the token cache, the compiled group policy).
        let _ = load(plain, &token, REQUESTS, CONNECTIONS).await;
        let _ = load(guarded, &token, REQUESTS, CONNECTIONS).await;
        for (requests, connections) in [(REQUESTS, CONNECTIONS), (REQUESTS / 4, 1)] {
            for (name, addr) in [("with the layer", guarded), ("without the layer", plain)] {
                let (rps, p50, p99, bad) = load(addr, &token, requests, connections).await;
                println!(
                    "load/{name}: {requests} requests, {connections} connection(s): {rps:.0} req/s, p50 {p50:?}, p99 {p99:?}, non-200: {bad}"
                );
            }
        }
        // The layer in process: one request through the layer around a service that answers at once.
        let mut svc = tower::Layer::layer(
            &layer(),
            tower::service_fn(|_r: http::Request<String>| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            }),
        );
        let mut bare = tower::service_fn(|_r: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::<String>::new(String::new()))
        });
        let req = || {
            http::Request::get("/petstore/v2/status")
                .header("authorization", format!("Bearer {token}"))
                .body(String::new())
                .unwrap()
        };
        let with = median(&mut svc, &req).await;
        let without = median(&mut bare, &req).await;
        println!(
            "in-process/layer: median {with:?} a request with the layer, {without:?} without: the layer adds {:?}",
            with.saturating_sub(without)
        );
    });
}
