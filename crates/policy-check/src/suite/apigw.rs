//! API Gateway cases: an HTTP request through the suite's API and authorizer, in order, sharing one
//! authorizer cache (so a cached policy reused on another path shows).

use std::path::Path;

use serde_json::Value;

use crate::gateway::{TokenCheck, http_request, load_api, load_authorizer};
use crate::suite::{Case, CaseResult};

/// The suite's API, authorizer and cache, built at its first API Gateway case.
pub(crate) struct Gateway {
    api: apigw::Api,
    authorizer: Box<dyn apigw::Authorizer>,
    cache: apigw::AuthorizerCache,
}

/// Reads the suite-level `apigw` object: `{"api", "groups" | "policy", "token_verifier": {"jwks",
/// "user_pool_id", "client_id", "token_use"}, "invalid_token": 401 | 403}`.
pub(crate) fn gateway(
    suite: &serde_json::Map<String, Value>,
    base: &Path,
) -> Result<Gateway, String> {
    let g = suite
        .get("apigw")
        .and_then(Value::as_object)
        .ok_or("an API Gateway case (`http_request`) needs a suite-level `apigw` object")?;
    let known = [
        "api",
        "account",
        "groups",
        "policy",
        "token_verifier",
        "invalid_token",
    ];
    if let Some(k) = g.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!(
            "unknown `apigw` field `{k}` (fields: {})",
            known.join(", ")
        ));
    }
    let path = |k: &str| g.get(k).and_then(Value::as_str).map(|p| base.join(p));
    let api = load_api(
        &path("api").ok_or("`apigw` needs `api` (a path)")?,
        g.get("account").and_then(Value::as_str),
    )?;
    let check = match g.get("token_verifier") {
        None => None,
        Some(v) => {
            let s = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("`apigw.token_verifier` needs `{k}`"))
            };
            Some(TokenCheck {
                jwks: s("jwks")?,
                user_pool_id: s("user_pool_id")?,
                client_id: s("client_id")?,
                token_use: v
                    .get("token_use")
                    .and_then(Value::as_str)
                    .unwrap_or("access")
                    .parse()?,
                invalid_token: match g.get("invalid_token").and_then(Value::as_u64) {
                    None | Some(401) => apigw::InvalidToken::Unauthorized,
                    Some(403) => apigw::InvalidToken::Deny,
                    Some(other) => {
                        return Err(format!("`invalid_token` is 401 or 403, not {other}"));
                    }
                },
            })
        }
    };
    let authorizer = load_authorizer(
        path("groups").as_deref(),
        path("policy").as_deref(),
        check.as_ref(),
        &api,
        base,
    )?;
    Ok(Gateway {
        api,
        authorizer,
        cache: apigw::AuthorizerCache::default(),
    })
}

/// Runs one case: `http_request`, `now`, `expect_status`, and optionally `sid` (the deciding statement),
/// `cache_hit` and `function_called`.
pub(crate) fn apigw_case(case: &Case<'_>, gw: &mut Gateway) -> Result<CaseResult, String> {
    let Case {
        obj,
        base,
        name,
        case_name,
        what,
        ..
    } = *case;
    let req = http_request(
        obj.get("http_request")
            .ok_or_else(|| format!("{what}: missing `http_request`"))?,
        base,
        what,
    )?;
    let now = obj
        .get("now")
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("{what}: an API Gateway case needs `now` (Unix seconds): the cache and the token depend on it"))?;
    let want = obj
        .get("expect_status")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("{what}: missing `expect_status` (an HTTP status)"))?;
    let inv = gw
        .api
        .invoke(&req, gw.authorizer.as_ref(), &mut gw.cache, now);
    let mut expect = format!("{want}");
    let mut actual = format!("{}", inv.status);
    let mut pass = u64::from(inv.status) == want;
    let mut detail = String::new();
    let mut field = |label: &str, want: String, got: String| {
        expect.push_str(&format!(", {label} {want}"));
        actual.push_str(&format!(", {label} {got}"));
        if want != got {
            pass = false;
            detail.push_str(&format!("expected {label} `{want}`, got `{got}`\n"));
        }
    };
    match obj.get("sid") {
        None => {}
        Some(Value::String(s)) => field(
            "Sid",
            s.clone(),
            inv.deciding()
                .and_then(|d| d.sid.clone())
                .unwrap_or_else(|| "none".into()),
        ),
        Some(other) => return Err(format!("{what}: `sid` must be a string, found {other}")),
    }
    for (k, got) in [
        ("cache_hit", inv.cache_hit),
        ("function_called", Some(inv.function_called)),
    ] {
        match obj.get(k) {
            None => {}
            Some(Value::Bool(b)) => field(
                k,
                b.to_string(),
                got.map_or_else(|| "n/a".to_string(), |g| g.to_string()),
            ),
            Some(other) => return Err(format!("{what}: `{k}` must be a boolean, found {other}")),
        }
    }
    if !pass {
        detail.push_str(&crate::report::invocation_text(&req, &inv));
    }
    Ok(CaseResult::new(
        name, case_name, expect, actual, pass, detail,
    ))
}
