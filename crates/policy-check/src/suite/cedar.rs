//! Cedar cases: an AVP request against a policy store.

use serde_json::Value;

use crate::suite::*;

/// A Cedar case: an AVP request against a policy store; tokens are verified against the store's
/// identity source, or claims are given explicitly (`identity_claims` / `access_claims`, unverified).
pub(crate) fn cedar_case(case: &Case<'_>) -> Result<CaseResult, String> {
    let Case {
        suite,
        obj,
        base,
        name,
        case_name,
        what,
    } = *case;
    let store_rel = obj
        .get("cedar_store")
        .or_else(|| suite.get("cedar_store"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: `avp_request` needs a `cedar_store`"))?;
    let store_dir = base.join(store_rel);
    let store = crate::input::load_store(&store_dir).map_err(|e| format!("{what}: {e}"))?;
    let mut req = obj.get("avp_request").cloned().unwrap_or(Value::Null);
    if let Some(want) = super::expected_error(obj, what)? {
        crate::input::resolve_tokens(&mut req, base);
        let r = crate::input::run_request(
            &store,
            &store_dir,
            &req,
            None,
            obj.get("now").and_then(Value::as_i64),
            &cedar_bridge::avp::TokenClaims::default(),
        );
        let got = match r {
            Err(e) => Err(crate::Failure::coded(&e)),
            Ok((resp, _)) => Ok(resp.to_string()),
        };
        return super::error_row((name, case_name), want, got, what);
    }
    let expect = super::expected_decision(obj, what)?;
    crate::input::resolve_tokens(&mut req, base);
    let claims = cedar_bridge::avp::TokenClaims {
        identity: obj
            .get("identity_claims")
            .and_then(Value::as_object)
            .cloned(),
        access: obj.get("access_claims").and_then(Value::as_object).cloned(),
        verified: false,
    };
    let mk = |actual: String, pass: bool, detail: String| {
        CaseResult::new(name, case_name, expect.to_string(), actual, pass, detail)
    };
    match crate::input::run_request(
        &store,
        &store_dir,
        &req,
        None,
        obj.get("now").and_then(Value::as_i64),
        &claims,
    ) {
        Ok((resp, decisions)) => {
            // A case states one decision: a batch of several requests cannot be checked by it.
            let [actual] = decisions.as_slice() else {
                return Err(format!(
                    "{what}: a case checks one request; this `avp_request` decides {}",
                    decisions.len()
                ));
            };
            let cmp = super::Compare::answer(obj, expect, actual, what)?;
            let mut detail = cmp.detail;
            if !cmp.pass {
                detail.push_str(&resp.to_string());
            }
            Ok(CaseResult::new(
                name, case_name, cmp.expect, cmp.actual, cmp.pass, detail,
            ))
        }
        // A refused token or a malformed request is an error, never a deny: the case states a decision
        // it cannot have.
        Err(e) => Ok(mk(
            match e.exception() {
                Some(x) => format!("Error {x}"),
                None => "Error".into(),
            },
            false,
            e.to_string(),
        )),
    }
}
