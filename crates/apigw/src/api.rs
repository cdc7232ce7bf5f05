//! An API definition (routes and its Lambda authorizer) and one request through it, as API Gateway runs
//! it: route, `methodArn`, identity sources, resource policy, cache, authorizer, decision.

use std::sync::Arc;

use serde_json::Value;

use authz_core::{Answer, Decision, Determining, Outcome};
use iam_eval::PolicySet;
use iam_policy::PolicyType;

use crate::gateway::{Body, Needs, body_for, iam_context};
use crate::output::PolicyMemo;
use crate::{
    ApigwError, Authorizer, AuthorizerCache, AuthorizerEvent, AuthorizerOutput, DEFAULT_TTL,
    Deployment, FunctionError, MAX_TTL, OutputFormat,
};

/// `TOKEN` or `REQUEST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
pub enum AuthorizerType {
    /// The token from one header, optionally checked by a validation expression.
    #[serde(rename = "TOKEN")]
    Token,
    /// Any identity sources (headers, query strings, stage variables, context).
    #[serde(rename = "REQUEST")]
    Request,
}

/// The API's Lambda authorizer.
#[derive(Clone, Debug)]
pub struct AuthorizerConfig {
    /// `TOKEN` or `REQUEST`.
    pub kind: AuthorizerType,
    /// Identity sources, as API Gateway writes them (`method.request.header.Authorization`,
    /// `method.request.querystring.token`).
    pub identity_sources: Vec<String>,
    /// The token validation expression (`TOKEN` only), matched against the whole token.
    pub validation: Option<regex::Regex>,
    /// Result TTL in seconds (0 disables caching).
    pub ttl: u32,
}

/// A route: a method (or `ANY`) and a resource path template (`/pets/{id}`, `/{proxy+}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// `GET`, … or `ANY`.
    pub method: String,
    /// The template's segments.
    pub path: String,
    /// Whether the Lambda authorizer guards it (methods without one are open, subject to the resource
    /// policy).
    pub authorized: bool,
}

/// The methods `ANY` stands for (API Gateway's `x-amazon-apigateway-any-method`).
pub const ANY_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A request path with its dot segments resolved (RFC 3986 §5.2.4), `%2e` / `%2E` counting as dots:
/// `/v1/../v2/pets` is `/v2/pets`, for routing and for the `methodArn` alike, so a path that only
/// looks like it is under `/v1` is never decided as if it were. `None` when `..` climbs above the root.
pub fn resolve_dot_segments(path: &str) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    let last = segs.len().saturating_sub(1);
    for (i, seg) in segs.iter().enumerate() {
        let dots = seg.replace("%2e", ".").replace("%2E", ".");
        match dots.as_str() {
            "." => {
                if i == last {
                    out.push("");
                }
            }
            ".." => {
                out.pop()?;
                if i == last {
                    out.push("");
                }
            }
            _ => out.push(seg),
        }
    }
    Some(format!("/{}", out.join("/")))
}

impl Route {
    /// `"METHOD /path"` (`ANY` for every method; `{name}` and `{name+}` parameters), guarded.
    pub fn parse(text: &str) -> Option<Route> {
        let (m, p) = text.split_once(' ').filter(|(_, p)| p.starts_with('/'))?;
        Some(Route {
            method: m.to_ascii_uppercase(),
            path: p.to_string(),
            authorized: true,
        })
    }

    /// The path parameters of a request path under this route's template, decoded (`{proxy+}` takes the
    /// rest of the path).
    pub fn parameters(&self, path: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut got = path.trim_matches('/').split('/');
        for w in self.path.trim_matches('/').split('/') {
            if let Some(name) = w.strip_prefix('{').and_then(|x| x.strip_suffix("+}")) {
                let rest: Vec<&str> = got.by_ref().collect();
                out.push((name.to_string(), crate::event::decode(&rest.join("/"))));
                break;
            }
            let Some(g) = got.next() else { break };
            if let Some(name) = w.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
                out.push((name.to_string(), crate::event::decode(g)));
            }
        }
        out
    }

    /// Whether a request's method and path (without its query) fall under this route.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        // HTTP methods are case-sensitive (`get` is not `GET`), and `ANY` stands for API Gateway's
        // seven methods only.
        let ok = if self.method == "ANY" {
            ANY_METHODS.contains(&method)
        } else {
            self.method == method
        };
        if !ok {
            return false;
        }
        // Segment by segment, without allocating: this runs on every request.
        let mut want = self.path.trim_matches('/').split('/').peekable();
        let mut got = path.trim_matches('/').split('/');
        while let Some(w) = want.next() {
            if w.starts_with('{') && w.ends_with("+}") {
                // A greedy parameter takes the rest: at least one non-empty segment.
                return want.peek().is_none() && got.next().is_some_and(|s| !s.is_empty());
            }
            let Some(g) = got.next() else { return false };
            let ok = if w.starts_with('{') && w.ends_with('}') {
                !g.is_empty()
            } else {
                w == g
            };
            if !ok {
                return false;
            }
        }
        got.next().is_none()
    }
}

/// An API: where it is deployed, its routes, its authorizer and its resource policy.
#[derive(Debug)]
pub struct Api {
    /// Region, account, API id, stage.
    pub deployment: Deployment,
    /// Routes.
    pub routes: Vec<Route>,
    /// The Lambda authorizer on every route.
    pub authorizer: AuthorizerConfig,
    /// The API's resource policy, compiled.
    pub resource_policy: Option<PolicySet>,
    /// The output format the authorizer answers in.
    pub format: OutputFormat,
    /// The stage's variables (`$stageVariables.NAME` identity sources).
    pub stage_variables: std::collections::BTreeMap<String, String>,
    /// The context keys the resource policy names.
    resource_needs: Needs,
    /// Returned policies already compiled.
    memo: PolicyMemo,
}

/// The `$context` variables this gateway resolves as identity sources (API Gateway's `$context`
/// reference; `routeKey` on HTTP APIs, `resourcePath` on REST APIs).
pub const CONTEXT_VARIABLES: &[&str] = &[
    "routeKey",
    "resourcePath",
    "stage",
    "apiId",
    "accountId",
    "httpMethod",
    "path",
    "domainName",
    "domainPrefix",
    "identity.sourceIp",
];

/// A request as a client sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: String,
    /// Path, with an optional query string.
    pub path: String,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// The caller's IP address (`aws:SourceIp`; default `198.51.100.1`).
    pub source_ip: Option<String>,
}

impl HttpRequest {
    /// A request without headers.
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.to_string(),
            path: path.to_string(),
            ..Self::default()
        }
    }
    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    /// Sets the caller's address.
    #[must_use]
    pub fn source_ip(mut self, ip: &str) -> Self {
        self.source_ip = Some(ip.to_string());
        self
    }
    fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn query_value(&self, name: &str) -> Option<&str> {
        let q = self.path.split_once('?')?.1;
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    }
}

/// What happened to one request.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// HTTP status the client sees (200 when the request reaches the integration).
    pub status: u16,
    /// The body of a refusal (AWS's defaults); empty for 200.
    pub body: String,
    /// The `methodArn`, when the request got that far.
    pub method_arn: Option<String>,
    /// The authorizer's output as returned (fresh or from the cache).
    pub output: Option<Arc<Value>>,
    /// The gateway's decision on the policy, with the deciding statement.
    pub answer: Option<Answer>,
    /// `Some(true)` when the cache answered, `Some(false)` on a miss, `None` when caching is off or the
    /// request never reached the cache.
    pub cache_hit: Option<bool>,
    /// Whether the authorizer function ran.
    pub function_called: bool,
    /// Why, in words, for refusals that are not the policy's (no route, no token, a failed function).
    pub reason: String,
    /// What reaches the backend of an allowed request as the authorizer's context
    /// (`$context.authorizer.*`; for REST and format 1.0 every value a string).
    pub backend_context: Option<serde_json::Map<String, Value>>,
}

impl Invocation {
    /// The deciding statement, when the policy decided.
    pub fn deciding(&self) -> Option<&Determining> {
        self.answer.as_ref().and_then(|a| a.determining.first())
    }
}

/// The native API definition, as written (see [`Api::from_json`]).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiDef {
    region: String,
    account: String,
    api_id: String,
    stage: String,
    routes: Vec<RouteDef>,
    authorizer: AuthorizerDef,
    #[serde(default)]
    resource_policy: Option<Value>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    stage_variables: Option<std::collections::BTreeMap<String, String>>,
}

/// `"METHOD /path"`, or `{"route": "METHOD /path", "authorizer": false}`.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum RouteDef {
    Plain(String),
    Open(OpenRoute),
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenRoute {
    route: String,
    #[serde(default = "authorized_by_default")]
    authorizer: bool,
}

fn authorized_by_default() -> bool {
    true
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizerDef {
    #[serde(rename = "type")]
    kind: AuthorizerType,
    #[serde(default)]
    identity_sources: Vec<String>,
    #[serde(default)]
    validation_expression: Option<String>,
    #[serde(default)]
    ttl: Option<u32>,
}

impl Api {
    /// Reads the native JSON form: `{"region", "account", "api_id", "stage", "routes": ["GET /pets",
    /// "ANY /{proxy+}"], "authorizer": {"type": "TOKEN" | "REQUEST", "identity_sources": [...],
    /// "validation_expression", "ttl"}, "resource_policy": {…}, "format": "rest" | "http1" | "http2" |
    /// "http2-simple"}`. Configurations API Gateway refuses are refused here (`apigw::config`): a TTL above
    /// 3,600; a path parameter as an identity source; a `REQUEST` authorizer that caches without identity
    /// sources; a `TOKEN` identity source that is not one header; a resource policy on an HTTP API; a
    /// `$context` variable the gateway does not model. A validation expression on a `REQUEST` authorizer
    /// is ignored, as API Gateway ignores it.
    pub fn from_json(text: &str) -> Result<Self, ApigwError> {
        let bad = |m: String| ApigwError::Config(m);
        // One read: syntax and duplicate keys, then the definition's shape (unknown fields, types),
        // each at its line and column.
        let mut diags = Vec::new();
        let tree = diag::json::read(text, &mut diags);
        let at = |span: diag::Span| {
            let (l, c) = diag::Source::new("", text).line_col(span.start);
            format!("{l}:{c}")
        };
        if let Some(d) = diags.iter().find(|d| d.is_error()) {
            return Err(bad(format!(
                "API definition: {} at {} [{}]",
                d.message,
                at(d.span),
                d.code
            )));
        }
        let tree = tree.ok_or_else(|| bad("the API definition is a JSON object".into()))?;
        let def: ApiDef = diag::de::from_value(&tree).map_err(|e| {
            bad(format!(
                "API definition: {} at {} [{}]",
                e.message,
                at(e.span.unwrap_or(tree.span)),
                diag::codes::JSON_SHAPE
            ))
        })?;
        let deployment = Deployment {
            region: def.region,
            account: def.account,
            api_id: def.api_id,
            stage: def.stage,
        };
        let routes = def
            .routes
            .iter()
            .map(|r| {
                // "METHOD /path", or {"route": "METHOD /path", "authorizer": false} for an open method.
                let (text, authorized) = match r {
                    RouteDef::Plain(t) => (t.as_str(), true),
                    RouteDef::Open(o) => (o.route.as_str(), o.authorizer),
                };
                let route = Route::parse(text)
                    .ok_or_else(|| bad(format!("route `{text}` is not \"METHOD /path\"")))?;
                Ok(Route {
                    authorized,
                    ..route
                })
            })
            .collect::<Result<Vec<_>, ApigwError>>()?;
        let a = def.authorizer;
        let kind = a.kind;
        // REST's default TTL is 300 s; HTTP APIs document none (0 unless set).
        let format = match def.format.as_deref() {
            None | Some("rest") => OutputFormat::Rest,
            Some("http1") => OutputFormat::Http1,
            Some("http2") => OutputFormat::Http2 { simple: false },
            Some("http2-simple") => OutputFormat::Http2 { simple: true },
            Some(other) => {
                return Err(bad(format!(
                    "unknown `format` `{other}` (rest, http1, http2, http2-simple)"
                )));
            }
        };
        let rest = format == OutputFormat::Rest;
        // HTTP APIs write identity sources as `$request.header.NAME`, `$request.querystring.NAME`,
        // `$context.NAME`, `$stageVariables.NAME`; they are kept in REST's spelling.
        let identity_sources: Vec<String> = a
            .identity_sources
            .iter()
            .map(|s| {
                let http = [
                    ("$request.header.", "method.request.header."),
                    ("$request.querystring.", "method.request.querystring."),
                    ("$request.path.", "method.request.path."),
                    ("$context.", "context."),
                    ("$stageVariables.", "stageVariables."),
                ];
                http.iter()
                    .find_map(|(h, r)| s.strip_prefix(h).map(|rest| format!("{r}{rest}")))
                    .unwrap_or_else(|| s.clone())
            })
            .collect();
        if !rest && kind == AuthorizerType::Token {
            return Err(bad(
                "HTTP API Lambda authorizers are REQUEST authorizers (TOKEN is REST only)".into(),
            ));
        }
        let ttl = match a.ttl {
            None if rest => DEFAULT_TTL,
            None => 0,
            Some(t) => t,
        };
        if ttl > MAX_TTL {
            return Err(bad(format!(
                "authorizer TTL {ttl} s: API Gateway accepts at most {MAX_TTL}"
            )));
        }
        for src in &identity_sources {
            if src.starts_with("method.request.path.") {
                return Err(bad(format!(
                    "`{src}`: a path parameter cannot be an identity source"
                )));
            }
            if ![
                "method.request.header.",
                "method.request.querystring.",
                "stageVariables.",
                "context.",
            ]
            .iter()
            .any(|p| src.starts_with(p))
            {
                return Err(bad(format!(
                    "`{src}` is not an identity source API Gateway knows"
                )));
            }
            // A context variable this gateway does not model would be absent on every request (401
            // without calling the function): refused here instead, naming the ones it models.
            if let Some(name) = src.strip_prefix("context.")
                && !CONTEXT_VARIABLES.contains(&name)
            {
                return Err(bad(format!(
                    "`$context.{name}` is not a context variable this gateway models as an identity source; it models {}",
                    CONTEXT_VARIABLES
                        .iter()
                        .map(|n| format!("$context.{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        match kind {
            AuthorizerType::Token => {
                if !matches!(identity_sources.as_slice(), [one] if one.starts_with("method.request.header."))
                {
                    return Err(bad("a TOKEN authorizer's identity source is exactly one header (method.request.header.NAME)".into()));
                }
            }
            AuthorizerType::Request => {
                if ttl > 0 && identity_sources.is_empty() {
                    return Err(bad(
                        "a REQUEST authorizer with caching needs at least one identity source"
                            .into(),
                    ));
                }
            }
        }
        // "Token validation … does not apply to REQUEST authorizers" (API Gateway developer guide,
        // "Configure a Lambda authorizer"): a REQUEST authorizer's expression is ignored, as there; it
        // is still compiled, so a malformed one is refused either way.
        let validation = match a.validation_expression.as_deref() {
            None => None,
            Some(x) => Some(
                regex::Regex::new(&format!("^(?:{x})$"))
                    .map_err(|e| bad(format!("validation expression `{x}`: {e}")))?,
            )
            .filter(|_| kind == AuthorizerType::Token),
        };
        let mut resource_needs = Needs::default();
        let resource_policy = match &def.resource_policy {
            None | Some(Value::Null) => None,
            // "HTTP APIs don't support resource policies" (API Gateway developer guide, "Choose
            // between REST APIs and HTTP APIs").
            Some(_) if !rest => {
                return Err(bad(
                    "HTTP APIs do not support resource policies (REST APIs only)".into(),
                ));
            }
            Some(p) => {
                let text = serde_json::to_string_pretty(p).map_err(|e| bad(e.to_string()))?;
                resource_needs = Needs::of_text(&text);
                let checked = iam_policy::check_for_evaluation(
                    "resource_policy",
                    text.as_bytes(),
                    PolicyType::Resource,
                );
                if let Some(d) = checked.diagnostics.iter().find(|d| d.is_error()) {
                    return Err(bad(format!("resource policy: {} [{}]", d.message, d.code)));
                }
                let doc = checked
                    .document
                    .ok_or_else(|| bad("resource policy could not be read".into()))?;
                Some(
                    PolicySet::compile(authz_core::Layer::Resource, [doc])
                        .map_err(|e| bad(e.to_string()))?,
                )
            }
        };
        let stage_variables = def.stage_variables.unwrap_or_default();
        Ok(Self {
            deployment,
            routes,
            authorizer: AuthorizerConfig {
                kind,
                identity_sources,
                validation,
                ttl,
            },
            resource_policy,
            format,
            stage_variables,
            resource_needs,
            memo: PolicyMemo::default(),
        })
    }

    /// The value of one identity source for a request on `route` (`None` when missing or empty):
    /// headers and query strings from the request, `$stageVariables.NAME` from the stage, and the
    /// context variables of [`CONTEXT_VARIABLES`] from the request and the deployment (`routeKey` is the
    /// matched route, which makes HTTP API caching per route, as the HTTP API guide describes).
    fn identity_value<'a>(
        &'a self,
        src: &str,
        req: &'a HttpRequest,
        route: &'a Route,
        source_ip: &'a str,
    ) -> Option<std::borrow::Cow<'a, str>> {
        use std::borrow::Cow;
        let path = req.path.split('?').next().unwrap_or("");
        let d = &self.deployment;
        let v: Option<Cow<'a, str>> = if let Some(h) = src.strip_prefix("method.request.header.") {
            req.header_value(h).map(Cow::Borrowed)
        } else if let Some(q) = src.strip_prefix("method.request.querystring.") {
            // API Gateway hands on query values decoded.
            req.query_value(q).map(|v| match v.contains('%') {
                true => Cow::Owned(crate::event::decode(v)),
                false => Cow::Borrowed(v),
            })
        } else if let Some(n) = src.strip_prefix("stageVariables.") {
            self.stage_variables
                .get(n)
                .map(|x| Cow::Borrowed(x.as_str()))
        } else if let Some(n) = src.strip_prefix("context.") {
            let rest = self.format == OutputFormat::Rest;
            match n {
                // REST APIs have no route keys; HTTP APIs name the route as it is defined.
                "routeKey" if !rest => Some(Cow::Owned(format!("{} {}", route.method, route.path))),
                "resourcePath" if rest => Some(Cow::Borrowed(route.path.as_str())),
                "stage" => Some(Cow::Borrowed(d.stage.as_str())),
                "apiId" => Some(Cow::Borrowed(d.api_id.as_str())),
                "accountId" => Some(Cow::Borrowed(d.account.as_str())),
                "httpMethod" => Some(Cow::Owned(req.method.to_ascii_uppercase())),
                // REST's `$context.path` carries the stage; HTTP APIs' is the request path.
                "path" if rest => Some(Cow::Owned(format!("/{}{path}", d.stage))),
                "path" => Some(Cow::Borrowed(path)),
                "domainName" => Some(Cow::Owned(format!(
                    "{}.execute-api.{}.amazonaws.com",
                    d.api_id, d.region
                ))),
                "domainPrefix" => Some(Cow::Borrowed(d.api_id.as_str())),
                "identity.sourceIp" => Some(Cow::Borrowed(source_ip)),
                _ => None,
            }
        } else {
            None
        };
        v.filter(|v| !v.is_empty())
    }

    /// Runs one request at `now` (Unix seconds) and reports it: [`Api::authorize`]'s verdict with the
    /// response body, the authorizer's output, the deciding statement by name and the reason in words.
    pub fn invoke(
        &self,
        req: &HttpRequest,
        authorizer: &dyn Authorizer,
        cache: &mut AuthorizerCache,
        now: i64,
    ) -> Invocation {
        let v = self.authorize(req, authorizer, cache, now);
        let body = v.body_text();
        let answer = v.outcome.map(
            |o| match v.output.as_ref().and_then(|x| x.policy.as_ref()) {
                Some(p) => p.authorizer.answer_of(o),
                None => Answer::new(o.decision),
            },
        );
        let output = match (&v.output, &v.stop) {
            (Some(o), _) => Some(o.raw.clone()),
            (None, Some(Stop::InvalidOutput(_, raw))) => Some(raw.clone()),
            _ => None,
        };
        let backend_context = match (&v.output, v.status) {
            (Some(o), 200) => Some(o.backend_context(self.format)),
            _ => None,
        };
        Invocation {
            backend_context,
            status: v.status,
            body,
            reason: v.stop.as_ref().map(Stop::to_string).unwrap_or_default(),
            method_arn: v.method_arn,
            output,
            answer,
            cache_hit: v.cache_hit,
            function_called: v.function_called,
        }
    }

    /// Runs one request at `now` (Unix seconds), as API Gateway does, building no report: no route → 403
    /// `Missing Authentication Token`; a `methodArn` over 1,600 bytes → 414; a missing or empty identity
    /// source (`TOKEN`, or `REQUEST` with caching or on an HTTP API), or a token failing the validation
    /// expression → 401 without calling the function; an explicit deny in the resource policy → 403
    /// before the function; then the cache (a hit skips the function), the function (`Unauthorized` →
    /// 401, other failures and invalid outputs → 500, none cached), and the policy's decision on the
    /// `methodArn` (403 with AWS's two messages, or 200). This is the request path of a service: with a
    /// cached output it parses and compiles nothing and builds only the context keys the policies name.
    pub fn authorize(
        &self,
        req: &HttpRequest,
        authorizer: &dyn Authorizer,
        cache: &mut AuthorizerCache,
        now: i64,
    ) -> Verdict {
        let mut v = self.authorize_rest_shape(req, authorizer, cache, now);
        if self.format != OutputFormat::Rest {
            // An HTTP API answers with its own statuses and bodies.
            if let Some(b) = v.refusal {
                let b = b.for_http_api();
                v.refusal = Some(b);
                v.status = b.status();
            }
        }
        v
    }

    /// [`Api::authorize`] with REST's statuses and bodies.
    fn authorize_rest_shape(
        &self,
        req: &HttpRequest,
        authorizer: &dyn Authorizer,
        cache: &mut AuthorizerCache,
        now: i64,
    ) -> Verdict {
        let raw_path = req.path.split('?').next().unwrap_or("");
        let Some(resolved) = resolve_dot_segments(raw_path) else {
            return Verdict::stop(Stop::NoRoute(format!("{} {raw_path}", req.method)), None);
        };
        let path = resolved.as_str();
        // The most specific route wins, as in API Gateway: a path without a greedy parameter over one
        // with, more literal segments over fewer, a named method over `ANY`.
        let specificity = |r: &Route| {
            let segs = r.path.split('/');
            let greedy = r.path.contains("+}");
            let literals = segs.filter(|s| !s.starts_with('{')).count();
            (!greedy, literals, r.method != "ANY")
        };
        let Some(route) = self
            .routes
            .iter()
            .filter(|r| r.matches(&req.method, path))
            .max_by_key(|r| specificity(r))
        else {
            return Verdict::stop(Stop::NoRoute(format!("{} {path}", req.method)), None);
        };
        let method_arn = match self.deployment.method_arn(&req.method, path) {
            Ok(a) => a,
            Err(ApigwError::UriTooLong(n)) => return Verdict::stop(Stop::UriTooLong(n), None),
            Err(e) => return Verdict::stop(Stop::BadRequest(e), None),
        };
        let source_ip = req.source_ip.as_deref().unwrap_or(DEFAULT_SOURCE_IP);
        // The resource policy's explicit deny is answered before the authorizer runs.
        let resource = self.resource_policy.as_ref().map(|p| {
            let ctx = iam_context(source_ip, now, true, self.resource_needs);
            p.evaluate(&authz_core::Request::new("execute-api:Invoke", &method_arn).context(&ctx))
                .decision
        });
        let verdict = |stop: Stop| {
            let mut v = Verdict::stop(stop, None);
            v.resource = resource;
            v
        };
        if resource == Some(Decision::ExplicitDeny) {
            let mut v = verdict(Stop::ResourceDeny);
            v.method_arn = Some(method_arn);
            return v;
        }
        if !route.authorized {
            // No authorizer on this method: without a resource policy the request proceeds; with one, it
            // must allow (the resource policy alone decides, failing closed).
            let mut v = verdict(Stop::OpenRoute);
            if matches!(resource, None | Some(Decision::Allow)) {
                v.status = 200;
            }
            v.method_arn = Some(method_arn);
            return v;
        }
        let cfg = &self.authorizer;
        // The cache key: the token (`TOKEN`), or every identity source (`REQUEST`).
        let (key, token, sources): (std::borrow::Cow<'_, str>, Option<&str>, Vec<String>) =
            match cfg.kind {
                AuthorizerType::Token => {
                    let t = cfg
                        .identity_sources
                        .first()
                        .and_then(|s| req.header_value(s.strip_prefix("method.request.header.")?))
                        .filter(|t| !t.is_empty());
                    let Some(t) = t else {
                        let mut v = verdict(Stop::MissingToken);
                        v.method_arn = Some(method_arn);
                        return v;
                    };
                    if let Some(re) = &cfg.validation
                        && !re.is_match(t)
                    {
                        let mut v = verdict(Stop::ValidationFailed);
                        v.method_arn = Some(method_arn);
                        return v;
                    }
                    (t.into(), Some(t), vec![t.to_string()])
                }
                AuthorizerType::Request => {
                    let values: Vec<Option<std::borrow::Cow<'_, str>>> = cfg
                        .identity_sources
                        .iter()
                        .map(|s| self.identity_value(s, req, route, source_ip))
                        .collect();
                    // REST checks identity sources only when caching; HTTP APIs always do.
                    let http = self.format != OutputFormat::Rest;
                    if (cfg.ttl > 0 || http) && values.iter().any(Option::is_none) {
                        let mut v = verdict(Stop::MissingIdentitySource);
                        v.method_arn = Some(method_arn);
                        return v;
                    }
                    // The cache key holds every identity source, named (a header and a stage variable
                    // with the same value never collide).
                    let key = cfg
                        .identity_sources
                        .iter()
                        .zip(&values)
                        .map(|(s, v)| format!("{s}={}", v.as_deref().unwrap_or("")))
                        .collect::<Vec<_>>()
                        .join("\u{0}");
                    let sources = values
                        .iter()
                        .map(|v| v.as_deref().unwrap_or("").to_string())
                        .collect();
                    (key.into(), None, sources)
                }
            };
        let caching = cfg.ttl > 0;
        let cached = if caching {
            cache.entry(&key, cfg.ttl, now).cloned()
        } else {
            None
        };
        let hit = cached.is_some();
        let output = match cached {
            Some(e) => e,
            None => {
                let query = req.path.split_once('?').map(|(_, q)| q);
                let event = AuthorizerEvent {
                    kind: cfg.kind,
                    format: self.format,
                    method_arn: method_arn.clone(),
                    authorization_token: token.map(str::to_string),
                    headers: req.headers.clone(),
                    http_method: req.method.to_ascii_uppercase(),
                    path: match query {
                        Some(q) => format!("{path}?{q}"),
                        None => path.to_string(),
                    },
                    source_ip: source_ip.to_string(),
                    resource: route.path.clone(),
                    route_key: format!("{} {}", route.method, route.path),
                    path_parameters: route.parameters(path),
                    stage_variables: self
                        .stage_variables
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    identity_source: sources,
                    deployment: self.deployment.clone(),
                };
                let called = |mut v: Verdict, arn: String| {
                    v.method_arn = Some(arn);
                    v.function_called = true;
                    v.cache_hit = caching.then_some(false);
                    v
                };
                let out = match authorizer.call(&event, now) {
                    Ok(v) => v,
                    Err(FunctionError::Unauthorized) => {
                        return called(verdict(Stop::FunctionUnauthorized), method_arn);
                    }
                    Err(FunctionError::Failed(m)) => {
                        return called(verdict(Stop::FunctionFailed(m)), method_arn);
                    }
                    Err(FunctionError::NotJson(text)) => {
                        let snippet: String = text
                            .trim_end()
                            .chars()
                            .take(120)
                            .flat_map(char::escape_debug)
                            .collect();
                        let err = ApigwError::output(format!(
                            "the authorizer's answer is not JSON: `{snippet}`"
                        ));
                        return called(
                            verdict(Stop::InvalidOutput(err, Arc::new(Value::String(text)))),
                            method_arn,
                        );
                    }
                };
                let raw = Arc::new(out.clone());
                match AuthorizerOutput::read(out, self.format, Some(&self.memo)) {
                    Ok(o) => {
                        let o = Arc::new(o);
                        if caching {
                            cache.put(key.into_owned(), o.clone(), now);
                        }
                        o
                    }
                    Err(err) => {
                        return called(verdict(Stop::InvalidOutput(err, raw)), method_arn);
                    }
                }
            }
        };
        // The gateway's decision: the policy on the methodArn (or a simple response's verdict), combined
        // with the resource policy as for Lambda authorizers (either allow suffices; a deny wins).
        let outcome = match (&output.policy, output.is_authorized) {
            (Some(p), _) => {
                let ctx = p.context(source_ip, now);
                let r = authz_core::Request::new("execute-api:Invoke", &method_arn).context(&ctx);
                p.authorizer.evaluate(&r)
            }
            (None, Some(true)) => Outcome {
                decision: Decision::Allow,
                ..Outcome::IMPLICIT
            },
            (None, _) => Outcome::IMPLICIT,
        };
        let decision = match (outcome.decision, resource) {
            (Decision::ExplicitDeny, _) => Decision::ExplicitDeny,
            (_, Some(Decision::Allow)) | (Decision::Allow, _) => Decision::Allow,
            (d, _) => d,
        };
        let refusal = body_for(decision);
        Verdict {
            status: refusal.map_or(200, Body::status),
            refusal,
            stop: None,
            method_arn: Some(method_arn),
            output: Some(output),
            outcome: Some(outcome),
            resource,
            cache_hit: caching.then_some(hit),
            function_called: !hit,
        }
    }
}

/// `aws:SourceIp` when a request names no caller.
const DEFAULT_SOURCE_IP: &str = "198.51.100.1";

/// Why a request stopped before the authorizer's policy decided.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Stop {
    /// No route for the method and path (403 `Missing Authentication Token`).
    NoRoute(String),
    /// The `methodArn` would be this many bytes (414).
    UriTooLong(usize),
    /// A request that cannot be made (a verb that is not a method).
    BadRequest(ApigwError),
    /// The resource policy denies explicitly (403 before the function).
    ResourceDeny,
    /// The method has no authorizer: the resource policy, if any, decides.
    OpenRoute,
    /// The token header is missing or empty (401).
    MissingToken,
    /// The token does not match the validation expression (401).
    ValidationFailed,
    /// A `REQUEST` identity source is missing or empty (401).
    MissingIdentitySource,
    /// The function failed with `Unauthorized` (401).
    FunctionUnauthorized,
    /// The function failed otherwise (500).
    FunctionFailed(String),
    /// The function's output is invalid (500); the output as returned.
    InvalidOutput(ApigwError, Arc<Value>),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::NoRoute(r) => write!(f, "no route for {r}"),
            Stop::UriTooLong(n) => write!(f, "the methodArn is {n} bytes"),
            Stop::BadRequest(e) => write!(f, "{e}"),
            Stop::ResourceDeny => f.write_str("the resource policy denies"),
            Stop::OpenRoute => f.write_str("no authorizer on this method"),
            Stop::MissingToken => f.write_str("the token header is missing or empty"),
            Stop::ValidationFailed => {
                f.write_str("the token does not match the validation expression")
            }
            Stop::MissingIdentitySource => f.write_str("an identity source is missing or empty"),
            Stop::FunctionUnauthorized => f.write_str("the authorizer failed with `Unauthorized`"),
            Stop::FunctionFailed(m) => write!(f, "authorizer failed: {m}"),
            Stop::InvalidOutput(e, _) => write!(f, "{e}"),
        }
    }
}

/// One request's outcome, as [`Api::authorize`] gives it: the status and what decided it, with no
/// strings built for a report.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The status the client sees (200 when the request reaches the integration).
    pub status: u16,
    /// AWS's default refusal, for statuses other than 200.
    pub refusal: Option<Body>,
    /// Why the request stopped before the policy decided, if it did.
    pub stop: Option<Stop>,
    /// The `methodArn`, when the request got that far.
    pub method_arn: Option<String>,
    /// The authorizer's valid output (fresh or cached).
    pub output: Option<Arc<AuthorizerOutput>>,
    /// The authorizer policy's outcome on the `methodArn` (with the deciding statement's position).
    pub outcome: Option<Outcome>,
    /// The resource policy's decision, when the API has one.
    pub resource: Option<Decision>,
    /// `Some(true)` when the cache answered, `Some(false)` on a miss, `None` when caching is off or the
    /// request never reached the cache.
    pub cache_hit: Option<bool>,
    /// Whether the authorizer function ran.
    pub function_called: bool,
}

impl Verdict {
    fn stop(stop: Stop, method_arn: Option<String>) -> Self {
        let refusal = match &stop {
            Stop::NoRoute(_) | Stop::BadRequest(_) => Body::MissingAuthenticationToken,
            Stop::UriTooLong(_) => Body::UriTooLong,
            Stop::ResourceDeny => Body::ExplicitDeny,
            Stop::OpenRoute => Body::ImplicitDeny,
            Stop::MissingToken
            | Stop::ValidationFailed
            | Stop::MissingIdentitySource
            | Stop::FunctionUnauthorized => Body::Unauthorized,
            Stop::FunctionFailed(_) | Stop::InvalidOutput(..) => Body::AuthorizerError,
        };
        Self {
            status: refusal.status(),
            refusal: Some(refusal),
            stop: Some(stop),
            method_arn,
            output: None,
            outcome: None,
            resource: None,
            cache_hit: None,
            function_called: false,
        }
    }

    /// The response body: empty for 200, AWS's default otherwise (the resource policy's refusals name
    /// the `methodArn`, as AWS's do).
    pub fn body_text(&self) -> String {
        if self.status == 200 {
            return String::new();
        }
        let arn = self.method_arn.as_deref().unwrap_or("");
        match (&self.stop, self.refusal) {
            // Policy messages are REST's; an HTTP API's refusals are plain.
            (_, Some(b @ (Body::NotFound | Body::Forbidden | Body::InternalServerError))) => {
                b.response().1
            }
            (Some(Stop::ResourceDeny), _) => format!(
                r#"{{"message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {arn} with an explicit deny"}}"#
            ),
            (Some(Stop::OpenRoute), _) => format!(
                r#"{{"message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {arn}"}}"#
            ),
            (_, Some(b)) => b.response().1,
            (_, None) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_templates_any_and_greedy_paths() {
        let r = |m: &str, p: &str| Route {
            method: m.into(),
            path: p.into(),
            authorized: true,
        };
        assert!(r("ANY", "/{proxy+}").matches("DELETE", "/a/b/c"));
        assert!(
            !r("ANY", "/{proxy+}").matches("GET", "/"),
            "a greedy parameter needs a segment"
        );
        // Methods are case-sensitive; ANY covers API Gateway's seven methods only.
        assert!(r("GET", "/pets/{id}").matches("GET", "/pets/7"));
        assert!(!r("GET", "/pets/{id}").matches("get", "/pets/7"));
        assert!(!r("ANY", "/{proxy+}").matches("get", "/a"));
        assert!(!r("ANY", "/{proxy+}").matches("PROPFIND", "/a"));
        assert!(r("ANY", "/{proxy+}").matches("OPTIONS", "/a"));
        assert!(!r("GET", "/pets/{id}").matches("GET", "/pets/7/toys"));
        assert!(!r("GET", "/pets/{id}").matches("POST", "/pets/7"));
        assert!(r("GET", "/").matches("GET", "/"));
        assert!(r("ANY", "/petstore/{proxy+}").matches("GET", "/petstore/v2/status"));
        assert!(!r("ANY", "/petstore/{proxy+}").matches("GET", "/other/v2"));
    }

    #[test]
    fn dot_segments_are_resolved_before_routing() {
        assert_eq!(
            resolve_dot_segments("/v1/../v2/pets").as_deref(),
            Some("/v2/pets")
        );
        assert_eq!(
            resolve_dot_segments("/v1/%2e%2E/v2/pets").as_deref(),
            Some("/v2/pets")
        );
        assert_eq!(
            resolve_dot_segments("/v1/./pets").as_deref(),
            Some("/v1/pets")
        );
        assert_eq!(resolve_dot_segments("/v1/pets/..").as_deref(), Some("/v1/"));
        assert_eq!(resolve_dot_segments("/.."), None);
        assert_eq!(resolve_dot_segments("/pets").as_deref(), Some("/pets"));
        let api = Api::from_json(r#"{"region": "us-east-1", "account": "123456789012", "api_id": "a", "stage": "prod",
            "routes": ["ANY /{proxy+}"],
            "authorizer": {"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"], "ttl": 0}}"#).unwrap();
        let f = crate::StaticPolicy::output(
            serde_json::json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:us-east-1:123456789012:a/prod/*/v1/*"}]}}),
        );
        let mut c = AuthorizerCache::default();
        let run = |p: &str, c: &mut AuthorizerCache| {
            api.invoke(
                &HttpRequest::new("GET", p).header("Authorization", "t"),
                &f,
                c,
                0,
            )
        };
        assert_eq!(run("/v1/pets", &mut c).status, 200);
        let i = run("/v1/../v2/pets", &mut c);
        assert_eq!(i.status, 403);
        assert!(i.method_arn.unwrap().ends_with("/GET/v2/pets"));
        assert_eq!(run("/v1/%2E%2E/v2/pets", &mut c).status, 403);
    }

    #[test]
    fn the_most_specific_route_wins() {
        let api = Api::from_json(r#"{"region": "us-east-1", "account": "123456789012", "api_id": "a", "stage": "prod",
            "routes": ["ANY /{proxy+}", {"route": "GET /health", "authorizer": false}, {"route": "ANY /pets/{id}", "authorizer": false}],
            "authorizer": {"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"]}}"#).unwrap();
        let f = crate::StaticPolicy::output(serde_json::json!({}));
        let mut c = AuthorizerCache::default();
        let status = |m: &str, p: &str, c: &mut AuthorizerCache| {
            api.invoke(&HttpRequest::new(m, p), &f, c, 0).status
        };
        assert_eq!(
            status("GET", "/health", &mut c),
            200,
            "the open GET /health, not the guarded proxy"
        );
        assert_eq!(
            status("POST", "/health", &mut c),
            401,
            "POST /health only matches the proxy"
        );
        assert_eq!(status("DELETE", "/pets/7", &mut c), 200);
        assert_eq!(status("GET", "/pets/7/toys", &mut c), 401);
    }

    #[test]
    fn policies_see_every_context_key_they_name() {
        // The request path builds only the keys a policy names: each key, named in a condition or a
        // policy variable, must still reach the policy with its value.
        let api = Api::from_json(r#"{"region": "us-east-1", "account": "123456789012", "api_id": "a", "stage": "prod",
            "routes": ["ANY /{proxy+}"],
            "authorizer": {"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"], "ttl": 0}}"#).unwrap();
        let policy = serde_json::json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:a/prod/GET/tls",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:a/prod/GET/epoch",
             "Condition": {"NumericLessThan": {"AWS:EpochTime": "1700000050"}}},
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:a/prod/GET/date",
             "Condition": {"DateLessThan": {"aws:currenttime": "2023-11-14T22:14:00Z"}}},
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:a/prod/GET/ip/${aws:SourceIp}"}]}});
        let f = crate::StaticPolicy::output(policy);
        let mut c = AuthorizerCache::default();
        let status = |p: &str, now: i64, c: &mut AuthorizerCache| {
            let req = HttpRequest::new("GET", p)
                .header("Authorization", "t")
                .source_ip("192.0.2.7");
            api.invoke(&req, &f, c, now).status
        };
        let t = 1_700_000_000;
        assert_eq!(status("/tls", t, &mut c), 200);
        assert_eq!(status("/epoch", t, &mut c), 200);
        assert_eq!(status("/epoch", t + 50, &mut c), 403);
        assert_eq!(status("/date", t, &mut c), 200);
        assert_eq!(status("/date", t + 100, &mut c), 403);
        assert_eq!(status("/ip/192.0.2.7", t, &mut c), 200);
        assert_eq!(status("/ip/192.0.2.8", t, &mut c), 403);
        // Another caller in the same second gets its own address (the context is reused only for the
        // same caller and second).
        let from = |ip: &str, c: &mut AuthorizerCache| {
            let req = HttpRequest::new("GET", "/ip/192.0.2.7")
                .header("Authorization", "t")
                .source_ip(ip);
            api.invoke(&req, &f, c, t).status
        };
        assert_eq!(from("192.0.2.9", &mut c), 403);
        assert_eq!(from("192.0.2.7", &mut c), 200);
        let n = Needs::of_text(r#"{"Condition": {"IpAddressIfExists": {"AWS:SOURCEIP": "x"}}}"#);
        assert_eq!(
            n,
            Needs {
                source_ip: true,
                ..Needs::default()
            }
        );
    }

    #[test]
    fn configurations_aws_refuses_are_refused() {
        let def = |auth: &str| {
            format!(
                r#"{{"region": "us-east-1", "account": "123456789012", "api_id": "a", "stage": "prod",
                "routes": ["ANY /{{proxy+}}"], "authorizer": {auth}}}"#
            )
        };
        let err = |auth: &str| Api::from_json(&def(auth)).unwrap_err().to_string();
        assert!(err(r#"{"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"], "ttl": 3601}"#).contains("3600"));
        assert!(Api::from_json(&def(r#"{"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"], "ttl": 3600}"#)).is_ok());
        assert!(
            err(r#"{"type": "REQUEST", "identity_sources": ["method.request.path.id"]}"#)
                .contains("path parameter")
        );
        assert!(
            err(r#"{"type": "REQUEST", "identity_sources": [], "ttl": 300}"#)
                .contains("at least one identity source")
        );
        assert!(
            Api::from_json(&def(
                r#"{"type": "REQUEST", "identity_sources": [], "ttl": 0}"#
            ))
            .is_ok()
        );
        assert!(
            err(r#"{"type": "TOKEN", "identity_sources": ["method.request.querystring.t"]}"#)
                .contains("one header")
        );
        // A REQUEST authorizer's validation expression does not apply: accepted and ignored.
        let req = Api::from_json(&def(r#"{"type": "REQUEST", "identity_sources": ["method.request.header.A"], "validation_expression": "x"}"#)).unwrap();
        assert!(req.authorizer.validation.is_none());
        assert!(err(r#"{"type": "REQUEST", "identity_sources": ["method.request.header.A"], "validation_expression": "("}"#).contains("validation expression"));
        assert!(err(r#"{"type": "TOKEN", "identity_sources": ["method.request.header.A"], "validation_expression": "("}"#).contains("validation expression"));
    }

    /// The definition is read once and decoded in the same pass: a misspelled field, a wrong type, a
    /// duplicate key and a truncated file are each refused with their line and column and a code.
    #[test]
    fn definition_mistakes_are_located() {
        let good = "{\"region\": \"us-east-1\", \"account\": \"123456789012\", \"api_id\": \"a\", \"stage\": \"prod\",\n \"routes\": [\"GET /pets\"],\n \"authorizer\": {\"type\": \"TOKEN\", \"identity_sources\": [\"method.request.header.Authorization\"], \"ttl\": 0}}";
        assert!(Api::from_json(good).is_ok());
        let err = |t: String| Api::from_json(&t).unwrap_err().to_string();
        let e = err(good.replace("\"routes\"", "\"rutes\""));
        assert!(
            e.contains("unknown field `rutes`")
                && e.contains("at 2:2")
                && e.contains(diag::codes::JSON_SHAPE),
            "{e}"
        );
        let e = err(good.replace("\"ttl\": 0", "\"ttl\": \"0\""));
        assert!(
            e.contains("invalid type: string \"0\"")
                && e.contains("at 3:")
                && e.contains(diag::codes::JSON_SHAPE),
            "{e}"
        );
        let e = err(good.replace("\"TOKEN\"", "\"Token\""));
        assert!(
            e.contains("unknown variant `Token`") && e.contains("at 3:"),
            "{e}"
        );
        let e = err(good.replace(
            "\"stage\": \"prod\"",
            "\"stage\": \"prod\", \"stage\": \"dev\"",
        ));
        assert!(
            e.contains(diag::codes::JSON_DUPLICATE_KEY) && e.contains("at 1:"),
            "{e}"
        );
        let e = err(good[..good.len() - 20].to_string());
        assert!(e.contains("json::") && e.contains("at 3:"), "{e}");
    }
}
