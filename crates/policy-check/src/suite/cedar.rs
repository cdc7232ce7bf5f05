//! Cedar cases: an AVP request against a policy store.

use serde_json::Value;

use crate::suite::*;

/// A Cedar case: an AVP request against a policy store; tokens are verified against the store's
/// identity source, or claims are given explicitly (`identity_claims` / `access_claims`, unverified).
pub(crate) fn cedar_case(case: &Case<'_>) -> Result<CaseResult, Failure> {
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
    let named = obj.get("cedar_store").or_else(|| suite.get("cedar_store"));
    // Each store the suite names is loaded once per suite.
    let key = named.map(Value::to_string).unwrap_or_default();
    let loaded = prepared
        .borrow_mut()
        .stores
        .entry(key)
        .or_insert_with(|| {
            match named {
                Some(Value::String(rel)) => {
                    let dir = base.join(rel);
                    crate::input::load_store(&dir)
                        .map(|s| (s, dir))
                        .map_err(Failure::from)
                }
                Some(Value::Object(o)) => {
                    template_store(o, suite, base).map(|s| (s, base.to_path_buf()))
                }
                _ => Err(Failure::from(
                    "`avp_request` needs a `cedar_store` (a directory, or {\"template\", \"logical_id\"})",
                )),
            }
            .map(std::rc::Rc::new)
        })
        .clone()
        .map_err(|e| e.at(what))?;
    let (store, store_dir) = (&loaded.0, &loaded.1);
    let mut req = obj.get("avp_request").cloned().unwrap_or(Value::Null);
    if let Some(want) = super::expected_error(obj, what)? {
        crate::input::resolve_tokens(&mut req, base).map_err(|e| e.at(what))?;
        let r = crate::input::run_request(
            store,
            store_dir,
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
    crate::input::resolve_tokens(&mut req, base).map_err(|e| e.at(what))?;
    let claims = cedar_bridge::avp::TokenClaims::given(
        obj.get("identity_claims")
            .and_then(Value::as_object)
            .cloned(),
        obj.get("access_claims").and_then(Value::as_object).cloned(),
    );
    let mk = |actual: String, pass: bool, detail: String| {
        CaseResult::new(name, case_name, expect.to_string(), actual, pass, detail)
    };
    match crate::input::run_request(
        store,
        store_dir,
        &req,
        None,
        obj.get("now").and_then(Value::as_i64),
        &claims,
    ) {
        Ok((resp, decisions)) => {
            // A case states one decision: a batch of several requests cannot be checked by it.
            let [actual] = decisions.as_slice() else {
                return Err(Failure::from(format!(
                    "{what}: a case checks one request; this `avp_request` decides {}",
                    decisions.len()
                )));
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

/// `"cedar_store": {"template", "logical_id", "jwks", "parameters", "physical_ids"}`: the Verified
/// Permissions store of a CloudFormation template (paths relative to the suite).
fn template_store(
    o: &serde_json::Map<String, Value>,
    suite: &serde_json::Map<String, Value>,
    base: &std::path::Path,
) -> Result<cedar_bridge::PolicyStore, Failure> {
    let known = [
        "template",
        "logical_id",
        "jwks",
        "parameters",
        "physical_ids",
    ];
    if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Failure::from(format!(
            "unknown `cedar_store` field `{k}` (fields: {})",
            known.join(", ")
        )));
    }
    let text = |k: &str| o.get(k).and_then(Value::as_str);
    let (path, input) = super::template::spec(Some(o), suite, base, "cedar_store")?
        .ok_or("`cedar_store.template` is required (or a suite-level `template`)")?;
    // Relative to the suite: the store's directory for token verification is the suite's.
    let jwks = text("jwks").map(str::to_string);
    crate::commands::template::store_from_template(
        &path,
        text("logical_id").ok_or("`cedar_store.logical_id` is required (a string)")?,
        &input,
        jwks.as_deref(),
    )
}
