//! `policy-check eval`: decide requests against IAM policies in every layer.

use crate::Failure;
use std::io::Write;
use std::path::PathBuf;

use iam_policy::PolicyType;

use crate::Format;
use crate::input::*;
use crate::policies::*;
use crate::report::*;

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Identity-based policies of the principal (`--policy A.json B.json`, or the option repeated).
    #[arg(long = "policy", value_name = "FILE", num_args = 1..)]
    pub policies: Vec<PathBuf>,
    /// The resource's resource-based policy. A policy whose statements name only `sts:` actions and no
    /// `Resource` is read as a role trust policy; the trust rule (it must name the principal) applies
    /// only to role assumptions (`sts:AssumeRole*`, `sts:TagSession`, …) on a role.
    #[arg(long = "resource-policy", value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// A role's trust policy, declared as one (instead of `--resource-policy`'s detection).
    #[arg(
        long = "trust-policy",
        value_name = "FILE",
        conflicts_with = "resource_policy"
    )]
    pub trust_policy: Option<PathBuf>,
    /// Permissions boundary.
    #[arg(long = "boundary", value_name = "FILE")]
    pub boundaries: Vec<PathBuf>,
    /// Service control policies, one per organization level from the root down.
    #[arg(long = "scp", value_name = "FILE")]
    pub scps: Vec<PathBuf>,
    /// Resource control policies, one per organization level from the root down.
    #[arg(long = "rcp", value_name = "FILE")]
    pub rcps: Vec<PathBuf>,
    /// Session policy.
    #[arg(long = "session-policy", value_name = "FILE")]
    pub session: Option<PathBuf>,
    /// Request file: one JSON request, a JSON array of requests, or JSON Lines.
    #[arg(long, value_name = "FILE", required_unless_present = "cli_input_json")]
    pub request: Option<PathBuf>,
    /// A CloudFormation or SAM template: with `--role`, that role's policies are the identity policies
    /// (its inline policies, and the template's `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy`
    /// attached to it), its trust policy the resource policy (as `--trust-policy`), and its permissions
    /// boundary, when the template defines it, the boundary.
    #[arg(long, value_name = "TEMPLATE", requires = "role", conflicts_with_all = ["policies", "resource_policy", "trust_policy", "cli_input_json"])]
    pub template: Option<PathBuf>,
    /// The role's logical id in `--template`.
    #[arg(long, value_name = "LOGICAL_ID", requires = "template")]
    pub role: Option<String>,
    /// What `--template` is resolved with.
    #[command(flatten)]
    pub template_input: super::template::TemplateInput,
    /// The input of `aws iam simulate-custom-policy --cli-input-json` (policies, actions, resources,
    /// context entries inline); the answer is printed as that command prints it (`EvaluationResults`
    /// with `EvalDecision`, `MatchedStatements` with positions, `MissingContextValues`), so it can be
    /// diffed with AWS's.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["request", "policies", "resource_policy", "trust_policy", "boundaries", "scps", "rcps", "session"])]
    pub cli_input_json: Option<PathBuf>,
    /// The request time, Unix seconds: a request without `aws:CurrentTime` / `aws:EpochTime` gets them
    /// from it, as every real request carries them (default: the clock). `--cli-input-json` keeps the
    /// simulator's behaviour (no time unless given).
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub now: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// A template role's policies into `files` (see `--template`). A boundary the template does not define
/// is an error unless `--boundary` gives it (evaluating without it could allow what it denies); a managed
/// policy attached by ARN that the template does not define is not evaluated, and said on stderr.
fn template_role(
    path: &std::path::Path,
    id: &str,
    a: &EvalArgs,
    files: &mut PolicyFiles,
    err: &mut dyn Write,
) -> Result<(), Failure> {
    let (t, found) = super::template::load(path, &a.template_input)?;
    let Some(role) = found.roles.iter().find(|r| r.logical_id == id) else {
        let ids: Vec<&str> = found.roles.iter().map(|r| r.logical_id.as_str()).collect();
        return Err(Failure::from(format!(
            "{}: no role `{id}` (its AWS::IAM::Role resources: {})",
            t.name,
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        )));
    };
    let load = |p: &iac::Policy, ty| super::template::load_policy(&t, p, ty);
    let rp = super::template::role_policies(&found, role);
    files.identity.extend(rp.identity_documents(&t)?);
    if let Some(p) = rp.trust {
        files.resource = Some(load(p, PolicyType::Trust)?);
        files.resource_type = Some(TypeChoice {
            ty: PolicyType::Trust,
            declared: Some("--template --role (the role's AssumeRolePolicyDocument)"),
        });
    }
    if let Some(p) = rp.boundary {
        files.boundary.push(load(p, PolicyType::Boundary)?);
    }
    if let Some(arn) = &rp.foreign_boundary
        && a.boundaries.is_empty()
    {
        return Err(Failure::from(format!(
            "{}: the permissions boundary of `{id}`, {arn}, is not a managed policy of the template: give it with --boundary FILE",
            t.name
        )));
    }
    for arn in &rp.foreign_managed {
        let _ = writeln!(
            err,
            "warning: {}: `{id}` has {arn} attached (ManagedPolicyArns); it is neither in the template nor an AWS managed policy policy-check bundles, and is not evaluated: what it allows shows as denied here (give it with --policy FILE)",
            t.name
        );
    }
    Ok(())
}

/// `aws:CurrentTime` (ISO 8601, UTC) and `aws:EpochTime` for `now`, where the request does not give them.
fn supply_time(r: &mut crate::input::OwnedRequest, now: i64) {
    if r.context.get_lower("aws:epochtime").is_none() {
        r.context.insert("aws:EpochTime", now.to_string());
    }
    if r.context.get_lower("aws:currenttime").is_none()
        && let Some(t) = iso8601(now)
    {
        r.context.insert("aws:CurrentTime", t);
    }
}

/// Unix seconds as `2026-12-07T10:38:36Z`.
fn iso8601(secs: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

pub(crate) fn run_eval(
    a: &EvalArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Failure> {
    if let Some(p) = &a.cli_input_json {
        let input = read_json(p)?;
        let answer = policy_serve::simulate_custom_policy_json(&input)
            .map_err(|e| Failure::from(e).at(&format!("{}", p.display())))?;
        let _ = writeln!(out, "{answer:#}");
        let all_allowed = answer
            .get("EvaluationResults")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|l| {
                l.iter().all(|r| {
                    r.get("EvalDecision").and_then(serde_json::Value::as_str) == Some("allowed")
                })
            });
        return Ok(if all_allowed { 0 } else { 2 });
    }
    let Some(request) = &a.request else {
        return Err("give --request (or --cli-input-json)".into());
    };
    let mut files = PolicyFiles::default();
    for p in &a.policies {
        files.identity.push(load_policy(p, PolicyType::Identity)?);
    }
    if let Some(p) = &a.resource_policy {
        let bytes = crate::read_file(p)?;
        let name = p.display().to_string();
        let (_, doc, _) = iam_policy::parse_bytes(&name, &bytes);
        let choice = TypeChoice::detect(doc.as_ref());
        files.resource = Some(load_policy_text(&name, &bytes, choice.ty)?);
        files.resource_type = Some(choice);
    }
    if let Some(p) = &a.trust_policy {
        files.resource = Some(load_policy(p, PolicyType::Trust)?);
        files.resource_type = Some(TypeChoice {
            ty: PolicyType::Trust,
            declared: Some("--trust-policy"),
        });
    }
    for p in &a.boundaries {
        files.boundary.push(load_policy(p, PolicyType::Boundary)?);
    }
    if let (Some(t), Some(role)) = (&a.template, &a.role) {
        template_role(t, role, a, &mut files, err)?;
    }
    if let Some(p) = &a.session {
        files.session.push(load_policy(p, PolicyType::Session)?);
    }
    for p in &a.scps {
        files.scps.push(vec![load_policy(p, PolicyType::Scp)?]);
    }
    for p in &a.rcps {
        files.rcps.push(vec![load_policy(p, PolicyType::Rcp)?]);
    }
    let mut requests = read_requests(request)?;
    let now = a.now.unwrap_or_else(crate::input::now);
    for r in &mut requests {
        supply_time(r, now);
    }
    if requests.is_empty() {
        return Err(Failure::from(format!("{}: no requests", request.display())));
    }
    let resource_type = files.resource_type;
    let auth = files.compile()?;
    crate::policies::print_accepted(err);
    let mut any_deny = false;
    for r in &requests {
        let ex = auth.explain(&r.as_request());
        let note = resource_type.map(|t| t.explain(&r.as_request()));
        any_deny |= ex.outcome.decision.is_deny();
        match a.format {
            Format::Json => {
                let mut v = outcome_json(&auth, &ex);
                if let Some(o) = v.as_object_mut() {
                    o.insert("request".into(), serde_json::json!({"action": r.action.as_str(), "resource": r.resource, "principal": r.principal}));
                    if let Some(n) = &note {
                        o.insert("resource_policy_type".into(), n.json());
                    }
                }
                let _ = writeln!(out, "{v}");
            }
            Format::Human => {
                let _ = writeln!(
                    out,
                    "{} {} on {}",
                    r.principal
                        .as_deref()
                        .unwrap_or("(the identity policies' principal)"),
                    r.action,
                    r.resource
                );
                let _ = write!(out, "{}", explain_text(&auth, &ex));
                if let Some(n) = &note {
                    let _ = writeln!(out, "  {}", n.line());
                }
            }
        }
    }
    Ok(if any_deny { 2 } else { 0 })
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_dates() {
        assert_eq!(super::iso8601(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            super::iso8601(1_700_000_000).as_deref(),
            Some("2023-11-14T22:13:20Z")
        );
        assert_eq!(
            super::iso8601(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
    }
}
