//! Cedar cases: an AVP request against a policy store.

use crate::suite::*;

/// A Cedar case: an AVP request against a policy store; tokens are verified against the store's
/// identity source, or claims are given explicitly (`identity_claims` / `access_claims`, unverified).
pub(crate) fn cedar_case(case: &Case<'_>, obj: &CedarCase) -> Result<CaseResult, Failure> {
    let Case {
        suite,
        base,
        name,
        case_name,
        what,
        prepared,
        ..
    } = *case;
    let named = obj.cedar_store.as_ref().or(suite.cedar_store.as_ref());
    // Each store the suite names is loaded once per suite.
    let key = match named {
        None => String::new(),
        Some(PathOr::Path(p)) => format!("path:{p}"),
        Some(PathOr::Object(o)) => format!("template:{o:?}"),
    };
    let loaded = prepared
        .borrow_mut()
        .stores
        .entry(key)
        .or_insert_with(|| {
            match named {
                Some(PathOr::Path(rel)) => {
                    let dir = base.join(rel);
                    crate::input::load_store(&dir)
                        .map(|s| (s, dir))
                        .map_err(Failure::from)
                }
                Some(PathOr::Object(o)) => {
                    template_store(o, suite, base).map(|s| (s, base.to_path_buf()))
                }
                None => Err(Failure::from(
                    "`avp_request` needs a `cedar_store` (a directory, or {\"template\", \"logical_id\"})",
                )),
            }
            .map(std::rc::Rc::new)
        })
        .clone()
        .map_err(|e| e.at(what))?;
    let (store, store_dir) = (&loaded.0, &loaded.1);
    let mut req = obj.avp_request.clone();
    if let Some(want) = super::expected_error(obj.expect_error.as_deref(), what)? {
        crate::input::resolve_tokens(&mut req, base).map_err(|e| e.at(what))?;
        let r = crate::input::run_request(
            store,
            store_dir,
            &req,
            None,
            obj.now,
            &cedar_bridge::avp::TokenClaims::default(),
        );
        let got = match r {
            Err(e) => Err(crate::Failure::coded(&e)),
            Ok((resp, _)) => Ok(resp.to_string()),
        };
        return super::error_row((name, case_name), want, got, what);
    }
    let expect = super::expected_decision(obj.expect.as_deref(), what)?;
    crate::input::resolve_tokens(&mut req, base).map_err(|e| e.at(what))?;
    let claims = cedar_bridge::avp::TokenClaims::given(
        obj.identity_claims.clone(),
        obj.access_claims.clone(),
    );
    let mk = |actual: String, pass: bool, detail: String| {
        CaseResult::new(name, case_name, expect.to_string(), actual, pass, detail)
    };
    match crate::input::run_request(store, store_dir, &req, None, obj.now, &claims) {
        Ok((resp, decisions)) => {
            // A case states one decision: a batch of several requests cannot be checked by it.
            let [actual] = decisions.as_slice() else {
                return Err(Failure::from(format!(
                    "{what}: a case checks one request; this `avp_request` decides {}",
                    decisions.len()
                )));
            };
            let cmp = super::Compare::answer(None, obj.determining.as_deref(), expect, actual);
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
    o: &StorePart,
    suite: &SuiteDef,
    base: &std::path::Path,
) -> Result<cedar_bridge::PolicyStore, Failure> {
    let (path, input) = super::template::spec(super::template::Own::store(o), suite, base)?
        .ok_or("`cedar_store.template` is required (or a suite-level `template`)")?;
    // Relative to the suite: the store's directory for token verification is the suite's.
    crate::commands::template::store_from_template(&path, &o.logical_id, &input, o.jwks.as_deref())
}
