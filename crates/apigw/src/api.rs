//! An API definition (routes and its Lambda authorizer) and one request through it, as API Gateway runs
//! it: route, `methodArn`, identity sources, resource policy, cache, authorizer, decision.

use std::sync::Arc;

use serde_json::Value;

use authz_core::{Answer, Decision, Determining};
use iam_eval::PolicySet;
use iam_policy::PolicyType;

use crate::cache::Entry;
use crate::gateway::{Body, GatewayContext, body_for};
use crate::{
    ApigwError, Authorizer, AuthorizerCache, AuthorizerEvent, AuthorizerOutput, DEFAULT_TTL,
    Deployment, FunctionError, MAX_TTL, OutputFormat,
};

/// `TOKEN` or `REQUEST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizerType {
    /// The token from one header, optionally checked by a validation expression.
    Token,
    /// Any identity sources (headers, query strings, stage variables, context).
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

impl Route {
    fn matches(&self, method: &str, path: &str) -> bool {
        if self.method != "ANY" && !self.method.eq_ignore_ascii_case(method) {
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
}

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
}

impl Invocation {
    fn refused(body: Body, reason: impl Into<String>) -> Self {
        let (status, body) = body.response();
        Self {
            status,
            body,
            method_arn: None,
            output: None,
            answer: None,
            cache_hit: None,
            function_called: false,
            reason: reason.into(),
        }
    }

    /// The deciding statement, when the policy decided.
    pub fn deciding(&self) -> Option<&Determining> {
        self.answer.as_ref().and_then(|a| a.determining.first())
    }
}

impl Api {
    /// Reads the native JSON form: `{"region", "account", "api_id", "stage", "routes": ["GET /pets",
    /// "ANY /{proxy+}"], "authorizer": {"type": "TOKEN" | "REQUEST", "identity_sources": [...],
    /// "validation_expression", "ttl"}, "resource_policy": {…}, "format": "rest" | "http1" | "http2" |
    /// "http2-simple"}`. Configurations API Gateway refuses are refused here (`apigw::config`): a TTL above
    /// 3,600; a path parameter as an identity source; a `REQUEST` authorizer that caches without identity
    /// sources; a `TOKEN` identity source that is not one header; a validation expression on a `REQUEST`
    /// authorizer.
    pub fn from_json(text: &str) -> Result<Self, ApigwError> {
        let bad = |m: String| ApigwError::Config(m);
        let v: Value =
            serde_json::from_str(text).map_err(|e| bad(format!("API definition: {e}")))?;
        let o = v
            .as_object()
            .ok_or_else(|| bad("the API definition is a JSON object".into()))?;
        let known = [
            "region",
            "account",
            "api_id",
            "stage",
            "routes",
            "authorizer",
            "resource_policy",
            "format",
        ];
        if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(bad(format!("unknown API definition field `{k}`")));
        }
        let s = |k: &str| -> Result<String, ApigwError> {
            o.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("the API definition needs `{k}` (a string)")))
        };
        let deployment = Deployment {
            region: s("region")?,
            account: s("account")?,
            api_id: s("api_id")?,
            stage: s("stage")?,
        };
        let routes = o
            .get("routes")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("`routes` must be an array of \"METHOD /path\" strings".into()))?
            .iter()
            .map(|r| {
                // "METHOD /path", or {"route": "METHOD /path", "authorizer": false} for an open method.
                let (text, authorized) = match r {
                    Value::Object(o) => (
                        o.get("route").and_then(Value::as_str).unwrap_or(""),
                        o.get("authorizer").and_then(Value::as_bool).unwrap_or(true),
                    ),
                    other => (other.as_str().unwrap_or(""), true),
                };
                let (m, p) = text
                    .split_once(' ')
                    .filter(|(_, p)| p.starts_with('/'))
                    .ok_or_else(|| bad(format!("route `{r}` is not \"METHOD /path\"")))?;
                Ok(Route {
                    method: m.to_ascii_uppercase(),
                    path: p.to_string(),
                    authorized,
                })
            })
            .collect::<Result<Vec<_>, ApigwError>>()?;
        let a = o
            .get("authorizer")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("the API definition needs an `authorizer` object".into()))?;
        let kind = match a.get("type").and_then(Value::as_str) {
            Some("TOKEN") => AuthorizerType::Token,
            Some("REQUEST") => AuthorizerType::Request,
            other => {
                return Err(bad(format!(
                    "authorizer `type` must be TOKEN or REQUEST, found {other:?}"
                )));
            }
        };
        let identity_sources: Vec<String> = a
            .get("identity_sources")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        // REST's default TTL is 300 s; HTTP APIs document none (0 unless set).
        let rest = matches!(o.get("format").and_then(Value::as_str), None | Some("rest"));
        let ttl = match a.get("ttl") {
            None if rest => DEFAULT_TTL,
            None => 0,
            Some(t) => t
                .as_u64()
                .and_then(|t| u32::try_from(t).ok())
                .ok_or_else(|| {
                    bad(format!(
                        "`ttl` must be a whole number of seconds, found {t}"
                    ))
                })?,
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
                if a.get("validation_expression").is_some() {
                    return Err(bad(
                        "a validation expression applies to TOKEN authorizers only".into(),
                    ));
                }
            }
        }
        let validation = match a.get("validation_expression").and_then(Value::as_str) {
            None => None,
            Some(x) => Some(
                regex::Regex::new(&format!("^(?:{x})$"))
                    .map_err(|e| bad(format!("validation expression `{x}`: {e}")))?,
            ),
        };
        let resource_policy = match o.get("resource_policy") {
            None | Some(Value::Null) => None,
            Some(p) => {
                let text = serde_json::to_string_pretty(p).map_err(|e| bad(e.to_string()))?;
                let checked = iam_policy::check(
                    "resource_policy",
                    text.as_bytes(),
                    PolicyType::Resource,
                    &Default::default(),
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
        let format = match o.get("format").and_then(Value::as_str) {
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
        })
    }

    /// The value of one identity source for a request (`None` when missing or empty).
    fn identity_value<'r>(&self, src: &str, req: &'r HttpRequest) -> Option<&'r str> {
        let v = if let Some(h) = src.strip_prefix("method.request.header.") {
            req.header_value(h)
        } else if let Some(q) = src.strip_prefix("method.request.querystring.") {
            req.query_value(q)
        } else {
            None
        };
        v.filter(|v| !v.is_empty())
    }

    /// Runs one request at `now` (Unix seconds): no route → 403 `Missing Authentication Token`; a
    /// `methodArn` over 1,600 bytes → 414; a missing or empty identity source (`TOKEN`, or `REQUEST`
    /// with caching), or a token failing the validation expression → 401 without calling the function;
    /// an explicit deny in the resource policy → 403 before the function; then the cache (a hit skips
    /// the function), the function (`Unauthorized` → 401, other failures and invalid outputs → 500, none
    /// cached), and the policy's decision on the `methodArn` (403 with AWS's two messages, or 200).
    pub fn invoke(
        &self,
        req: &HttpRequest,
        authorizer: &dyn Authorizer,
        cache: &mut AuthorizerCache,
        now: i64,
    ) -> Invocation {
        let path = req.path.split('?').next().unwrap_or("");
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
            return Invocation::refused(
                Body::MissingAuthenticationToken,
                format!("no route for {} {path}", req.method),
            );
        };
        let method_arn = match self.deployment.method_arn(&req.method, &req.path) {
            Ok(a) => a,
            Err(ApigwError::UriTooLong(n)) => {
                return Invocation::refused(
                    Body::UriTooLong,
                    format!("the methodArn is {n} bytes"),
                );
            }
            Err(e) => return Invocation::refused(Body::MissingAuthenticationToken, e.to_string()),
        };
        let with_arn = |mut i: Invocation| {
            i.method_arn = Some(method_arn.clone());
            i
        };
        let ctx = GatewayContext {
            source_ip: req
                .source_ip
                .clone()
                .unwrap_or_else(|| "198.51.100.1".into()),
            now,
            secure_transport: true,
        };
        let iam_ctx = ctx.iam_context();
        let iam_req = authz_core::Request::new("execute-api:Invoke", &method_arn).context(&iam_ctx);
        // The resource policy's explicit deny is answered before the authorizer runs.
        let resource = self
            .resource_policy
            .as_ref()
            .map(|p| p.evaluate(&iam_req).decision);
        if resource == Some(Decision::ExplicitDeny) {
            let mut i = with_arn(Invocation::refused(
                Body::ExplicitDeny,
                "the resource policy denies",
            ));
            i.body = format!(
                r#"{{"message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {method_arn} with an explicit deny"}}"#
            );
            return i;
        }
        if !route.authorized {
            // No authorizer on this method: without a resource policy the request proceeds; with one, it
            // must allow (Choice: the resource policy alone decides, failing closed).
            let mut i = with_arn(Invocation::refused(
                Body::ImplicitDeny,
                "no authorizer on this method",
            ));
            if matches!(resource, None | Some(Decision::Allow)) {
                (i.status, i.body) = (200, String::new());
            } else {
                i.body = format!(
                    r#"{{"message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: {method_arn}"}}"#
                );
            }
            return i;
        }
        let cfg = &self.authorizer;
        let values: Vec<Option<&str>> = cfg
            .identity_sources
            .iter()
            .map(|s| self.identity_value(s, req))
            .collect();
        let token = match cfg.kind {
            AuthorizerType::Token => {
                let Some(Some(t)) = values.first() else {
                    return with_arn(Invocation::refused(
                        Body::Unauthorized,
                        "the token header is missing or empty",
                    ));
                };
                if let Some(re) = &cfg.validation
                    && !re.is_match(t)
                {
                    return with_arn(Invocation::refused(
                        Body::Unauthorized,
                        "the token does not match the validation expression",
                    ));
                }
                Some(t.to_string())
            }
            AuthorizerType::Request => {
                // REST checks identity sources only when caching; HTTP APIs always do.
                let http = self.format != OutputFormat::Rest;
                if (cfg.ttl > 0 || http) && values.iter().any(Option::is_none) {
                    return with_arn(Invocation::refused(
                        Body::Unauthorized,
                        "an identity source is missing or empty",
                    ));
                }
                None
            }
        };
        let key = match cfg.kind {
            AuthorizerType::Token => token.clone().unwrap_or_default(),
            AuthorizerType::Request => values
                .iter()
                .map(|v| v.unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\u{0}"),
        };
        let caching = cfg.ttl > 0;
        let cached = if caching {
            cache.entry(&key, cfg.ttl, now).cloned()
        } else {
            None
        };
        let hit = cached.is_some();
        let entry = match cached {
            Some(e) => e,
            None => {
                let event = AuthorizerEvent {
                    kind: cfg.kind,
                    method_arn: method_arn.clone(),
                    authorization_token: token,
                    headers: req.headers.clone(),
                    http_method: req.method.to_ascii_uppercase(),
                    path: path.to_string(),
                };
                let out = match authorizer.call(&event, now) {
                    Ok(v) => v,
                    Err(FunctionError::Unauthorized) => {
                        let mut i = with_arn(Invocation::refused(
                            Body::Unauthorized,
                            "the authorizer failed with `Unauthorized`",
                        ));
                        i.function_called = true;
                        i.cache_hit = caching.then_some(false);
                        return i;
                    }
                    Err(e) => {
                        let mut i =
                            with_arn(Invocation::refused(Body::AuthorizerError, e.to_string()));
                        i.function_called = true;
                        i.cache_hit = caching.then_some(false);
                        return i;
                    }
                };
                let parsed = AuthorizerOutput::from_value(&out, self.format).and_then(|o| {
                    let compiled = match &o.policy {
                        Some(p) => Some(iam_eval::Authorizer::new(
                            PolicySet::compile(authz_core::Layer::Identity, [p.clone()])
                                .map_err(|e| ApigwError::output(e.to_string()))?,
                        )),
                        None => None,
                    };
                    Ok(Entry {
                        output: o,
                        compiled,
                    })
                });
                match parsed {
                    Ok(e) => {
                        let e = Arc::new(e);
                        if caching {
                            cache.put(key, e.clone(), now);
                        }
                        e
                    }
                    Err(err) => {
                        let mut i =
                            with_arn(Invocation::refused(Body::AuthorizerError, err.to_string()));
                        i.function_called = true;
                        i.output = Some(Arc::new(out));
                        i.cache_hit = caching.then_some(false);
                        return i;
                    }
                }
            }
        };
        // The gateway's decision: the policy on the methodArn (or a simple response's verdict), combined
        // with the resource policy as for Lambda authorizers (either allow suffices; a deny wins).
        let answer = match (&entry.compiled, entry.output.is_authorized) {
            (Some(auth), _) => auth.answer(&iam_req),
            (None, Some(true)) => Answer::new(Decision::Allow),
            (None, _) => Answer::new(Decision::ImplicitDeny),
        };
        let decision = match (answer.decision, resource) {
            (Decision::ExplicitDeny, _) => Decision::ExplicitDeny,
            (_, Some(Decision::Allow)) | (Decision::Allow, _) => Decision::Allow,
            (d, _) => d,
        };
        let (status, body) = match body_for(decision) {
            None => (200, String::new()),
            Some(b) => b.response(),
        };
        Invocation {
            status,
            body,
            method_arn: Some(method_arn.clone()),
            output: Some(entry.output.raw.clone()),
            answer: Some(answer),
            cache_hit: caching.then_some(hit),
            function_called: !hit,
            reason: String::new(),
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
        assert!(r("GET", "/pets/{id}").matches("get", "/pets/7"));
        assert!(!r("GET", "/pets/{id}").matches("GET", "/pets/7/toys"));
        assert!(!r("GET", "/pets/{id}").matches("POST", "/pets/7"));
        assert!(r("GET", "/").matches("GET", "/"));
        assert!(r("ANY", "/petstore/{proxy+}").matches("GET", "/petstore/v2/status"));
        assert!(!r("ANY", "/petstore/{proxy+}").matches("GET", "/other/v2"));
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
        assert!(err(r#"{"type": "REQUEST", "identity_sources": ["method.request.header.A"], "validation_expression": "x"}"#).contains("TOKEN authorizers only"));
        assert!(err(r#"{"type": "TOKEN", "identity_sources": ["method.request.header.A"], "validation_expression": "("}"#).contains("validation expression"));
    }
}
