//! Rendering, in one place: diagnostics, IAM explanations, identity-pool decisions (text and JSON).

use iam_eval::{Authorizer, Explanation, Verdict};
use iam_policy::{Diagnostic, Source};
use identity_pool::{PoolDecision, PoolRequest};
use serde_json::{Value, json};

pub mod lint;

/// The shared result of any engine as text: the decision (in Verified Permissions' words too, for Cedar),
/// what decided it, errors that did not stop it, and a note when the identity's claims were typed in by
/// hand.
pub fn answer_text(a: &authz_core::Answer) -> String {
    let cedar = a
        .determining
        .first()
        .is_none_or(|d| d.layer == authz_core::Layer::Cedar)
        && a.blocked_by.is_none();
    let mut s = if cedar {
        let avp = if a.decision == authz_core::Decision::Allow {
            "ALLOW"
        } else {
            "DENY"
        };
        let ids: Vec<&str> = a.determining.iter().map(|d| d.policy.as_str()).collect();
        format!(
            "decision: {avp} ({}); determining policies: [{}]\n",
            a.decision,
            ids.join(", ")
        )
    } else {
        let by: Vec<String> = a
            .determining
            .iter()
            .map(|d| match (&d.sid, d.statement) {
                (Some(sid), _) => format!("{} (Sid {sid})", d.policy),
                (None, Some(i)) => format!("{} (statement #{})", d.policy, i + 1),
                (None, None) => d.policy.clone(),
            })
            .collect();
        let mut s = format!("decision: {}", a.decision);
        if !by.is_empty() {
            s.push_str(&format!(" by {}", by.join(", ")));
        }
        if let Some(l) = a.blocked_by {
            s.push_str(&format!(" (not allowed by the {l})"));
        }
        s.push('\n');
        s
    };
    for e in &a.errors {
        s.push_str(&format!("  error: {} [{}]\n", e.message, e.code));
    }
    if a.verified == Some(false) {
        s.push_str("  note: decided with claims given by hand (unverified)\n");
    }
    s
}

/// The shared result as JSON (the same fields for every engine).
pub fn answer_json(a: &authz_core::Answer) -> Value {
    json!({
        "decision": a.decision.as_str(),
        "determining": a.determining.iter().map(|d| json!({
            "layer": d.layer.to_string(),
            "policy": d.policy,
            "sid": d.sid,
            "statement": d.statement,
        })).collect::<Vec<_>>(),
        "blocked_by": a.blocked_by.map(|l| l.to_string()),
        "errors": a.errors.iter().map(|e| json!({"code": e.code, "policy": e.policy, "message": e.message})).collect::<Vec<_>>(),
        "verified": a.verified,
    })
}

/// A decision as JSON.
pub fn outcome_json(auth: &Authorizer, ex: &Explanation) -> Value {
    let o = ex.outcome;
    let decided = o.decided_by.and_then(|at| auth.statement(at)).map(|i| {
        let (file, line, column) = i.location();
        let mut j = serde_json::json!({"policy": i.document.source.name(), "sid": i.sid(), "statement": i.at.statement, "line": line, "column": column});
        // A policy resolved out of a template: the line and column are the template's.
        if i.document.source.origin().is_some()
            && let Some(o) = j.as_object_mut()
        {
            o.insert("file".into(), json!(file));
        }
        j
    });
    let statements: Vec<Value> = ex
        .statements
        .iter()
        .map(|s| {
            serde_json::json!({
                "statement": s.label,
                "sid": s.sid,
                "effect": s.effect.as_str(),
                "applies": s.verdict == Verdict::Applies,
                "reason": reason(s),
            })
        })
        .collect();
    serde_json::json!({
        "decision": o.decision.as_str(),
        "decided_by": decided,
        "blocked_by": o.blocked_by.map(|l| l.to_string()),
        "statements": statements,
        "missing_context": ex.missing_context,
    })
}

/// Why a statement did or did not apply, in words.
pub fn reason(s: &iam_eval::StatementExplanation) -> String {
    match &s.verdict {
        Verdict::Applies => "applies".into(),
        Verdict::ActionNotMatched => "action not matched".into(),
        Verdict::ResourceNotMatched => "resource not matched".into(),
        Verdict::PrincipalNotMatched => "principal not matched".into(),
        Verdict::ConditionFailed(i) => match s.conditions.get(*i) {
            Some(c) => {
                let req = match &c.request_values {
                    None => "absent".to_string(),
                    Some(v) => format!("{v:?}"),
                };
                let mut r = format!(
                    "condition {} `{}` failed: policy {:?}, request {req}",
                    c.operator, c.key, c.policy_values
                );
                if let Some(n) = &c.note {
                    r.push_str(&format!(" ({n})"));
                }
                r
            }
            None => "condition failed".into(),
        },
    }
}

/// Human-readable explanation.
pub fn explain_text(auth: &Authorizer, ex: &Explanation) -> String {
    let o = ex.outcome;
    let mut s = format!("decision: {}", o.decision);
    if let Some(i) = o.decided_by.and_then(|at| auth.statement(at)) {
        s.push_str(&format!(" by {}", i.label()));
    } else if let Some(l) = o.blocked_by {
        s.push_str(&format!(" (no allow from the {l})"));
    }
    s.push('\n');
    s.push_str(&statements_text(ex));
    s
}

/// The per-statement lines of an explanation (and the missing context keys), without the decision line.
pub fn statements_text(ex: &Explanation) -> String {
    let mut s = String::new();
    for st in &ex.statements {
        let mark = if st.verdict == Verdict::Applies {
            "✓"
        } else {
            "✗"
        };
        s.push_str(&format!(
            "  {mark} {} {}: {}\n",
            st.effect.as_str(),
            st.label,
            reason(st)
        ));
    }
    if !ex.missing_context.is_empty() {
        s.push_str(&format!(
            "  missing context keys: {}\n",
            ex.missing_context.join(", ")
        ));
    }
    s
}

/// The keys of a decision's context that the session owns (identity id, principal, tags, …), sorted.
pub(crate) fn session_context(d: &PoolDecision) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<(String, Vec<String>)> = d
        .context
        .iter()
        .filter(|(k, _)| identity_pool::is_session_key(k))
        .map(|(k, v)| (k.to_string(), v.values().to_vec()))
        .collect();
    v.sort();
    v
}

/// A pool decision as JSON: decision, role, reasons, the identity id and session context the request
/// was evaluated with, and the explanation.
pub fn pool_decision_json(req: &PoolRequest, d: &PoolDecision) -> Value {
    let session: serde_json::Map<String, Value> = session_context(d)
        .into_iter()
        .map(|(k, v)| {
            let val = if k == "cognito-identity.amazonaws.com:amr" {
                json!(v)
            } else {
                json!(v.first())
            };
            (k, val)
        })
        .collect();
    let statements: Vec<Value> = d
        .explanation
        .iter()
        .flat_map(|e| &e.statements)
        .map(|s| {
            json!({"statement": s.label, "sid": s.sid, "effect": s.effect.as_str(),
                   "applies": s.verdict == iam_eval::Verdict::Applies,
                   "reason": crate::report::reason(s)})
        })
        .collect();
    json!({
        "request": {"action": req.action, "resource": req.resource},
        "decision": d.decision.as_str(),
        "role": d.role.as_ref().map(|r| &r.role_arn),
        "role_reason": d.role.as_ref().map(|r| &r.reason),
        "reason": d.reason,
        "identity_id": d.context.get("cognito-identity.amazonaws.com:sub").and_then(|v| v.values().first()),
        "claims_verified": d.claims_verified,
        "session_context": session,
        "statements": statements,
        "missing_context": d.explanation.as_ref().map(|e| &e.missing_context),
    })
}

/// A pool decision for people, in the same words as `eval`.
pub fn pool_decision_text(req: &PoolRequest, d: &PoolDecision) -> String {
    let mut s = format!("{} on {}\n", req.action, req.resource);
    s.push_str(&format!("decision: {} — {}\n", d.decision, d.reason));
    if d.claims_verified == Some(false) {
        s.push_str("  claims: given by hand, NOT VERIFIED\n");
    }
    if let Some(r) = &d.role {
        s.push_str(&format!("  role: {} ({})\n", r.role_arn, r.reason));
    }
    if let Some(id) = d
        .context
        .get("cognito-identity.amazonaws.com:sub")
        .and_then(|v| v.values().first())
    {
        s.push_str(&format!("  identity id: {id}\n"));
    }
    let session = session_context(d);
    if !session.is_empty() {
        s.push_str("  session context (derived; a request may not change it):\n");
        for (k, v) in session {
            s.push_str(&format!("    {k} = {}\n", v.join(", ")));
        }
    }
    if let Some(ex) = &d.explanation {
        s.push_str(&crate::report::statements_text(ex));
    }
    s
}

/// Renders one diagnostic for humans, without colour, at `width` columns.
pub fn render(d: &Diagnostic, src: &Source, width: usize) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(if crate::COLOR.with(std::cell::Cell::get) {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        })
        .with_width(width)
        .with_links(false);
    let mut s = String::new();
    let located = d.with_source(src);
    if d.wants_one_line(src) || handler.render_report(&mut s, &located).is_err() {
        let (l, c) = src.line_col(d.span.start);
        s = format!(
            "{}:{l}:{c}: {}: {}\n",
            src.name(),
            d.severity.as_str(),
            iam_policy::printable(&d.message)
        );
    }
    s
}

/// One diagnostic as a JSON object.
pub fn to_json(d: &Diagnostic, src: &Source) -> serde_json::Value {
    let (line, column) = src.line_col(d.span.start);
    let (end_line, end_column) = src.line_col(d.span.end);
    serde_json::json!({
        "file": src.name(),
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "code": d.code,
        "severity": d.severity.as_str(),
        "message": d.message,
        "help": d.help,
        "aws_code": d.aws_code,
    })
}

/// One API Gateway invocation as text: the status, the `methodArn`, what the authorizer did (called,
/// cache hit, not called and why), its principal and context, the deciding statement and the body.
pub fn invocation_text(req: &apigw::HttpRequest, inv: &apigw::Invocation) -> String {
    let mut s = format!("{} {} → {}\n", req.method, req.path, inv.status);
    if let Some(a) = &inv.method_arn {
        s.push_str(&format!("  methodArn: {a}\n"));
    }
    let cache = match inv.cache_hit {
        Some(true) => " (cache hit)",
        Some(false) => " (cache miss)",
        None => "",
    };
    if inv.function_called {
        s.push_str(&format!("  authorizer: called{cache}\n"));
    } else if inv.cache_hit == Some(true) {
        s.push_str("  authorizer: not called (cache hit)\n");
    } else {
        s.push_str("  authorizer: not called\n");
    }
    if let Some(o) = &inv.output {
        if let Some(p) = o.get("principalId") {
            s.push_str(&format!("  principalId: {}\n", p.as_str().unwrap_or("")));
        }
        if let Some(c) = o
            .get("context")
            .filter(|c| c.as_object().is_some_and(|m| !m.is_empty()))
        {
            s.push_str(&format!("  context: {c}\n"));
        }
    }
    if let Some(a) = &inv.answer {
        s.push_str(&format!("  policy: {}", answer_text(a)));
    }
    if let Some(c) = inv.backend_context.as_ref().filter(|c| !c.is_empty()) {
        s.push_str(&format!(
            "  backend context ($context.authorizer): {}\n",
            Value::Object(c.clone())
        ));
    }
    if !inv.reason.is_empty() {
        s.push_str(&format!("  why: {}\n", inv.reason));
    }
    if !inv.body.is_empty() {
        s.push_str(&format!("  body: {}\n", inv.body));
    }
    // The request, the function's output and its logs are anyone's text: no terminal escapes pass.
    diag::printable(&s).into_owned()
}

/// One API Gateway invocation as JSON.
pub fn invocation_json(request: &Value, inv: &apigw::Invocation) -> Value {
    json!({
        "request": request,
        "status": inv.status,
        "body": inv.body,
        "method_arn": inv.method_arn,
        "function_called": inv.function_called,
        "cache_hit": inv.cache_hit,
        "output": inv.output,
        "answer": inv.answer.as_ref().map(answer_json),
        "reason": inv.reason,
        "backend_context": inv.backend_context,
    })
}
