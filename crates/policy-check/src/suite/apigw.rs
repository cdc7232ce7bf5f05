//! API Gateway cases: an HTTP request through the suite's API and authorizer, in order, sharing one
//! authorizer cache (so a cached policy reused on another path shows).

use crate::Failure;
use std::path::Path;

use serde_json::Value;

use crate::gateway::{
    AuthorizerChoice, FunctionChoice, TokenCheck, http_request, load_api, load_authorizer,
};
use crate::suite::{Case, CaseResult};

/// The suite's API, authorizer and cache, built at its first API Gateway case.
pub(crate) struct Gateway {
    api: apigw::Api,
    authorizer: Box<dyn apigw::Authorizer>,
    cache: apigw::AuthorizerCache,
}

/// Reads the suite-level `apigw` object: `{"api" (with `template`: the API's logical id there),
/// "template", "physical_ids", "groups" | "policy" | "function" | "output",
/// "token_verifier": {"jwks", "user_pool_id", "client_id", "token_use"}, "invalid_token": 401 | 403}`;
/// `function` is `{"command" | "handler", "env": {NAME: value}, "timeout": seconds}`.
pub(crate) fn gateway(
    suite: &serde_json::Map<String, Value>,
    base: &Path,
) -> Result<Gateway, Failure> {
    let g = suite
        .get("apigw")
        .and_then(Value::as_object)
        .ok_or("an API Gateway case (`http_request`) needs a suite-level `apigw` object")?;
    let known = [
        "api",
        "template",
        "physical_ids",
        "account",
        "groups",
        "policy",
        "function",
        "output",
        "token_verifier",
        "invalid_token",
    ];
    if let Some(k) = g.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Failure::from(format!(
            "unknown `apigw` field `{k}` (fields: {})",
            known.join(", ")
        )));
    }
    let path = |k: &str| g.get(k).and_then(Value::as_str).map(|p| base.join(p));
    let api = match super::template::spec(Some(g), suite, base, "apigw")? {
        // `api` is then the API's logical id in the template.
        Some((path, input)) => {
            let id = g
                .get("api")
                .and_then(Value::as_str)
                .ok_or("`apigw` needs `api` (the API's logical id in `template`)")?;
            crate::commands::template::api_from_template(&path, id, &input)?
        }
        None => load_api(
            &path("api").ok_or("`apigw` needs `api` (a path)")?,
            g.get("account").and_then(Value::as_str),
        )?,
    };
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
                        return Err(Failure::from(format!(
                            "`invalid_token` is 401 or 403, not {other}"
                        )));
                    }
                },
            })
        }
    };
    let function = match g.get("function") {
        None => None,
        Some(v) => Some(function_choice(v)?),
    };
    let (groups, policy, output) = (path("groups"), path("policy"), path("output"));
    let given = [
        groups.is_some(),
        policy.is_some(),
        output.is_some(),
        function.is_some(),
    ];
    if given.iter().filter(|x| **x).count() != 1 {
        return Err(
            "`apigw` needs exactly one authorizer: `groups`, `policy`, `function` or `output`"
                .into(),
        );
    }
    let choice = match (&groups, &policy, &output, &function) {
        (Some(g), _, _, _) => AuthorizerChoice::Groups(g),
        (_, Some(p), _, _) => AuthorizerChoice::Policy(p),
        (_, _, Some(o), _) => AuthorizerChoice::Output(o),
        (_, _, _, Some(f)) => AuthorizerChoice::Function(f),
        _ => return Err("`apigw` needs an authorizer".into()),
    };
    let authorizer = load_authorizer(choice, check.as_ref(), &api, base)?;
    Ok(Gateway {
        api,
        authorizer,
        cache: apigw::AuthorizerCache::default(),
    })
}

/// `{"command" | "handler", "env": {NAME: value}, "timeout": seconds}`.
fn function_choice(v: &Value) -> Result<FunctionChoice, Failure> {
    let o = v.as_object().ok_or(
        "`apigw.function` is an object: {\"command\" | \"handler\", \"env\", \"timeout\"}",
    )?;
    let known = ["command", "handler", "env", "timeout"];
    if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Failure::from(format!(
            "unknown `apigw.function` field `{k}` (fields: {})",
            known.join(", ")
        )));
    }
    let text = |k: &str| match o.get(k) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("`apigw.function.{k}` is a string, found {other}")),
    };
    let (command, handler) = (text("command")?, text("handler")?);
    if command.is_some() == handler.is_some() {
        return Err("`apigw.function` needs one of `command` or `handler`".into());
    }
    let env = match o.get("env") {
        None => Vec::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                other => Err(format!(
                    "`apigw.function.env.{k}` is a string, found {other}"
                )),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(Failure::from(format!(
                "`apigw.function.env` is an object of strings, found {other}"
            )));
        }
    };
    let timeout = match o.get("timeout") {
        None => None,
        Some(t) => Some(
            t.as_u64()
                .filter(|t| (1..=900).contains(t))
                .ok_or_else(|| {
                    format!("`apigw.function.timeout` is whole seconds from 1 to 900, found {t}")
                })?,
        ),
    };
    Ok(FunctionChoice {
        command,
        handler,
        env,
        timeout,
        echo_logs: false,
    })
}

/// Runs one case: `http_request`, `now`, `expect_status`, and optionally `sid` (the deciding statement),
/// `cache_hit`, `function_called`, `context` (what the backend receives as `$context.authorizer`) and
/// `reason` (text the reason for a refusal contains: `Task timed out`, `context.groups`).
pub(crate) fn apigw_case(case: &Case<'_>, gw: &mut Gateway) -> Result<CaseResult, Failure> {
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
        Some(other) => {
            return Err(Failure::from(format!(
                "{what}: `sid` must be a string, found {other}"
            )));
        }
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
            Some(other) => {
                return Err(Failure::from(format!(
                    "{what}: `{k}` must be a boolean, found {other}"
                )));
            }
        }
    }
    match obj.get("context") {
        None => {}
        Some(Value::Object(want)) => field(
            "context",
            Value::Object(want.clone()).to_string(),
            inv.backend_context
                .clone()
                .map_or_else(|| "none".to_string(), |c| Value::Object(c).to_string()),
        ),
        Some(other) => {
            return Err(Failure::from(format!(
                "{what}: `context` is the object the backend receives, found {other}"
            )));
        }
    }
    match obj.get("reason") {
        None => {}
        Some(Value::String(want)) => {
            let got = if inv.reason.contains(want.as_str()) {
                want.clone()
            } else {
                inv.reason.lines().next().unwrap_or("none").to_string()
            };
            field("reason", want.clone(), got);
        }
        Some(other) => {
            return Err(Failure::from(format!(
                "{what}: `reason` is text the reason must contain, found {other}"
            )));
        }
    }
    if !pass {
        detail.push_str(&crate::report::invocation_text(&req, &inv));
    }
    Ok(CaseResult::new(
        name, case_name, expect, actual, pass, detail,
    ))
}
