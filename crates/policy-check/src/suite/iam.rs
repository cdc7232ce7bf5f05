//! IAM cases: a request against identity, resource, boundary, session, SCP and RCP policies.

use iam_eval::Authorizer;

use super::{Case, CaseResult, Compare, POLICY_KEYS, files_for};
use crate::Failure;
use crate::input::request_from_json;
use crate::policies::PolicyFiles;
use crate::report::explain_text;

/// Runs one IAM case. `shared` caches the suite-level policies, compiled once for every case that does
/// not bring its own.
pub(crate) fn iam_case(
    case: &Case<'_>,
    shared: &mut Option<Result<Authorizer, Failure>>,
) -> Result<CaseResult, String> {
    let Case {
        suite,
        obj,
        base,
        name,
        case_name,
        what,
    } = *case;
    let own_policies = POLICY_KEYS.iter().any(|k| obj.contains_key(*k));
    // A case with no policy at all anywhere would pass any "ImplicitDeny" vacuously (a forgotten
    // `identity`): refused, unless it says so with `"identity": []`.
    if !own_policies && !POLICY_KEYS.iter().any(|k| suite.contains_key(*k)) {
        return Err(format!(
            "{what}: no policies at all (no `identity`, `resource`, `boundaries`, `session`, `scps`, `rcps`); write `\"identity\": []` if the case means to have none"
        ));
    }
    let auth = if own_policies {
        files_for(suite, obj, base).and_then(PolicyFiles::compile)
    } else {
        shared
            .get_or_insert_with(|| {
                files_for(suite, &serde_json::Map::new(), base).and_then(PolicyFiles::compile)
            })
            .clone()
    };
    let mk = |expect: String, actual: String, pass: bool, detail: String| {
        CaseResult::new(name, case_name, expect, actual, pass, detail)
    };
    if let Some(code) = super::expected_error(obj, what)? {
        let got = match &auth {
            Err(e) => Err(e.clone()),
            Ok(_) => Ok("the policies were accepted".to_string()),
        };
        return super::error_row((name, case_name), code, got, what);
    }
    let expect = super::expected_decision(obj, what)?;
    let req = request_from_json(
        obj.get("request")
            .ok_or_else(|| format!("{what}: missing `request`"))?,
        what,
    )?;
    // Policies that cannot be loaded leave the expectation uncheckable: bad input, not a failed test.
    let auth = auth.map_err(|e| format!("{what}: {e}"))?;
    // Decide on the hot path; build the explanation only for a failing case.
    let request = req.as_request();
    let answer = auth.answer(&request);
    let cmp = Compare::answer(obj, expect, &answer, what)?;
    let mut detail = cmp.detail;
    if !cmp.pass {
        detail.push_str(&explain_text(&auth, &auth.explain(&request)));
        // Which type the resource-side policy was evaluated as (read again: failing cases only).
        if let Some(t) = files_for(suite, obj, base)
            .ok()
            .and_then(|f| f.resource_type)
        {
            detail.push_str(&format!("  {}\n", t.explain(&request).line()));
        }
    }
    Ok(mk(cmp.expect, cmp.actual, cmp.pass, detail))
}
