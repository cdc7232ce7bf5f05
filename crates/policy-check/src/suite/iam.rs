//! IAM cases: a request against identity, resource, boundary, session, SCP and RCP policies.

use iam_eval::Authorizer;

use super::{Case, CaseResult, Compare, IamCase, PropertyDef, files_for};
use crate::Failure;
use crate::policies::PolicyFiles;
use crate::report::explain_text;

/// Runs one IAM case. `shared` caches the suite-level policies, compiled once for every case that does
/// not bring its own.
pub(crate) fn iam_case(
    case: &Case<'_>,
    obj: &IamCase,
    shared: &mut Option<Result<Authorizer, Failure>>,
) -> Result<CaseResult, Failure> {
    let Case {
        suite,
        base,
        name,
        case_name,
        what,
        nodes,
        ..
    } = *case;
    let own_policies = obj.has_policies();
    // A case with no policy at all anywhere would pass any "ImplicitDeny" vacuously (a forgotten
    // `identity`): refused, unless it says so with `"identity": []`.
    if !own_policies && !suite.has_policies() {
        return Err(Failure::from(format!(
            "{what}: no policies at all (no `identity`, `resource`, `boundaries`, `session`, `scps`, `rcps`, `identity_of`, `resource_of`); write `\"identity\": []` if the case means to have none"
        )));
    }
    let auth = if own_policies {
        files_for(suite, Some(obj), base, nodes).and_then(PolicyFiles::compile)
    } else {
        shared
            .get_or_insert_with(|| {
                let suite_only = super::fields::Nodes {
                    case: None,
                    ..nodes
                };
                files_for(suite, None, base, suite_only).and_then(PolicyFiles::compile)
            })
            .clone()
    };
    let mk = |expect: String, actual: String, pass: bool, detail: String| {
        CaseResult::new(name, case_name, expect, actual, pass, detail)
    };
    if let Some(code) = super::expected_error(obj.expect_error.as_deref(), what)? {
        let got = match &auth {
            Err(e) => Err(e.clone()),
            Ok(_) => Ok("the policies were accepted".to_string()),
        };
        return super::error_row((name, case_name), code, got, what);
    }
    if let Some(prop) = &obj.property {
        return property_case(case, obj, prop, auth.map_err(|e| e.at(what))?);
    }
    let expect = super::expected_decision(obj.expect.as_deref(), what)?;
    let req = obj
        .request
        .as_ref()
        .ok_or_else(|| format!("{what}: missing `request`"))?
        .to_request(what)?;
    // Policies that cannot be loaded leave the expectation uncheckable: bad input, not a failed test.
    let auth = auth.map_err(|e| e.at(what))?;
    // Decide on the hot path; build the explanation only for a failing case.
    let request = req.as_request();
    let answer = auth.answer(&request);
    let cmp = Compare::answer(obj.sid.as_deref(), None, expect, &answer);
    let mut detail = cmp.detail;
    if !cmp.pass {
        detail.push_str(&explain_text(&auth, &auth.explain(&request)));
        // Which type the resource-side policy was evaluated as (read again: failing cases only).
        if let Some(t) = files_for(suite, Some(obj), base, nodes)
            .ok()
            .and_then(|f| f.resource_type)
        {
            detail.push_str(&format!("  {}\n", t.explain(&request).line()));
        }
    }
    Ok(mk(cmp.expect, cmp.actual, cmp.pass, detail))
}

/// The solver for property cases: found, or installed once (PyPI's z3-solver, into
/// `~/.cache/policy-check/z3`) unless `POLICY_CHECK_NO_INSTALL` is set.
fn solver() -> Result<iam_reason::Solver, Failure> {
    static SOLVER: std::sync::OnceLock<Result<iam_reason::Solver, Failure>> =
        std::sync::OnceLock::new();
    SOLVER
        .get_or_init(|| match iam_reason::Solver::find() {
            Ok(s) => Ok(s),
            Err(e) if std::env::var_os("POLICY_CHECK_NO_INSTALL").is_some() => {
                Err(Failure::from(format!("{e} [{}]", e.code())))
            }
            Err(_) => {
                eprintln!(
                    "note: property cases need Z3; installing {} from PyPI (once; POLICY_CHECK_NO_INSTALL=1 stops this)",
                    iam_reason::Z3_PACKAGE
                );
                iam_reason::install()
                    .map(iam_reason::Solver::at)
                    .map_err(|e| format!("{e} [{}]", e.code())).map_err(Failure::from)
            }
        })
        .clone()
}

/// A property case: for every request the `property` describes (its `action`, `resource` and `where`, an
/// IAM condition block), the identity policies' decision is `expect` (`Allow`, or `Deny` for "never
/// allowed"). Proven by `iam-reason`; a counterexample is shown as a request; an answer it cannot prove
/// fails the case, never passes it.
fn property_case(
    case: &Case<'_>,
    obj: &IamCase,
    p: &PropertyDef,
    _auth: Authorizer,
) -> Result<CaseResult, Failure> {
    let Case {
        suite,
        base,
        name,
        case_name,
        what,
        ..
    } = *case;
    let expect_allow = match obj.expect.as_deref() {
        Some("Allow") => true,
        Some("Deny") => false,
        _ => {
            return Err(Failure::from(format!(
                "{what}: a property case expects `Allow` (every such request is allowed) or `Deny` (none is)"
            )));
        }
    };
    let mut st = serde_json::Map::new();
    st.insert("Effect".into(), "Allow".into());
    match (&p.action, &p.not_action) {
        (Some(a), None) => drop(st.insert("Action".into(), a.clone())),
        (None, Some(a)) => drop(st.insert("NotAction".into(), a.clone())),
        _ => {
            return Err(Failure::from(format!(
                "{what}: `property` needs exactly one of `action` and `not_action`"
            )));
        }
    }
    match (&p.resource, &p.not_resource) {
        (r, None) => drop(st.insert("Resource".into(), r.clone().unwrap_or_else(|| "*".into()))),
        (None, Some(r)) => drop(st.insert("NotResource".into(), r.clone())),
        (Some(_), Some(_)) => {
            return Err(Failure::from(format!(
                "{what}: `property` takes at most one of `resource` and `not_resource`"
            )));
        }
    }
    if let Some(w) = &p.condition {
        st.insert("Condition".into(), w.clone());
    }
    let text = serde_json::json!({"Version": "2012-10-17", "Statement": [st]}).to_string();
    let scope = crate::policies::load_policy_text(
        &format!("{what}: property"),
        text.as_bytes(),
        iam_policy::PolicyType::Identity,
    )?;
    let files = files_for(suite, Some(obj), base, case.nodes).map_err(|e| e.at(what))?;
    if files.resource.is_some()
        || !files.boundary.is_empty()
        || !files.session.is_empty()
        || !files.scps.is_empty()
        || !files.rcps.is_empty()
    {
        return Err(Failure::from(format!(
            "{what}: property cases reason over identity policies only (this suite also has resource, boundary, session, SCP or RCP policies)"
        )));
    }
    let docs: Vec<&iam_policy::PolicyDocument> = files.identity.iter().collect();
    let checker = iam_reason::Checker::new(solver().map_err(|e| e.at(what))?);
    let answer = checker
        .property(
            &docs,
            &scope,
            expect_allow,
            iam_reason::PolicyKind::Identity,
        )
        .map_err(|e| format!("{what}: {e} [{}]", e.code()))?;
    let want = if expect_allow {
        "Allow (every request)"
    } else {
        "Deny (every request)"
    };
    let (actual, pass, detail) = match answer.verdict {
        iam_reason::Verdict::Pass => (format!("{want}, proven"), true, String::new()),
        iam_reason::Verdict::Fail => {
            let mut d = String::new();
            for w in &answer.witnesses {
                d.push_str(&format!("  counterexample: {}\n", w.to_request()));
            }
            (
                if expect_allow {
                    "Deny for some request".to_string()
                } else {
                    "Allow for some request".to_string()
                },
                false,
                d,
            )
        }
        iam_reason::Verdict::Unknown => (
            "UNKNOWN".to_string(),
            false,
            format!("  {}\n", answer.unknown.join("\n  ")),
        ),
    };
    Ok(CaseResult::new(
        name,
        case_name,
        want.to_string(),
        actual,
        pass,
        detail,
    ))
}
