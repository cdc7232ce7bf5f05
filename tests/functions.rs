//! The user's own authorizer functions behind the gateway model: the exact events API Gateway sends
//! (compared field by field with the documented samples in `fixtures/apigw-events/`), and the Node.js and
//! Python fixtures in `fixtures/authorizers/` run in the local Lambda execution environment, with every
//! outcome API Gateway documents (context reaching the backend, 401 for `Unauthorized`, 500 for other
//! failures, timeouts and invalid outputs, the cache trap of an echoed `methodArn`).

use std::cell::RefCell;
use std::time::Duration;

use apigw::{
    Api, AuthorizerCache, AuthorizerEvent, FunctionAuthorizer, FunctionError, HttpRequest,
    RawOutput,
};
use lambda_local::{Code, FunctionSpec, LocalFunction};
use serde_json::{Value, json};

use crate::root;

const NOW: i64 = 1_700_000_000;

fn api(format: &str, kind: &str, sources: &[&str], ttl: u32) -> Api {
    Api::from_json(
        &json!({"region": "us-east-1", "account": "123456789012", "api_id": "abcdef123",
            "stage": "test", "format": format,
            "routes": ["GET /request", "GET /pets/{id}", "ANY /files/{proxy+}", "GET /pets"],
            "stage_variables": {"StageVar1": "stageValue1"},
            "authorizer": {"type": kind, "identity_sources": sources, "ttl": ttl}})
        .to_string(),
    )
    .unwrap()
}

/// Records the event it is given and allows.
#[derive(Default)]
struct Recorder(RefCell<Vec<Value>>);

impl apigw::Authorizer for Recorder {
    fn call(&self, e: &AuthorizerEvent, now: i64) -> Result<Value, FunctionError> {
        self.0.borrow_mut().push(e.to_json(now));
        Ok(json!({"principalId": "u", "isAuthorized": true,
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}}))
    }
}

/// Every key of the documented sample is in our event with a value of the same JSON type, recursively.
/// `requestContext.authentication` (present only with mutual TLS) is the one exception.
fn same_shape(documented: &Value, ours: &Value, at: &str, missing: &mut Vec<String>) {
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let Value::Object(d) = documented else { return };
    for (k, dv) in d {
        let here = format!("{at}.{k}");
        if here == ".requestContext.authentication" {
            continue;
        }
        match ours.get(k) {
            None => missing.push(format!("{here} is missing")),
            Some(ov) => {
                // The sample's placeholder `"..."` for the API key stands for a key; without one it is null.
                let placeholder = dv == "..." && ov.is_null();
                if kind(dv) != kind(ov) && !placeholder {
                    missing.push(format!(
                        "{here}: {} in the sample, {} here",
                        kind(dv),
                        kind(ov)
                    ));
                } else if dv.is_object() {
                    // Maps of the request's own names (headers, query, variables) are compared by type only.
                    let named = [
                        "headers",
                        "queryStringParameters",
                        "pathParameters",
                        "stageVariables",
                    ];
                    if !named.contains(&k.as_str()) {
                        same_shape(dv, ov, &here, missing);
                    }
                }
            }
        }
    }
}

fn sample(name: &str) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/apigw-events").join(name)).unwrap(),
    )
    .unwrap()
}

#[test]
fn events_have_every_field_of_the_documented_samples() {
    let req = || {
        HttpRequest::new(
            "GET",
            "/request?QueryString1=queryValue1&QueryString1=second&x=%2Fy",
        )
        .header("HeaderAuth1", "headerValue1")
        .header("Authorization", "tok")
        .header("Cookie", "a=1; b=2")
        .header("User-Agent", "curl/8")
        .source_ip("192.0.2.7")
    };
    let cases = [
        (
            "token.json",
            api("rest", "TOKEN", &["method.request.header.Authorization"], 0),
        ),
        (
            "request.json",
            api("rest", "REQUEST", &["method.request.header.HeaderAuth1"], 0),
        ),
        (
            "http-v1.json",
            api(
                "http1",
                "REQUEST",
                &["$request.header.HeaderAuth1", "$request.querystring.x"],
                0,
            ),
        ),
        (
            "http-v2.json",
            api(
                "http2",
                "REQUEST",
                &["$request.header.HeaderAuth1", "$request.querystring.x"],
                0,
            ),
        ),
    ];
    for (file, api) in cases {
        let rec = Recorder::default();
        let inv = api.invoke(&req(), &rec, &mut AuthorizerCache::default(), NOW);
        assert_eq!(inv.status, 200, "{file}: {}", inv.reason);
        let ours = rec.0.borrow()[0].clone();
        let mut problems = Vec::new();
        same_shape(&sample(file), &ours, "", &mut problems);
        assert!(problems.is_empty(), "{file}: {problems:?}\n{ours:#}");
        // Values API Gateway documents.
        match file {
            "token.json" => {
                assert_eq!(ours["authorizationToken"], "tok");
                assert_eq!(
                    ours["methodArn"],
                    "arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request"
                );
                assert_eq!(
                    ours.as_object().unwrap().len(),
                    3,
                    "a TOKEN event has 3 fields"
                );
            }
            "request.json" | "http-v1.json" => {
                assert_eq!(ours["queryStringParameters"]["QueryString1"], "second");
                assert_eq!(
                    ours["multiValueQueryStringParameters"]["QueryString1"],
                    json!(["queryValue1", "second"])
                );
                assert_eq!(ours["queryStringParameters"]["x"], "/y", "decoded");
                assert_eq!(ours["headers"]["HeaderAuth1"], "headerValue1");
                assert_eq!(ours["stageVariables"]["StageVar1"], "stageValue1");
                assert_eq!(ours["resource"], "/request");
                assert_eq!(ours["requestContext"]["identity"]["sourceIp"], "192.0.2.7");
                if file == "http-v1.json" {
                    assert_eq!(ours["identitySource"], "headerValue1,/y");
                    assert_eq!(ours["version"], "1.0");
                } else {
                    assert_eq!(ours["requestContext"]["path"], "/test/request");
                }
            }
            _ => {
                assert_eq!(ours["version"], "2.0");
                assert_eq!(ours["identitySource"], json!(["headerValue1", "/y"]));
                assert_eq!(ours["routeKey"], "GET /request");
                assert_eq!(ours["rawPath"], "/request");
                assert_eq!(
                    ours["rawQueryString"],
                    "QueryString1=queryValue1&QueryString1=second&x=%2Fy"
                );
                assert_eq!(
                    ours["queryStringParameters"]["QueryString1"], "queryValue1,second",
                    "format 2.0 joins repeated parameters with commas"
                );
                assert_eq!(ours["cookies"], json!(["a=1", "b=2"]));
                assert!(ours["headers"].get("cookie").is_none());
                assert_eq!(
                    ours["headers"]["headerauth1"], "headerValue1",
                    "lower-case names"
                );
                assert_eq!(ours["requestContext"]["http"]["sourceIp"], "192.0.2.7");
                assert_eq!(ours["requestContext"]["http"]["userAgent"], "curl/8");
                assert_eq!(ours["requestContext"]["timeEpoch"], NOW * 1000);
                assert_eq!(ours["requestContext"]["time"], "14/Nov/2023:22:13:20 +0000");
            }
        }
    }
}

#[test]
fn path_parameters_reach_the_function_decoded() {
    let api = api(
        "rest",
        "REQUEST",
        &["method.request.header.Authorization"],
        0,
    );
    let rec = Recorder::default();
    for path in ["/pets/a%20b", "/files/x/y/z.txt"] {
        let r = HttpRequest::new("GET", path).header("Authorization", "t");
        assert_eq!(
            api.invoke(&r, &rec, &mut AuthorizerCache::default(), NOW)
                .status,
            200
        );
    }
    let seen = rec.0.borrow();
    assert_eq!(seen[0]["pathParameters"], json!({"id": "a b"}));
    assert_eq!(seen[0]["resource"], "/pets/{id}");
    assert_eq!(seen[1]["pathParameters"], json!({"proxy": "x/y/z.txt"}));
    assert_eq!(seen[1]["resource"], "/files/{proxy+}");
}

#[test]
fn raw_outputs_stand_in_for_a_function() {
    let api = api(
        "rest",
        "TOKEN",
        &["method.request.header.Authorization"],
        300,
    );
    let echo = RawOutput::new(
        r#"{"principalId": "u", "policyDocument": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "$methodArn"}]}, "context": {"n": 1}}"#,
    );
    let mut cache = AuthorizerCache::default();
    let get = |p: &str| HttpRequest::new("GET", p).header("Authorization", "t");
    let first = api.invoke(&get("/pets/1"), &echo, &mut cache, NOW);
    assert_eq!(first.status, 200);
    assert_eq!(
        first.backend_context,
        Some(json!({"n": "1"}).as_object().unwrap().clone()),
        "REST context values reach the backend as strings"
    );
    // The cache trap: the policy names /pets/1 only, and it is reused for /pets/2.
    let second = api.invoke(&get("/pets/2"), &echo, &mut cache, NOW + 1);
    assert_eq!((second.status, second.cache_hit), (403, Some(true)));
    // Not JSON: an invalid output, 500, with the text in the report.
    let garbage = RawOutput::new("Allow!");
    let inv = api.invoke(
        &get("/pets/1"),
        &garbage,
        &mut AuthorizerCache::default(),
        NOW,
    );
    assert_eq!(inv.status, 500);
    assert!(inv.reason.contains("not JSON"), "{}", inv.reason);
    assert_eq!(inv.output.as_deref(), Some(&json!("Allow!")));
}

/// Whether the runtime for `lang` is here; a missing one fails unless skipping was asked for, and a skip
/// says so.
fn runtime(lang: &str) -> bool {
    let (program, var) = match lang {
        "node" => ("node", "POLICY_CHECK_SKIP_NODE"),
        _ => ("python3", "POLICY_CHECK_SKIP_PYTHON"),
    };
    let ok = std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var(var).is_ok_and(|v| v == "1"),
            "`{program}` is not installed: `.ci/run` installs it; set {var}=1 to skip"
        );
        eprintln!("SKIPPED: `{program}` is not installed and {var}=1");
    }
    ok
}

fn function(lang: &str, handler: &str, timeout: u64) -> FunctionAuthorizer {
    let spec = format!(
        "{}/fixtures/authorizers/{lang}/authorizers.{handler}",
        root().display()
    );
    let spec =
        FunctionSpec::new(Code::handler(&spec).unwrap()).timeout(Duration::from_secs(timeout));
    FunctionAuthorizer::new(LocalFunction::new(spec).unwrap())
}

fn names(lang: &str) -> [&'static str; 8] {
    if lang == "node" {
        [
            "tokenEcho",
            "request",
            "simple",
            "unauthorized",
            "fails",
            "timeout",
            "malformed",
            "tokenWildcard",
        ]
    } else {
        [
            "token_echo",
            "request",
            "simple",
            "unauthorized",
            "fails",
            "timeout",
            "malformed",
            "token_wildcard",
        ]
    }
}

#[test]
fn user_functions_behind_the_gateway() {
    for lang in ["node", "python"] {
        if !runtime(lang) {
            continue;
        }
        let [
            echo,
            request,
            simple,
            unauthorized,
            fails,
            timeout,
            malformed,
            wildcard,
        ] = names(lang);
        let token_api = api(
            "rest",
            "TOKEN",
            &["method.request.header.Authorization"],
            300,
        );
        let get = |p: &str, t: &str| HttpRequest::new("GET", p).header("Authorization", t);

        // The echoed methodArn and the cache: allowed on the first path, 403 on the next from the cache.
        let f = function(lang, echo, 3);
        let mut cache = AuthorizerCache::default();
        let first = token_api.invoke(&get("/pets/1", "allow"), &f, &mut cache, NOW);
        assert_eq!(
            (first.status, first.cache_hit),
            (200, Some(false)),
            "{lang}"
        );
        let second = token_api.invoke(&get("/pets/2", "allow"), &f, &mut cache, NOW + 10);
        assert_eq!(
            (second.status, second.cache_hit, second.function_called),
            (403, Some(true), false),
            "{lang}: the cache trap"
        );
        let deny = token_api.invoke(&get("/pets/1", "deny"), &f, &mut cache, NOW);
        assert_eq!(deny.status, 403, "{lang}");
        assert!(deny.body.contains("explicit deny"), "{lang}: {}", deny.body);
        let unauth = token_api.invoke(&get("/pets/1", "unauthorized"), &f, &mut cache, NOW);
        assert_eq!(unauth.status, 401, "{lang}: `Unauthorized` is 401");
        let other = token_api.invoke(&get("/pets/1", "bogus"), &f, &mut cache, NOW);
        assert_eq!(other.status, 500, "{lang}: any other error is 500");
        assert!(
            other.reason.contains("Invalid token"),
            "{lang}: {}",
            other.reason
        );
        assert_eq!(f.function().starts(), 1, "{lang}: warm across requests");

        // The wildcard policy is safe to cache.
        let f = function(lang, wildcard, 3);
        let mut cache = AuthorizerCache::default();
        for p in ["/pets/1", "/pets/2", "/pets"] {
            assert_eq!(
                token_api
                    .invoke(&get(p, "allow"), &f, &mut cache, NOW)
                    .status,
                200,
                "{lang} {p}"
            );
        }

        // A REQUEST authorizer reading headers, query strings and stage variables, returning a context.
        let req_api = api(
            "rest",
            "REQUEST",
            &[
                "method.request.header.HeaderAuth1",
                "method.request.querystring.QueryString1",
            ],
            0,
        );
        let f = function(lang, request, 3);
        let ok = HttpRequest::new("GET", "/pets/42?QueryString1=queryValue1")
            .header("HeaderAuth1", "headerValue1")
            .source_ip("192.0.2.5");
        let inv = req_api.invoke(&ok, &f, &mut AuthorizerCache::default(), NOW);
        assert_eq!(inv.status, 200, "{lang}: {}", inv.reason);
        assert_eq!(
            Value::Object(inv.backend_context.clone().unwrap()),
            json!({"stringKey": "value", "numberKey": "123", "booleanKey": "true",
                   "pathId": "42", "sourceIp": "192.0.2.5"}),
            "{lang}: REST context values reach the backend as strings"
        );
        let bad = HttpRequest::new("GET", "/pets/42?QueryString1=nope")
            .header("HeaderAuth1", "headerValue1");
        assert_eq!(
            req_api
                .invoke(&bad, &f, &mut AuthorizerCache::default(), NOW)
                .status,
            401,
            "{lang}"
        );

        // An HTTP API with simple responses: nested context is fine in format 2.0.
        let http = Api::from_json(
            &json!({"region": "us-east-1", "account": "123456789012", "api_id": "abcdef123",
                "stage": "$default", "format": "http2-simple", "routes": ["GET /pets"],
                "authorizer": {"type": "REQUEST", "identity_sources": ["$request.header.Authorization"], "ttl": 0}})
            .to_string(),
        )
        .unwrap();
        let f = function(lang, simple, 3);
        let inv = http.invoke(
            &get("/pets", "secretToken"),
            &f,
            &mut AuthorizerCache::default(),
            NOW,
        );
        assert_eq!(inv.status, 200, "{lang}: {}", inv.reason);
        assert_eq!(
            Value::Object(inv.backend_context.clone().unwrap()),
            json!({"route": "GET /pets", "nested": {"level": 2}, "list": [1, 2]}),
            "{lang}: format 2.0 context as returned"
        );
        let no = http.invoke(
            &get("/pets", "wrong"),
            &f,
            &mut AuthorizerCache::default(),
            NOW,
        );
        assert_eq!(
            (no.status, no.body.as_str()),
            (403, r#"{"message":"Forbidden"}"#),
            "{lang}"
        );

        // Failures.
        for (handler, token, status, why) in [
            (unauthorized, "x", 401, ""),
            (
                fails,
                "x",
                500,
                if lang == "node" {
                    "TypeError"
                } else {
                    "KeyError"
                },
            ),
            (malformed, "no-policy", 500, "policyDocument"),
            (malformed, "nested-context", 500, "context.groups"),
            (malformed, "no-principal", 500, "principalId"),
            (malformed, "string", 500, "not a JSON object"),
        ] {
            let f = function(lang, handler, 3);
            let inv = token_api.invoke(
                &get("/pets", token),
                &f,
                &mut AuthorizerCache::default(),
                NOW,
            );
            assert_eq!(
                inv.status, status,
                "{lang} {handler} {token}: {}",
                inv.reason
            );
            assert!(inv.reason.contains(why), "{lang} {handler}: {}", inv.reason);
        }
        let f = function(lang, timeout, 1);
        let inv = token_api.invoke(
            &get("/pets", "allow"),
            &f,
            &mut AuthorizerCache::default(),
            NOW,
        );
        assert_eq!(inv.status, 500, "{lang}");
        assert!(
            inv.reason.contains("Task timed out after 1.00 seconds"),
            "{lang}: {}",
            inv.reason
        );
        assert_eq!(inv.body, r#"{"message":null}"#);
    }
}

#[test]
fn the_function_receives_exactly_the_event_we_build() {
    if !runtime("node") {
        return;
    }
    let api = api(
        "rest",
        "REQUEST",
        &["method.request.header.Authorization"],
        0,
    );
    let f = function("node", "echo", 3);
    let rec = Recorder::default();
    let req = HttpRequest::new("GET", "/pets/7?a=1").header("Authorization", "t");
    let inv = api.invoke(&req, &f, &mut AuthorizerCache::default(), NOW);
    assert_eq!(inv.status, 403, "the echo function denies: {}", inv.reason);
    api.invoke(&req, &rec, &mut AuthorizerCache::default(), NOW);
    let out = inv.output.unwrap();
    let seen: Value = serde_json::from_str(out["context"]["event"].as_str().unwrap()).unwrap();
    assert_eq!(seen, rec.0.borrow()[0]);
}

#[test]
fn reports_print_no_terminal_escapes_from_the_request_or_the_function() {
    let api = api("rest", "TOKEN", &["method.request.header.Authorization"], 0);
    let out = RawOutput::new(
        "{\"principalId\": \"\\u001b[31mroot\", \"policyDocument\": {\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"execute-api:Invoke\", \"Resource\": \"*\"}]}}",
    );
    let req = HttpRequest::new("GET", "/pets/\u{1b}]0;x").header("Authorization", "t");
    let inv = api.invoke(&req, &out, &mut AuthorizerCache::default(), NOW);
    let text = policy_check::report::invocation_text(&req, &inv);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("\\u{1b}[31mroot"), "{text}");
}

#[test]
fn template_show_prints_no_terminal_escapes_from_the_template() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("escape.template.json");
    std::fs::write(
        &path,
        r#"{"Resources": {"Evil\u001b[2J": {"Type": "AWS::SQS::Queue"}}}"#,
    )
    .unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args(
        ["policy-check", "template", "show", path.to_str().unwrap()],
        &mut out,
        &mut err,
    );
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("Evil\\u{1b}[2J"), "{text}");
}
