//! Identity-pool cases: claims, a token or a guest, through a pool configuration.

use crate::Failure;
use crate::suite::*;

/// A case decided through an identity pool: claims (unverified), a token (verified with the suite's
/// `token_verifier`), or a guest.
pub(crate) fn pool_case(case: &Case<'_>, obj: &PoolCase) -> Result<CaseResult, Failure> {
    let Case {
        suite,
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
            match &suite.identity_pool {
                Some(PathOr::Path(p)) => crate::input::load_pool(&base.join(p)),
                Some(PathOr::Object(o)) => template_pool(o, suite, base),
                None => Err(Failure::from("claims, token or guest need a suite-level `identity_pool` (a pool configuration, or {\"template\", \"logical_id\"})"
                        .to_string())),
            }
            .map(std::rc::Rc::new)
        })
        .clone()
        .map_err(|e| e.at(what))?;
    let req = crate::input::to_pool_request(
        obj.request
            .as_ref()
            .ok_or_else(|| format!("{what}: missing `request`"))?
            .to_request(what)?,
    );
    let verify = suite.token_verifier.as_ref().map(TokenVerifierDef::parts);
    // A token may be given inline or as a file next to the suite.
    let token = match &obj.token {
        None => None,
        Some(t) => Some(crate::input::token_text_at(t, base).map_err(|e| e.at(what))?),
    };
    let at = obj.now;
    // `guest` says the caller has no token: with claims or a token it contradicts them, and `false`
    // says nothing about who the caller is.
    match (obj.guest, token.is_some() || obj.claims.is_some()) {
        (Some(true), true) => {
            return Err(Failure::from(format!(
                "{what}: `guest` is a caller without a token: drop `claims`/`token`, or `guest`"
            )));
        }
        (Some(false), false) => {
            return Err(Failure::from(format!(
                "{what}: `\"guest\": false` names no caller: give `claims` or `token`"
            )));
        }
        _ => {}
    }
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
        _ => crate::input::claims_from(token.as_deref(), obj.claims.as_ref(), verify, base, at),
    };
    // Decided on the engines prepared at load, without an explanation; a failing case is decided again
    // with one, for its report.
    let decide = |explain: bool| -> Result<identity_pool::PoolDecision, Failure> {
        let claims = claims.as_ref().map_err(Clone::clone)?;
        let custom = obj.custom_role_arn.as_deref();
        match obj.basic_flow_role.as_deref() {
            Some(role) => pool.decide_basic(claims.as_deref(), role, &req),
            None if explain => pool.decide(claims.as_deref(), custom, &req),
            None => pool.decide_fast(claims.as_deref(), custom, &req),
        }
        .map_err(|e| Failure::coded(&e))
    };
    let result = decide(false);
    if let Some(want) = super::expected_error(obj.expect_error.as_deref(), what)? {
        let got = match &result {
            Err(e) => Err(e.clone()),
            Ok(d) => Ok(format!("{}: {}", d.decision, d.reason)),
        };
        return super::error_row((name, case_name), want, got, what);
    }
    let expect = super::expected_decision(obj.expect.as_deref(), what)?;
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
    let mut cmp = Compare::answer(obj.sid.as_deref(), None, expect, &d.answer());
    if let Some(want) = &obj.role {
        cmp.field("role", want, d.role.as_ref().map(|r| r.role_arn.as_str()));
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
    o: &PoolPart,
    suite: &SuiteDef,
    base: &std::path::Path,
) -> Result<identity_pool::IdentityPool, Failure> {
    let (path, input) = super::template::spec(super::template::Own::pool(o), suite, base)?
        .ok_or("`identity_pool.template` is required (or a suite-level `template`)")?;
    crate::commands::template::pool_from_template(
        &path,
        &o.logical_id,
        &input,
        o.identity_ids.clone(),
    )
}
