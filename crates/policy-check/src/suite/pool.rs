//! Identity-pool cases: claims, a token or a guest, through a pool configuration.

use serde_json::Value;

use crate::Failure;
use crate::suite::*;

/// A case decided through an identity pool: claims (unverified), a token (verified with the suite's
/// `token_verifier`), or a guest.
pub(crate) fn pool_case(case: &Case<'_>) -> Result<CaseResult, Failure> {
    let Case {
        suite,
        obj,
        base,
        name,
        case_name,
        what,
        prepared,
        ..
    } = *case;
    // Loaded and compiled once per suite.
    let pool = prepared
        .borrow_mut()
        .pool
        .get_or_insert_with(|| {
            match suite.get("identity_pool") {
                Some(Value::String(p)) => crate::input::load_pool(&base.join(p)),
                Some(Value::Object(o)) => template_pool(o, suite, base),
                _ => Err(Failure::from("claims, token or guest need a suite-level `identity_pool` (a pool configuration, or {\"template\", \"logical_id\"})"
                        .to_string())),
            }
            .map(std::rc::Rc::new)
        })
        .clone()
        .map_err(|e| e.at(what))?;
    let req = crate::input::pool_request(
        obj.get("request")
            .ok_or_else(|| format!("{what}: missing `request`"))?,
        what,
    )?;
    let verifier = suite.get("token_verifier");
    let verify = verifier.map(|v| {
        (
            v.get("jwks").and_then(Value::as_str).unwrap_or(""),
            v.get("user_pool_id")
                .or_else(|| v.get("issuer"))
                .and_then(Value::as_str)
                .unwrap_or(""),
            v.get("client_id").and_then(Value::as_str).unwrap_or(""),
        )
    });
    let token = match obj.get("token") {
        None => None,
        // A token may be given inline or as a file next to the suite.
        Some(Value::String(t)) => {
            Some(crate::input::token_text_at(t, base).map_err(|e| e.at(what))?)
        }
        Some(other) => {
            return Err(Failure::from(format!(
                "{what}: `token` must be a string, found {other}"
            )));
        }
    };
    let at = obj.get("now").and_then(Value::as_i64);
    // Refusals before any policy is evaluated (a token that fails verification, a provider the pool does
    // not trust, a request that overrides the session's keys) are errors with a code, not decisions.
    // A token is verified with the suite's verifier, built once (its keys read once).
    let claims = match (token.as_deref(), verify) {
        (Some(t), Some(v)) => prepared
            .borrow_mut()
            .verifier
            .get_or_insert_with(|| crate::input::id_token_verifier(v, base).map(std::rc::Rc::new))
            .clone()
            .and_then(|verifier| crate::input::verified_claims(&verifier, t, at)),
        _ => crate::input::claims_from(token.as_deref(), obj.get("claims"), verify, base, at),
    };
    // Decided on the engines prepared at load, without an explanation; a failing case is decided again
    // with one, for its report.
    let decide = |explain: bool| -> Result<identity_pool::PoolDecision, Failure> {
        let claims = claims.as_ref().map_err(Clone::clone)?;
        let custom = obj.get("custom_role_arn").and_then(Value::as_str);
        match obj.get("basic_flow_role").and_then(Value::as_str) {
            Some(role) => pool.decide_basic(claims.as_deref(), role, &req),
            None if explain => pool.decide(claims.as_deref(), custom, &req),
            None => pool.decide_fast(claims.as_deref(), custom, &req),
        }
        .map_err(|e| Failure::coded(&e))
    };
    let result = decide(false);
    if let Some(want) = super::expected_error(obj, what)? {
        let got = match &result {
            Err(e) => Err(e.clone()),
            Ok(d) => Ok(format!("{}: {}", d.decision, d.reason)),
        };
        return super::error_row((name, case_name), want, got, what);
    }
    let expect = super::expected_decision(obj, what)?;
    let d = match result {
        Ok(d) => d,
        Err(e) => {
            return Ok(CaseResult::new(
                name,
                case_name,
                expect.to_string(),
                "Error".into(),
                false,
                e.to_string(),
            ));
        }
    };
    let mut cmp = Compare::answer(obj, expect, &d.answer(), what)?;
    match obj.get("role") {
        None => {}
        Some(Value::String(want)) => {
            cmp.field("role", want, d.role.as_ref().map(|r| r.role_arn.as_str()));
        }
        Some(other) => {
            return Err(Failure::from(format!(
                "{what}: `role` must be a role ARN string, found {other}"
            )));
        }
    }
    let mut detail = cmp.detail;
    if !cmp.pass {
        let explained = decide(true).unwrap_or(d);
        detail.push_str(&crate::report::pool_decision_text(&req, &explained));
    }
    Ok(CaseResult::new(
        name, case_name, cmp.expect, cmp.actual, cmp.pass, detail,
    ))
}

/// `"identity_pool": {"template", "logical_id", "parameters": {…}, "physical_ids": {…},
/// "identity_ids": {…}}`: the pool of a CloudFormation template (paths relative to the suite; `template`,
/// `parameters` and `physical_ids` default to the suite-level `template`'s).
fn template_pool(
    o: &serde_json::Map<String, Value>,
    suite: &serde_json::Map<String, Value>,
    base: &std::path::Path,
) -> Result<identity_pool::IdentityPool, Failure> {
    let known = [
        "template",
        "logical_id",
        "parameters",
        "physical_ids",
        "identity_ids",
    ];
    if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Failure::from(format!(
            "unknown `identity_pool` field `{k}` (fields: {})",
            known.join(", ")
        )));
    }
    let (path, input) = super::template::spec(Some(o), suite, base, "identity_pool")?
        .ok_or("`identity_pool.template` is required (or a suite-level `template`)")?;
    let id = o
        .get("logical_id")
        .and_then(Value::as_str)
        .ok_or("`identity_pool.logical_id` is required (a string)")?;
    let ids = match o.get("identity_ids") {
        None => Default::default(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                v.as_str()
                    .map(|s| (k.clone(), s.to_string()))
                    .ok_or_else(|| format!("`identity_pool.identity_ids.{k}` is a string"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`identity_pool.identity_ids` is an object of strings".into()),
    };
    crate::commands::template::pool_from_template(&path, id, &input, ids)
}
