//! `policy-check authorize`: Cedar policy stores with Verified Permissions' request shapes.

use crate::Failure;
use std::io::Write;
use std::path::{Path, PathBuf};

use cedar_bridge::avp::TokenClaims;
use serde_json::Value;

use crate::Format;
use crate::input::*;

/// `authorize` arguments.
#[derive(Debug, clap::Args)]
pub struct AuthorizeArgs {
    /// Policy store directory (*.cedar, optional schema.cedarschema / schema.json, links.json,
    /// identity-source.json).
    #[arg(
        long,
        required_unless_present = "template",
        conflicts_with = "template"
    )]
    pub store: Option<PathBuf>,
    /// A CloudFormation or SAM template holding the policy store (with `--policy-store`): its static
    /// policies and policy templates (policy ids are their logical ids), template-linked policies,
    /// schema (`CedarJson`), validation mode and Cognito identity source.
    #[arg(long, value_name = "TEMPLATE", requires = "policy_store")]
    pub template: Option<PathBuf>,
    /// The policy store's logical id in `--template`.
    #[arg(long, value_name = "LOGICAL_ID", requires = "template")]
    pub policy_store: Option<String>,
    /// JWKS (file or URL) for the template's identity source, to verify tokens with.
    #[arg(long, requires = "template")]
    pub jwks: Option<String>,
    /// What `--template` is resolved with.
    #[command(flatten)]
    pub template_input: super::template::TemplateInput,
    /// Request: IsAuthorized, IsAuthorizedWithToken, BatchIsAuthorized(WithToken), or a cedar CLI request.
    #[arg(long)]
    pub request: PathBuf,
    /// Entities (cedar CLI format or {"entityList": …}) for requests that carry none.
    #[arg(long)]
    pub entities: Option<PathBuf>,
    /// Verify tokens as of this Unix time (default: now).
    #[arg(long)]
    pub now: Option<i64>,
    /// Output format (json: the Verified Permissions response shape).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Also say, for every policy of the store, whether the request is in its scope and which
    /// condition clause was false or errored (one request, not a batch).
    #[arg(long)]
    pub explain: bool,
}

pub(crate) fn run(
    a: &AuthorizeArgs,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, Failure> {
    let (store, store_dir) = match (&a.store, &a.template, &a.policy_store) {
        (Some(d), _, _) => (crate::input::load_store(d)?, d.clone()),
        (None, Some(t), Some(id)) => (
            super::template::store_from_template(t, id, &a.template_input, a.jwks.as_deref())?,
            // Relative JWKS paths are the caller's (the current directory).
            PathBuf::from("."),
        ),
        _ => return Err("give --store DIR, or --template and --policy-store".into()),
    };
    let mut req = read_json(&a.request)?;
    resolve_tokens(&mut req, a.request.parent().unwrap_or(Path::new(".")))?;
    let entities = a.entities.as_deref().map(read_json).transpose()?;
    if a.explain && req.get("requests").is_some() {
        return Err("--explain takes one request, not a batch".into());
    }
    // One token verification and one decision; with --explain, the decision is the explained one.
    let outcome = if a.explain {
        crate::store_input::request_tokens(&store, &store_dir, &req, a.now, &TokenClaims::default())
            .and_then(|tokens| {
                cedar_bridge::avp::explain(
                    &store,
                    &req,
                    &tokens,
                    req.get("entities").or(entities.as_ref()),
                )
            })
            .map(|(answer, list)| ((answer.response(), vec![answer.result]), Some(list)))
    } else {
        run_request(
            &store,
            &store_dir,
            &req,
            entities.as_ref(),
            a.now,
            &TokenClaims::default(),
        )
        .map(|x| (x, None))
    };
    let ((resp, decisions), explained) = match outcome {
        Ok(x) => x,
        // A malformed request or a token that fails verification: Verified Permissions answers with an
        // exception, not a decision. Exit 1 with the exception; JSON output is AWS's error shape.
        Err(e) if e.exception().is_some() => {
            let name = e.exception().unwrap_or("ValidationException");
            if a.format == Format::Json {
                let v = e.aws_json().unwrap_or(Value::Null);
                let _ = writeln!(out, "{v}");
                return Ok(1);
            }
            return Err(Failure::from(format!("{name}: {e}")));
        }
        // A template's identity source has no key set: the template cannot say where the keys are.
        Err(e) if a.template.is_some() && a.jwks.is_none() && e.to_string().contains("jwks") => {
            return Err(Failure::from(format!(
                "{e} (give the user pool's keys with --jwks FILE_OR_URL)"
            )));
        }
        Err(e) => return Err(Failure::from(e.to_string())),
    };
    match a.format {
        Format::Json => {
            let mut resp = resp;
            if let (Some(list), Some(o)) = (&explained, resp.as_object_mut()) {
                o.insert(
                    "explanation".into(),
                    list.iter()
                        .map(|x| {
                            serde_json::json!({"policyId": x.id, "effect": x.effect,
                                "scopeMatched": x.scope_matched, "outcome": x.outcome,
                                "failedClause": x.failed_clause, "error": x.error})
                        })
                        .collect(),
                );
            }
            let _ = writeln!(out, "{resp}");
        }
        Format::Human => {
            if let Some(p) = resp.get("principal") {
                let _ = writeln!(
                    out,
                    "principal: {}::\"{}\"",
                    p["entityType"].as_str().unwrap_or(""),
                    p["entityId"].as_str().unwrap_or("")
                );
            }
            // A batch: each answer says which request it is for.
            let results = resp.get("results").and_then(serde_json::Value::as_array);
            for (i, d) in decisions.iter().enumerate() {
                if let Some(r) = results.and_then(|l| l.get(i)).map(|r| &r["request"]) {
                    let entity = |v: &serde_json::Value, t: &str, id: &str| match (
                        v[t].as_str(),
                        v[id].as_str(),
                    ) {
                        (Some(t), Some(id)) => format!("{t}::\"{id}\""),
                        _ => "(from the token)".to_string(),
                    };
                    let _ = writeln!(
                        out,
                        "request {}: {} {} on {}",
                        i + 1,
                        entity(&r["principal"], "entityType", "entityId"),
                        entity(&r["action"], "actionType", "actionId"),
                        entity(&r["resource"], "entityType", "entityId"),
                    );
                }
                let _ = write!(out, "{}", crate::report::answer_text(d));
            }
            for x in explained.iter().flatten() {
                let mark = if x.outcome == "satisfied" {
                    "✓"
                } else {
                    "✗"
                };
                let why = match (x.outcome, x.failed_clause, &x.error) {
                    ("condition false", Some(i), _) => {
                        format!(
                            "condition false (clause #{} of the when/unless clauses)",
                            i + 1
                        )
                    }
                    ("error", _, Some(e)) => format!("error: {e}"),
                    (o, _, _) => o.to_string(),
                };
                let _ = writeln!(out, "  {mark} {} ({}): {why}", x.id, x.effect);
            }
        }
    }
    Ok(if decisions.iter().any(|d| d.decision.is_deny()) {
        2
    } else {
        0
    })
}
