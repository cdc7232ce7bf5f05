//! `policy-check serve`: Amazon Verified Permissions and IAM's policy simulator on localhost, over AWS's
//! own wire protocols (Verified Permissions: AWS JSON 1.0, `POST /`, `Content-Type:
//! application/x-amz-json-1.0`, `X-Amz-Target: VerifiedPermissions.<Operation>`; IAM: the Query
//! protocol, a form-encoded `POST /` answered in XML), so the AWS SDKs and the AWS CLI can be pointed at
//! it with `--endpoint-url` / `endpoint_url=`. Tokens are verified for real (signature, issuer, client,
//! expiry) and mapped to the principal exactly as Verified Permissions maps them (`cedar-bridge`).
//!
//! IAM: `SimulateCustomPolicy` (identity policies, permissions boundaries, a resource policy, typed
//! context entries, `CallerArn`, `ResourceOwner`; results with `EvalDecision`, `MatchedStatements` with
//! their start and end line and column, `MissingContextValues`, the boundary's decision) and
//! `GetContextKeysForCustomPolicy`, and for the users and roles of an [`IamConfig`]
//! `SimulatePrincipalPolicy` and `GetContextKeysForPrincipalPolicy`. Beyond AWS: a role trust policy given as `ResourcePolicy` is evaluated
//! for `sts:AssumeRoleWithWebIdentity`.
//!
//! IAM Access Analyzer over REST-JSON (`POST /policy/validation` and the analyzer calls, answered by
//! `iam_lint`), STS `GetCallerIdentity` and IAM `GetPolicy` / `GetPolicyVersion` for the bundled AWS
//! managed policies: what AWS's validators (`cfn-policy-validator`, `tf-policy-validator`) call, so they
//! run offline. A server needs no store for these.
//!
//! Operations: `IsAuthorized`, `IsAuthorizedWithToken`, `BatchIsAuthorized`,
//! `BatchIsAuthorizedWithToken`, and the read-only `GetPolicyStore`, `ListPolicyStores`, `ListPolicies`,
//! `GetPolicy`, `GetSchema`, `ListIdentitySources`. Errors in AWS's JSON 1.0 shape (`__type`, `message`,
//! and the `x-amzn-ErrorType` header): `ValidationException` (400) for bad input and tokens that fail
//! verification, `ResourceNotFoundException` (404) for an unknown store or policy,
//! `SerializationException` (400) for a body that is not JSON, `UnknownOperationException` (400) for an
//! operation it does not serve. `GET /health` answers 200 once every store is loaded. Stores reload
//! ([`Server::reload`], SIGHUP in [`run`]): compiled fully, swapped atomically; a broken store is refused
//! and the old ones keep serving. Bodies are limited to 1 MiB.
//!
//! ```
//! use std::sync::Arc;
//! use policy_serve::{Server, StoreSpec};
//!
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/photo-app-avp/store-public");
//! let spec: StoreSpec = format!("photos={}", dir.display()).parse().unwrap();
//! let server = Arc::new(Server::load(vec![spec]).unwrap());
//! let app = server.router(); // an axum Router: `axum::serve(listener, app)`
//! # let _ = app;
//! ```
#![deny(missing_docs)]

mod account;
mod analyzer;
mod error;
mod iam;
pub mod sigv4;
mod strict_json;

pub use account::aws_managed_policy;
pub use error::ServeError;
pub use iam::{IamConfig, simulate_custom_policy_json};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cedar_bridge::avp::{self, TokenVerifiers};
use cedar_bridge::{BridgeError, PolicyStore, StoreFiles};
use serde_json::{Map, Value, json};

/// The largest request body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// Reads a store's files from somewhere other than a directory (a CloudFormation template): called at
/// load and at every reload.
pub type StoreReader = Arc<dyn Fn() -> Result<StoreFiles, ServeError> + Send + Sync>;

/// `ID=DIR`: a policy store directory served under a `policyStoreId` (or, with [`StoreSpec::reading`],
/// a store read by a function, such as one of a template).
#[derive(Clone)]
pub struct StoreSpec {
    /// The `policyStoreId` clients use.
    pub id: String,
    /// The store's directory (`*.cedar`, schema, `identity-source.json`); for a store read by a
    /// function, where a JWKS file it names is read from.
    pub dir: PathBuf,
    /// Reads the store's files instead of `dir`.
    pub reader: Option<StoreReader>,
}

impl StoreSpec {
    /// A store read by `reader` (at load and at every reload) and served as `id`; a JWKS file its
    /// identity source names is read from `dir`.
    pub fn reading(id: impl Into<String>, dir: PathBuf, reader: StoreReader) -> Self {
        Self {
            id: id.into(),
            dir,
            reader: Some(reader),
        }
    }
}

impl std::fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSpec")
            .field("id", &self.id)
            .field("dir", &self.dir)
            .field("reader", &self.reader.as_ref().map(|_| "fn"))
            .finish()
    }
}

impl PartialEq for StoreSpec {
    fn eq(&self, o: &Self) -> bool {
        self.id == o.id
            && self.dir == o.dir
            && match (&self.reader, &o.reader) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}
impl Eq for StoreSpec {}

impl std::str::FromStr for StoreSpec {
    type Err = ServeError;
    fn from_str(s: &str) -> Result<Self, ServeError> {
        let (id, dir) = s
            .split_once('=')
            .filter(|(id, dir)| !id.is_empty() && !dir.is_empty())
            .ok_or_else(|| ServeError::StoreSpec {
                given: s.to_string(),
                reason: "a store is ID=DIR",
            })?;
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(ServeError::StoreSpec {
                given: id.to_string(),
                reason: "a policy store id has letters, digits, `-` and `_` only",
            });
        }
        Ok(Self {
            id: id.to_string(),
            dir: PathBuf::from(dir),
            reader: None,
        })
    }
}

/// One loaded store: its files, the compiled store, its token verifiers.
struct Loaded {
    files: StoreFiles,
    store: PolicyStore,
    verifiers: Option<TokenVerifiers>,
    loaded_at: f64,
}

fn load_one(spec: &StoreSpec) -> Result<Loaded, ServeError> {
    let store_error = |error: BridgeError| ServeError::Store {
        id: spec.id.clone(),
        error,
    };
    let files = match &spec.reader {
        Some(read) => read()?,
        None => StoreFiles::from_dir(&spec.dir).map_err(store_error)?,
    };
    let store = PolicyStore::from_files(&files).map_err(store_error)?;
    let verifiers = match store.identity_source() {
        None => None,
        Some(src) => {
            // A JWKS named as a file is read next to the store.
            let text = match src.jwks.as_deref() {
                Some(j) if !(j.starts_with("http://") || j.starts_with("https://")) => {
                    let p = spec.dir.join(j);
                    Some(std::fs::read_to_string(&p).map_err(|e| ServeError::Read {
                        path: p.display().to_string(),
                        reason: e.to_string(),
                    })?)
                }
                _ => None,
            };
            Some(TokenVerifiers::new(&store, text.as_deref()).map_err(store_error)?)
        }
    };
    Ok(Loaded {
        files,
        store,
        verifiers,
        loaded_at: now_secs_f64(),
    })
}

/// The server's state: the stores by id, swapped whole on reload.
pub struct Server {
    specs: Vec<StoreSpec>,
    stores: ArcSwap<BTreeMap<String, Arc<Loaded>>>,
    account: String,
    requests: AtomicU64,
    iam: Option<IamConfig>,
    /// When set, requests must carry a valid SigV4 signature by one of these access keys (id → secret).
    credentials: Option<std::collections::HashMap<String, String>>,
    /// The Regions a signature's scope may name (Verified Permissions; IAM signs for `us-east-1`).
    regions: Vec<String>,
    /// The most connections served at once ([`DEFAULT_MAX_CONNECTIONS`]).
    max_connections: usize,
    /// How long a request's body may take to arrive ([`BODY_READ_TIMEOUT`]).
    body_timeout: std::time::Duration,
    /// Access Analyzer's analyzers, created by `CreateAnalyzer`.
    analyzers: analyzer::Analyzers,
    /// The SMT solver for the custom policy checks (found on first use when not given).
    solver: Option<iam_reason::Solver>,
}

/// The most connections `serve` holds at once by default. At the cap a new connection is taken and the
/// oldest one is closed: a crowd of slow or idle connections can delay clients, not lock them out (and
/// never runs the process out of descriptors).
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

impl Server {
    /// Loads every store; any failure is an error naming the store (nothing is served half-loaded).
    pub fn load(specs: Vec<StoreSpec>) -> Result<Self, ServeError> {
        let stores = Self::load_all(&specs)?;
        Ok(Self {
            specs,
            stores: ArcSwap::from_pointee(stores),
            account: "123456789012".into(),
            requests: AtomicU64::new(0),
            iam: None,
            credentials: None,
            regions: vec!["us-east-1".into()],
            max_connections: DEFAULT_MAX_CONNECTIONS,
            body_timeout: BODY_READ_TIMEOUT,
            analyzers: analyzer::Analyzers::default(),
            solver: None,
        })
    }

    /// The SMT solver the custom policy checks (`CheckNoNewAccess`, …) use; without this, the one
    /// `iam_reason::Solver::find` finds at each call.
    #[must_use]
    pub fn with_solver(mut self, solver: iam_reason::Solver) -> Self {
        self.solver = Some(solver);
        self
    }

    /// Serves `SimulatePrincipalPolicy` and `GetContextKeysForPrincipalPolicy` for the principals of
    /// `config`.
    #[must_use]
    pub fn with_iam(mut self, config: IamConfig) -> Self {
        self.iam = Some(config);
        self
    }

    /// Checks every request's SigV4 signature against these access keys (id, secret): a missing,
    /// malformed, stale or wrong signature, or an unknown key, gets AWS's error for it. Without this,
    /// signatures are accepted unchecked.
    #[must_use]
    pub fn with_credentials(mut self, keys: Vec<(String, String)>) -> Self {
        self.credentials = Some(keys.into_iter().collect());
        self
    }

    /// The Regions a Verified Permissions signature may be scoped to (default `us-east-1`). IAM is
    /// global and its signatures are scoped to `us-east-1` whatever this says.
    #[must_use]
    pub fn with_regions(mut self, regions: Vec<String>) -> Self {
        if !regions.is_empty() {
            self.regions = regions;
        }
        self
    }

    /// The account the server stands for (default `123456789012`): STS `GetCallerIdentity`, analyzer and
    /// policy store ARNs.
    #[must_use]
    pub fn with_account(mut self, account: String) -> Self {
        self.account = account;
        self
    }

    /// The most connections served at once (at least 1); at the cap the oldest is closed for a new one.
    #[must_use]
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long a request's body may take to arrive once its headers are in (408 after that).
    #[must_use]
    pub fn with_body_timeout(mut self, t: std::time::Duration) -> Self {
        self.body_timeout = t;
        self
    }

    fn load_all(specs: &[StoreSpec]) -> Result<BTreeMap<String, Arc<Loaded>>, ServeError> {
        let mut out = BTreeMap::new();
        for s in specs {
            if out.insert(s.id.clone(), Arc::new(load_one(s)?)).is_some() {
                return Err(ServeError::DuplicateStore(s.id.clone()));
            }
        }
        Ok(out)
    }

    /// Reloads every store from its directory: all are compiled before any replaces the old set; on an
    /// error the old set keeps serving and the error is returned (and logged).
    pub fn reload(&self) -> Result<(), ServeError> {
        match Self::load_all(&self.specs) {
            Ok(s) => {
                self.stores.store(Arc::new(s));
                tracing::info!(target: "policy_serve", "stores reloaded");
                Ok(())
            }
            Err(e) => {
                tracing::error!(target: "policy_serve", error = %e, "reload refused; the loaded stores keep serving");
                Err(e)
            }
        }
    }

    /// The HTTP routes: `POST /` (the AWS protocol) and `GET /health`.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/", post(aws))
            .route("/health", get(|| async { (StatusCode::OK, "ok") }))
            .merge(analyzer::routes())
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self)
    }
}

impl Server {
    /// Answers one request in-process, through the same routes and handlers as a connection (no
    /// socket): the status and the body. For tests and fuzzing of whole requests. `None` when the
    /// method, path or a header is not valid HTTP (a connection would refuse it before any handler).
    pub async fn answer(
        self: Arc<Self>,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Option<(u16, Vec<u8>)> {
        use tower_service::Service;
        let mut req = http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req.body(axum::body::Body::from(body)).ok()?;
        let mut router = self.router();
        std::future::poll_fn(|cx| {
            <Router as Service<http::Request<axum::body::Body>>>::poll_ready(&mut router, cx)
        })
        .await
        .ok()?;
        let resp = router.call(req).await.ok()?;
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 * MAX_BODY)
            .await
            .ok()?;
        Some((status, bytes.to_vec()))
    }
}

/// The soft limit on open files (`Max open files` in `/proc/self/limits`), where the system says it.
fn open_files_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.get("Max open files".len()..)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How long a connection may take to send a request's headers before it is closed (a client that
/// trickles headers holds a connection, not the server).
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves on `addr` until SIGINT or SIGTERM (finishing requests in flight); SIGHUP reloads the stores.
pub async fn run(addr: SocketAddr, server: Arc<Server>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(target: "policy_serve", %addr, "listening");
    serve_on(listener, server, HEADER_READ_TIMEOUT, shutdown_signal()).await
}

/// Serves on a bound listener until `shutdown` completes, then waits for the requests in flight:
/// HTTP/1.1 with keep-alive, each connection closed if its request headers take longer than
/// `header_timeout`. SIGHUP reloads the stores.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    server: Arc<Server>,
    header_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    #[cfg(unix)]
    {
        let s = server.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            if let Ok(mut hup) = signal(SignalKind::hangup()) {
                while hup.recv().await.is_some() {
                    let _ = s.reload();
                }
            }
        });
    }
    // Never more connections than descriptors allow: half the soft limit (the rest is for files,
    // the listener, the runtime), so the cap, not `EMFILE`, decides who waits.
    let max = match open_files_limit() {
        Some(fds) => server.max_connections.min((fds / 2).max(1)),
        None => server.max_connections,
    };
    let app = server.router();
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // Open connections by age (ids grow): at the cap the oldest is closed for the new one.
    let open: Arc<std::sync::Mutex<BTreeMap<u64, tokio::task::AbortHandle>>> = Arc::default();
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _peer)) => stream,
                    // Out of descriptors and the like: refuse this one, keep serving.
                    Err(e) => {
                        tracing::warn!(target: "policy_serve", error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
                let watched = graceful.watch(conn);
                let conn_id = next_id;
                next_id += 1;
                let registry = open.clone();
                // The task is registered before it can finish, so it always removes its own entry.
                let mut guard = open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if guard.len() >= max
                    && let Some((_, oldest)) = guard.pop_first()
                {
                    tracing::warn!(target: "policy_serve", max, "connection cap reached: closing the oldest connection");
                    oldest.abort();
                }
                let task = tokio::spawn(async move {
                    // A client that goes away or times out ends its own connection only.
                    let _ = watched.await;
                    registry
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .remove(&conn_id);
                });
                guard.insert(conn_id, task.abort_handle());
                drop(guard);
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut t) => {
                t.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!(target: "policy_serve", "shutting down");
}

/// An error in AWS's JSON 1.0 shape.
#[derive(Debug)]
struct AwsError {
    kind: &'static str,
    message: String,
}

impl AwsError {
    fn validation(m: impl Into<String>) -> Self {
        Self {
            kind: "ValidationException",
            message: m.into(),
        }
    }
    fn not_found(m: impl Into<String>) -> Self {
        Self {
            kind: "ResourceNotFoundException",
            message: m.into(),
        }
    }
    fn status(&self) -> StatusCode {
        match self.kind {
            "ResourceNotFoundException" => StatusCode::NOT_FOUND,
            "InternalServerException" => StatusCode::INTERNAL_SERVER_ERROR,
            "AccessDeniedException" => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<BridgeError> for AwsError {
    fn from(e: BridgeError) -> Self {
        let kind = match e.exception() {
            Some("ResourceNotFoundException") => "ResourceNotFoundException",
            Some("InternalServerException") => "InternalServerException",
            Some("AccessDeniedException") => "AccessDeniedException",
            _ => "ValidationException",
        };
        Self {
            kind,
            message: e.to_string(),
        }
    }
}

fn json_response(status: StatusCode, body: &Value, id: u64, error: Option<&str>) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("{id:016x}-policy-check")) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(e) = error.and_then(|e| HeaderValue::from_str(e).ok()) {
        h.insert("x-amzn-errortype", e);
    }
    resp
}

/// An error answered before the body was read, in the protocol's own shape (XML for IAM's Query
/// protocol, JSON 1.0 otherwise).
fn protocol_error(
    query: bool,
    id: u64,
    status: StatusCode,
    code: &'static str,
    message: String,
) -> Response {
    if query {
        let rid = format!("{id:016x}-policy-check");
        let xml = iam::QueryError { code, message }.xml(&rid);
        let mut resp = (status, xml).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        return resp;
    }
    json_response(
        status,
        &json!({"__type": code, "message": message}),
        id,
        Some(code),
    )
}

/// How long a request may take to send its body once its headers are in.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a request was refused before its handler ran: the status, AWS's error code, the message.
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

/// Reads a request's body: a declared length over [`MAX_BODY`] is refused at once, without waiting for
/// the body; the body is read within the server's body timeout and never past [`MAX_BODY`].
pub(crate) async fn read_body(
    s: &Server,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<axum::body::Bytes, Refusal> {
    let too_large = || Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "RequestEntityTooLarge",
        message: format!("Request must be smaller than {MAX_BODY} bytes"),
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(s.body_timeout, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(_)) => Err(too_large()),
        Err(_) => Err(Refusal {
            status: StatusCode::REQUEST_TIMEOUT,
            code: "RequestTimeout",
            message: format!(
                "the request body did not arrive within {} ms",
                s.body_timeout.as_millis()
            ),
        }),
    }
}

/// Checks a request's SigV4 signature when the server was given credentials (accepted unchecked
/// otherwise).
#[allow(clippy::too_many_arguments)]
pub(crate) fn check_signature(
    s: &Server,
    service: &str,
    regions: &[String],
    signed: &[&str],
    method: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), sigv4::SigError> {
    let Some(creds) = &s.credentials else {
        return Ok(());
    };
    let now = authz_core::now_secs();
    let expect = sigv4::Expect {
        credentials: creds,
        service,
        regions,
        signed,
    };
    sigv4::verify(
        &expect,
        method,
        uri.path(),
        uri.query().unwrap_or(""),
        headers,
        body,
        now,
    )
}

async fn aws(
    State(s): State<Arc<Server>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let id = s.requests.fetch_add(1, Ordering::Relaxed);
    // IAM's Query protocol: a form body and no `X-Amz-Target`.
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let query = form && headers.get("x-amz-target").is_none();
    let body = match read_body(&s, &headers, body).await {
        Ok(b) => b,
        Err(r) => return protocol_error(query, id, r.status, r.code, r.message),
    };
    // IAM's Query endpoint also answers STS's GetCallerIdentity, signed for `sts`.
    let signed_for_sts = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("/sts/aws4_request"));
    let mut sts_regions = s.regions.clone();
    sts_regions.push("us-east-1".into());
    let iam_regions = ["us-east-1".to_string()];
    let (service, regions, signed): (&str, &[String], &[&str]) = match (query, signed_for_sts) {
        (true, true) => ("sts", &sts_regions, &[]),
        (true, false) => ("iam", &iam_regions, &[]),
        (false, _) => ("verifiedpermissions", &s.regions, &["x-amz-target"]),
    };
    if let Err(e) = check_signature(&s, service, regions, signed, "POST", &uri, &headers, &body) {
        tracing::info!(target: "policy_serve", code = e.code(!query), "signature refused");
        let status = StatusCode::from_u16(e.status(!query)).unwrap_or(StatusCode::FORBIDDEN);
        if query {
            let rid = format!("{id:016x}-policy-check");
            let xml = iam::QueryError {
                code: e.code(false),
                message: e.message(),
            }
            .xml(&rid);
            let mut resp = (status, xml).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
            return resp;
        }
        let kind = e.code(true);
        return json_response(
            status,
            &json!({"__type": kind, "message": e.message()}),
            id,
            Some(kind),
        );
    }
    if query {
        let rid = format!("{id:016x}-policy-check");
        let (status, xml) = match iam::handle(&body, &rid, s.iam.as_ref(), &s.account) {
            Ok(x) => (StatusCode::OK, x),
            Err(e) => {
                tracing::info!(target: "policy_serve", code = e.code, message = %e.message, "refused");
                let status = if e.code == "NoSuchEntity" {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::BAD_REQUEST
                };
                (status, e.xml(&rid))
            }
        };
        let mut resp = (status, xml).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        if let Ok(v) = HeaderValue::from_str(&rid) {
            resp.headers_mut().insert("x-amzn-requestid", v);
        }
        return resp;
    }
    // Deciding is short and bounded (a 1 MiB body, at most 30 requests a batch), so it runs on the
    // connection's task: a hand-off to a blocking thread would cost more than the decision. Remote
    // JWKS fetches are the exception; they have their own timeout in the `cognito` crate.
    let result = handle(&s, &headers, &body);
    match result {
        Ok(v) => json_response(StatusCode::OK, &v, id, None),
        Err(e) => {
            tracing::info!(target: "policy_serve", kind = e.kind, message = %e.message, "refused");
            json_response(
                e.status(),
                &json!({"__type": e.kind, "message": e.message}),
                id,
                Some(e.kind),
            )
        }
    }
}

fn handle(s: &Server, headers: &HeaderMap, body: &[u8]) -> Result<Value, AwsError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(op) = target.strip_prefix("VerifiedPermissions.") else {
        return Err(AwsError {
            kind: "UnknownOperationException",
            message: format!("`X-Amz-Target: {target}` is not an operation this endpoint serves"),
        });
    };
    // Duplicate keys are refused (the last would win silently otherwise), as `authorize` refuses them.
    let req: Value =
        strict_json::from_slice(if body.is_empty() { b"{}" } else { body }).map_err(|e| {
            AwsError {
                kind: "SerializationException",
                message: format!("the body is not JSON: {e}"),
            }
        })?;
    let o = req
        .as_object()
        .ok_or_else(|| AwsError::validation("the body must be a JSON object"))?;
    let allowed: &[&str] = match op {
        "IsAuthorized" => &[
            "policyStoreId",
            "principal",
            "action",
            "resource",
            "context",
            "entities",
        ],
        "IsAuthorizedWithToken" => &[
            "policyStoreId",
            "identityToken",
            "accessToken",
            "action",
            "resource",
            "context",
            "entities",
        ],
        "BatchIsAuthorized" => &["policyStoreId", "entities", "requests"],
        "BatchIsAuthorizedWithToken" => &[
            "policyStoreId",
            "identityToken",
            "accessToken",
            "entities",
            "requests",
        ],
        "GetPolicyStore" | "GetSchema" => &["policyStoreId"],
        "ListPolicyStores" => &["maxResults", "nextToken"],
        "ListPolicies" | "ListIdentitySources" => &[
            "policyStoreId",
            "maxResults",
            "nextToken",
            "filter",
            "filters",
        ],
        "GetPolicy" => &["policyStoreId", "policyId"],
        _ => {
            return Err(AwsError {
                kind: "UnknownOperationException",
                message: format!("`{op}` is not an operation this endpoint serves"),
            });
        }
    };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(AwsError::validation(format!(
            "`{k}` is not a member of {op}'s input"
        )));
    }
    let stores = s.stores.load_full();
    if op == "ListPolicyStores" {
        return Ok(json!({"policyStores": stores.iter().map(|(id, l)| json!({
            "policyStoreId": id, "arn": s.arn(id), "createdDate": l.loaded_at, "lastUpdatedDate": l.loaded_at,
        })).collect::<Vec<_>>()}));
    }
    let store_id = match o.get("policyStoreId") {
        Some(Value::String(id)) => id.as_str(),
        Some(_) => return Err(AwsError::validation("`policyStoreId` must be a string")),
        None => return Err(AwsError::validation("`policyStoreId` is required")),
    };
    let loaded = stores
        .get(store_id)
        .ok_or_else(|| AwsError::not_found(format!("no policy store `{store_id}`")))?;
    match op {
        "IsAuthorized" | "BatchIsAuthorized" => {
            let (resp, _) = avp::run(&loaded.store, &req, &avp::TokenClaims::default(), None)?;
            Ok(resp)
        }
        "IsAuthorizedWithToken" | "BatchIsAuthorizedWithToken" => {
            if o.get("identityToken").is_none() && o.get("accessToken").is_none() {
                return Err(AwsError::validation(
                    "give `identityToken` or `accessToken`",
                ));
            }
            let verifiers = loaded.verifiers.as_ref().ok_or_else(|| {
                AwsError::validation(format!("policy store `{store_id}` has no identity source"))
            })?;
            let tokens = verifiers.verify(&req, now_secs())?;
            let (resp, _) = avp::run(&loaded.store, &req, &tokens, None)?;
            Ok(resp)
        }
        "GetPolicyStore" => Ok(json!({
            "policyStoreId": store_id,
            "arn": s.arn(store_id),
            "validationSettings": {"mode": loaded.store.validation_mode()},
            "createdDate": loaded.loaded_at,
            "lastUpdatedDate": loaded.loaded_at,
        })),
        "GetSchema" => {
            let schema = loaded
                .files
                .others
                .iter()
                .find(|(n, _)| n == "schema.json" || n == "schema.cedarschema")
                .ok_or_else(|| {
                    AwsError::not_found(format!("policy store `{store_id}` has no schema"))
                })?;
            Ok(json!({
                "policyStoreId": store_id,
                "schema": schema.1,
                "createdDate": loaded.loaded_at,
                "lastUpdatedDate": loaded.loaded_at,
                "namespaces": [],
            }))
        }
        "ListPolicies" => Ok(json!({"policies": policies(loaded)
            .into_iter()
            .map(|(pid, _, effect)| json!({
                "policyStoreId": store_id, "policyId": pid, "policyType": "STATIC",
                "definition": {"static": {}}, "effect": effect,
                "createdDate": loaded.loaded_at, "lastUpdatedDate": loaded.loaded_at,
            }))
            .collect::<Vec<_>>()})),
        "GetPolicy" => {
            let want = match o.get("policyId") {
                Some(Value::String(p)) => p.as_str(),
                _ => return Err(AwsError::validation("`policyId` is required (a string)")),
            };
            let (pid, text, effect) = policies(loaded)
                .into_iter()
                .find(|(pid, _, _)| pid == want)
                .ok_or_else(|| {
                    AwsError::not_found(format!("no policy `{want}` in `{store_id}`"))
                })?;
            Ok(json!({
                "policyStoreId": store_id, "policyId": pid, "policyType": "STATIC",
                "definition": {"static": {"statement": text}}, "effect": effect,
                "createdDate": loaded.loaded_at, "lastUpdatedDate": loaded.loaded_at,
            }))
        }
        "ListIdentitySources" => {
            let list: Vec<Value> = loaded
                .store
                .identity_source()
                .map(|src| {
                    let mut cfg = Map::new();
                    if let Some(pool) = &src.user_pool_id {
                        let region = pool.split('_').next().unwrap_or("us-east-1");
                        let mut c = json!({
                            "userPoolArn": format!("arn:aws:cognito-idp:{region}:{}:userpool/{pool}", s.account),
                            "clientIds": src.client_ids,
                        });
                        if let (Some(g), Some(o)) = (&src.group_entity_type, c.as_object_mut()) {
                            o.insert("groupConfiguration".into(), json!({"groupEntityType": g}));
                        }
                        cfg.insert("cognitoUserPoolConfiguration".into(), c);
                    } else if let Some(iss) = &src.issuer {
                        cfg.insert(
                            "openIdConnectConfiguration".into(),
                            json!({"issuer": iss}),
                        );
                    }
                    json!({
                        "identitySourceId": format!("{store_id}-identity-source"),
                        "policyStoreId": store_id,
                        "principalEntityType": src.principal_entity_type,
                        "configuration": cfg,
                        "createdDate": loaded.loaded_at,
                        "lastUpdatedDate": loaded.loaded_at,
                    })
                })
                .into_iter()
                .collect();
            Ok(json!({ "identitySources": list }))
        }
        _ => Err(AwsError {
            kind: "UnknownOperationException",
            message: format!("`{op}` is not an operation this endpoint serves"),
        }),
    }
}

/// The store's static policies: id, text, effect (`Permit` / `Forbid`).
fn policies(l: &Loaded) -> Vec<(String, String, &'static str)> {
    l.store
        .policies()
        .policies()
        .map(|p| {
            let effect = match p.effect() {
                cedar_policy::Effect::Permit => "Permit",
                cedar_policy::Effect::Forbid => "Forbid",
            };
            (p.id().to_string(), p.to_string(), effect)
        })
        .collect()
}

impl Server {
    fn arn(&self, id: &str) -> String {
        format!(
            "arn:aws:verifiedpermissions::{}:policy-store/{id}",
            self.account
        )
    }
}

fn now_secs() -> i64 {
    authz_core::now_secs()
}

fn now_secs_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64().floor())
}
