//! The evaluator inside a service: a [`tower::Layer`] for HTTP services behind Amazon Cognito (axum 0.8,
//! hyper, any tower stack). For each request it takes the bearer token (`Authorization`, or a configured
//! header), verifies it with the `cognito` crate against keys fetched asynchronously ([`Keys`]), decides,
//! and answers as AWS does:
//!
//! - 401 `{"message":"Unauthorized"}` with `WWW-Authenticate: Bearer` (RFC 6750: `error="invalid_token"`
//!   for a token that fails verification) for a missing or invalid token;
//! - 403 `{"message":"User is not authorized to access this resource"}` (with ` with an explicit deny`
//!   for an explicit deny) for a denial, never 401;
//! - 503 when no signing key can be had (fail closed);
//! - 414 for a request whose `methodArn` would pass API Gateway's 1,600 bytes.
//!
//! Deciding ([`Decider`]): Cedar policy stores with Verified Permissions' token mapping ([`Cedar`]), IAM
//! group policies as in seed 004 (the token's `cognito:groups` looked up in an
//! [`apigw::GroupStore`], the merged policies evaluated with action `execute-api:Invoke` on the request's
//! `methodArn`, built by API Gateway's rules, with `aws:SourceIp`, `aws:CurrentTime`, `aws:EpochTime` and
//! `aws:SecureTransport`), or a function over the verified claims and the request. The handler receives
//! an [`Authorized`] extension: principal id, verified claims, the decision with its deciding statement,
//! and the authorizer context (`sub`, `username`, comma-joined `groups`).
//!
//! Policies reload without a restart: [`AuthLayer::reload`] swaps in a decider built (and so compiled and
//! validated) in full beforehand; requests in flight keep the one they started with. With the `watch`
//! feature, `AuthLayer::watch` rebuilds it when the policy files change. Each decision is a
//! `tracing` event (target `authz_layer`: principal, action, resource, decision, deciding policy); token
//! contents are never logged.
//!
//! ```
//! use std::sync::Arc;
//! use authz_layer::{AuthLayer, Decider, Keys};
//! use cognito::Claims as _;
//!
//! let jwks = r#"{"keys": []}"#;
//! let config = cognito::VerifierConfig::for_pool("us-east-1_Example", "exampleclient", cognito::TokenUse::Access);
//! let keys = Keys::fixed(jwks, config).unwrap();
//! // Let every verified caller in the `admins` group through.
//! let decider = Decider::function(|claims, _parts| {
//!     cognito::string_list(claims.claims().get("cognito:groups")).contains(&"admins")
//! });
//! let layer = AuthLayer::new(keys, decider);
//! // Wrap a service: `ServiceBuilder::new().layer(layer).service(app)`, or axum's `Router::layer`.
//! let _service = tower::Layer::layer(&layer, tower::service_fn(|_req: http::Request<String>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! }));
//! # let _ = Arc::new(0);
//! ```
#![deny(missing_docs)]

mod keys;

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use arc_swap::ArcSwap;
use authz_core::{Answer, Decision, Layer as PolicyLayer, Request as IamRequest};
use cognito::{Claims as _, VerifiedClaims};
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use serde_json::{Map, Value, json};

pub use keys::{KeyFailure, Keys};

/// What the handler receives (a request extension; with axum, `Extension<Authorized>`).
#[derive(Clone, Debug)]
pub struct Authorized {
    /// `principalId`: the token's `sub`.
    pub principal_id: String,
    /// The verified claims.
    pub claims: Arc<VerifiedClaims>,
    /// The decision, with the deciding statement (IAM) when there is one.
    pub answer: Answer,
    /// The authorizer context: `sub`, `username`, comma-joined `groups` (as seed 004's authorizer).
    pub context: Map<String, Value>,
}

/// With the `axum` feature, handlers take `Authorized` directly as an extractor; a request that did not
/// pass the layer (a route outside it) is answered 500, never served unauthenticated.
#[cfg(feature = "axum")]
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Authorized {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Authorized>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "authz-layer: this route is not behind the layer",
        ))
    }
}

/// A user-supplied decision over the verified claims and the request.
pub type DecideFn = dyn Fn(&VerifiedClaims, &http::request::Parts) -> bool + Send + Sync;

/// How requests are decided.
pub enum Decider {
    /// IAM group policies on the request's `methodArn`.
    Groups(Groups),
    /// A Cedar policy store, with Verified Permissions' token mapping (boxed: the store is large).
    Cedar(Box<Cedar>),
    /// A function over the verified claims and the request: `true` allows.
    Function(Arc<DecideFn>),
}

/// The resource of a request for Cedar, as Verified Permissions takes it: the resource's
/// `{"entityType", "entityId"}` and optionally `{"entityList": […]}` with the entities the policies
/// read (the resource's attributes, its parents).
#[derive(Clone, Debug, PartialEq)]
pub struct CedarResource {
    /// `{"entityType", "entityId"}`.
    pub uid: Value,
    /// Entities in Verified Permissions' shape, or `None`.
    pub entities: Option<Value>,
}

/// Supplies a request's resource (and entities) to the Cedar decider.
pub type ResourceFn = dyn Fn(&apigw::Route, &http::request::Parts) -> CedarResource + Send + Sync;

/// A Cedar policy store deciding as Verified Permissions' `IsAuthorizedWithToken`: the verified token
/// (ID or access, as the keys' `token_use` says) mapped to the principal, its groups and attributes by
/// the store's identity source; the action named from the route the request falls under
/// (`Action::"GET /pets/{id}"`, or a name given per route); the resource from a hook (by default
/// `Endpoint::"<path>"`). A request under no route is denied.
pub struct Cedar {
    store: cedar_bridge::PolicyStore,
    routes: Vec<(apigw::Route, String)>,
    resource: Arc<ResourceFn>,
}

impl Cedar {
    /// A decider over `store` for `routes` (`"METHOD /path"`; the action id is the route's text). A
    /// route that is not `METHOD /path` is an `apigw::config` error naming it.
    pub fn new(
        store: cedar_bridge::PolicyStore,
        routes: &[&str],
    ) -> Result<Self, apigw::ApigwError> {
        let routes = routes
            .iter()
            .map(|r| {
                apigw::Route::parse(r)
                    .map(|route| (route, (*r).to_string()))
                    .ok_or_else(|| {
                        apigw::ApigwError::Config(format!("route `{r}` is not \"METHOD /path\""))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            store,
            routes,
            resource: Arc::new(|_, parts| CedarResource {
                uid: json!({"entityType": "Endpoint", "entityId": parts.uri.path()}),
                entities: None,
            }),
        })
    }

    /// Names the action of a route (`("GET /photos/{id}", "view")`) instead of the route's text.
    #[must_use]
    pub fn action_names(mut self, names: &[(&str, &str)]) -> Self {
        for (route, action) in names {
            if let Some(r) = self.routes.iter_mut().find(|(_, text)| text == route) {
                r.1 = (*action).to_string();
            }
        }
        self
    }

    /// Sets the hook that supplies the resource and its entities.
    #[must_use]
    pub fn resource(
        mut self,
        f: impl Fn(&apigw::Route, &http::request::Parts) -> CedarResource + Send + Sync + 'static,
    ) -> Self {
        self.resource = Arc::new(f);
        self
    }

    fn decide(&self, claims: &VerifiedClaims, parts: &http::request::Parts) -> (Answer, String) {
        let path = parts.uri.path();
        let method = parts.method.as_str();
        // The most specific route, as API Gateway picks it: fewer greedy parameters, more literals.
        let Some((route, action)) = self
            .routes
            .iter()
            .filter(|(r, _)| r.matches(method, path))
            .max_by_key(|(r, _)| {
                (
                    !r.path.contains("+}"),
                    r.path.split('/').filter(|s| !s.starts_with('{')).count(),
                    r.method != "ANY",
                )
            })
        else {
            return (
                Answer::new(Decision::ImplicitDeny),
                format!("{method} {path} (no route)"),
            );
        };
        let res = (self.resource)(route, parts);
        let mut req = json!({
            "action": {"actionType": "Action", "actionId": action},
            "resource": res.uid,
        });
        if let (Some(e), Some(o)) = (res.entities, req.as_object_mut()) {
            o.insert("entities".into(), e);
        }
        let c: &dyn cognito::Claims = claims;
        let tokens = match claims.token_use() {
            cognito::TokenUse::Id => cedar_bridge::avp::TokenClaims::from_verified(Some(c), None),
            cognito::TokenUse::Access => {
                cedar_bridge::avp::TokenClaims::from_verified(None, Some(c))
            }
        };
        match cedar_bridge::avp::decide(&self.store, &req, &tokens, None) {
            Ok(a) => (a.result, format!("Action::{action:?}")),
            Err(e) => {
                // A request the store cannot decide is denied, and said.
                tracing::warn!(target: "authz_layer", code = e.code(), error = %e, "Cedar could not decide");
                (
                    Answer::new(Decision::ImplicitDeny),
                    format!("Action::{action:?}"),
                )
            }
        }
    }
}

impl Decider {
    /// A decision function.
    pub fn function(
        f: impl Fn(&VerifiedClaims, &http::request::Parts) -> bool + Send + Sync + 'static,
    ) -> Self {
        Decider::Function(Arc::new(f))
    }
}

/// Seed 004's group policies, decided as API Gateway decides an authorizer's policy.
pub struct Groups {
    deployment: apigw::Deployment,
    store: apigw::GroupStore,
    /// Compiled merged policies by group list: users of the same groups share one.
    memo: Mutex<HashMap<String, Arc<Option<Merged>>, foldhash::fast::RandomState>>,
}

/// A group list's merged policy, compiled, with the context keys its text names.
struct Merged {
    authorizer: iam_eval::Authorizer,
    needs: apigw::Needs,
}

impl Groups {
    /// Group policies for an API deployed at `deployment` (its Region, account, API id and stage make
    /// the `methodArn`).
    pub fn new(deployment: apigw::Deployment, store: apigw::GroupStore) -> Self {
        Self {
            deployment,
            store,
            memo: Mutex::default(),
        }
    }

    /// The merged policy of `groups`, compiled once (`None`: no group has a policy).
    fn compiled(&self, groups: &[&str]) -> Arc<Option<Merged>> {
        let key = groups.join("\n");
        if let Some(c) = self
            .memo
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
        {
            return c.clone();
        }
        let docs: Vec<_> = groups
            .iter()
            .filter_map(|g| self.store.get(g).cloned())
            .collect();
        let compiled = if docs.is_empty() {
            None
        } else {
            // The store's policies were validated when it was read; a compile error cannot pass
            // silently: it decides nothing (deny).
            let needs = docs
                .iter()
                .map(|d| apigw::Needs::of_text(&d.to_string()))
                .fold(apigw::Needs::default(), |a, b| a | b);
            iam_eval::PolicySet::compile(PolicyLayer::Identity, docs)
                .ok()
                .map(|set| Merged {
                    authorizer: iam_eval::Authorizer::new(set),
                    needs,
                })
        };
        let c = Arc::new(compiled);
        let mut memo = self
            .memo
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if memo.len() >= 4096 {
            memo.clear();
        }
        memo.insert(key, c.clone());
        c
    }
}

/// Answer bodies (AWS's defaults unless set).
#[derive(Clone, Debug)]
pub struct Bodies {
    /// 401.
    pub unauthorized: String,
    /// 403 for an implicit deny.
    pub forbidden: String,
    /// 403 for an explicit deny.
    pub explicit_deny: String,
    /// 503.
    pub unavailable: String,
}

impl Default for Bodies {
    fn default() -> Self {
        Self {
            unauthorized: apigw::Body::Unauthorized.response().1,
            forbidden: apigw::Body::ImplicitDeny.response().1,
            explicit_deny: apigw::Body::ExplicitDeny.response().1,
            unavailable: r#"{"message":"Service Unavailable"}"#.into(),
        }
    }
}

/// Where `aws:SourceIp` comes from.
pub type SourceIpFn = dyn Fn(&http::request::Parts) -> Option<IpAddr> + Send + Sync;

struct Shared {
    keys: Keys,
    decider: ArcSwap<Decider>,
    header: HeaderName,
    bodies: Bodies,
    source_ip: Arc<SourceIpFn>,
}

/// The layer. Cheap to clone; clones share keys, caches and the current decider.
#[derive(Clone)]
pub struct AuthLayer {
    shared: Arc<Shared>,
}

impl AuthLayer {
    /// A layer over `keys`, deciding with `decider`. The token is read from `Authorization`
    /// (`Bearer <token>`); `aws:SourceIp` is unknown until [`AuthLayer::source_ip`] says where to find it.
    pub fn new(keys: Keys, decider: Decider) -> Self {
        Self {
            shared: Arc::new(Shared {
                keys,
                decider: ArcSwap::from_pointee(decider),
                header: header::AUTHORIZATION,
                bodies: Bodies::default(),
                source_ip: Arc::new(|_| None),
            }),
        }
    }

    fn with(self, f: impl FnOnce(&mut Shared)) -> Self {
        // Configuration happens before the layer is shared; if it was cloned already, the clone keeps
        // its configuration and this one is rebuilt from the shared parts it can copy.
        match Arc::try_unwrap(self.shared) {
            Ok(mut s) => {
                f(&mut s);
                Self {
                    shared: Arc::new(s),
                }
            }
            Err(shared) => Self { shared },
        }
    }

    /// Reads the token from another header (its whole value, or after `Bearer `).
    #[must_use]
    pub fn header(self, name: HeaderName) -> Self {
        self.with(|s| s.header = name)
    }

    /// Sets the answer bodies.
    #[must_use]
    pub fn bodies(self, bodies: Bodies) -> Self {
        self.with(|s| s.bodies = bodies)
    }

    /// Where the caller's address comes from: for axum, the `ConnectInfo<SocketAddr>` extension; behind
    /// proxies you trust, [`forwarded_client`] with their number. Never the left-most address of
    /// `X-Forwarded-For`: clients write what they like there, and proxies (an ALB, CloudFront) append.
    #[must_use]
    pub fn source_ip(
        self,
        f: impl Fn(&http::request::Parts) -> Option<IpAddr> + Send + Sync + 'static,
    ) -> Self {
        self.with(|s| s.source_ip = Arc::new(f))
    }

    /// Replaces the decider. Build the new one in full first (reading and validating a group store,
    /// say): a broken set never reaches this call, and the old one keeps serving. Requests in flight
    /// finish with the decider they started with.
    pub fn reload(&self, decider: Decider) {
        self.shared.decider.store(Arc::new(decider));
        tracing::info!(target: "authz_layer", "policies reloaded");
    }

    /// Builds a new decider (reading and compiling its policies) and swaps it in; when building fails,
    /// the error is logged and returned, and the current decider keeps serving.
    ///
    /// ```no_run
    /// # fn f(layer: &authz_layer::AuthLayer, deployment: apigw::Deployment) {
    /// let dir = std::path::Path::new("policies/apigw-petstore/groups");
    /// let reloaded = layer.try_reload(|| {
    ///     apigw::GroupStore::from_path(dir)
    ///         .map(|store| authz_layer::Decider::Groups(authz_layer::Groups::new(deployment, store)))
    /// });
    /// # let _ = reloaded;
    /// # }
    /// ```
    pub fn try_reload<E: std::fmt::Display>(
        &self,
        build: impl FnOnce() -> Result<Decider, E>,
    ) -> Result<(), E> {
        match build() {
            Ok(d) => {
                self.reload(d);
                Ok(())
            }
            Err(e) => {
                tracing::error!(target: "authz_layer", error = %e, "policies not reloaded; the current ones keep serving");
                Err(e)
            }
        }
    }
}

/// A running watch ([`AuthLayer::watch`]): policies reload while it lives; dropping it stops watching.
#[cfg(feature = "watch")]
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
}

#[cfg(feature = "watch")]
impl AuthLayer {
    /// Watches `paths` (files or directories, recursively) and rebuilds the decider with `build` after
    /// they change, through [`AuthLayer::try_reload`]: a set that fails to build is logged and the
    /// current decider keeps serving. Changes are gathered for `settle` (a burst of writes, an editor's
    /// save) before one rebuild. Dropping the returned [`Watch`] stops watching.
    ///
    /// ```no_run
    /// # fn f(layer: &authz_layer::AuthLayer, deployment: apigw::Deployment) -> Result<(), notify::Error> {
    /// let dir = std::path::PathBuf::from("policies/apigw-petstore/groups");
    /// let watched = dir.clone();
    /// let _watch = layer.watch(&[watched], std::time::Duration::from_millis(200), move || {
    ///     apigw::GroupStore::from_path(&dir)
    ///         .map(|store| authz_layer::Decider::Groups(authz_layer::Groups::new(deployment.clone(), store)))
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn watch<E, F>(
        &self,
        paths: &[std::path::PathBuf],
        settle: std::time::Duration,
        build: F,
    ) -> Result<Watch, notify::Error>
    where
        E: std::fmt::Display,
        F: Fn() -> Result<Decider, E> + Send + 'static,
    {
        use notify::Watcher as _;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let relevant = event.is_ok_and(|e| {
                    matches!(
                        e.kind,
                        notify::EventKind::Create(_)
                            | notify::EventKind::Modify(_)
                            | notify::EventKind::Remove(_)
                    )
                });
                if relevant {
                    // The receiver is gone only when the watch is being dropped.
                    let _ = tx.send(());
                }
            })?;
        for p in paths {
            watcher.watch(p, notify::RecursiveMode::Recursive)?;
        }
        let layer = self.clone();
        std::thread::Builder::new()
            .name("authz-layer-watch".into())
            .spawn(move || {
                // Ends when the watcher (and so the sender) is dropped.
                while rx.recv().is_ok() {
                    // Let the burst settle, then rebuild once.
                    while rx.recv_timeout(settle).is_ok() {}
                    let _ = layer.try_reload(&build);
                }
            })
            .map_err(|e| notify::Error::generic(&e.to_string()))?;
        Ok(Watch { _watcher: watcher })
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;
    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around another.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// Why a request is refused.
enum Refusal {
    Missing,
    Invalid,
    Unavailable,
    Denied(Decision),
    TooLong,
}

impl<S, ReqB, ResB> tower::Service<Request<ReqB>> for AuthService<S>
where
    S: tower::Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqB: Send + 'static,
    ResB: From<String> + Send + 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResB>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        // The clone that was polled ready serves this request; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            match shared.check(&parts).await {
                Ok(who) => {
                    parts.extensions.insert(who);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(r) => Ok(shared.refuse(r)),
            }
        })
    }
}

impl Shared {
    async fn check(&self, parts: &http::request::Parts) -> Result<Authorized, Refusal> {
        let raw = parts
            .headers
            .get(&self.header)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .unwrap_or("");
        let token = raw
            .strip_prefix("Bearer ")
            .or_else(|| raw.strip_prefix("bearer "))
            .unwrap_or(raw)
            .trim();
        if token.is_empty() {
            tracing::debug!(target: "authz_layer", "no bearer token");
            return Err(Refusal::Missing);
        }
        let now = unix_now();
        let claims = match self.keys.verify(token, now).await {
            Ok(c) => c,
            Err(KeyFailure::Invalid(e)) => {
                // The error's code and message name the failed check, never the token.
                tracing::info!(target: "authz_layer", code = diag::Coded::code(&e), "token refused");
                return Err(Refusal::Invalid);
            }
            Err(KeyFailure::Unavailable(e)) => {
                tracing::warn!(target: "authz_layer", error = %e, "no signing key");
                return Err(Refusal::Unavailable);
            }
        };
        let (groups, context) = apigw::group_context(&claims);
        let decider = self.decider.load_full();
        let (answer, resource) = match &*decider {
            Decider::Function(f) => {
                let d = if f(&claims, parts) {
                    Decision::Allow
                } else {
                    Decision::ImplicitDeny
                };
                (Answer::new(d), parts.uri.path().to_string())
            }
            Decider::Cedar(c) => c.decide(&claims, parts),
            Decider::Groups(g) => {
                let arn = g
                    .deployment
                    .method_arn(parts.method.as_str(), parts.uri.path())
                    .map_err(|_| Refusal::TooLong)?;
                let ctx = apigw::GatewayContext {
                    source_ip: (self.source_ip)(parts)
                        .map(|ip| ip.to_string())
                        .unwrap_or_default(),
                    now,
                    secure_transport: parts.uri.scheme_str() != Some("http"),
                };
                let answer = match &*g.compiled(&groups) {
                    Some(m) => {
                        let c = ctx.iam_context_for(m.needs);
                        m.authorizer
                            .answer(&IamRequest::new("execute-api:Invoke", &arn).context(&c))
                    }
                    None => Answer::new(Decision::ImplicitDeny),
                };
                (answer, arn)
            }
        };
        tracing::info!(
            target: "authz_layer",
            principal = claims.sub(),
            action = "execute-api:Invoke",
            resource = %resource,
            decision = ?answer.decision,
            policy = ?answer.determining.first().map(|d| (&d.policy, &d.sid)),
            "decision"
        );
        match answer.decision {
            Decision::Allow => Ok(Authorized {
                principal_id: claims.sub().to_string(),
                claims,
                answer,
                context,
            }),
            d => Err(Refusal::Denied(d)),
        }
    }

    fn refuse<B: From<String>>(&self, r: Refusal) -> Response<B> {
        let b = &self.bodies;
        let (status, body, challenge) = match r {
            Refusal::Missing => (StatusCode::UNAUTHORIZED, &b.unauthorized, Some("Bearer")),
            Refusal::Invalid => (
                StatusCode::UNAUTHORIZED,
                &b.unauthorized,
                Some(r#"Bearer error="invalid_token""#),
            ),
            Refusal::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, &b.unavailable, None),
            Refusal::Denied(Decision::ExplicitDeny) => {
                (StatusCode::FORBIDDEN, &b.explicit_deny, None)
            }
            Refusal::Denied(_) => (StatusCode::FORBIDDEN, &b.forbidden, None),
            Refusal::TooLong => (StatusCode::URI_TOO_LONG, &b.forbidden, None),
        };
        let body = if status == StatusCode::URI_TOO_LONG {
            apigw::Body::UriTooLong.response().1
        } else {
            body.clone()
        };
        let mut resp = Response::new(B::from(body));
        *resp.status_mut() = status;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(c) = challenge {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        resp
    }
}

fn unix_now() -> i64 {
    authz_core::now_secs()
}

/// The client's address behind `trusted_hops` proxies that each append to `X-Forwarded-For` (an ALB
/// appends the address it received the request from): the address `trusted_hops` entries from the
/// right. With one trusted proxy that is the last entry; anything to its left was written by the client
/// and proves nothing. `None` when the header has fewer entries or the entry is not an address (then
/// fall back to the connection's peer, which is the nearest proxy, or refuse).
pub fn forwarded_client(headers: &http::HeaderMap, trusted_hops: usize) -> Option<IpAddr> {
    if trusted_hops == 0 {
        return None;
    }
    // Every X-Forwarded-For header, in order, as one list.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let i = entries.len().checked_sub(trusted_hops)?;
    entries.get(i)?.parse().ok()
}
