//! Terraform plans as input: the JSON of `terraform show -json PLAN` (Terraform's "JSON Output Format":
//! `format_version`, `planned_values.root_module` with `resources` and `child_modules`). Values in a plan
//! are already resolved by Terraform; a policy Terraform cannot know until apply (it is absent from the
//! planned values) is listed as such, never read as empty.

use diag::Span;
use diag::json::{Kind, Value};
use iam_policy::PolicyType;

use std::collections::BTreeMap;

use crate::extract::{Found, IdentityPool, Policy, Role, RoleMapping, Skipped, UserPoolGroup};
use crate::terraform_refs::{Refs, Step};
use crate::{
    IacError, IdentitySource, PolicyStore, Resource, Settings, Template, TemplateLink, member,
    scalar_text,
};

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

pub(crate) fn policies(t: &Template, settings: &Settings) -> Result<Found, IacError> {
    let account = settings.account.as_str();
    let partition = crate::partition(&settings.region);
    let refs = Refs::new(t, settings);
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
    let (identity_pools, user_pool_groups) = cognito(t, &refs)?;
    let policy_stores = policy_stores(t, &refs)?;
    let apis = apis(t, &refs, settings)?;
    // What is read as pools, groups, stores and APIs is not "skipped".
    skipped.retain(|s| {
        !s.resource_type.starts_with("aws_cognito_identity_pool")
            && s.resource_type != "aws_cognito_user_group"
            && !s.resource_type.starts_with("aws_verifiedpermissions_")
            && !s.resource_type.starts_with("aws_api_gateway_")
            && !s.resource_type.starts_with("aws_apigatewayv2_")
    });
    Ok(Found {
        policies: out,
        roles,
        managed_policy_arns,
        identity_pools,
        user_pool_groups,
        policy_stores,
        apis,
        skipped,
        notes: refs.notes(),
    })
}

/// Planned values of a resource at a block path: the number of blocks at `path` (planned, or written in
/// the configuration).
fn blocks(t: &Template, r: &Resource, key: &str) -> usize {
    let planned = match r.property(key).map(|v| &v.kind) {
        Some(Kind::Array(items)) => items.len(),
        _ => 0,
    };
    let written = match t
        .expressions
        .get(&r.logical_id)
        .and_then(|e| member(e, key))
        .map(|v| &v.kind)
    {
        Some(Kind::Array(items)) => items.len(),
        _ => 0,
    };
    planned.max(written)
}

/// Strings of a list attribute, planned.
fn string_list(v: Option<&Value>) -> Vec<String> {
    match v.map(|x| &x.kind) {
        Some(Kind::Array(items)) => items.iter().map(scalar_text).collect(),
        _ => Vec::new(),
    }
}

/// `aws_cognito_identity_pool` with its `aws_cognito_identity_pool_roles_attachment`, and
/// `aws_cognito_user_group`s.
fn cognito(
    t: &Template,
    refs: &Refs<'_>,
) -> Result<(Vec<IdentityPool>, Vec<UserPoolGroup>), IacError> {
    let mut pools = Vec::new();
    for r in t
        .resources
        .iter()
        .filter(|r| r.kind == "aws_cognito_identity_pool")
    {
        let flag = |k: &str| r.property(k).map(scalar_text).as_deref() == Some("true");
        let mut providers = Vec::new();
        for i in 0..blocks(t, r, "cognito_identity_providers") {
            let at = |k: &'static str| {
                refs.text(
                    r,
                    &[
                        Step::Key("cognito_identity_providers"),
                        Step::At(i),
                        Step::Key(k),
                    ],
                )
                .unwrap_or_default()
            };
            providers.push((at("provider_name"), at("client_id")));
        }
        pools.push(IdentityPool {
            logical_id: r.logical_id.clone(),
            id: refs.attribute(r, "id").unwrap_or_default(),
            allow_unauthenticated: flag("allow_unauthenticated_identities"),
            allow_classic_flow: flag("allow_classic_flow"),
            providers,
            openid_connect_provider_arns: string_list(r.property("openid_connect_provider_arns")),
            authenticated_role: None,
            unauthenticated_role: None,
            role_mappings: Vec::new(),
            span: r.span,
        });
    }
    for r in t
        .resources
        .iter()
        .filter(|r| r.kind == "aws_cognito_identity_pool_roles_attachment")
    {
        let id = r.logical_id.as_str();
        let target = refs
            .text(r, &[Step::Key("identity_pool_id")])
            .unwrap_or_default();
        let Some(pool) = pools.iter_mut().find(|p| p.id == target) else {
            return Err(IacError::unresolved(
                &t.name,
                r.span,
                format!(
                    "the role attachment names identity pool `{target}`, which is not in the plan"
                ),
            )
            .about(id));
        };
        // `roles`: planned keys first; a key known only after apply takes the role its expression refers
        // to (by elimination, or by the role's name saying guest/unauthenticated).
        let mut roles: BTreeMap<String, Option<String>> = BTreeMap::new();
        for k in ["authenticated", "unauthenticated"] {
            let planned = r
                .property("roles")
                .and_then(|m| member(m, k))
                .filter(|v| !matches!(v.kind, Kind::Null))
                .map(scalar_text);
            let written = t
                .expressions
                .get(id)
                .and_then(|e| member(e, "roles"))
                .is_some();
            if planned.is_some() || written {
                roles.insert(k.to_string(), planned);
            }
        }
        let mut candidates: Vec<(String, String)> = refs
            .referenced_all(r, &[Step::Key("roles")])
            .into_iter()
            .filter(|(reference, v)| reference.contains("aws_iam_role.") && v.starts_with("arn:"))
            .filter(|(_, v)| !roles.values().any(|x| x.as_deref() == Some(v)))
            .collect();
        let open: Vec<String> = roles
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for k in open {
            let guest = |reference: &str| {
                let n = reference.to_ascii_lowercase();
                n.contains("unauth") || n.contains("guest")
            };
            let pick = if candidates.len() == 1 {
                Some(0)
            } else {
                let want_guest = k == "unauthenticated";
                let matching: Vec<usize> = candidates
                    .iter()
                    .enumerate()
                    .filter(|(_, (reference, _))| guest(reference) == want_guest)
                    .map(|(i, _)| i)
                    .collect();
                matching.first().copied().filter(|_| matching.len() == 1)
            };
            match pick {
                Some(i) => {
                    let (_, arn) = candidates.remove(i);
                    roles.insert(k, Some(arn));
                }
                None if candidates.is_empty() => {}
                None => {
                    return Err(IacError::unresolved(
                        &t.name,
                        r.span,
                        format!("`roles.{k}` is known only after apply and its expression refers to several roles: give the roles in the plan (or name the guest role's resource `…unauth…`)"),
                    )
                    .about(id));
                }
            }
        }
        pool.authenticated_role = roles.get("authenticated").cloned().flatten();
        pool.unauthenticated_role = roles.get("unauthenticated").cloned().flatten();
        for i in 0..blocks(t, r, "role_mapping") {
            let at = |k: &'static str| {
                refs.text(r, &[Step::Key("role_mapping"), Step::At(i), Step::Key(k)])
            };
            let m = r.property("role_mapping").and_then(|v| match &v.kind {
                Kind::Array(items) => items.get(i),
                _ => None,
            });
            let n_rules = m
                .and_then(|m| member(m, "mapping_rule"))
                .map_or(0, |x| match &x.kind {
                    Kind::Array(a) => a.len(),
                    _ => 0,
                });
            let mut rules = Vec::new();
            for j in 0..n_rules {
                let rule = |k: &'static str| {
                    refs.text(
                        r,
                        &[
                            Step::Key("role_mapping"),
                            Step::At(i),
                            Step::Key("mapping_rule"),
                            Step::At(j),
                            Step::Key(k),
                        ],
                    )
                    .unwrap_or_default()
                };
                rules.push((
                    rule("claim"),
                    rule("match_type"),
                    rule("value"),
                    rule("role_arn"),
                ));
            }
            pool.role_mappings.push(RoleMapping {
                identity_provider: at("identity_provider").unwrap_or_default(),
                kind: at("type").unwrap_or_default(),
                ambiguous: at("ambiguous_role_resolution"),
                rules,
            });
        }
    }
    let mut groups = Vec::new();
    for r in t
        .resources
        .iter()
        .filter(|r| r.kind == "aws_cognito_user_group")
    {
        let text = |k: &str| refs.text(r, &[Step::Key(k)]);
        let precedence = match text("precedence") {
            None => None,
            Some(p) => Some(p.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                IacError::template(
                    &t.name,
                    r.span,
                    format!("`precedence` is a non-negative integer, not `{p}`"),
                )
                .about(&r.logical_id)
            })?),
        };
        groups.push(UserPoolGroup {
            logical_id: r.logical_id.clone(),
            name: text("name").unwrap_or_default(),
            user_pool_id: text("user_pool_id").unwrap_or_default(),
            role_arn: text("role_arn"),
            precedence,
            span: r.span,
        });
    }
    Ok((pools, groups))
}

/// `Type::"id"` of an `{entity_type, entity_id}` block.
fn entity(r: &Resource, refs: &Refs<'_>, path: &[Step<'_>]) -> Option<String> {
    let mut p = path.to_vec();
    p.push(Step::At(0));
    let get = |k: &'static str| {
        let mut q = p.clone();
        q.push(Step::Key(k));
        refs.text(r, &q)
    };
    let ty = get("entity_type")?;
    let id = get("entity_id")?;
    Some(format!("{ty}::{}", serde_json::Value::String(id)))
}

/// Verified Permissions: `aws_verifiedpermissions_policy_store` with its `_schema`, `_policy` (static
/// and template-linked), `_policy_template` and `_identity_source`.
fn policy_stores(t: &Template, refs: &Refs<'_>) -> Result<Vec<PolicyStore>, IacError> {
    let mut ids: Vec<String> = Vec::new();
    let mut stores: Vec<PolicyStore> = Vec::new();
    for r in t
        .resources
        .iter()
        .filter(|r| r.kind == "aws_verifiedpermissions_policy_store")
    {
        let mode = refs
            .text(
                r,
                &[
                    Step::Key("validation_settings"),
                    Step::At(0),
                    Step::Key("mode"),
                ],
            )
            .unwrap_or_else(|| "OFF".into());
        ids.push(refs.attribute(r, "id").unwrap_or_default());
        stores.push(PolicyStore {
            logical_id: r.logical_id.clone(),
            validation_mode: mode,
            schema_json: None,
            policies: Vec::new(),
            templates: Vec::new(),
            links: Vec::new(),
            identity_source: None,
            span: r.span,
        });
    }
    let store_of = |r: &Resource| -> Result<usize, IacError> {
        let sid = refs
            .text(r, &[Step::Key("policy_store_id")])
            .unwrap_or_default();
        ids.iter().position(|id| id == &sid).ok_or_else(|| {
            IacError::unresolved(
                &t.name,
                r.span,
                format!("`policy_store_id` is `{sid}`, not a policy store of the plan"),
            )
            .about(&r.logical_id)
        })
    };
    let mut template_ids: Vec<(String, String)> = Vec::new();
    for r in t.resources.iter().filter(|r| {
        r.kind.starts_with("aws_verifiedpermissions_")
            && r.kind != "aws_verifiedpermissions_policy_store"
    }) {
        let id = r.logical_id.clone();
        match r.kind.as_str() {
            "aws_verifiedpermissions_schema" => {
                let i = store_of(r)?;
                let v = refs.text(
                    r,
                    &[Step::Key("definition"), Step::At(0), Step::Key("value")],
                );
                if let Some(st) = stores.get_mut(i) {
                    st.schema_json = v;
                }
            }
            "aws_verifiedpermissions_policy_template" => {
                let i = store_of(r)?;
                let text = refs.text(r, &[Step::Key("statement")]).ok_or_else(|| {
                    IacError::unresolved(
                        &t.name,
                        r.span,
                        "the policy template's `statement` is known only after apply",
                    )
                    .about(&id)
                })?;
                template_ids.push((
                    refs.attribute(r, "policy_template_id")
                        .unwrap_or_else(|| id.clone()),
                    id.clone(),
                ));
                if let Some(st) = stores.get_mut(i) {
                    st.templates.push((id, text));
                }
            }
            _ => {}
        }
    }
    for r in t
        .resources
        .iter()
        .filter(|r| r.kind == "aws_verifiedpermissions_policy")
    {
        let id = r.logical_id.clone();
        let i = store_of(r)?;
        let def = [Step::Key("definition"), Step::At(0)];
        let stat = [
            def[0],
            def[1],
            Step::Key("static"),
            Step::At(0),
            Step::Key("statement"),
        ];
        if let Some(text) = refs.text(r, &stat) {
            if let Some(st) = stores.get_mut(i) {
                st.policies.push((id, text));
            }
            continue;
        }
        let linked = [def[0], def[1], Step::Key("template_linked"), Step::At(0)];
        let mut tid_path = linked.to_vec();
        tid_path.push(Step::Key("policy_template_id"));
        let Some(tid) = refs.text(r, &tid_path) else {
            return Err(IacError::unresolved(
                &t.name,
                r.span,
                "the policy's `definition` (static `statement` or `template_linked`) is known only after apply",
            )
            .about(&id));
        };
        let template = template_ids
            .iter()
            .find(|(v, _)| v == &tid)
            .map(|(_, l)| l.clone())
            .ok_or_else(|| {
                IacError::unresolved(
                    &t.name,
                    r.span,
                    format!("`policy_template_id` is `{tid}`, not a policy template of the plan"),
                )
                .about(&id)
            })?;
        let mut p = linked.to_vec();
        p.push(Step::Key("principal"));
        let mut q = linked.to_vec();
        q.push(Step::Key("resource"));
        let link = TemplateLink {
            logical_id: id,
            template,
            principal: entity(r, refs, &p),
            resource: entity(r, refs, &q),
        };
        if let Some(st) = stores.get_mut(i) {
            st.links.push(link);
        }
    }
    for r in t
        .resources
        .iter()
        .filter(|r| r.kind == "aws_verifiedpermissions_identity_source")
    {
        let id = r.logical_id.clone();
        let i = store_of(r)?;
        let conf = [Step::Key("configuration"), Step::At(0)];
        let at = |rest: &[Step<'_>]| {
            let mut p = conf.to_vec();
            p.extend_from_slice(rest);
            refs.text(r, &p)
        };
        let list = |rest: &[&str]| -> Vec<String> {
            let mut v = r.property("configuration");
            let mut steps: Vec<Step<'_>> = vec![Step::At(0)];
            for k in rest {
                steps.push(Step::Key(k));
                steps.push(Step::At(0));
            }
            steps.pop();
            for s in &steps {
                v = v.and_then(|x| match (s, &x.kind) {
                    (Step::At(n), Kind::Array(items)) => items.get(*n),
                    (Step::Key(k), Kind::Object(_)) => member(x, k),
                    _ => None,
                });
            }
            string_list(v)
        };
        let principal = refs
            .text(r, &[Step::Key("principal_entity_type")])
            .unwrap_or_default();
        let cup = Step::Key("cognito_user_pool_configuration");
        let oidc = Step::Key("open_id_connect_configuration");
        let source = if let Some(arn) = at(&[cup, Step::At(0), Step::Key("user_pool_arn")]) {
            IdentitySource {
                user_pool_id: Some(arn.rsplit('/').next().unwrap_or("").to_string()),
                issuer: None,
                client_ids: list(&["cognito_user_pool_configuration", "client_ids"]),
                principal_entity_type: principal,
                group_entity_type: at(&[
                    cup,
                    Step::At(0),
                    Step::Key("group_configuration"),
                    Step::At(0),
                    Step::Key("group_entity_type"),
                ]),
                group_claim: None,
                entity_id_prefix: None,
                principal_id_claim: None,
                token_selection: None,
            }
        } else if let Some(issuer) = at(&[oidc, Step::At(0), Step::Key("issuer")]) {
            let ts = [oidc, Step::At(0), Step::Key("token_selection"), Step::At(0)];
            let sel = |kind: &'static str, k: &'static str| {
                let mut p = ts.to_vec();
                p.extend_from_slice(&[Step::Key(kind), Step::At(0), Step::Key(k)]);
                at(&p)
            };
            let access = list(&[
                "open_id_connect_configuration",
                "token_selection",
                "access_token_only",
                "audiences",
            ]);
            let identity = list(&[
                "open_id_connect_configuration",
                "token_selection",
                "identity_token_only",
                "client_ids",
            ]);
            let access_claim = sel("access_token_only", "principal_id_claim");
            let identity_claim = sel("identity_token_only", "principal_id_claim");
            let has = |kind: &str| {
                blocks_at(
                    r,
                    &[
                        "configuration",
                        "open_id_connect_configuration",
                        "token_selection",
                        kind,
                    ],
                )
            };
            let (token_selection, client_ids, claim) = match (
                has("access_token_only"),
                has("identity_token_only"),
            ) {
                (true, false) => ("access", access, access_claim),
                (false, true) => ("id", identity, identity_claim),
                _ => {
                    return Err(IacError::template(&t.name, r.span, "an OpenID Connect identity source needs exactly one `token_selection` (`access_token_only` or `identity_token_only`)").about(&id));
                }
            };
            let group = [
                oidc,
                Step::At(0),
                Step::Key("group_configuration"),
                Step::At(0),
            ];
            let g = |k: &'static str| {
                let mut p = group.to_vec();
                p.push(Step::Key(k));
                at(&p)
            };
            IdentitySource {
                user_pool_id: None,
                issuer: Some(issuer),
                client_ids,
                principal_entity_type: principal,
                group_entity_type: g("group_entity_type"),
                group_claim: g("group_claim"),
                entity_id_prefix: at(&[oidc, Step::At(0), Step::Key("entity_id_prefix")]),
                principal_id_claim: claim,
                token_selection: Some(token_selection.into()),
            }
        } else {
            return Err(IacError::template(
                &t.name,
                r.span,
                "an identity source's `configuration` is `cognito_user_pool_configuration` or `open_id_connect_configuration` (known at plan time)",
            )
            .about(&id));
        };
        if let Some(st) = stores.get_mut(i) {
            st.identity_source = Some(source);
        }
    }
    Ok(stores)
}

/// Whether the planned values hold a non-empty block list at this path (first block of each level).
fn blocks_at(r: &Resource, path: &[&str]) -> bool {
    let mut v = r.properties.as_ref();
    for (i, k) in path.iter().enumerate() {
        v = v.and_then(|x| member(x, k));
        if i + 1 < path.len() {
            v = v.and_then(|x| match &x.kind {
                Kind::Array(items) => items.first(),
                _ => None,
            });
        }
    }
    matches!(v.map(|x| &x.kind), Some(Kind::Array(items)) if !items.is_empty())
}

/// API Gateway from a plan: REST APIs (`aws_api_gateway_rest_api` with its `_resource` tree, `_method`s,
/// Lambda `_authorizer`, `_stage`, and `policy` or `_rest_api_policy`) and HTTP APIs
/// (`aws_apigatewayv2_api` with its `_route`s, Lambda `_authorizer` and `_stage`), as API definitions.
/// Ids known only after apply link through the plan's references.
fn apis(t: &Template, refs: &Refs<'_>, settings: &Settings) -> Result<Vec<crate::Api>, IacError> {
    use serde_json::json;
    let of = |kind: &'static str| t.resources.iter().filter(move |r| r.kind == kind);
    let text = |r: &Resource, k: &'static str| refs.text(r, &[Step::Key(k)]);
    let id_of = |r: &Resource| refs.attribute(r, "id").unwrap_or_default();
    let mut out = Vec::new();
    for api in of("aws_api_gateway_rest_api") {
        let aid = api.logical_id.as_str();
        let api_id = id_of(api);
        let mine = |r: &Resource| text(r, "rest_api_id").as_deref() == Some(api_id.as_str());
        let root = refs.attribute(api, "root_resource_id").unwrap_or_default();
        let mut paths: Vec<(String, String)> = vec![(root, "/".into())];
        let resources: Vec<&Resource> =
            of("aws_api_gateway_resource").filter(|r| mine(r)).collect();
        for _ in 0..resources.len() {
            for r in &resources {
                let me = id_of(r);
                if paths.iter().any(|(v, _)| v == &me) {
                    continue;
                }
                let parent = text(r, "parent_id").unwrap_or_default();
                let part = text(r, "path_part").unwrap_or_default();
                if let Some((_, p)) = paths.iter().find(|(v, _)| v == &parent) {
                    let path = if p == "/" {
                        format!("/{part}")
                    } else {
                        format!("{p}/{part}")
                    };
                    paths.push((me, path));
                }
            }
        }
        let mut routes = Vec::new();
        let mut authorizer: Option<(String, serde_json::Value)> = None;
        for m in of("aws_api_gateway_method").filter(|r| mine(r)) {
            let mid = m.logical_id.as_str();
            let verb = text(m, "http_method")
                .unwrap_or_default()
                .to_ascii_uppercase();
            let rid = text(m, "resource_id").unwrap_or_default();
            let path = paths
                .iter()
                .find(|(v, _)| v == &rid)
                .map(|(_, p)| p.clone())
                .ok_or_else(|| {
                    IacError::unresolved(
                        &t.name,
                        m.span,
                        format!("the method's resource `{rid}` is not a resource of `{aid}`"),
                    )
                    .about(mid)
                })?;
            let route = format!("{verb} {path}");
            match text(m, "authorization").as_deref().unwrap_or("NONE") {
                "NONE" => routes.push(json!({"route": route, "authorizer": false})),
                "CUSTOM" => {
                    let want = text(m, "authorizer_id").unwrap_or_default();
                    let a = of("aws_api_gateway_authorizer")
                        .find(|a| id_of(a) == want)
                        .ok_or_else(|| {
                            IacError::unresolved(
                                &t.name,
                                m.span,
                                format!(
                                    "`authorizer_id` `{want}` is not an authorizer of the plan"
                                ),
                            )
                            .about(mid)
                        })?;
                    if authorizer.as_ref().is_some_and(|(l, _)| l != &a.logical_id) {
                        return Err(IacError::unsupported(&t.name, m.span, format!("`{aid}` has more than one Lambda authorizer: the gateway model has one")).about(mid));
                    }
                    let kind = text(a, "type").unwrap_or_else(|| "TOKEN".into());
                    if kind != "TOKEN" && kind != "REQUEST" {
                        return Err(IacError::unsupported(&t.name, a.span, format!("an authorizer of type `{kind}`: only Lambda (TOKEN, REQUEST) authorizers are modelled")).about(&a.logical_id));
                    }
                    let sources = text(a, "identity_source")
                        .map(|s| {
                            s.split(',')
                                .map(|x| x.trim().to_string())
                                .filter(|x| !x.is_empty())
                                .collect()
                        })
                        .unwrap_or_default();
                    authorizer = Some((
                        a.logical_id.clone(),
                        crate::apigw::authorizer_json(
                            &kind,
                            sources,
                            text(a, "identity_validation_expression"),
                            text(a, "authorizer_result_ttl_in_seconds"),
                        ),
                    ));
                    routes.push(json!(route));
                }
                other => {
                    return Err(IacError::unsupported(&t.name, m.span, format!("a method with authorization `{other}`: the gateway model has Lambda authorizers (CUSTOM) and open methods (NONE)")).about(mid));
                }
            }
        }
        let Some((_, auth)) = authorizer else {
            continue;
        };
        let stage = of("aws_api_gateway_stage").find(|s| mine(s));
        let mut def = serde_json::Map::new();
        def.insert("region".into(), json!(settings.region));
        def.insert("account".into(), json!(settings.account));
        def.insert("api_id".into(), json!(api_id));
        def.insert(
            "stage".into(),
            json!(
                stage
                    .and_then(|s| text(s, "stage_name"))
                    .unwrap_or_else(|| "prod".into())
            ),
        );
        def.insert("routes".into(), json!(routes));
        def.insert("authorizer".into(), auth);
        def.insert("format".into(), json!("rest"));
        if let Some(v) = crate::apigw::string_map(stage.and_then(|s| s.property("variables"))) {
            def.insert("stage_variables".into(), v);
        }
        let policy = text(api, "policy").filter(|p| !p.is_empty()).or_else(|| {
            of("aws_api_gateway_rest_api_policy")
                .find(|p| mine(p))
                .and_then(|p| text(p, "policy"))
        });
        if let Some(p) = policy {
            let v: serde_json::Value = serde_json::from_str(&p).map_err(|_| {
                IacError::template(&t.name, api.span, "the API's resource `policy` is not JSON")
                    .about(aid)
            })?;
            def.insert("resource_policy".into(), v);
        }
        out.push(crate::Api {
            logical_id: aid.to_string(),
            definition: serde_json::Value::Object(def),
            span: api.span,
        });
    }
    for api in of("aws_apigatewayv2_api") {
        let aid = api.logical_id.as_str();
        let api_id = id_of(api);
        let mine = |r: &Resource| text(r, "api_id").as_deref() == Some(api_id.as_str());
        let mut routes = Vec::new();
        let mut authorizer: Option<(String, serde_json::Value, String)> = None;
        for rt in of("aws_apigatewayv2_route").filter(|r| mine(r)) {
            let rid = rt.logical_id.as_str();
            let key = text(rt, "route_key").unwrap_or_default();
            match text(rt, "authorization_type").as_deref().unwrap_or("NONE") {
                "NONE" => routes.push(json!({"route": key, "authorizer": false})),
                "CUSTOM" => {
                    let want = text(rt, "authorizer_id").unwrap_or_default();
                    let a = of("aws_apigatewayv2_authorizer")
                        .find(|a| id_of(a) == want)
                        .ok_or_else(|| {
                            IacError::unresolved(
                                &t.name,
                                rt.span,
                                format!(
                                    "`authorizer_id` `{want}` is not an authorizer of the plan"
                                ),
                            )
                            .about(rid)
                        })?;
                    if authorizer
                        .as_ref()
                        .is_some_and(|(l, _, _)| l != &a.logical_id)
                    {
                        return Err(IacError::unsupported(&t.name, rt.span, format!("`{aid}` has more than one Lambda authorizer: the gateway model has one")).about(rid));
                    }
                    let kind = text(a, "authorizer_type").unwrap_or_default();
                    if kind != "REQUEST" {
                        return Err(IacError::unsupported(&t.name, a.span, format!("an authorizer of type `{kind}`: only Lambda (REQUEST) authorizers are modelled")).about(&a.logical_id));
                    }
                    let version = text(a, "authorizer_payload_format_version")
                        .unwrap_or_else(|| "2.0".into());
                    let simple = text(a, "enable_simple_responses").as_deref() == Some("true");
                    let format = crate::apigw::http_format(&version, simple);
                    authorizer = Some((
                        a.logical_id.clone(),
                        crate::apigw::authorizer_json(
                            "REQUEST",
                            string_list(a.property("identity_sources")),
                            None,
                            Some(
                                text(a, "authorizer_result_ttl_in_seconds")
                                    .unwrap_or_else(|| "0".into()),
                            ),
                        ),
                        format.to_string(),
                    ));
                    routes.push(json!(key));
                }
                other => {
                    return Err(IacError::unsupported(&t.name, rt.span, format!("a route with authorization `{other}`: the gateway model has Lambda authorizers (CUSTOM) and open routes (NONE)")).about(rid));
                }
            }
        }
        let Some((_, auth, format)) = authorizer else {
            continue;
        };
        let stage = of("aws_apigatewayv2_stage")
            .find(|s| mine(s))
            .and_then(|s| text(s, "name"))
            .unwrap_or_else(|| "$default".into());
        out.push(crate::Api {
            logical_id: aid.to_string(),
            definition: json!({"region": settings.region, "account": settings.account, "api_id": api_id,
                "stage": stage, "routes": routes, "authorizer": auth, "format": format}),
            span: api.span,
        });
    }
    Ok(out)
}
