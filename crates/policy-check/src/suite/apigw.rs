//! API Gateway cases: an HTTP request through the suite's API and authorizer, in order, sharing one
//! authorizer cache (so a cached policy reused on another path shows).

use crate::Failure;
use std::path::Path;

use serde_json::Value;

use crate::gateway::{AuthorizerChoice, FunctionChoice, TokenCheck, load_api, load_authorizer};
use crate::suite::{ApigwCase, Case, CaseResult, FunctionDef, SuiteDef};

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
pub(crate) fn gateway(suite: &SuiteDef, base: &Path) -> Result<Gateway, Failure> {
    let g = suite
        .apigw
        .as_ref()
        .ok_or("an API Gateway case (`http_request`) needs a suite-level `apigw` object")?;
    let path = |p: &Option<String>| p.as_ref().map(|p| base.join(p));
    let own = super::template::Own {
        template: g.template.as_deref(),
        parameters: None,
        physical_ids: Some(&g.physical_ids),
    };
    let api = match super::template::spec(own, suite, base)? {
        // `api` is then the API's logical id in the template.
        Some((path, input)) => {
            let id = g
                .api
                .as_deref()
                .ok_or("`apigw` needs `api` (the API's logical id in `template`)")?;
            crate::commands::template::api_from_template(&path, id, &input)?
        }
        None => load_api(
            &path(&g.api).ok_or("`apigw` needs `api` (a path)")?,
            g.account.as_deref(),
        )?,
    };
    let check = match &g.token_verifier {
        None => None,
        Some(v) => Some(TokenCheck {
            jwks: v.jwks.clone(),
            user_pool_id: v.user_pool_id.clone(),
            client_id: v.client_id.clone(),
            token_use: v.token_use.as_deref().unwrap_or("access").parse()?,
            invalid_token: match g.invalid_token {
                None | Some(401) => apigw::InvalidToken::Unauthorized,
                Some(403) => apigw::InvalidToken::Deny,
                Some(other) => {
                    return Err(Failure::from(format!(
                        "`invalid_token` is 401 or 403, not {other}"
                    )));
                }
            },
        }),
    };
    let function = match &g.function {
        None => None,
        Some(f) => Some(function_choice(f)?),
    };
    let (groups, policy, output) = (path(&g.groups), path(&g.policy), path(&g.output));
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
fn function_choice(f: &FunctionDef) -> Result<FunctionChoice, Failure> {
    let (command, handler) = (f.command.clone(), f.handler.clone());
    if command.is_some() == handler.is_some() {
        return Err("`apigw.function` needs one of `command` or `handler`".into());
    }
    let env = f.env.clone().into_iter().collect();
    let timeout = match f.timeout {
        None => None,
        Some(t) if (1..=900).contains(&t) => Some(t),
        Some(t) => {
            return Err(Failure::from(format!(
                "`apigw.function.timeout` is whole seconds from 1 to 900, found {t}"
            )));
        }
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
pub(crate) fn apigw_case(
    case: &Case<'_>,
    obj: &ApigwCase,
    gw: &mut Gateway,
) -> Result<CaseResult, Failure> {
    let Case {
        base,
        name,
        case_name,
        what,
        ..
    } = *case;
    let req = obj.http_request.to_request(base, what)?;
    let now = obj.now.ok_or_else(|| {
        format!("{what}: an API Gateway case needs `now` (Unix seconds): the cache and the token depend on it")
    })?;
    let want = obj
        .expect_status
        .ok_or_else(|| format!("{what}: missing `expect_status` (an HTTP status)"))?;
    let inv = gw
        .api
        .invoke(&req, gw.authorizer.as_ref(), &mut gw.cache, now);
    let mut expect = format!("{want}");
    let mut actual = format!("{}", inv.status);
    let mut pass = inv.status == want;
    let mut detail = String::new();
    let mut field = |label: &str, want: String, got: String| {
        expect.push_str(&format!(", {label} {want}"));
        actual.push_str(&format!(", {label} {got}"));
        if want != got {
            pass = false;
            detail.push_str(&format!("expected {label} `{want}`, got `{got}`\n"));
        }
    };
    if let Some(s) = &obj.sid {
        field(
            "Sid",
            s.clone(),
            inv.deciding()
                .and_then(|d| d.sid.clone())
                .unwrap_or_else(|| "none".into()),
        );
    }
    for (k, want, got) in [
        ("cache_hit", obj.cache_hit, inv.cache_hit),
        (
            "function_called",
            obj.function_called,
            Some(inv.function_called),
        ),
    ] {
        if let Some(b) = want {
            field(
                k,
                b.to_string(),
                got.map_or_else(|| "n/a".to_string(), |g| g.to_string()),
            );
        }
    }
    if let Some(want) = &obj.context {
        field(
            "context",
            Value::Object(want.clone()).to_string(),
            inv.backend_context
                .clone()
                .map_or_else(|| "none".to_string(), |c| Value::Object(c).to_string()),
        );
    }
    if let Some(want) = &obj.reason {
        let got = if inv.reason.contains(want.as_str()) {
            want.clone()
        } else {
            inv.reason.lines().next().unwrap_or("none").to_string()
        };
        field("reason", want.clone(), got);
    }
    if !pass {
        detail.push_str(&crate::report::invocation_text(&req, &inv));
    }
    Ok(CaseResult::new(
        name, case_name, expect, actual, pass, detail,
    ))
}
