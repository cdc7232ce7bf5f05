//! The layer with real parts: an axum service on 127.0.0.1 protected by the layer, a real HTTP client,
//! and a JWKS server on 127.0.0.1 that rotates keys, goes down, answers garbage and answers slowly.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authz_layer::{AuthLayer, Authorized, Decider, Groups, Keys};
use axum::Router;
use axum::extract::{Extension, State};
use axum::routing::get;
use serde_json::{Value, json};

/// An HTTP client that gives up after 10 s, so a hung server fails the test instead of stalling it.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

const POOL: &str = "us-east-1_Example";

fn mint(key: &cognito::SigningKey, claims: Value, client: &str, at: i64) -> String {
    let o = cognito::MintOptions::new(POOL, client, cognito::TokenUse::Access, at);
    cognito::mint(key, claims.as_object().unwrap(), &o).unwrap()
}

fn test_key() -> cognito::SigningKey {
    let pem = std::fs::read_to_string(root().join("fixtures/keys/private.pem")).unwrap();
    cognito::SigningKey::from_pem(&pem).unwrap()
}

/// What the JWKS server answers.
#[derive(Clone)]
enum Jwks {
    Serve(Value),
    Down,
    Garbage,
    Slow(Value),
}

async fn jwks(State(mode): State<Arc<Mutex<Jwks>>>) -> (axum::http::StatusCode, String) {
    let m = mode.lock().unwrap().clone();
    match m {
        Jwks::Serve(v) => (axum::http::StatusCode::OK, v.to_string()),
        Jwks::Down => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, String::new()),
        Jwks::Garbage => (axum::http::StatusCode::OK, "<html>not a key set".into()),
        Jwks::Slow(v) => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            (axum::http::StatusCode::OK, v.to_string())
        }
    }
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// Seed 004's API deployment.
fn deployment() -> apigw::Deployment {
    apigw::Deployment {
        region: "us-east-1".into(),
        account: "123456789012".into(),
        api_id: "a1b2c3d4e5".into(),
        stage: "prod".into(),
    }
}

fn groups(dir: &str) -> Decider {
    let store = apigw::GroupStore::from_path(&root().join(dir)).unwrap();
    Decider::Groups(Groups::new(deployment(), store))
}

async fn whoami(Extension(who): Extension<Authorized>) -> String {
    json!({"principal": who.principal_id, "context": who.context, "sid": who.answer.sid()})
        .to_string()
}

/// The pet store behind the layer; the caller's address from `X-Forwarded-For` (the test is the
/// trusted proxy).
async fn petstore(layer: AuthLayer) -> SocketAddr {
    let app = Router::new()
        .route("/petstore/v2/status", get(whoami))
        .route("/petstore/v2/pets", get(whoami))
        .route("/petstore/v1/pets", get(whoami))
        .layer(layer);
    serve(app).await
}

fn layer(jwks_url: &str) -> AuthLayer {
    let config =
        cognito::VerifierConfig::for_pool(POOL, "exampleclient", cognito::TokenUse::Access);
    let keys = Keys::remote_insecure_loopback_for_tests(jwks_url, config)
        .with_limits(Duration::from_millis(300), Duration::from_millis(800));
    AuthLayer::new(keys, groups("policies/apigw-petstore/groups")).source_ip(|p| {
        p.headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    })
}

struct World {
    app: SocketAddr,
    mode: Arc<Mutex<Jwks>>,
    client: reqwest::Client,
    layer: AuthLayer,
}

async fn world(initial: Jwks) -> World {
    let mode = Arc::new(Mutex::new(initial));
    let jwks_addr = serve(
        Router::new()
            .route("/jwks.json", get(jwks))
            .with_state(mode.clone()),
    )
    .await;
    let layer = layer(&format!("http://{jwks_addr}/jwks.json"));
    let app = petstore(layer.clone()).await;
    World {
        app,
        mode,
        client: client(),
        layer,
    }
}

impl World {
    async fn get(&self, path: &str, token: Option<&str>) -> (u16, String, Option<String>) {
        let mut r = self
            .client
            .get(format!("http://{}{path}", self.app))
            .header("x-forwarded-for", "192.0.2.10");
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let challenge = resp
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string());
        (status, resp.text().await.unwrap(), challenge)
    }
}

fn test_jwks() -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_and_group_policies() {
    let w = world(Jwks::Serve(test_jwks())).await;
    let key = test_key();
    let t = now();
    let vet = mint(
        &key,
        json!({"sub": "vet-sub", "username": "vera", "cognito:groups": ["pet-veterinarian"]}),
        "exampleclient",
        t,
    );
    // Allowed: the handler sees the verified identity and the deciding statement.
    let (s, body, _) = w.get("/petstore/v2/status", Some(&vet)).await;
    assert_eq!(s, 200, "{body}");
    let who: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(who["principal"], "vet-sub");
    assert_eq!(who["context"]["groups"], "pet-veterinarian");
    assert_eq!(who["sid"], "PetStore-API");
    // A path the group's policy does not allow: 403, never 401.
    let (s, body, ch) = w.get("/petstore/v2/pets", Some(&vet)).await;
    assert_eq!((s, ch), (403, None));
    assert_eq!(
        body,
        r#"{"message":"User is not authorized to access this resource"}"#
    );
    // A group that denies: 403 with the explicit-deny message.
    let suspended = mint(
        &key,
        json!({"sub": "s", "cognito:groups": ["pet-veterinarian", "suspended"]}),
        "exampleclient",
        t,
    );
    let (s, body, _) = w.get("/petstore/v2/status", Some(&suspended)).await;
    assert_eq!(s, 403);
    assert!(body.contains("explicit deny"), "{body}");
    // No mapped group: 403.
    let stranger = mint(
        &key,
        json!({"sub": "x", "cognito:groups": ["visitors"]}),
        "exampleclient",
        t,
    );
    assert_eq!(w.get("/petstore/v2/status", Some(&stranger)).await.0, 403);
    // Missing, malformed, expired, wrong-client and wrong-issuer tokens: 401 with the RFC 6750 challenge.
    let (s, body, ch) = w.get("/petstore/v2/status", None).await;
    assert_eq!((s, ch.as_deref()), (401, Some("Bearer")));
    assert_eq!(body, r#"{"message":"Unauthorized"}"#);
    let expired = mint(
        &key,
        json!({"sub": "vet-sub", "cognito:groups": ["pet-veterinarian"]}),
        "exampleclient",
        t - 7200,
    );
    let other_client = mint(
        &key,
        json!({"sub": "vet-sub", "cognito:groups": ["pet-veterinarian"]}),
        "otherclient",
        t,
    );
    let other_issuer = mint(
        &key,
        json!({"sub": "vet-sub", "cognito:groups": ["pet-veterinarian"],
               "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}),
        "exampleclient",
        t,
    );
    for (what, tok) in [
        ("malformed", "not.a.jwt".to_string()),
        ("expired", expired),
        ("wrong client", other_client),
        ("wrong issuer", other_issuer),
    ] {
        let (s, _, ch) = w.get("/petstore/v2/status", Some(&tok)).await;
        assert_eq!(
            (s, ch.as_deref()),
            (401, Some(r#"Bearer error="invalid_token""#)),
            "{what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_and_the_jwks_endpoint_fails() {
    let w = world(Jwks::Serve(test_jwks())).await;
    let old = test_key();
    let (new, _) = cognito::SigningKey::generate().unwrap();
    let claims = json!({"sub": "vet-sub", "cognito:groups": ["pet-veterinarian"]});
    let t = now();
    let old_tok = mint(&old, claims.clone(), "exampleclient", t);
    let new_tok = mint(&new, claims.clone(), "exampleclient", t);
    assert_eq!(w.get("/petstore/v2/status", Some(&old_tok)).await.0, 200);
    // A token signed with a key the issuer does not publish: one refetch, still unknown: 401.
    assert_eq!(w.get("/petstore/v2/status", Some(&new_tok)).await.0, 401);
    // The issuer rotates: both keys published. After the cool-down an unknown kid refetches: 200.
    let mut both = test_jwks();
    both["keys"]
        .as_array_mut()
        .unwrap()
        .push(new.jwks()["keys"][0].clone());
    *w.mode.lock().unwrap() = Jwks::Serve(both);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(w.get("/petstore/v2/status", Some(&new_tok)).await.0, 200);
    // The endpoint goes down: known keys keep serving; a token with yet another key cannot be checked:
    // 503, never 200.
    *w.mode.lock().unwrap() = Jwks::Down;
    let (third, _) = cognito::SigningKey::generate().unwrap();
    let third_tok = mint(&third, claims.clone(), "exampleclient", t);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(w.get("/petstore/v2/status", Some(&third_tok)).await.0, 503);
    assert_eq!(w.get("/petstore/v2/status", Some(&old_tok)).await.0, 200);
    // Garbage from the endpoint: the same.
    *w.mode.lock().unwrap() = Jwks::Garbage;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(w.get("/petstore/v2/status", Some(&third_tok)).await.0, 503);
    assert_eq!(w.get("/petstore/v2/status", Some(&new_tok)).await.0, 200);
    // Slow past the timeout: 503 within the timeout, not a hang.
    *w.mode.lock().unwrap() = Jwks::Slow(test_jwks());
    tokio::time::sleep(Duration::from_millis(350)).await;
    let started = std::time::Instant::now();
    assert_eq!(w.get("/petstore/v2/status", Some(&third_tok)).await.0, 503);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_set_at_all_fails_closed() {
    let w = world(Jwks::Down).await;
    let tok = mint(
        &test_key(),
        json!({"sub": "vet-sub", "cognito:groups": ["pet-veterinarian"]}),
        "exampleclient",
        now(),
    );
    let (s, body, _) = w.get("/petstore/v2/status", Some(&tok)).await;
    assert_eq!(s, 503, "{body}");
    // Within the cool-down, no new fetch and still 503.
    assert_eq!(w.get("/petstore/v2/status", Some(&tok)).await.0, 503);
    // The endpoint recovers: after the cool-down, served.
    *w.mode.lock().unwrap() = Jwks::Serve(test_jwks());
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(w.get("/petstore/v2/status", Some(&tok)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_reload_atomically_under_load() {
    let w = Arc::new(world(Jwks::Serve(test_jwks())).await);
    let tok = mint(
        &test_key(),
        json!({"sub": "vet-sub", "cognito:groups": ["pet-veterinarian"]}),
        "exampleclient",
        now(),
    );
    assert_eq!(w.get("/petstore/v2/status", Some(&tok)).await.0, 200);
    // A broken set is refused when it is read; the old one keeps serving.
    let broken = std::env::temp_dir().join(format!("authz-layer-broken-{}", std::process::id()));
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(
        broken.join("pet-veterinarian.json"),
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Alow"}]}"#,
    )
    .unwrap();
    let refused = w.layer.try_reload(|| {
        apigw::GroupStore::from_path(&broken)
            .map(|store| Decider::Groups(Groups::new(deployment(), store)))
    });
    let err = refused.unwrap_err().to_string();
    assert!(
        err.contains("pet-veterinarian"),
        "the error names the broken policy: {err}"
    );
    assert_eq!(w.get("/petstore/v2/status", Some(&tok)).await.0, 200);
    // Concurrent requests while the policies flip between a set that allows and one that denies
    // (pet-veterinarian mapped to the suspended policy): every answer is 200 or 403 and matches a set.
    let deny = std::env::temp_dir().join(format!("authz-layer-deny-{}", std::process::id()));
    std::fs::create_dir_all(&deny).unwrap();
    std::fs::copy(
        root().join("policies/apigw-petstore/groups/suspended.json"),
        deny.join("pet-veterinarian.json"),
    )
    .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let w = w.clone();
        let tok = tok.clone();
        tasks.push(tokio::spawn(async move {
            w.get("/petstore/v2/status", Some(&tok)).await
        }));
    }
    for i in 0..20 {
        let dir = if i % 2 == 0 {
            deny.clone()
        } else {
            root().join("policies/apigw-petstore/groups")
        };
        let store = apigw::GroupStore::from_path(&dir).unwrap();
        w.layer
            .reload(Decider::Groups(Groups::new(deployment(), store)));
        tokio::task::yield_now().await;
    }
    for t in tasks {
        let (s, body, _) = t.await.unwrap();
        match s {
            200 => assert!(body.contains("PetStore-API"), "{body}"),
            403 => assert!(body.contains("explicit deny"), "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    // The last reload (i = 19) restored the allowing set.
    assert_eq!(w.get("/petstore/v2/status", Some(&tok)).await.0, 200);
    let _ = std::fs::remove_dir_all(broken);
    let _ = std::fs::remove_dir_all(deny);
}

/// Seed 003 behind the layer: Verified Permissions' token mapping on a Cedar store, the action named
/// from the route, the resource from the path; the handler takes `Authorized` as an axum extractor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cedar_store_with_verified_permissions_token_mapping() {
    let files =
        cedar_bridge::StoreFiles::from_dir(&root().join("policies/photo-app-avp/store-location"))
            .unwrap();
    let store = cedar_bridge::PolicyStore::from_files(&files).unwrap();
    // A route that is not `METHOD /path` is a configuration error naming it.
    let again = cedar_bridge::PolicyStore::from_files(&files).unwrap();
    match authz_layer::Cedar::new(again, &["GET /photos/{id}", "photos"]) {
        Err(e) => assert!(
            e.to_string().contains("route `photos`") && matches!(e, apigw::ApigwError::Config(_)),
            "{e}"
        ),
        Ok(_) => panic!("a route without a method was accepted"),
    }
    let cedar = authz_layer::Cedar::new(store, &["GET /photos/{id}", "DELETE /photos/{id}"])
        .unwrap()
        .action_names(&[
            ("GET /photos/{id}", "view"),
            ("DELETE /photos/{id}", "delete"),
        ])
        .resource(|_route, parts| authz_layer::CedarResource {
            uid: json!({"entityType": "Photo",
                        "entityId": parts.uri.path().rsplit('/').next().unwrap_or("")}),
            entities: None,
        });
    let config = cognito::VerifierConfig::for_pool(POOL, "exampleclient", cognito::TokenUse::Id);
    let keys = Keys::fixed(&test_jwks().to_string(), config).unwrap();
    let layer = AuthLayer::new(keys, Decider::Cedar(Box::new(cedar)));
    async fn photo(who: Authorized) -> String {
        json!({"principal": who.principal_id, "policy": who.answer.determining.first().map(|d| d.policy.clone())}).to_string()
    }
    let app = serve(
        Router::new()
            .route("/photos/{id}", get(photo).delete(photo))
            .route("/albums", get(photo))
            .layer(layer),
    )
    .await;
    let id_token = |location: &str| {
        let o = cognito::MintOptions::new(POOL, "exampleclient", cognito::TokenUse::Id, now());
        let c =
            json!({"sub": "alice-sub", "custom:location": location, "cognito:groups": ["family"]});
        cognito::mint(&test_key(), c.as_object().unwrap(), &o).unwrap()
    };
    let client = client();
    let call = |method: reqwest::Method, path: &str, tok: String| {
        let req = client
            .request(method, format!("http://{app}{path}"))
            .header("authorization", format!("Bearer {tok}"));
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, body) = call(
        reqwest::Method::GET,
        "/photos/VacationPhoto94.jpg",
        id_token("USA"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains("usa-view"), "{body}");
    // The claim decides: another location is a denial (403, not 401).
    assert_eq!(
        call(
            reqwest::Method::GET,
            "/photos/VacationPhoto94.jpg",
            id_token("Canada")
        )
        .await
        .0,
        403
    );
    // No policy permits `delete`; a path under no route is denied.
    assert_eq!(
        call(
            reqwest::Method::DELETE,
            "/photos/VacationPhoto94.jpg",
            id_token("USA")
        )
        .await
        .0,
        403
    );
    assert_eq!(
        call(reqwest::Method::GET, "/albums", id_token("USA"))
            .await
            .0,
        403
    );
    // An access token where the keys expect ID tokens: 401.
    let access = mint(
        &test_key(),
        json!({"sub": "alice-sub"}),
        "exampleclient",
        now(),
    );
    assert_eq!(
        call(reqwest::Method::GET, "/photos/VacationPhoto94.jpg", access)
            .await
            .0,
        401
    );
}

/// `AuthLayer::watch`: editing a watched group policy reloads it (the caller's answer flips within a
/// bounded wait); a broken edit is refused and the last good set keeps serving; dropping the watch stops
/// reloading.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_policies_reload_on_change() {
    let w = world(Jwks::Serve(test_jwks())).await;
    let dir = std::env::temp_dir().join(format!("authz-layer-watch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let groups_dir = root().join("policies/apigw-petstore/groups");
    for f in [
        "pet-groomer.json",
        "pet-veterinarian.json",
        "suspended.json",
    ] {
        std::fs::copy(groups_dir.join(f), dir.join(f)).unwrap();
    }
    let built = dir.clone();
    w.layer.reload(groups(&dir.display().to_string()));
    let watch = w
        .layer
        .watch(
            std::slice::from_ref(&dir),
            Duration::from_millis(100),
            move || {
                apigw::GroupStore::from_path(&built)
                    .map(|store| Decider::Groups(Groups::new(deployment(), store)))
            },
        )
        .unwrap();
    let tok = mint(
        &test_key(),
        json!({"sub": "groomer-sub", "cognito:groups": ["pet-groomer"]}),
        "exampleclient",
        now(),
    );
    // The groomer may read pets but not the status page.
    assert_eq!(w.get("/petstore/v2/status", Some(&tok)).await.0, 403);
    let until = |want: u16| {
        let w = &w;
        let tok = &tok;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let got = w.get("/petstore/v2/status", Some(tok)).await.0;
                if got == want || std::time::Instant::now() > deadline {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    // Grant the status page: the watch picks the edit up.
    std::fs::write(
        dir.join("pet-groomer.json"),
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/*/GET/petstore/v2/*"}]}"#,
    )
    .unwrap();
    assert_eq!(until(200).await, 200, "the edit was not reloaded");
    // A broken edit: refused when read, the granting set keeps serving.
    std::fs::write(
        dir.join("pet-groomer.json"),
        r#"{"Version": "2012-10-17", "Statement": ["#,
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(w.get("/petstore/v2/status", Some(&tok)).await.0, 200);
    // Stopped: a later edit that would deny changes nothing.
    drop(watch);
    tokio::time::sleep(Duration::from_millis(200)).await;
    std::fs::copy(
        groups_dir.join("pet-groomer.json"),
        dir.join("pet-groomer.json"),
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(w.get("/petstore/v2/status", Some(&tok)).await.0, 200);
    let _ = std::fs::remove_dir_all(dir);
}

/// Keys only over HTTPS: with plain `http://` (even serving the right keys, as an attacker on the path
/// could serve theirs) no token verifies: the JWKS is never fetched and the answer is 503.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_jwks_never_verifies() {
    let mode = Arc::new(Mutex::new(Jwks::Serve(test_jwks())));
    let jwks_addr = serve(
        Router::new()
            .route("/jwks.json", get(jwks))
            .with_state(mode.clone()),
    )
    .await;
    let config =
        cognito::VerifierConfig::for_pool(POOL, "exampleclient", cognito::TokenUse::Access);
    let keys = Keys::remote(&format!("http://{jwks_addr}/jwks.json"), config)
        .with_limits(Duration::from_millis(300), Duration::from_millis(800));
    let token = mint(
        &test_key(),
        json!({"sub": "vet-sub", "username": "vera", "cognito:groups": ["pet-veterinarian"]}),
        "exampleclient",
        now(),
    );
    match keys.verify(&token, now()).await {
        Err(authz_layer::KeyFailure::Unavailable(why)) => {
            assert!(why.contains("must be https://"), "{why}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

/// The client address behind trusted proxies is counted from the right of `X-Forwarded-For`: what the
/// client wrote on the left is never taken.
#[test]
fn forwarded_client_counts_trusted_hops_from_the_right() {
    let mut h = axum::http::HeaderMap::new();
    h.append("x-forwarded-for", "10.0.0.1, 203.0.113.9".parse().unwrap());
    let ip = |s: &str| s.parse::<std::net::IpAddr>().ok();
    assert_eq!(authz_layer::forwarded_client(&h, 1), ip("203.0.113.9"));
    assert_eq!(authz_layer::forwarded_client(&h, 2), ip("10.0.0.1"));
    assert_eq!(authz_layer::forwarded_client(&h, 3), None);
    assert_eq!(authz_layer::forwarded_client(&h, 0), None);
    // A second header line counts after the first, as a proxy appends it.
    h.append("x-forwarded-for", "198.51.100.7".parse().unwrap());
    assert_eq!(authz_layer::forwarded_client(&h, 1), ip("198.51.100.7"));
    let mut junk = axum::http::HeaderMap::new();
    junk.append("x-forwarded-for", "not-an-address".parse().unwrap());
    assert_eq!(authz_layer::forwarded_client(&junk, 1), None);
}
