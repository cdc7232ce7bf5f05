//! The bodies of policy-check's fuzz targets. `fuzz/` runs each under libFuzzer (`fuzz/run.sh TARGET
//! SECONDS`); `cargo test` replays the saved corpora and every past crash (`fixtures/fuzz/<target>/`)
//! through the same functions, so a fixed bug stays fixed without running the fuzzer.
//!
//! Each function takes arbitrary bytes, must never panic, and asserts the invariants of what it drives:
//! spans inside their source, printing that parses back to the same policy, explanations that agree
//! with decisions, tokens that never verify without a signature, and so on.
//!
//! ```
//! // Any bytes at all: never a panic.
//! fuzz_targets::policy(br#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#);
//! fuzz_targets::policy(&[0xff, 0x00, b'{']);
//! fuzz_targets::grammars(b"arn:aws:s3:::b/${aws:username}/*");
//! fuzz_targets::evaluate(&[7; 64]);
//! ```

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use authz_core::{Context, Decision, Layer, Request};
use iam_eval::{Authorizer, PolicySet, Verdict};
use iam_policy::grammar::{self, TemplateMode};
use iam_policy::{PolicyType, Source, Span, ValidateOptions};
use serde_json::Value;

/// A target body.
pub type Target = fn(&[u8]);

/// The names of the targets, as `fuzz/fuzz_targets/<name>.rs` and `fixtures/fuzz/<name>/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("parse", parse),
    ("policy", policy),
    ("grammars", grammars),
    ("evaluate", evaluate),
    ("token", token),
    ("avp", avp),
    ("apigw", apigw),
    ("serve", serve),
];

/// The spanned JSON reader and the IAM parser alone (the fast target): every diagnostic lies inside its
/// source and names a code.
pub fn parse(data: &[u8]) {
    let (source, _doc, diags) = iam_policy::parse_bytes("fuzz.json", data);
    let len = source.text().len();
    for d in &diags {
        assert!(
            d.span.start <= d.span.end && d.span.end <= len && !d.code.is_empty(),
            "span {:?} outside a {len}-byte source ({})",
            d.span,
            d.code
        );
    }
}

/// The spanned JSON reader, the IAM parser and the validator for every policy type; diagnostics
/// rendered (the bounded snippet code included); a valid document prints and parses back to itself and
/// compiles.
pub fn policy(data: &[u8]) {
    let (source, doc, diags) = iam_policy::parse_bytes("fuzz.json", data);
    let len = source.text().len();
    let mut all = diags;
    if let Some(doc) = &doc {
        for ty in PolicyType::ALL {
            all.extend(iam_policy::validate(doc, ty, &ValidateOptions::default()));
        }
    }
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100);
    for d in &all {
        assert!(
            d.span.start <= d.span.end && d.span.end <= len,
            "span {:?} outside a {len}-byte source ({})",
            d.span,
            d.code
        );
    }
    // Rendering (the bounded snippet window, related labels far along a line) for the first and the
    // last diagnostic: enough to reach every rendering path without paying for hundreds per input.
    for d in all.first().into_iter().chain(all.last()) {
        let mut out = String::new();
        // Rendering may fail (fmt::Error) but must not panic.
        let _ = handler.render_report(&mut out, &d.with_source(&source));
        assert!(
            !out.contains('\u{1b}'),
            "an escape character reached the rendering"
        );
    }
    let errors = all.iter().any(iam_policy::Diagnostic::is_error);
    if let (Some(doc), false) = (doc, errors) {
        let printed = doc.to_string();
        let again = iam_policy::parse(&Source::new("printed.json", printed.as_str()));
        assert!(again.is_ok(), "printed policy does not parse: {printed}");
        if let Ok(again) = again {
            assert!(
                again == doc,
                "printed policy parses to another policy: {printed}"
            );
            assert_eq!(printed, again.to_string());
        }
        if let Ok(set) = PolicySet::compile(Layer::Identity, [doc]) {
            let req = Request::new("s3:GetObject", "arn:aws:s3:::bucket/key");
            let _ = set.evaluate(&req);
        }
    }
}

/// Each grammar on its own: actions, ARN patterns and values, templates with wildcards and variables,
/// condition operators, and the typed condition values (numbers, dates, IPs, booleans, base64).
pub fn grammars(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let span = Span::new(0, s.len());
    let in_bounds = |e: &grammar::GrammarError| {
        assert!(
            e.offset <= s.len(),
            "error offset {} past a {}-byte text",
            e.offset,
            s.len()
        );
    };
    if let Err(e) = grammar::action(s, span) {
        in_bounds(&e);
    }
    for vars in [false, true] {
        match grammar::arn_pattern(s, vars, Some(0), span) {
            Ok(p) => {
                for v in p.segments.iter().flat_map(|t| t.variables()) {
                    assert!(v.span.end <= s.len(), "variable span outside the text");
                }
            }
            Err(e) => in_bounds(&e),
        }
        let _ = grammar::arn_value(s, vars, Some(0), span);
        for wildcards in [false, true] {
            let mode = TemplateMode {
                wildcards,
                variables: vars,
            };
            if let Ok(t) = grammar::template(s, mode, Some(0), span) {
                for v in t.variables() {
                    assert!(v.span.end <= s.len(), "variable span outside the text");
                }
            }
        }
    }
    if let Ok(op) = grammar::operator(s) {
        // An operator that parses prints back to a name that parses to the same operator.
        assert_eq!(grammar::operator(&op.to_string()).ok(), Some(op));
    }
    let _ = iam_policy::value::Decimal::parse(s);
    if let Some((instant, _)) = iam_policy::value::parse_date(s) {
        let _ = instant;
    }
    let _ = iam_policy::value::parse_ip_net(s);
    let _ = iam_policy::value::parse_ip_addr(s);
    let _ = iam_policy::value::parse_bool(s);
    let _ = iam_policy::value::parse_base64(s);
    let _ = iam_policy::catalog::glob(s, "getobject");
}

/// A small policy built from fuzzer choices (so most inputs parse), compiled into every layer, and
/// requests built the same way: evaluation never panics, traced and untraced evaluation agree, and the
/// explanation names the decision's statement with the verdict that decision needs.
pub fn evaluate(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(input) = EvalInput::arbitrary(&mut u) else {
        return;
    };
    let text = input.policy_text();
    let Ok(doc) = iam_policy::parse(&Source::new("fuzz.json", text.as_str())) else {
        return;
    };
    let Ok(identity) = PolicySet::compile(Layer::Identity, [doc.clone()]) else {
        return;
    };
    let mut auth = Authorizer::new(identity);
    if input.as_boundary {
        auth.boundary = PolicySet::compile(Layer::Boundary, [doc.clone()]).ok();
    }
    if input.as_session {
        auth.session = PolicySet::compile(Layer::Session, [doc]).ok();
    }
    let mut ctx = Context::new();
    for (k, v) in &input.context {
        let key = pick(KEYS, *k);
        match v {
            CtxValue::One(x) => {
                ctx.insert(key, pick(VALUES, *x));
            }
            CtxValue::Many(xs) => {
                ctx.insert_multi(key, xs.iter().map(|x| pick(VALUES, *x)));
            }
            CtxValue::Raw(s) => {
                ctx.insert(key, s.as_str());
            }
        }
    }
    let action = pick(ACTIONS, input.action);
    let resource = pick(RESOURCES, input.resource);
    let mut req = Request::new(action, resource).context(&ctx);
    if let Some(p) = input.principal {
        req = req.principal(pick(PRINCIPALS, p));
    }
    let outcome = auth.evaluate(&req);
    let ex = auth.explain(&req);
    assert_eq!(ex.outcome, outcome, "explanation and evaluation disagree");
    match outcome.decision {
        Decision::ExplicitDeny => {
            let at = outcome.decided_by;
            assert!(at.is_some(), "an explicit deny names its statement");
            let st = ex.statements.iter().find(|s| Some(s.at) == at);
            assert!(
                st.is_some_and(|s| s.verdict == Verdict::Applies),
                "the denying statement applies"
            );
        }
        Decision::Allow => {
            // The account's root user is allowed by default, with no statement; every other allow has
            // an applying statement.
            let root = req.principal.is_some_and(|p| p.ends_with(":root"));
            assert!(
                root || ex.statements.iter().any(|s| s.verdict == Verdict::Applies),
                "an allow has an applying statement: {:?} {:?}\n{text}",
                req.principal,
                outcome
            );
        }
        Decision::ImplicitDeny => {}
    }
}

/// Tokens the repository signed with its test key: the only header and payload that may verify.
const SIGNED: &[&str] = &[
    include_str!("../../../policies/cognito-groups-dynamodb/tokens/user-1.jwt"),
    include_str!("../../../policies/photo-app-avp/tokens/alice.jwt"),
    include_str!("../../../policies/photo-app-avp/tokens/alice-access.jwt"),
    include_str!("../../../policies/photo-app-avp/tokens/alice-other-client.jwt"),
    include_str!("../../../policies/photo-app-avp/tokens/bob.jwt"),
    include_str!("../../../policies/photo-app-avp/tokens/carol-contractor.jwt"),
    include_str!("../../../policies/apigw-petstore/tokens/vet.jwt"),
    include_str!("../../../policies/apigw-petstore/tokens/vet-groomer.jwt"),
    include_str!("../../../policies/apigw-petstore/tokens/vet-suspended.jwt"),
    include_str!("../../../policies/apigw-petstore/tokens/visitor.jwt"),
    include_str!("../../../policies/apigw-petstore/tokens/nogroup.jwt"),
    include_str!("../../../policies/apigw-petstore/tokens/other-client.jwt"),
];

/// Token decoding and verification up to and including the signature check: any text is refused with
/// an error, never a panic, unless its header and payload are exactly those of a token the repository
/// signed (no mutation of a signed token may verify).
pub fn token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for use_ in [cognito::TokenUse::Id, cognito::TokenUse::Access] {
        let r = verifier(use_).verify_at(text, 1_700_000_100);
        match r {
            Ok(_) => {
                let signed_part = |t: &str| t.trim().rsplit_once('.').map(|(hp, _)| hp.to_string());
                let mine = signed_part(text);
                assert!(
                    mine.is_some() && SIGNED.iter().any(|t| signed_part(t) == mine),
                    "a token verified whose header and payload the test key never signed"
                );
            }
            Err(e) => {
                let _ = (e.code(), e.to_string());
            }
        }
    }
}

/// Verified Permissions request decoding and the claims → Cedar entity mapping: a request (any JSON)
/// against a small store, and the JSON object taken as ID-token claims; errors carry an exception.
pub fn avp(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let s = store();
    match cedar_bridge::avp::decide(s, &v, &Default::default(), None) {
        Ok(a) => {
            assert!(matches!(
                a.response().get("decision").and_then(Value::as_str),
                Some("ALLOW" | "DENY")
            ));
        }
        Err(e) => {
            let _ = (e.exception(), e.to_string());
        }
    }
    if let Value::Object(claims) = &v {
        let tokens =
            cedar_bridge::avp::TokenClaims::given(Some(claims.clone()), Some(claims.clone()));
        let req = serde_json::json!({"action": {"actionType": "Action", "actionId": "view"},
            "resource": {"entityType": "Photo", "entityId": "p"}});
        if let Err(e) = cedar_bridge::avp::decide(s, &req, &tokens, None) {
            let _ = e.to_string();
        }
    }
}

fn verifier(token_use: cognito::TokenUse) -> &'static cognito::Verifier {
    static ID: OnceLock<cognito::Verifier> = OnceLock::new();
    static ACCESS: OnceLock<cognito::Verifier> = OnceLock::new();
    let cell = if token_use == cognito::TokenUse::Id {
        &ID
    } else {
        &ACCESS
    };
    cell.get_or_init(|| {
        let jwks = cognito::JwksSource::from_json(include_str!("../../../fixtures/keys/jwks.json"))
            .unwrap_or_else(|_| cognito::JwksSource::remote("https://invalid.example/jwks.json"));
        cognito::Verifier::new(
            cognito::VerifierConfig::for_pool("us-east-1_Example", "exampleclient", token_use),
            jwks,
        )
    })
}

fn store() -> &'static cedar_bridge::PolicyStore {
    static S: OnceLock<cedar_bridge::PolicyStore> = OnceLock::new();
    S.get_or_init(|| {
        let policies = r#"
            @id("view") permit(principal, action == Action::"view", resource) when { principal has custom && principal.custom has location && principal.custom.location == "USA" };
            @id("tag") permit(principal, action == Action::"view", resource) when { resource.hasTag("t") && resource.getTag("t") == "x" };
            @id("no") forbid(principal in Group::"us-east-1_Example|blocked", action, resource);
        "#;
        let src = cedar_bridge::claims::IdentitySource::cognito("us-east-1_Example", "User", Some("Group"));
        cedar_bridge::PolicyStore::from_parts(
            &[("fuzz.cedar".into(), policies.into())],
            None,
            Some(src),
            Vec::new(),
            false,
        )
        .unwrap_or_else(|e| unreachable_store(&e))
    })
}

#[expect(
    clippy::panic,
    reason = "the fixed store is valid Cedar; a failure is a bug in this crate"
)]
fn unreachable_store(e: &cedar_bridge::BridgeError) -> cedar_bridge::PolicyStore {
    panic!("the fuzz store does not load: {e}")
}

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:ListBucket",
    "dynamodb:GetItem",
    "ec2:DescribeInstances",
    "iam:PassRole",
    "sts:AssumeRoleWithWebIdentity",
];
const RESOURCES: &[&str] = &[
    "arn:aws:s3:::bucket/key",
    "arn:aws:s3:::bucket/alice/x",
    "arn:aws:s3:::bucket",
    "arn:aws:dynamodb:us-east-1:111122223333:table/Notes",
    "*",
    "arn:aws:iam::111122223333:role/app",
];
const PRINCIPALS: &[&str] = &[
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:sts::111122223333:assumed-role/app/s",
    "arn:aws:iam::111122223333:role/app",
    "anonymous",
    "cognito-identity.amazonaws.com",
    "arn:aws:iam::111122223333:root",
];
const KEYS: &[&str] = &[
    "aws:username",
    "aws:SourceIp",
    "aws:TagKeys",
    "s3:prefix",
    "dynamodb:LeadingKeys",
    "aws:CurrentTime",
    "aws:SecureTransport",
    "s3:max-keys",
    "aws:PrincipalTag/team",
];
const VALUES: &[&str] = &[
    "alice",
    "203.0.113.7",
    "2001:db8::1",
    "team",
    "home/",
    "2024-01-01T00:00:00Z",
    "1700000000",
    "true",
    "10",
    "",
    "a*",
    "${aws:username}",
];
const OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLikeIfExists",
    "StringEqualsIgnoreCase",
    "ForAllValues:StringEquals",
    "ForAnyValue:StringLike",
    "NumericLessThan",
    "DateGreaterThan",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "ArnLike",
    "Null",
    "BinaryEquals",
];
const POLICY_VALUES: &[&str] = &[
    "alice",
    "${aws:username}",
    "${aws:PrincipalTag/team, 'x'}",
    "203.0.113.0/24",
    "::/0",
    "2020-01-01",
    "1700000000",
    "true",
    "false",
    "10",
    "10.5",
    "home/*",
    "arn:aws:s3:::bucket/*",
    "*",
    "YQ==",
];
const PATTERNS: &[&str] = &[
    "s3:*",
    "s3:Get*",
    "*",
    "dynamodb:GetItem",
    "ec2:Describe?nstances",
    "iam:PassRole",
    "sts:*",
];
const RESOURCE_PATTERNS: &[&str] = &[
    "*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/${aws:username}/*",
    "arn:aws:dynamodb:*:*:table/Notes",
    "arn:aws:s3:::*",
    "arn:aws:iam::111122223333:role/*",
];

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list.get(usize::from(i) % list.len().max(1))
        .copied()
        .unwrap_or("")
}

#[derive(Debug, Arbitrary)]
enum CtxValue {
    One(u8),
    Many(Vec<u8>),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
struct Cond {
    op: u8,
    key: u8,
    values: Vec<u8>,
    raw: Option<String>,
}

#[derive(Debug, Arbitrary)]
struct Stmt {
    deny: bool,
    not_action: bool,
    actions: Vec<u8>,
    not_resource: bool,
    resources: Vec<u8>,
    conditions: Vec<Cond>,
}

#[derive(Debug, Arbitrary)]
struct EvalInput {
    statements: Vec<Stmt>,
    action: u8,
    resource: u8,
    principal: Option<u8>,
    context: Vec<(u8, CtxValue)>,
    as_boundary: bool,
    as_session: bool,
}

impl EvalInput {
    fn policy_text(&self) -> String {
        let list = |v: &[u8], from: &[&str]| -> Value {
            let items: Vec<Value> = v
                .iter()
                .take(4)
                .map(|i| Value::String(pick(from, *i).to_string()))
                .collect();
            if items.is_empty() {
                Value::String(pick(from, 0).to_string())
            } else {
                Value::Array(items)
            }
        };
        let statements: Vec<Value> = self
            .statements
            .iter()
            .take(6)
            .map(|s| {
                let mut st = serde_json::Map::new();
                st.insert(
                    "Effect".into(),
                    Value::String(if s.deny { "Deny" } else { "Allow" }.into()),
                );
                st.insert(
                    if s.not_action { "NotAction" } else { "Action" }.into(),
                    list(&s.actions, PATTERNS),
                );
                st.insert(
                    if s.not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    }
                    .into(),
                    list(&s.resources, RESOURCE_PATTERNS),
                );
                let mut conds = serde_json::Map::new();
                for c in s.conditions.iter().take(3) {
                    let values: Vec<Value> = match &c.raw {
                        Some(r) => vec![Value::String(r.clone())],
                        None => c
                            .values
                            .iter()
                            .take(3)
                            .map(|v| Value::String(pick(POLICY_VALUES, *v).into()))
                            .collect(),
                    };
                    let op = conds
                        .entry(pick(OPERATORS, c.op).to_string())
                        .or_insert_with(|| Value::Object(serde_json::Map::new()));
                    if let Value::Object(m) = op {
                        m.insert(pick(KEYS, c.key).to_string(), Value::Array(values));
                    }
                }
                if !conds.is_empty() {
                    st.insert("Condition".into(), Value::Object(conds));
                }
                Value::Object(st)
            })
            .collect();
        serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    }
}

/// API Gateway: API definitions (native and OpenAPI exports), authorizer outputs in every format, and whole invocations with an
/// arbitrary output and path. Nothing malformed may reach the backend: a 200 needs a valid output whose
/// policy (or simple response) allows the request, and every `methodArn` fits API Gateway's limit.
pub fn apigw(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match mode % 4 {
        0 => {
            if let Ok(api) = ::apigw::Api::from_json(&text) {
                assert!(api.authorizer.ttl <= ::apigw::MAX_TTL);
            }
        }
        3 => {
            let opts = ::apigw::OpenApiOptions {
                account: Some("123456789012".into()),
                ..::apigw::OpenApiOptions::default()
            };
            if let Ok(api) = ::apigw::Api::from_openapi(&text, &opts) {
                assert!(api.authorizer.ttl <= ::apigw::MAX_TTL);
                assert!(!api.routes.is_empty());
            }
        }
        1 => {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                return;
            };
            for f in [
                ::apigw::OutputFormat::Rest,
                ::apigw::OutputFormat::Http1,
                ::apigw::OutputFormat::Http2 { simple: false },
                ::apigw::OutputFormat::Http2 { simple: true },
            ] {
                if let Ok(o) = ::apigw::AuthorizerOutput::from_value(&v, f) {
                    assert!(o.policy.is_some() || o.is_authorized.is_some());
                    if f == ::apigw::OutputFormat::Rest {
                        assert!(o.principal_id.is_some());
                        assert!(
                            o.backend_context(f)
                                .values()
                                .all(serde_json::Value::is_string)
                        );
                    }
                }
            }
        }
        _ => {
            // `PATH\nOUTPUT`: a request path and the function's output.
            let (path, output) = text.split_once('\n').unwrap_or((&text, "{}"));
            let Ok(out) = serde_json::from_str::<serde_json::Value>(output) else {
                return;
            };
            let valid =
                ::apigw::AuthorizerOutput::from_value(&out, ::apigw::OutputFormat::Rest).is_ok();
            let api = fuzz_api();
            let function = ::apigw::StaticPolicy::output(out);
            let mut cache = ::apigw::AuthorizerCache::default();
            let req =
                ::apigw::HttpRequest::new("GET", &format!("/{path}")).header("Authorization", "t");
            for now in [1_700_000_000, 1_700_000_001] {
                let inv = api.invoke(&req, &function, &mut cache, now);
                if inv.status == 200 {
                    assert!(valid, "an invalid authorizer output reached the backend");
                    assert!(
                        inv.answer
                            .as_ref()
                            .is_some_and(|a| a.decision == authz_core::Decision::Allow),
                        "200 without an allowing policy"
                    );
                }
                if let Some(a) = &inv.method_arn {
                    assert!(a.len() <= ::apigw::MAX_METHOD_ARN_BYTES);
                }
                assert!(
                    matches!(inv.status, 200 | 401 | 403 | 414 | 500),
                    "status {}",
                    inv.status
                );
            }
        }
    }
}

fn fuzz_api() -> &'static ::apigw::Api {
    static API: std::sync::OnceLock<::apigw::Api> = std::sync::OnceLock::new();
    API.get_or_init(|| {
        #[expect(clippy::expect_used, reason = "a fixed, valid definition")]
        ::apigw::Api::from_json(
            r#"{"region": "us-east-1", "account": "123456789012", "api_id": "a1b2c3", "stage": "prod",
                "routes": ["ANY /{proxy+}", "GET /"],
                "authorizer": {"type": "REQUEST", "identity_sources": ["method.request.header.Authorization"], "ttl": 300}}"#,
        )
        .expect("the fuzz API definition is valid")
    })
}

/// The `serve` endpoint over whole HTTP requests, all three protocols (Verified Permissions' JSON 1.0,
/// IAM's Query, `GET /health`): the input is a request as a client writes it (request line, headers, a
/// blank line, the body). Invariants: no panic, an HTTP status, and never an `ALLOW` in an answer that
/// refused the request.
pub fn serve(data: &[u8]) {
    let Some((method, path, headers, body)) = split_http(data) else {
        return;
    };
    let rt = serve_runtime();
    let Some((status, answer)) = rt.block_on(serve_server().clone().answer(
        &method,
        &path,
        &headers,
        body.to_vec(),
    )) else {
        return;
    };
    assert!((100..600).contains(&status), "status {status}");
    if status != 200 {
        let text = String::from_utf8_lossy(&answer);
        assert!(
            !text.contains("\"decision\":\"ALLOW\"") && !text.contains("<EvalDecision>allowed"),
            "a refused request ({status}) answered an allow: {text}"
        );
    }
}

/// A raw request taken apart: method, path, headers, body.
type RawRequest<'a> = (String, String, Vec<(String, String)>, &'a [u8]);

/// Splits a raw HTTP/1.1 request: `METHOD PATH VERSION`, `Name: value` lines, a blank line, the body.
fn split_http(data: &[u8]) -> Option<RawRequest<'_>> {
    let end = data.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(data.get(..end)?).ok()?;
    let body = data.get(end + 4..)?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_string(), first.next()?.to_string());
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Some((method, path, headers, body))
}

#[expect(
    clippy::panic,
    reason = "a fuzz target cannot run without its runtime; failing to build one is the harness's bug"
)]
fn serve_runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|e| panic!("a runtime: {e}"))
    })
}

#[expect(
    clippy::panic,
    reason = "the fixed store is the repository's own; a failure to load it is a bug, not an input"
)]
fn serve_server() -> &'static std::sync::Arc<policy_serve::Server> {
    static S: OnceLock<std::sync::Arc<policy_serve::Server>> = OnceLock::new();
    S.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../policies/photo-app-avp/store-location");
        let spec: policy_serve::StoreSpec = format!("photos={}", dir.display())
            .parse()
            .unwrap_or_else(|e| panic!("the fuzz store: {e}"));
        std::sync::Arc::new(
            policy_serve::Server::load(vec![spec])
                .unwrap_or_else(|e| panic!("the fuzz store: {e}"))
                .with_body_timeout(std::time::Duration::from_millis(50)),
        )
    })
}
