//! Terraform plans as input: the JSON of `terraform show -json PLAN` (Terraform's "JSON Output Format":
//! `format_version`, `planned_values.root_module` with `resources` and `child_modules`). Values in a plan
//! are already resolved by Terraform; a policy Terraform cannot know until apply (it is absent from the
//! planned values) is listed as such, never read as empty.

use diag::Span;
use diag::json::{Kind, Value};
use iam_policy::PolicyType;

use crate::extract::{Found, Policy, Role, Skipped};
use crate::{IacError, Resource, Template, member, scalar_text};

/// Whether a document is a Terraform plan's JSON.
pub(crate) fn is_plan(root: &Value) -> bool {
    member(root, "format_version").is_some() && member(root, "planned_values").is_some()
}

/// The planned resources of every module, in order, each as a [`Resource`] whose logical id is its
/// address (`aws_iam_role.app`, `module.auth.aws_iam_role.app`) and whose properties are its values.
pub(crate) fn resources(name: &str, root: &Value) -> Result<Vec<Resource>, IacError> {
    let major = member(root, "format_version")
        .map(scalar_text)
        .unwrap_or_default();
    if !major.starts_with("1.") {
        return Err(IacError::template(
            name,
            root.span,
            format!("a Terraform plan of format_version {major}: only 1.x is read"),
        ));
    }
    let mut out = Vec::new();
    let mut modules: Vec<&Value> = member(root, "planned_values")
        .and_then(|p| member(p, "root_module"))
        .into_iter()
        .collect();
    while let Some(m) = modules.pop() {
        if let Some(Kind::Array(rs)) = member(m, "resources").map(|r| &r.kind) {
            for r in rs {
                if member(r, "mode").map(scalar_text).as_deref() == Some("data") {
                    continue;
                }
                out.push(Resource {
                    logical_id: member(r, "address").map(scalar_text).unwrap_or_default(),
                    kind: member(r, "type").map(scalar_text).unwrap_or_default(),
                    span: r.span,
                    properties: member(r, "values").cloned(),
                    condition: None,
                });
            }
        }
        if let Some(Kind::Array(children)) = member(m, "child_modules").map(|c| &c.kind) {
            modules.extend(children.iter().rev());
        }
    }
    Ok(out)
}

/// A policy written as a JSON string (`jsonencode`, `aws_iam_policy_document.json`), parsed; every part
/// at the string's position.
fn parse_policy(t: &Template, v: &Value, id: &str, what: &str) -> Result<Value, IacError> {
    let Kind::String(s) = &v.kind else {
        return Err(
            IacError::template(&t.name, v.span, format!("`{what}` is not a JSON string")).about(id),
        );
    };
    let mut diags = Vec::new();
    match diag::json::read(s, &mut diags).filter(|_| diags.iter().all(|d| !d.is_error())) {
        Some(mut p) => {
            crate::extract::respan(&mut p, v.span);
            Ok(p)
        }
        None => Err(
            IacError::template(&t.name, v.span, format!("`{what}` is not a JSON policy")).about(id),
        ),
    }
}

/// Where each resource type keeps its policy: (attribute, policy type, the attribute naming what it
/// governs or is attached to).
fn documents(kind: &str) -> Option<(&'static str, PolicyType, Option<&'static str>)> {
    Some(match kind {
        "aws_iam_policy" => ("policy", PolicyType::Identity, None),
        "aws_iam_role_policy" => ("policy", PolicyType::Identity, Some("role")),
        "aws_iam_user_policy" => ("policy", PolicyType::Identity, Some("user")),
        "aws_iam_group_policy" => ("policy", PolicyType::Identity, Some("group")),
        "aws_s3_bucket_policy" => ("policy", PolicyType::Resource, Some("bucket")),
        "aws_sqs_queue_policy" => ("policy", PolicyType::Resource, Some("queue_url")),
        "aws_sns_topic_policy" => ("policy", PolicyType::Resource, Some("arn")),
        "aws_kms_key" => ("policy", PolicyType::Resource, None),
        "aws_secretsmanager_secret_policy" => ("policy", PolicyType::Resource, Some("secret_arn")),
        "aws_s3_access_point" => ("policy", PolicyType::Resource, Some("bucket")),
        _ => return None,
    })
}

pub(crate) fn policies(t: &Template, account: &str, partition: &str) -> Result<Found, IacError> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut roles = Vec::new();
    let mut managed_policy_arns = Vec::new();
    let unknown = |id: &str, kind: &str, what: &str, skipped: &mut Vec<Skipped>| {
        skipped.push(Skipped {
            logical_id: id.to_string(),
            resource_type: kind.to_string(),
            reason: format!(
                "its `{what}` is known only after apply (not in the plan's planned values)"
            ),
        });
    };
    for r in &t.resources {
        let id = r.logical_id.as_str();
        let kind = r.kind.as_str();
        let prop = |k: &str| r.property(k).filter(|v| !matches!(v.kind, Kind::Null));
        let mut push =
            |path: String, ty: PolicyType, document: Value, span: Span, attached: Vec<String>| {
                out.push(Policy {
                    logical_id: id.to_string(),
                    resource_type: kind.to_string(),
                    path,
                    policy_type: ty,
                    document,
                    span,
                    attached_to: attached,
                });
            };
        match kind {
            "aws_iam_role" => {
                let name = prop("name").map(scalar_text).unwrap_or_default();
                let path = prop("path").map(scalar_text).unwrap_or_else(|| "/".into());
                match prop("assume_role_policy") {
                    Some(v) => push(
                        "assume_role_policy".into(),
                        PolicyType::Trust,
                        parse_policy(t, v, id, "assume_role_policy")?,
                        v.span,
                        Vec::new(),
                    ),
                    None => unknown(id, kind, "assume_role_policy", &mut skipped),
                }
                if let Some(Kind::Array(items)) = prop("inline_policy").map(|v| &v.kind) {
                    for (i, p) in items.iter().enumerate() {
                        let pname = member(p, "name").map(scalar_text).unwrap_or_default();
                        if let Some(doc) =
                            member(p, "policy").filter(|v| !matches!(v.kind, Kind::Null))
                        {
                            push(
                                format!("inline_policy[{i}] ({pname})"),
                                PolicyType::Identity,
                                parse_policy(t, doc, id, "inline_policy.policy")?,
                                doc.span,
                                Vec::new(),
                            );
                        }
                    }
                }
                let managed = match prop("managed_policy_arns").map(|v| &v.kind) {
                    Some(Kind::Array(a)) => a.iter().map(scalar_text).collect(),
                    _ => Vec::new(),
                };
                roles.push(Role {
                    logical_id: id.to_string(),
                    arn: format!("arn:{partition}:iam::{account}:role{path}{name}"),
                    name,
                    boundary: prop("permissions_boundary").map(scalar_text),
                    managed,
                });
            }
            "aws_organizations_policy" => {
                let ty = match prop("type").map(scalar_text).as_deref() {
                    Some("SERVICE_CONTROL_POLICY") => PolicyType::Scp,
                    Some("RESOURCE_CONTROL_POLICY") => PolicyType::Rcp,
                    other => {
                        skipped.push(Skipped {
                            logical_id: id.to_string(),
                            resource_type: kind.to_string(),
                            reason: format!(
                                "an Organizations policy of type `{}` is not an IAM policy",
                                other.unwrap_or("")
                            ),
                        });
                        continue;
                    }
                };
                match prop("content") {
                    Some(v) => push(
                        "content".into(),
                        ty,
                        parse_policy(t, v, id, "content")?,
                        v.span,
                        Vec::new(),
                    ),
                    None => unknown(id, kind, "content", &mut skipped),
                }
            }
            "aws_iam_role_policy_attachment" => {}
            _ => match documents(kind) {
                Some((attr, ty, target)) => {
                    if kind == "aws_iam_policy"
                        && let Some(arn) = prop("arn").map(scalar_text)
                    {
                        managed_policy_arns.push((id.to_string(), arn));
                    }
                    let attached = target
                        .and_then(&prop)
                        .map(|v| vec![scalar_text(v)])
                        .unwrap_or_default();
                    match prop(attr) {
                        Some(v) => push(
                            attr.to_string(),
                            ty,
                            parse_policy(t, v, id, attr)?,
                            v.span,
                            attached,
                        ),
                        None => unknown(id, kind, attr, &mut skipped),
                    }
                }
                None => skipped.push(Skipped {
                    logical_id: id.to_string(),
                    resource_type: kind.to_string(),
                    reason: "carries no policy document policy-check reads".into(),
                }),
            },
        }
    }
    // `aws_iam_role_policy_attachment`: a managed policy attached to a role by name.
    for r in t
        .resources
        .iter()
        .filter(|r| r.kind == "aws_iam_role_policy_attachment")
    {
        let role = r.property("role").map(scalar_text).unwrap_or_default();
        let Some(arn) = r
            .property("policy_arn")
            .map(scalar_text)
            .filter(|a| !a.is_empty())
        else {
            continue;
        };
        if let Some(x) = roles.iter_mut().find(|x| x.name == role) {
            x.managed.push(arn);
        }
    }
    Ok(Found {
        policies: out,
        roles,
        managed_policy_arns,
        identity_pools: Vec::new(),
        user_pool_groups: Vec::new(),
        policy_stores: Vec::new(),
        apis: Vec::new(),
        skipped,
        notes: Vec::new(),
    })
}
