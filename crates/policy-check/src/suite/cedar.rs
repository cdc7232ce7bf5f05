//! Cedar cases: an AVP request against a policy store.

use std::path::Path;

use authz_core::Decision;
use serde_json::Value;

use crate::suite::*;

#[expect(
    clippy::indexing_slicing,
    reason = "serde_json::Value indexing by key yields Null, never panics"
)]
/// A Cedar case: an AVP request against a policy store; tokens are verified against the store's
/// identity source, or claims are given explicitly (`identity_claims` / `access_claims`, unverified).
pub(crate) fn cedar_case(
    suite: &serde_json::Map<String, Value>,
    obj: &serde_json::Map<String, Value>,
    base: &Path,
    name: &str,
    case_name: &str,
    what: &str,
) -> Result<CaseResult, String> {
    let store_rel = obj
        .get("cedar_store")
        .or_else(|| suite.get("cedar_store"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: `avp_request` needs a `cedar_store`"))?;
    let store_dir = base.join(store_rel);
    let store = cedar_bridge::PolicyStore::load(&store_dir).map_err(|e| format!("{what}: {e}"))?;
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
            Err(e) => Err(match e.exception() {
                Some(x) => format!("{x}: {e}"),
                None => e.to_string(),
            }),
            Ok((resp, _)) => Ok(resp.to_string()),
        };
        return Ok(super::error_row((name, case_name), want, got));
    }
    let expect = super::expected_decision(obj, what)?;
    crate::input::resolve_tokens(&mut req, base);
    let claims = cedar_bridge::avp::TokenClaims {
        identity: obj
            .get("identity_claims")
            .and_then(Value::as_object)
            .cloned(),
        access: obj.get("access_claims").and_then(Value::as_object).cloned(),
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
            let actual = decisions.first().copied().unwrap_or(Decision::ImplicitDeny);
            let mut pass = actual == expect;
            let mut detail = String::new();
            if let Some(want) = obj.get("determining").and_then(Value::as_array) {
                let got: Vec<&Value> = resp["determiningPolicies"]
                    .as_array()
                    .map(|a| a.iter().map(|p| &p["policyId"]).collect())
                    .unwrap_or_default();
                let want: Vec<&Value> = want.iter().collect();
                if got != want {
                    pass = false;
                    detail.push_str(&format!(
                        "expected determining policies {want:?}, got {got:?}\n"
                    ));
                }
            }
            if !pass {
                detail.push_str(&resp.to_string());
            }
            Ok(mk(actual.to_string(), pass, detail))
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
