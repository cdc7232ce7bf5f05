//! API Gateway around a Lambda authorizer: the outcomes table of `reference/api-gateway.md` §2, the cache
//! rules of §4 and the group store forms of §5, through `apigw::Api::invoke`.

use apigw::{Api, AuthorizerCache, FunctionError, HttpRequest, StaticPolicy};
use serde_json::{Value, json};

const NOW: i64 = 1_700_000_000;

fn api(authorizer: Value, extra: Value) -> Api {
    let mut def = json!({"region": "us-east-1", "account": "123456789012", "api_id": "a1b2c3",
        "stage": "prod", "routes": ["GET /pets", "GET /pets/{id}", "POST /pets"], "authorizer": authorizer});
    if let (Some(d), Some(e)) = (def.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    Api::from_json(&def.to_string()).unwrap()
}

fn token_api(ttl: u32) -> Api {
    api(
        json!({"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"],
               "validation_expression": "Bearer [a-z]+", "ttl": ttl}),
        json!({}),
    )
}

fn allow(resource: &str) -> StaticPolicy {
    StaticPolicy::output(
        json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": resource}]},
        "context": {"tier": "gold", "n": 3}}),
    )
}

/// A function that counts its calls and answers with a fixed result.
struct Counting<F: Fn() -> Result<Value, FunctionError>> {
    calls: std::cell::Cell<u32>,
    answer: F,
}

impl<F: Fn() -> Result<Value, FunctionError>> apigw::Authorizer for Counting<F> {
    fn call(&self, _e: &apigw::AuthorizerEvent, _now: i64) -> Result<Value, FunctionError> {
        self.calls.set(self.calls.get() + 1);
        (self.answer)()
    }
}

fn get(path: &str, token: Option<&str>) -> HttpRequest {
    let r = HttpRequest::new("GET", path);
    match token {
        Some(t) => r.header("authorization", t),
        None => r,
    }
}

#[test]
fn outcomes_and_bodies() {
    let api = token_api(300);
    let mut cache = AuthorizerCache::default();
    let f = allow("arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets/*");
    let run = |r: &HttpRequest, c: &mut AuthorizerCache| api.invoke(r, &f, c, NOW);
    let i = run(&get("/pets/1", Some("Bearer abc")), &mut cache);
    assert_eq!((i.status, i.body.as_str()), (200, ""));
    assert_eq!(
        i.method_arn.as_deref(),
        Some("arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets/1")
    );
    // The header name is case-insensitive; the token must match the whole validation expression.
    for bad in [
        None,
        Some(""),
        Some("Bearer ABC"),
        Some("xBearer abc"),
        Some("Bearer abc "),
    ] {
        let i = run(&get("/pets/1", bad), &mut cache);
        assert_eq!((i.status, i.function_called), (401, false), "{bad:?}");
        assert_eq!(i.body, r#"{"message":"Unauthorized"}"#);
    }
    let i = run(
        &HttpRequest::new("DELETE", "/pets/1").header("Authorization", "Bearer abc"),
        &mut cache,
    );
    assert_eq!(
        (i.status, i.body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );
    let i = run(&get("/pets", Some("Bearer abc")), &mut cache);
    assert_eq!(
        (i.status, i.body.as_str()),
        (
            403,
            r#"{"message":"User is not authorized to access this resource"}"#
        )
    );
    let long = format!("/pets/{}", "x".repeat(1600));
    assert_eq!(run(&get(&long, Some("Bearer abc")), &mut cache).status, 414);
    let deny = StaticPolicy::output(
        json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*"}]}}),
    );
    let i = api.invoke(&get("/pets", Some("Bearer other")), &deny, &mut cache, NOW);
    assert_eq!(
        (i.status, i.body.as_str()),
        (
            403,
            r#"{"message":"User is not authorized to access this resource with an explicit deny"}"#
        )
    );
}

#[test]
fn failures_and_invalid_outputs_are_never_cached() {
    let api = token_api(300);
    let mut cache = AuthorizerCache::default();
    let unauthorized = Counting {
        calls: 0.into(),
        answer: || Err(FunctionError::Unauthorized),
    };
    let crash = Counting {
        calls: 0.into(),
        answer: || Err(FunctionError::Failed("boom".into())),
    };
    let invalid = Counting {
        calls: 0.into(),
        answer: || {
            Ok(
                json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}, "context": {"groups": ["a"]}}),
            )
        },
    };
    for _ in 0..2 {
        assert_eq!(
            api.invoke(
                &get("/pets", Some("Bearer a")),
                &unauthorized,
                &mut cache,
                NOW
            )
            .status,
            401
        );
        assert_eq!(
            api.invoke(&get("/pets", Some("Bearer b")), &crash, &mut cache, NOW)
                .status,
            500
        );
        let i = api.invoke(&get("/pets", Some("Bearer c")), &invalid, &mut cache, NOW);
        assert_eq!((i.status, i.body.as_str()), (500, r#"{"message":null}"#));
        assert!(i.reason.contains("context.groups"), "{}", i.reason);
    }
    assert_eq!(
        (
            unauthorized.calls.get(),
            crash.calls.get(),
            invalid.calls.get()
        ),
        (2, 2, 2)
    );
    assert!(cache.is_empty());
}

#[test]
fn cache_ttl_key_and_clock() {
    let counting = Counting {
        calls: 0.into(),
        answer: || Ok(allow_pets()),
    };
    fn allow_pets() -> Value {
        json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/*/GET/pets"}]}})
    }
    let api = token_api(300);
    let mut cache = AuthorizerCache::default();
    let t = Some("Bearer abc");
    let at = |path: &str, now: i64, c: &mut AuthorizerCache| {
        let i = api.invoke(&get(path, t), &counting, c, now);
        (i.status, i.cache_hit)
    };
    assert_eq!(at("/pets", NOW, &mut cache), (200, Some(false)));
    // The trap: the same token on another path within the TTL is decided by the cached policy.
    assert_eq!(at("/pets/1", NOW + 299, &mut cache), (403, Some(true)));
    assert_eq!(counting.calls.get(), 1);
    // At the TTL the entry has expired.
    assert_eq!(at("/pets", NOW + 300, &mut cache), (200, Some(false)));
    assert_eq!(counting.calls.get(), 2);
    // Another token is another key.
    let i = api.invoke(
        &get("/pets", Some("Bearer xyz")),
        &counting,
        &mut cache,
        NOW + 301,
    );
    assert_eq!((i.cache_hit, counting.calls.get()), (Some(false), 3));
    // TTL 0: never cached.
    let off = token_api(0);
    let mut c2 = AuthorizerCache::default();
    for _ in 0..2 {
        let i = off.invoke(&get("/pets", t), &counting, &mut c2, NOW);
        assert_eq!(
            (i.status, i.cache_hit, i.function_called),
            (200, None, true)
        );
    }
    assert_eq!(counting.calls.get(), 5);
    // REQUEST authorizer: the key is every identity source; without caching a missing one still calls
    // the function.
    let req_api = |ttl: u32| {
        api_with(
            json!({"type": "REQUEST", "identity_sources": ["method.request.header.A", "method.request.querystring.q"], "ttl": ttl}),
        )
    };
    fn api_with(a: Value) -> Api {
        self::api(a, json!({}))
    }
    let r = req_api(300);
    let mut c3 = AuthorizerCache::default();
    let with = |a: &str, q: &str| HttpRequest::new("GET", &format!("/pets?q={q}")).header("A", a);
    assert_eq!(
        r.invoke(&with("1", "x"), &counting, &mut c3, NOW).cache_hit,
        Some(false)
    );
    assert_eq!(
        r.invoke(&with("1", "x"), &counting, &mut c3, NOW).cache_hit,
        Some(true)
    );
    assert_eq!(
        r.invoke(&with("1", "y"), &counting, &mut c3, NOW).cache_hit,
        Some(false)
    );
    assert_eq!(
        r.invoke(&with("1", ""), &counting, &mut c3, NOW).status,
        401
    );
    let before = counting.calls.get();
    let i = req_api(0).invoke(&HttpRequest::new("GET", "/pets"), &counting, &mut c3, NOW);
    assert_eq!((i.status, counting.calls.get()), (200, before + 1));
}

#[test]
fn resource_policy_with_a_lambda_authorizer() {
    let rp = |effect: &str, resource: &str| {
        json!({"resource_policy": {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Principal": "*",
            "Action": "execute-api:Invoke", "Resource": resource}]}})
    };
    let auth = json!({"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"], "ttl": 0});
    let counting = Counting {
        calls: 0.into(),
        answer: || {
            Ok(
                json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:*/*/GET/pets"}]}}),
            )
        },
    };
    let mut cache = AuthorizerCache::default();
    // An explicit deny in the resource policy answers before the function runs.
    let denied = api(
        auth.clone(),
        rp(
            "Deny",
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/*/GET/pets",
        ),
    );
    let i = denied.invoke(&get("/pets", Some("t")), &counting, &mut cache, NOW);
    assert_eq!(
        (i.status, i.function_called, counting.calls.get()),
        (403, false, 0)
    );
    assert!(
        i.body
            .contains("User: anonymous is not authorized to perform: execute-api:Invoke")
            && i.body.contains("with an explicit deny"),
        "{}",
        i.body
    );
    // Same-account table: an allow from either suffices.
    let allows = api(
        auth.clone(),
        rp(
            "Allow",
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/*/GET/pets/*",
        ),
    );
    assert_eq!(
        allows
            .invoke(&get("/pets/1", Some("t")), &counting, &mut cache, NOW)
            .status,
        200,
        "resource policy allows"
    );
    assert_eq!(
        allows
            .invoke(&get("/pets", Some("t")), &counting, &mut cache, NOW)
            .status,
        200,
        "authorizer allows"
    );
    assert_eq!(counting.calls.get(), 2);
}

#[test]
fn http_api_simple_responses() {
    let a = api(
        json!({"type": "REQUEST", "identity_sources": ["method.request.header.Authorization"], "ttl": 0}),
        json!({"format": "http2-simple"}),
    );
    let mut cache = AuthorizerCache::default();
    let yes = StaticPolicy::output(json!({"isAuthorized": true, "context": {"roles": ["a", "b"]}}));
    let no = StaticPolicy::output(json!({"isAuthorized": false}));
    assert_eq!(
        a.invoke(&get("/pets", Some("t")), &yes, &mut cache, NOW)
            .status,
        200
    );
    assert_eq!(
        a.invoke(&get("/pets", Some("t")), &no, &mut cache, NOW)
            .status,
        403
    );
    let bad = StaticPolicy::output(json!({"isAuthorized": "yes"}));
    assert_eq!(
        a.invoke(&get("/pets", Some("t")), &bad, &mut cache, NOW)
            .status,
        500
    );
}

#[test]
fn group_store_forms() {
    let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}"#;
    let plain = format!(r#"[{{"group": "admins", "policy": {policy}}}]"#);
    let typed = json!({"Items": [{"group": {"S": "admins"}, "policy": {"S": policy}}]}).to_string();
    for text in [plain, typed] {
        let s = apigw::GroupStore::from_dynamodb_export(&text).unwrap();
        assert_eq!(s.groups().collect::<Vec<_>>(), ["admins"]);
    }
    let e = apigw::GroupStore::from_policies([("admins", r#"{"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "x:y", "Resource": "*"}}"#)])
        .unwrap_err();
    assert!(
        e.to_string().contains("admins.json:1:51") && e.to_string().contains("iam::effect"),
        "{e}"
    );
    assert!(apigw::GroupStore::from_dynamodb_export(r#"[{"group": "a"}]"#).is_err());
}

/// HTTP APIs answer with their own bodies (API Gateway developer guide, "Working with AWS Lambda
/// authorizers for HTTP APIs"; HTTP API error responses): 404 `Not Found` without a route, 401
/// `Unauthorized` without an identity source, 403 `Forbidden` on a deny, 500 `Internal Server Error` when
/// the authorizer fails. REST keeps its messages.
#[test]
fn http_api_statuses_and_bodies() {
    for format in ["http1", "http2", "http2-simple"] {
        let a = api(
            json!({"type": "REQUEST", "identity_sources": ["$request.header.Authorization"], "ttl": 0}),
            json!({"format": format}),
        );
        let mut cache = AuthorizerCache::default();
        let deny: StaticPolicy = if format == "http2-simple" {
            StaticPolicy::output(json!({"isAuthorized": false}))
        } else {
            StaticPolicy::output(
                json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*"}]}}),
            )
        };
        let failing = Counting {
            calls: std::cell::Cell::new(0),
            answer: || Err(FunctionError::Failed("boom".into())),
        };
        let run = |r: &HttpRequest, f: &dyn apigw::Authorizer, c: &mut AuthorizerCache| {
            let i = a.invoke(r, f, c, NOW);
            (i.status, i.body)
        };
        assert_eq!(
            run(&get("/nowhere", Some("t")), &deny, &mut cache),
            (404, r#"{"message":"Not Found"}"#.to_string()),
            "{format}"
        );
        assert_eq!(
            run(&get("/pets", None), &deny, &mut cache),
            (401, r#"{"message":"Unauthorized"}"#.to_string()),
            "{format}"
        );
        assert_eq!(
            run(&get("/pets", Some("t")), &deny, &mut cache),
            (403, r#"{"message":"Forbidden"}"#.to_string()),
            "{format}"
        );
        assert_eq!(
            run(&get("/pets", Some("t")), &failing, &mut cache),
            (500, r#"{"message":"Internal Server Error"}"#.to_string()),
            "{format}"
        );
    }
    // REST: the policy's messages and route-less 403.
    let rest = token_api(0);
    let mut cache = AuthorizerCache::default();
    let deny = StaticPolicy::output(
        json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*"}]}}),
    );
    let i = rest.invoke(&get("/pets", Some("Bearer abc")), &deny, &mut cache, NOW);
    assert_eq!(i.status, 403);
    assert!(i.body.contains("explicit deny"), "{}", i.body);
    let i = rest.invoke(&get("/nowhere", Some("Bearer abc")), &deny, &mut cache, NOW);
    assert_eq!(
        (i.status, i.body.as_str()),
        (403, r#"{"message":"Missing Authentication Token"}"#)
    );
    // HTTP APIs have no resource policies.
    let def = json!({"region": "us-east-1", "account": "123456789012", "api_id": "a1b2c3", "stage": "$default",
        "routes": ["GET /pets"], "format": "http2",
        "authorizer": {"type": "REQUEST", "identity_sources": ["$request.header.Authorization"]},
        "resource_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"}]}});
    let e = Api::from_json(&def.to_string()).unwrap_err();
    assert!(e.to_string().contains("resource policies"), "{e}");
}

/// `$context.*` and `$stageVariables.*` identity sources are read from the request and the stage, and
/// take part in the cache key: `$context.routeKey` caches per route (HTTP API guide, "Lambda authorizer
/// caching"), so an answer for one route is not reused for another.
#[test]
fn context_and_stage_variable_identity_sources() {
    let a = api(
        json!({"type": "REQUEST", "identity_sources": ["$request.header.Authorization", "$context.routeKey", "$stageVariables.tenant"], "ttl": 300}),
        json!({"format": "http2-simple", "stage_variables": {"tenant": "blue"}}),
    );
    let counting = Counting {
        calls: std::cell::Cell::new(0),
        answer: || Ok(json!({"isAuthorized": true})),
    };
    let mut cache = AuthorizerCache::default();
    let i = a.invoke(&get("/pets", Some("t")), &counting, &mut cache, NOW);
    assert_eq!((i.status, i.function_called), (200, true));
    let i = a.invoke(&get("/pets", Some("t")), &counting, &mut cache, NOW);
    assert_eq!((i.status, i.cache_hit), (200, Some(true)));
    // Another route: another cache entry, the function runs again.
    let i = a.invoke(&get("/pets/7", Some("t")), &counting, &mut cache, NOW);
    assert_eq!(
        (i.status, i.cache_hit, i.function_called),
        (200, Some(false), true)
    );
    assert_eq!(counting.calls.get(), 2);
    // A stage variable that the stage does not define is a missing identity source: 401, no call.
    let b = api(
        json!({"type": "REQUEST", "identity_sources": ["$stageVariables.missing"], "ttl": 0}),
        json!({"format": "http2-simple"}),
    );
    let i = b.invoke(&get("/pets", None), &counting, &mut cache, NOW);
    assert_eq!((i.status, i.function_called), (401, false));
    // Context values that are not modelled are refused when the API is read, not silently absent.
    let def = json!({"region": "us-east-1", "account": "123456789012", "api_id": "a1b2c3", "stage": "prod",
        "routes": ["GET /pets"], "format": "http2",
        "authorizer": {"type": "REQUEST", "identity_sources": ["$context.requestTimeEpoch"]}});
    let e = Api::from_json(&def.to_string()).unwrap_err();
    assert!(e.to_string().contains("$context.requestTimeEpoch"), "{e}");
    assert_eq!(diag::Coded::code(&e), "apigw::config");
    // `$context.httpMethod` and `$context.identity.sourceIp` come from the request.
    let c = api(
        json!({"type": "REQUEST", "identity_sources": ["$context.httpMethod", "$context.identity.sourceIp"], "ttl": 300}),
        json!({"format": "http2-simple"}),
    );
    let mut cache = AuthorizerCache::default();
    let before = counting.calls.get();
    c.invoke(
        &get("/pets", None).source_ip("203.0.113.1"),
        &counting,
        &mut cache,
        NOW,
    );
    c.invoke(
        &get("/pets", None).source_ip("203.0.113.1"),
        &counting,
        &mut cache,
        NOW,
    );
    c.invoke(
        &get("/pets", None).source_ip("203.0.113.2"),
        &counting,
        &mut cache,
        NOW,
    );
    assert_eq!(
        counting.calls.get() - before,
        2,
        "one call per source address"
    );
}

/// "Token validation does not apply to REQUEST authorizers": the expression is ignored there.
#[test]
fn request_authorizer_validation_expression_is_ignored() {
    let a = api(
        json!({"type": "REQUEST", "identity_sources": ["method.request.header.Authorization"],
               "validation_expression": "Bearer [a-z]+", "ttl": 0}),
        json!({}),
    );
    let mut cache = AuthorizerCache::default();
    let f = allow("arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets");
    let i = a.invoke(
        &get("/pets", Some("not-a-bearer-token")),
        &f,
        &mut cache,
        NOW,
    );
    assert_eq!((i.status, i.function_called), (200, true));
}

/// A group store refuses what it would otherwise skip or load silently: a file whose name differs from
/// `*.json` only by case (its users would be let through), and a Deny naming an action that does not
/// exist (it would deny nothing).
#[test]
fn group_store_refuses_odd_names_and_deny_typos() {
    let dir = std::env::temp_dir().join(format!("pc-groups-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}"#;
    std::fs::write(dir.join("pets.json"), allow).unwrap();
    assert!(apigw::GroupStore::from_path(&dir).is_ok());
    std::fs::write(dir.join("suspended.JSON"), allow).unwrap();
    let e = apigw::GroupStore::from_path(&dir).unwrap_err().to_string();
    assert!(e.contains("suspended.JSON"), "{e}");
    std::fs::remove_file(dir.join("suspended.JSON")).unwrap();
    let typo = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"execute-api:Invok","Resource":"*"}]}"#;
    std::fs::write(dir.join("suspended.json"), typo).unwrap();
    let e = apigw::GroupStore::from_path(&dir).unwrap_err().to_string();
    assert!(
        e.contains("Deny that matches nothing") && e.contains("execute-api:Invok"),
        "{e}"
    );
    std::fs::write(dir.join("suspended.json"), typo.replace("Invok", "Invoke")).unwrap();
    assert!(apigw::GroupStore::from_path(&dir).is_ok());
}
