//! `template show`, and the template input `lint --template` shares: a CloudFormation or SAM template
//! resolved with its parameters, and the policies it carries.

use crate::Failure;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::Format;

/// `template` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TemplateCommand {
    /// List what a template holds: each policy with its resource, position and resolved document,
    /// the resources skipped with the reason, and the placeholders used.
    #[command(after_help = crate::EXIT_CODES)]
    Show(ShowArgs),
}

/// A template and what it is resolved with.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateInput {
    /// Parameter values: CloudFormation's `[{"ParameterKey", "ParameterValue"}]` file, or
    /// cfn-policy-validator's `{"Name": "value"}`.
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    /// One parameter value, `NAME=VALUE` (repeatable; wins over the file).
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameter: Vec<String>,
    /// Another stack's export for `Fn::ImportValue`, `NAME=VALUE` (repeatable; without one a
    /// placeholder stands for it, and is listed).
    #[arg(long = "import-value", value_name = "NAME=VALUE")]
    pub import_value: Vec<String>,
    /// A deployed resource's physical id, `LOGICAL_ID=VALUE` (repeatable): what `Ref` returns for it
    /// (an identity pool's id, a generated name), in place of a placeholder.
    #[arg(long = "physical-id", value_name = "LOGICAL_ID=VALUE")]
    pub physical_id: Vec<String>,
    /// `AWS::AccountId`.
    #[arg(
        long = "template-account",
        value_name = "ID",
        default_value = "123456789012"
    )]
    pub template_account: String,
    /// `AWS::Region` (and the partition).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// `AWS::StackName`.
    #[arg(long, default_value = "stack")]
    pub stack_name: String,
}

impl TemplateInput {
    /// The defaults (account `123456789012`, `us-east-1`, stack `stack`) with these parameter values
    /// and physical ids (`NAME=VALUE` each).
    pub(crate) fn with(parameter: Vec<String>, physical_id: Vec<String>) -> Self {
        Self {
            parameters: None,
            parameter,
            import_value: Vec::new(),
            physical_id,
            template_account: "123456789012".into(),
            region: "us-east-1".into(),
            stack_name: "stack".into(),
        }
    }
}

/// `template show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The template (JSON or YAML).
    pub template: PathBuf,
    /// What it is resolved with.
    #[command(flatten)]
    pub input: TemplateInput,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// The settings from the arguments and the parameters file.
pub(crate) fn settings(i: &TemplateInput) -> Result<iac::Settings, Failure> {
    let mut parameters = BTreeMap::new();
    if let Some(f) = &i.parameters {
        let v = crate::input::read_json(f)?;
        let bad = || {
            format!(
                "{}: parameters are [{{\"ParameterKey\", \"ParameterValue\"}}] or {{\"Name\": \"value\"}}",
                f.display()
            )
        };
        match &v {
            Value::Array(items) => {
                for x in items {
                    let k = x
                        .get("ParameterKey")
                        .and_then(Value::as_str)
                        .ok_or_else(bad)?;
                    let val = match x.get("ParameterValue") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Number(n)) => n.to_string(),
                        Some(Value::Bool(b)) => b.to_string(),
                        _ => return Err(Failure::from(bad())),
                    };
                    parameters.insert(k.to_string(), val);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    let val = match x {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Array(a) => a
                            .iter()
                            .map(|e| e.as_str().map(str::to_string).ok_or_else(bad))
                            .collect::<Result<Vec<_>, _>>()?
                            .join(","),
                        _ => return Err(Failure::from(bad())),
                    };
                    parameters.insert(k.clone(), val);
                }
            }
            _ => return Err(Failure::from(bad())),
        }
    }
    for p in &i.parameter {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("--parameter `{p}` is not NAME=VALUE"))?;
        parameters.insert(k.to_string(), v.to_string());
    }
    let mut imports = BTreeMap::new();
    for p in &i.import_value {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("--import-value `{p}` is not NAME=VALUE"))?;
        imports.insert(k.to_string(), v.to_string());
    }
    let mut physical_ids = BTreeMap::new();
    for p in &i.physical_id {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("--physical-id `{p}` is not LOGICAL_ID=VALUE"))?;
        physical_ids.insert(k.to_string(), v.to_string());
    }
    Ok(iac::Settings {
        physical_ids,
        imports,
        account: i.template_account.clone(),
        region: i.region.clone(),
        stack_name: i.stack_name.clone(),
        parameters,
    })
}

/// A template error as the CLI prints it: `file:line:column: message [code] (resource Id)`.
pub(crate) fn error_text(t: Option<&iac::Template>, text: &str, e: &iac::IacError) -> String {
    let (l, c) = match t {
        Some(t) => t.line_col(e.span.start),
        None => diag::Source::new(e.file.as_str(), text).line_col(e.span.start),
    };
    let about = e
        .logical_id
        .as_ref()
        .map(|id| format!(" (resource `{id}`)"))
        .unwrap_or_default();
    format!("{}:{l}:{c}: {} [{}]{about}", e.file, e.message, e.code)
}

/// Reads and resolves a template.
pub(crate) fn load(
    path: &std::path::Path,
    input: &TemplateInput,
) -> Result<(iac::Template, iac::Found), Failure> {
    let name = crate::display_name(path);
    let bytes = crate::read_file(path)?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{name}: not UTF-8"))?;
    let t = iac::Template::read(&name, &text).map_err(|e| error_text(None, &text, &e))?;
    let s = settings(input)?;
    let found = t
        .policies(&s)
        .map_err(|e| error_text(Some(&t), &text, &e))?;
    Ok((t, found))
}

/// A template role's policies: its trust policy, its identity policies (inline, and the template's
/// `AWS::IAM::Policy` / `ManagedPolicy` attached to it by `Roles` or `ManagedPolicyArns`), its boundary
/// when the template defines it, and the ARNs it names that the template does not define.
pub(crate) struct RolePolicies<'f> {
    pub(crate) trust: Option<&'f iac::Policy>,
    pub(crate) identity: Vec<&'f iac::Policy>,
    pub(crate) boundary: Option<&'f iac::Policy>,
    /// `PermissionsBoundary`, when the template does not define it.
    pub(crate) foreign_boundary: Option<String>,
    /// `ManagedPolicyArns` that are AWS managed policies policy-check bundles: (ARN, document text).
    pub(crate) aws_managed: Vec<(String, &'static str)>,
    /// `ManagedPolicyArns` the template does not define and policy-check does not bundle.
    pub(crate) foreign_managed: Vec<String>,
}

impl RolePolicies<'_> {
    /// The role's identity policies, loaded (template policies located in the template), then its
    /// bundled AWS managed policies.
    pub(crate) fn identity_documents(
        &self,
        t: &iac::Template,
    ) -> Result<Vec<iam_policy::PolicyDocument>, crate::Failure> {
        let mut out = Vec::new();
        for p in &self.identity {
            out.push(load_policy(t, p, iam_policy::PolicyType::Identity)?);
        }
        for (arn, text) in &self.aws_managed {
            out.push(crate::policies::load_policy_text(
                arn,
                text.as_bytes(),
                iam_policy::PolicyType::Identity,
            )?);
        }
        Ok(out)
    }
}

pub(crate) fn role_policies<'f>(found: &'f iac::Found, role: &iac::Role) -> RolePolicies<'f> {
    let defined = |arn: &str| {
        found
            .managed_policy_arns
            .iter()
            .find(|(_, a)| a == arn)
            .map(|(id, _)| id.as_str())
    };
    let attached: Vec<&str> = role.managed.iter().filter_map(|a| defined(a)).collect();
    let mine = |p: &&iac::Policy| p.logical_id == role.logical_id;
    let trust = found
        .policies
        .iter()
        .find(|p| mine(p) && p.policy_type == iam_policy::PolicyType::Trust);
    let identity = found
        .policies
        .iter()
        .filter(|p| {
            (mine(p) && p.policy_type == iam_policy::PolicyType::Identity)
                || (matches!(
                    p.resource_type.as_str(),
                    "AWS::IAM::Policy"
                        | "AWS::IAM::ManagedPolicy"
                        | "aws_iam_role_policy"
                        | "aws_iam_policy"
                ) && (p.attached_to.contains(&role.name)
                    || attached.contains(&p.logical_id.as_str())))
        })
        .collect();
    let boundary_id = role.boundary.as_deref().and_then(defined);
    RolePolicies {
        trust,
        identity,
        boundary: boundary_id.and_then(|id| found.policies.iter().find(|p| p.logical_id == id)),
        foreign_boundary: role.boundary.clone().filter(|_| boundary_id.is_none()),
        aws_managed: role
            .managed
            .iter()
            .filter(|a| defined(a).is_none())
            .filter_map(|a| policy_serve::aws_managed_policy(a).map(|(_, text)| (a.clone(), text)))
            .collect(),
        foreign_managed: role
            .managed
            .iter()
            .filter(|a| defined(a).is_none() && policy_serve::aws_managed_policy(a).is_none())
            .cloned()
            .collect(),
    }
}

/// `template:line#Resource.path`: a template policy's name in explanations (then positions inside the
/// resolved policy as `template show` prints it).
pub(crate) fn policy_name(t: &iac::Template, p: &iac::Policy) -> String {
    format!("{}:{}#{}", t.name, t.line_col(p.span.start).0, p.name())
}

/// A template policy loaded as `ty`, named by [`policy_name`], its positions the template's own lines and
/// columns (explanations and witnesses point into the template, not into the resolved text).
pub(crate) fn load_policy(
    t: &iac::Template,
    p: &iac::Policy,
    ty: iam_policy::PolicyType,
) -> Result<iam_policy::PolicyDocument, crate::Failure> {
    let name = policy_name(t, p);
    let src = iac::policy_source(t, p, &name);
    let mut doc = crate::policies::load_policy_text(&name, src.text().as_bytes(), ty)?;
    doc.source = src;
    Ok(doc)
}

/// The identity pool `id` of a template as a pool configuration, its roles' policies from the template.
/// Every role the pool uses must be a role of the template (a pool deciding with a role it cannot read
/// would decide wrongly).
pub(crate) fn pool_from_template(
    path: &std::path::Path,
    id: &str,
    input: &TemplateInput,
    identity_ids: BTreeMap<String, String>,
) -> Result<identity_pool::IdentityPool, Failure> {
    let (t, found) = load(path, input)?;
    let Some(p) = found.identity_pools.iter().find(|p| p.logical_id == id) else {
        let ids: Vec<&str> = found
            .identity_pools
            .iter()
            .map(|p| p.logical_id.as_str())
            .collect();
        return Err(Failure::from(format!(
            "{}: no identity pool `{id}` (its AWS::Cognito::IdentityPool resources: {})",
            t.name,
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        )));
    };
    let mut arns: Vec<String> = p
        .authenticated_role
        .iter()
        .chain(p.unauthenticated_role.iter())
        .cloned()
        .collect();
    for m in &p.role_mappings {
        arns.extend(m.rules.iter().map(|r| r.3.clone()));
    }
    // The roles of the groups of the pool's user pools: what Cognito puts in their members' ID tokens
    // (`cognito:roles`), for a `Token` role mapping.
    for g in &found.user_pool_groups {
        let of_pool = p
            .providers
            .iter()
            .any(|(name, _)| name.rsplit('/').next() == Some(g.user_pool_id.as_str()));
        if of_pool && let Some(arn) = &g.role_arn {
            arns.push(arn.clone());
        }
    }
    arns.sort();
    arns.dedup();
    let mut texts: BTreeMap<String, iam_policy::Source> = BTreeMap::new();
    let mut bundled: BTreeMap<String, iam_policy::Source> = BTreeMap::new();
    let mut named = |pol: &iac::Policy| {
        let n = policy_name(&t, pol);
        texts.insert(n.clone(), iac::policy_source(&t, pol, &n));
        Value::String(n)
    };
    let mut roles = BTreeMap::new();
    for arn in &arns {
        let role = found.roles.iter().find(|r| &r.arn == arn).ok_or_else(|| {
            format!(
                "{}: the identity pool `{id}` uses the role {arn}, which is not a role of the template (roles: {})",
                t.name,
                found.roles.iter().map(|r| r.arn.as_str()).collect::<Vec<_>>().join(", ")
            )
        })?;
        let rp = role_policies(&found, role);
        if let Some(b) = &rp.foreign_boundary {
            return Err(Failure::from(format!(
                "{}: the permissions boundary of `{}`, {b}, is not a managed policy of the template",
                t.name, role.logical_id
            )));
        }
        let trust = rp.trust.ok_or_else(|| {
            format!(
                "{}: the role `{}` has no trust policy",
                t.name, role.logical_id
            )
        })?;
        if let Some(m) = rp.foreign_managed.first() {
            return Err(Failure::from(format!(
                "{}: the role `{}` has {m} attached (ManagedPolicyArns), which is neither a managed policy of the template nor an AWS managed policy policy-check bundles",
                t.name, role.logical_id
            )));
        }
        let mut policies: Vec<Value> = rp.identity.iter().map(|x| named(x)).collect();
        for (m, text) in &rp.aws_managed {
            bundled.insert(m.clone(), iam_policy::Source::new(m.as_str(), *text));
            policies.push(Value::String(m.clone()));
        }
        roles.insert(
            arn.clone(),
            identity_pool::RoleConfig {
                trust: named(trust),
                policies,
                boundary: rp.boundary.map(&mut named),
            },
        );
    }
    let mut role_mappings = BTreeMap::new();
    for m in &p.role_mappings {
        let kind = match m.kind.as_str() {
            "Token" => identity_pool::MappingType::Token,
            "Rules" => identity_pool::MappingType::Rules,
            other => {
                return Err(Failure::from(format!(
                    "{}: a role mapping of type `{other}` (Token or Rules)",
                    t.name
                )));
            }
        };
        let mut rules = Vec::new();
        for (claim, match_type, value, role_arn) in &m.rules {
            rules.push(identity_pool::Rule {
                claim: claim.clone(),
                match_type: serde_json::from_value(json!(match_type)).map_err(|_| {
                    format!(
                        "{}: a rule's MatchType is Equals, NotEqual, StartsWith or Contains, not `{match_type}`",
                        t.name
                    )
                })?,
                value: value.clone(),
                role_arn: role_arn.clone(),
            });
        }
        role_mappings.insert(
            m.identity_provider.clone(),
            identity_pool::RoleMapping {
                kind,
                ambiguous_role_resolution: match m.ambiguous.as_deref() {
                    Some("Deny") => identity_pool::Ambiguous::Deny,
                    _ => identity_pool::Ambiguous::AuthenticatedRole,
                },
                rules,
            },
        );
    }
    let config = identity_pool::PoolConfig {
        identity_pool_id: p.id.clone(),
        account: input.template_account.clone(),
        authenticated_role: p.authenticated_role.clone(),
        unauthenticated_role: p.unauthenticated_role.clone(),
        allow_unauthenticated: p.allow_unauthenticated,
        allow_classic_flow: p.allow_classic_flow,
        roles,
        role_mappings,
        principal_tags: None,
        guest_session_policies: None,
        identity_ids,
        cognito_identity_providers: p
            .providers
            .iter()
            .map(
                |(provider_name, client_id)| identity_pool::CognitoProvider {
                    provider_name: provider_name.clone(),
                    client_id: client_id.clone(),
                },
            )
            .collect(),
        openid_connect_provider_arns: p.openid_connect_provider_arns.clone(),
        openid_connect_client_ids: BTreeMap::new(),
    };
    texts.extend(bundled);
    let files = |name: &str| -> Result<iam_policy::Source, identity_pool::PoolError> {
        texts.get(name).cloned().ok_or_else(|| {
            identity_pool::PoolError::config(format!("no policy `{name}` in the template"))
        })
    };
    identity_pool::IdentityPool::from_config(config, &files)
        .map_err(|e| Failure::from(e).at(&t.name.to_string()))
}

/// The API `id` of a template as an API definition (see `iac::Api`).
pub(crate) fn api_from_template(
    path: &std::path::Path,
    id: &str,
    input: &TemplateInput,
) -> Result<apigw::Api, Failure> {
    let (t, found) = load(path, input)?;
    let Some(api) = found.apis.iter().find(|a| a.logical_id == id) else {
        let ids: Vec<&str> = found.apis.iter().map(|a| a.logical_id.as_str()).collect();
        return Err(Failure::from(format!(
            "{}: no API `{id}` with a Lambda authorizer (its APIs with one: {})",
            t.name,
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        )));
    };
    apigw::Api::from_json(&api.definition.to_string())
        .map_err(|e| Failure::from(e).at(&format!("{}: the API `{id}`", t.name)))
}

/// A Cedar policy text with `@id("LogicalId")` first, unless it has an `@id` already: its policy id
/// is then the template resource's logical id.
fn with_id(id: &str, text: &str) -> String {
    if text.trim_start().starts_with("@id(") {
        text.to_string()
    } else {
        format!("@id({})\n{text}", Value::String(id.to_string()))
    }
}

/// The Verified Permissions policy store `id` of a template as a local store: its static policies and
/// policy templates (policy ids are their logical ids), template-linked policies, schema, validation
/// mode and Cognito identity source (tokens verified with `jwks`, when given).
pub(crate) fn store_from_template(
    path: &std::path::Path,
    id: &str,
    input: &TemplateInput,
    jwks: Option<&str>,
) -> Result<cedar_bridge::PolicyStore, Failure> {
    let files = store_files_from_template(path, id, input, jwks)?;
    cedar_bridge::PolicyStore::from_files(&files)
        .map_err(|e| Failure::from(e).at(&files.name.to_string()))
}

/// The files of the policy store `id` of a template, as a store directory would hold them (see
/// [`store_from_template`]).
pub(crate) fn store_files_from_template(
    path: &std::path::Path,
    id: &str,
    input: &TemplateInput,
    jwks: Option<&str>,
) -> Result<cedar_bridge::StoreFiles, Failure> {
    let (t, found) = load(path, input)?;
    let Some(s) = found.policy_stores.iter().find(|s| s.logical_id == id) else {
        let ids: Vec<&str> = found
            .policy_stores
            .iter()
            .map(|s| s.logical_id.as_str())
            .collect();
        return Err(Failure::from(format!(
            "{}: no policy store `{id}` (its AWS::VerifiedPermissions::PolicyStore resources: {})",
            t.name,
            if ids.is_empty() {
                "none".to_string()
            } else {
                ids.join(", ")
            }
        )));
    };
    let mut files = cedar_bridge::StoreFiles {
        name: format!("{}#{id}", t.name),
        ..Default::default()
    };
    for (pid, text) in s.policies.iter().chain(&s.templates) {
        files
            .policies
            .push((format!("{}#{pid}.cedar", t.name), with_id(pid, text)));
    }
    if let Some(js) = &s.schema_json {
        files.others.push(("schema.json".into(), js.clone()));
    }
    files.others.push((
        "policy-store.json".into(),
        json!({"validationSettings": {"mode": s.validation_mode}}).to_string(),
    ));
    if let Some(src) = &s.identity_source {
        let mut v = serde_json::Map::new();
        let mut opt = |k: &str, x: &Option<String>| {
            if let Some(x) = x {
                v.insert(k.into(), json!(x));
            }
        };
        opt("user_pool_id", &src.user_pool_id);
        opt("issuer", &src.issuer);
        opt("entity_id_prefix", &src.entity_id_prefix);
        opt("group_claim", &src.group_claim);
        opt("principal_id_claim", &src.principal_id_claim);
        opt("token_selection", &src.token_selection);
        v.insert(
            "principal_entity_type".into(),
            json!(src.principal_entity_type),
        );
        v.insert("client_ids".into(), json!(src.client_ids));
        if let Some(g) = &src.group_entity_type {
            v.insert("group_entity_type".into(), json!(g));
        }
        if let Some(j) = jwks {
            v.insert("jwks".into(), json!(j));
        }
        files
            .others
            .push(("identity-source.json".into(), Value::Object(v).to_string()));
    }
    if !s.links.is_empty() {
        let links: Vec<Value> = s
            .links
            .iter()
            .map(|l| {
                let mut values = serde_json::Map::new();
                if let Some(p) = &l.principal {
                    values.insert("?principal".into(), json!(p));
                }
                if let Some(r) = &l.resource {
                    values.insert("?resource".into(), json!(r));
                }
                json!({"template": l.template, "id": l.logical_id, "values": values})
            })
            .collect();
        files
            .others
            .push(("links.json".into(), Value::Array(links).to_string()));
    }
    Ok(files)
}

pub(crate) fn run(c: &TemplateCommand, out: &mut dyn Write) -> Result<u8, Failure> {
    let TemplateCommand::Show(a) = c;
    if a.format == Format::Human {
        // Logical ids, names and notes are the template's text: no terminal escapes pass.
        let mut text = Vec::new();
        let code = show(a, &mut text)?;
        let _ = out.write_all(diag::printable(&String::from_utf8_lossy(&text)).as_bytes());
        return Ok(code);
    }
    show(a, out)
}

fn show(a: &ShowArgs, out: &mut dyn Write) -> Result<u8, Failure> {
    let (t, found) = load(&a.template, &a.input)?;
    let at = |span: diag::Span| t.line_col(span.start);
    // The type as the template writes it (CloudFormation's or Terraform's).
    let kind = |id: &str| t.resource(id).map_or("", |r| r.kind.as_str()).to_string();
    match a.format {
        Format::Json => {
            let policies: Vec<Value> = found
                .policies
                .iter()
                .map(|p| {
                    let (line, column) = at(p.span);
                    let doc: Value =
                        serde_json::from_str(&iac::render(&p.document).0).unwrap_or(Value::Null);
                    json!({"logical_id": p.logical_id, "resource_type": p.resource_type,
                        "path": p.path, "policy_type": p.policy_type.to_string(), "line": line,
                        "column": column, "attached_to": p.attached_to, "document": doc})
                })
                .collect();
            let skipped: Vec<Value> = found
                .skipped
                .iter()
                .map(|s| json!({"logical_id": s.logical_id, "resource_type": s.resource_type, "reason": s.reason}))
                .collect();
            let notes: Vec<Value> = found
                .notes
                .iter()
                .map(|n| {
                    let (line, column) = at(n.span);
                    json!({"line": line, "column": column, "logical_id": n.logical_id, "note": n.text})
                })
                .collect();
            let pos = |span: diag::Span| {
                let (line, column) = at(span);
                json!({"line": line, "column": column})
            };
            let pools: Vec<Value> = found
                .identity_pools
                .iter()
                .map(|p| {
                    json!({"logical_id": p.logical_id, "resource_type": kind(&p.logical_id),
                        "at": pos(p.span), "id": p.id,
                        "allow_unauthenticated_identities": p.allow_unauthenticated,
                        "allow_classic_flow": p.allow_classic_flow,
                        "cognito_identity_providers": p.providers.iter().map(|(n, c)| json!({"provider_name": n, "client_id": c})).collect::<Vec<_>>(),
                        "openid_connect_provider_arns": p.openid_connect_provider_arns,
                        "authenticated_role": p.authenticated_role,
                        "unauthenticated_role": p.unauthenticated_role,
                        "role_mappings": p.role_mappings.iter().map(|m| json!({
                            "identity_provider": m.identity_provider, "type": m.kind,
                            "ambiguous_role_resolution": m.ambiguous,
                            "rules": m.rules.iter().map(|(c, t, v, r)| json!({"claim": c, "match_type": t, "value": v, "role_arn": r})).collect::<Vec<_>>()
                        })).collect::<Vec<_>>()})
                })
                .collect();
            let groups: Vec<Value> = found
                .user_pool_groups
                .iter()
                .map(|g| {
                    json!({"logical_id": g.logical_id, "resource_type": kind(&g.logical_id),
                        "at": pos(g.span), "group_name": g.name, "user_pool_id": g.user_pool_id,
                        "role_arn": g.role_arn, "precedence": g.precedence})
                })
                .collect();
            let stores: Vec<Value> = found
                .policy_stores
                .iter()
                .map(|s| {
                    json!({"logical_id": s.logical_id, "resource_type": kind(&s.logical_id),
                        "at": pos(s.span), "validation_mode": s.validation_mode,
                        "schema": s.schema_json.is_some(),
                        "policies": s.policies.iter().map(|(id, text)| json!({"logical_id": id, "statement": text})).collect::<Vec<_>>(),
                        "templates": s.templates.iter().map(|(id, text)| json!({"logical_id": id, "statement": text})).collect::<Vec<_>>(),
                        "links": s.links.iter().map(|l| json!({"logical_id": l.logical_id, "template": l.template, "principal": l.principal, "resource": l.resource})).collect::<Vec<_>>(),
                        "identity_source": s.identity_source.as_ref().map(|i| json!({"user_pool_id": i.user_pool_id, "issuer": i.issuer, "client_ids": i.client_ids, "principal_entity_type": i.principal_entity_type, "group_entity_type": i.group_entity_type, "group_claim": i.group_claim, "entity_id_prefix": i.entity_id_prefix, "principal_id_claim": i.principal_id_claim, "token_selection": i.token_selection}))})
                })
                .collect();
            let apis: Vec<Value> = found
                .apis
                .iter()
                .map(|a| json!({"logical_id": a.logical_id, "at": pos(a.span), "definition": a.definition}))
                .collect();
            let _ = writeln!(
                out,
                "{}",
                json!({"template": t.name, "policies": policies, "identity_pools": pools,
                    "user_pool_groups": groups, "policy_stores": stores, "apis": apis,
                    "skipped": skipped, "placeholders": notes})
            );
        }
        Format::Human => {
            let _ = writeln!(
                out,
                "{}: {} polic{}, {} resource(s) without one, {} placeholder(s)",
                t.name,
                found.policies.len(),
                if found.policies.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                found.skipped.len(),
                found.notes.len()
            );
            for p in &found.policies {
                let (l, c) = at(p.span);
                let on = if p.attached_to.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", p.attached_to.join(", "))
                };
                let _ = writeln!(
                    out,
                    "\n{} ({}) {}:{l}:{c}: {} policy{on}",
                    p.name(),
                    p.resource_type,
                    t.name,
                    p.policy_type
                );
                for line in iac::render(&p.document).0.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            for p in &found.identity_pools {
                let (l, c) = at(p.span);
                let _ = writeln!(
                    out,
                    "\n{} ({}) {}:{l}:{c}: identity pool {}",
                    p.logical_id,
                    kind(&p.logical_id),
                    t.name,
                    p.id
                );
                for (name, client) in &p.providers {
                    let _ = writeln!(out, "  provider {name} client {client}");
                }
                let _ = writeln!(
                    out,
                    "  guests {}, classic flow {}",
                    if p.allow_unauthenticated {
                        "allowed"
                    } else {
                        "not allowed"
                    },
                    if p.allow_classic_flow { "on" } else { "off" }
                );
                for (what, role) in [
                    ("authenticated", &p.authenticated_role),
                    ("unauthenticated", &p.unauthenticated_role),
                ] {
                    if let Some(r) = role {
                        let _ = writeln!(out, "  {what} role {r}");
                    }
                }
                for m in &p.role_mappings {
                    let _ = writeln!(
                        out,
                        "  role mapping for {}: {} ({} rule(s))",
                        m.identity_provider,
                        m.kind,
                        m.rules.len()
                    );
                }
            }
            for g in &found.user_pool_groups {
                let (l, c) = at(g.span);
                let _ = writeln!(
                    out,
                    "\n{} ({}) {}:{l}:{c}: group {} of user pool {}, role {}, precedence {}",
                    g.logical_id,
                    kind(&g.logical_id),
                    t.name,
                    g.name,
                    g.user_pool_id,
                    g.role_arn.as_deref().unwrap_or("(none)"),
                    g.precedence
                        .map_or_else(|| "(none)".to_string(), |p| p.to_string())
                );
            }
            for s in &found.policy_stores {
                let (l, c) = at(s.span);
                let _ = writeln!(
                    out,
                    "\n{} ({}) {}:{l}:{c}: {} polic{}, {} template(s), {} link(s), validation {}{}{}",
                    s.logical_id,
                    kind(&s.logical_id),
                    t.name,
                    s.policies.len(),
                    if s.policies.len() == 1 { "y" } else { "ies" },
                    s.templates.len(),
                    s.links.len(),
                    s.validation_mode,
                    if s.schema_json.is_some() {
                        ", a schema"
                    } else {
                        ""
                    },
                    s.identity_source
                        .as_ref()
                        .map(|i| match (&i.user_pool_id, &i.issuer) {
                            (Some(pool), _) => format!(
                                ", Cognito identity source {pool} ({})",
                                i.principal_entity_type
                            ),
                            (None, issuer) => format!(
                                ", OpenID Connect identity source {} ({}{})",
                                issuer.as_deref().unwrap_or(""),
                                i.principal_entity_type,
                                i.token_selection
                                    .as_deref()
                                    .map(|t| format!(", {t} tokens only"))
                                    .unwrap_or_default()
                            ),
                        })
                        .unwrap_or_default()
                );
                for (id, _) in &s.policies {
                    let _ = writeln!(out, "  policy {id}");
                }
            }
            if !found.skipped.is_empty() {
                let _ = writeln!(out, "\nwithout a policy:");
                for s in &found.skipped {
                    let _ = writeln!(
                        out,
                        "  {} ({}): {}",
                        s.logical_id, s.resource_type, s.reason
                    );
                }
            }
            if !found.notes.is_empty() {
                let _ = writeln!(out, "\nplaceholders:");
                for n in &found.notes {
                    let (l, c) = at(n.span);
                    let _ = writeln!(out, "  {}:{l}:{c}: {}", t.name, n.text);
                }
            }
        }
    }
    Ok(0)
}
