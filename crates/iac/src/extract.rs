//! The policies a template's resources carry ("AWS resource and property types reference" for each type),
//! resolved, with the resource, the property path and the template position of each.

use diag::Span;
use diag::json::{Kind, Value};
use iam_policy::PolicyType;

use crate::{IacError, Note, Resolver, Settings, Template, member};

/// A policy found in a template.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The resource's logical id.
    pub logical_id: String,
    /// The resource's type.
    pub resource_type: String,
    /// Where in the resource: `AssumeRolePolicyDocument`, `Policies[0]` (`read`), `PolicyDocument`, ….
    pub path: String,
    /// What kind of policy it is.
    pub policy_type: PolicyType,
    /// The resolved document, each value with its template position.
    pub document: Value,
    /// The unresolved document's position.
    pub span: Span,
    /// What it is attached to or governs, resolved (role names, bucket names, ARNs), when the property
    /// says.
    pub attached_to: Vec<String>,
}

impl Policy {
    /// `LogicalId.path`, the name used in reports.
    pub fn name(&self) -> String {
        format!("{}.{}", self.logical_id, self.path)
    }
}

/// A resource that carries no policy policy-check reads, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Its logical id.
    pub logical_id: String,
    /// Its type.
    pub resource_type: String,
    /// Why.
    pub reason: String,
}

/// A role of the template, resolved: what `eval --template --role` needs besides its policies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// Its logical id.
    pub logical_id: String,
    /// `RoleName` (or the generated name).
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// `PermissionsBoundary`, resolved.
    pub boundary: Option<String>,
    /// `ManagedPolicyArns`, resolved.
    pub managed: Vec<String>,
}

/// A role mapping of an identity pool (`AWS::Cognito::IdentityPoolRoleAttachment`'s `RoleMappings`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleMapping {
    /// `IdentityProvider`: `cognito-idp.<region>.amazonaws.com/<pool>:<client>`.
    pub identity_provider: String,
    /// `Token` or `Rules`.
    pub kind: String,
    /// `AmbiguousRoleResolution` (`AuthenticatedRole` or `Deny`), when given.
    pub ambiguous: Option<String>,
    /// `RulesConfiguration.Rules`: (claim, match type, value, role ARN).
    pub rules: Vec<(String, String, String, String)>,
}

/// An identity pool of the template, with its role attachment, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityPool {
    /// Its logical id.
    pub logical_id: String,
    /// Its id (`Ref`; a placeholder until deployed).
    pub id: String,
    /// `AllowUnauthenticatedIdentities`.
    pub allow_unauthenticated: bool,
    /// `AllowClassicFlow`.
    pub allow_classic_flow: bool,
    /// `CognitoIdentityProviders`: (provider name, client id).
    pub providers: Vec<(String, String)>,
    /// `OpenIdConnectProviderARNs`.
    pub openid_connect_provider_arns: Vec<String>,
    /// The attachment's `Roles.authenticated`.
    pub authenticated_role: Option<String>,
    /// The attachment's `Roles.unauthenticated`.
    pub unauthenticated_role: Option<String>,
    /// The attachment's `RoleMappings`.
    pub role_mappings: Vec<RoleMapping>,
    /// The pool's definition.
    pub span: Span,
}

/// A user-pool group (`AWS::Cognito::UserPoolGroup`), resolved: its role is what Cognito puts in the ID
/// tokens of its members (`cognito:roles`, and `cognito:preferred_role` by precedence), for an identity
/// pool's `Token` role mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserPoolGroup {
    /// Its logical id.
    pub logical_id: String,
    /// `GroupName` (or the generated name).
    pub name: String,
    /// `UserPoolId`, resolved.
    pub user_pool_id: String,
    /// `RoleArn`, resolved, when given.
    pub role_arn: Option<String>,
    /// `Precedence`, when given.
    pub precedence: Option<i64>,
    /// The group's definition.
    pub span: Span,
}

/// What a template holds: its policies, the resources skipped, and the placeholders used.
#[derive(Clone, Debug)]
pub struct Found {
    /// Every policy, in template order.
    pub policies: Vec<Policy>,
    /// Every role (`AWS::IAM::Role`), resolved.
    pub roles: Vec<Role>,
    /// The ARN of each `AWS::IAM::ManagedPolicy`, by logical id.
    pub managed_policy_arns: Vec<(String, String)>,
    /// Every identity pool (`AWS::Cognito::IdentityPool`), with its role attachment.
    pub identity_pools: Vec<IdentityPool>,
    /// Every user-pool group (`AWS::Cognito::UserPoolGroup`), with its role.
    pub user_pool_groups: Vec<UserPoolGroup>,
    /// Every Verified Permissions policy store, with its policies, templates, links and identity
    /// source.
    pub policy_stores: Vec<crate::PolicyStore>,
    /// Every API Gateway API with a Lambda authorizer, as an API definition.
    pub apis: Vec<crate::Api>,
    /// Resources with no policy read, with the reason.
    pub skipped: Vec<Skipped>,
    /// Placeholders and other notes from resolution.
    pub notes: Vec<Note>,
}

/// Where each type keeps its policies: (property, policy type, the property naming what it governs).
fn documents(kind: &str) -> &'static [(&'static str, PolicyType, Option<&'static str>)] {
    match kind {
        "AWS::IAM::ManagedPolicy" | "AWS::IAM::Policy" => {
            &[("PolicyDocument", PolicyType::Identity, Some("Roles"))]
        }
        "AWS::S3::BucketPolicy" => &[("PolicyDocument", PolicyType::Resource, Some("Bucket"))],
        "AWS::SQS::QueuePolicy" => &[("PolicyDocument", PolicyType::Resource, Some("Queues"))],
        "AWS::SNS::TopicPolicy" => &[("PolicyDocument", PolicyType::Resource, Some("Topics"))],
        "AWS::KMS::Key" => &[("KeyPolicy", PolicyType::Resource, None)],
        "AWS::SecretsManager::ResourcePolicy" => {
            &[("ResourcePolicy", PolicyType::Resource, Some("SecretId"))]
        }
        "AWS::S3::AccessPoint" => &[("Policy", PolicyType::Resource, Some("Bucket"))],
        "AWS::Lambda::LayerVersionPermission" | "AWS::Lambda::Permission" => &[],
        _ => &[],
    }
}

fn texts(r: &Resolver<'_>, v: &Value) -> Result<Vec<String>, IacError> {
    Ok(match r.value(v)?.map(|x| x.kind) {
        Some(Kind::Array(items)) => items.iter().map(crate::scalar_text).collect(),
        Some(Kind::String(s)) => vec![s],
        _ => Vec::new(),
    })
}

pub(crate) fn policies(t: &Template, settings: &Settings) -> Result<Found, IacError> {
    let r = Resolver::new(t, settings.clone());
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut roles = Vec::new();
    let mut managed_policy_arns = Vec::new();
    for res in &t.resources {
        let id = res.logical_id.as_str();
        if let Some(c) = &res.condition
            && !r.condition(c, res.span).map_err(|e| e.about(id))?
        {
            skipped.push(Skipped {
                logical_id: id.to_string(),
                resource_type: res.kind.clone(),
                reason: format!("its condition `{c}` is false with these parameters"),
            });
            continue;
        }
        let mut doc = |prop: &str,
                       path: String,
                       ty: PolicyType,
                       attached: Vec<String>,
                       v: &Value|
         -> Result<(), IacError> {
            let document = r.value(v).map_err(|e| e.about(id))?.ok_or_else(|| {
                IacError::unresolved(&t.name, v.span, format!("`{prop}` is AWS::NoValue")).about(id)
            })?;
            let document = match document.kind {
                // A policy written as a JSON string (allowed for some properties).
                Kind::String(s) => {
                    let mut diags = Vec::new();
                    let parsed = diag::json::read(&s, &mut diags)
                        .filter(|_| diags.iter().all(|d| !d.is_error()));
                    match parsed {
                        Some(mut p) => {
                            respan(&mut p, document.span);
                            p
                        }
                        None => {
                            return Err(IacError::template(
                                &t.name,
                                v.span,
                                format!("`{prop}` is a string that is not a JSON policy"),
                            )
                            .about(id));
                        }
                    }
                }
                _ => document,
            };
            out.push(super::Policy {
                logical_id: id.to_string(),
                resource_type: res.kind.clone(),
                path,
                policy_type: ty,
                document,
                span: v.span,
                attached_to: attached,
            });
            Ok(())
        };
        if res.kind == "AWS::IAM::ManagedPolicy" {
            let arn = r.resource_text("Ref", id, id, res.span)?;
            managed_policy_arns.push((id.to_string(), arn));
        }
        if res.kind == "AWS::IAM::Role" {
            let name = r.physical_name(id, res.span).map_err(|e| e.about(id))?;
            let path = match res.property("Path") {
                Some(v) => r
                    .value(v)
                    .map_err(|e| e.about(id))?
                    .map(|v| crate::scalar_text(&v))
                    .unwrap_or_else(|| "/".into()),
                None => "/".into(),
            };
            let boundary = match res.property("PermissionsBoundary") {
                Some(v) => r
                    .value(v)
                    .map_err(|e| e.about(id))?
                    .map(|v| crate::scalar_text(&v)),
                None => None,
            };
            let managed = match res.property("ManagedPolicyArns") {
                Some(v) => texts(&r, v).map_err(|e| e.about(id))?,
                None => Vec::new(),
            };
            let s = r.settings();
            roles.push(Role {
                logical_id: id.to_string(),
                arn: format!(
                    "arn:{}:iam::{}:role{path}{name}",
                    crate::partition(&s.region),
                    s.account
                ),
                name,
                boundary,
                managed,
            });
        }
        match res.kind.as_str() {
            "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
                if let Some(v) = res.property("AssumeRolePolicyDocument") {
                    doc(
                        "AssumeRolePolicyDocument",
                        "AssumeRolePolicyDocument".into(),
                        PolicyType::Trust,
                        Vec::new(),
                        v,
                    )?;
                }
                if let Some(Kind::Array(ps)) = res.property("Policies").map(|p| &p.kind) {
                    for (i, p) in ps.iter().enumerate() {
                        // `Policies` items may be switched off with Fn::If / AWS::NoValue.
                        let Some(p) = r.value(p).map_err(|e| e.about(id))? else {
                            continue;
                        };
                        let pname = member(&p, "PolicyName")
                            .map(crate::scalar_text)
                            .unwrap_or_default();
                        let Some(d) = member(&p, "PolicyDocument") else {
                            return Err(IacError::template(
                                &t.name,
                                p.span,
                                format!("`Policies[{i}]` has no `PolicyDocument`"),
                            )
                            .about(id));
                        };
                        doc(
                            "PolicyDocument",
                            format!("Policies[{i}] ({pname})"),
                            PolicyType::Identity,
                            Vec::new(),
                            d,
                        )?;
                    }
                }
                if out.iter().all(|p| p.logical_id != id) {
                    skipped.push(Skipped {
                        logical_id: id.to_string(),
                        resource_type: res.kind.clone(),
                        reason: "no inline policy (managed policies attached by ARN are not read)"
                            .into(),
                    });
                }
            }
            "AWS::Serverless::Function" => {
                sam_function(t, &r, res, &mut out, &mut skipped, &mut roles)?;
            }
            "AWS::Organizations::Policy" => {
                let ty = res
                    .property("Type")
                    .map(crate::scalar_text)
                    .unwrap_or_default();
                let pt = match ty.as_str() {
                    "SERVICE_CONTROL_POLICY" => PolicyType::Scp,
                    "RESOURCE_CONTROL_POLICY" => PolicyType::Rcp,
                    other => {
                        skipped.push(Skipped {
                            logical_id: id.to_string(),
                            resource_type: res.kind.clone(),
                            reason: format!(
                                "an Organizations policy of type `{other}` is not an IAM policy"
                            ),
                        });
                        continue;
                    }
                };
                if let Some(v) = res.property("Content") {
                    doc("Content", "Content".into(), pt, Vec::new(), v)?;
                }
            }
            kind => {
                let props = documents(kind);
                // Read as identity pools and policy stores (see `Found`), not as IAM policies.
                let read_otherwise = matches!(
                    kind,
                    "AWS::Cognito::IdentityPool"
                        | "AWS::Cognito::IdentityPoolRoleAttachment"
                        | "AWS::Cognito::UserPoolGroup"
                        | "AWS::VerifiedPermissions::PolicyStore"
                        | "AWS::VerifiedPermissions::Policy"
                        | "AWS::VerifiedPermissions::PolicyTemplate"
                        | "AWS::VerifiedPermissions::IdentitySource"
                        | "AWS::ApiGateway::RestApi"
                        | "AWS::ApiGateway::Resource"
                        | "AWS::ApiGateway::Method"
                        | "AWS::ApiGateway::Authorizer"
                        | "AWS::ApiGateway::Stage"
                        | "AWS::ApiGatewayV2::Api"
                        | "AWS::ApiGatewayV2::Route"
                        | "AWS::ApiGatewayV2::Authorizer"
                        | "AWS::ApiGatewayV2::Stage"
                        | "AWS::Serverless::Api"
                        | "AWS::Serverless::HttpApi"
                );
                if read_otherwise {
                    continue;
                }
                if props.is_empty() {
                    skipped.push(Skipped {
                        logical_id: id.to_string(),
                        resource_type: kind.to_string(),
                        reason: "carries no policy document policy-check reads".into(),
                    });
                    continue;
                }
                for (prop, ty, target) in props {
                    let attached = match target.and_then(|p| res.property(p)) {
                        Some(v) => texts(&r, v).map_err(|e| e.about(id))?,
                        None => Vec::new(),
                    };
                    match res.property(prop) {
                        Some(v) => doc(prop, (*prop).to_string(), *ty, attached, v)?,
                        None => skipped.push(Skipped {
                            logical_id: id.to_string(),
                            resource_type: kind.to_string(),
                            reason: format!("no `{prop}`"),
                        }),
                    }
                }
            }
        }
    }
    let identity_pools = identity_pools(t, &r)?;
    let user_pool_groups = user_pool_groups(t, &r)?;
    let policy_stores = crate::avp::policy_stores(t, &r)?;
    let mut apis = crate::apigw::apis(t, &r)?;
    apis.extend(crate::apigw::sam_apis(t, &r)?);
    Ok(Found {
        apis,
        policy_stores,
        identity_pools,
        user_pool_groups,
        roles,
        managed_policy_arns,
        policies: out,
        skipped,
        notes: r.notes(),
    })
}

/// Gives every value of a policy parsed from a string the position of that string.
pub(crate) fn respan(v: &mut Value, span: Span) {
    v.span = span;
    match &mut v.kind {
        Kind::Array(items) => items.iter_mut().for_each(|x| respan(x, span)),
        Kind::Object(ms) => ms.iter_mut().for_each(|m| {
            m.key_span = span;
            respan(&mut m.value, span);
        }),
        _ => {}
    }
}

/// SAM's policy templates (`DynamoDBCrudPolicy`, …), from AWS SAM (Apache-2.0, `data/`).
const SAM_TEMPLATES: &str = include_str!("../data/sam-policy-templates.json");

/// The SAM policy template `name`, if there is one: its parameters and its definition.
fn sam_template(name: &str) -> Option<(Vec<String>, serde_json::Value)> {
    static PARSED: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    let all = PARSED.get_or_init(|| serde_json::from_str(SAM_TEMPLATES).unwrap_or_default());
    let t = all.get("Templates")?.get(name)?;
    let params = t
        .get("Parameters")
        .and_then(serde_json::Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    Some((params, t.get("Definition")?.clone()))
}

/// A JSON value as a spanned value, every part at `span`.
fn spanned(v: &serde_json::Value, span: Span) -> Value {
    let kind = match v {
        serde_json::Value::Null => Kind::Null,
        serde_json::Value::Bool(b) => Kind::Bool(*b),
        serde_json::Value::Number(n) => Kind::Number(n.to_string()),
        serde_json::Value::String(s) => Kind::String(s.clone()),
        serde_json::Value::Array(a) => Kind::Array(a.iter().map(|x| spanned(x, span)).collect()),
        serde_json::Value::Object(m) => Kind::Object(
            m.iter()
                .map(|(k, x)| diag::json::Member {
                    key: k.clone(),
                    key_span: span,
                    value: spanned(x, span),
                })
                .collect(),
        ),
    };
    Value { kind, span }
}

/// `{"Ref": P}` for a template parameter `P` replaced by its value.
fn substitute(v: &Value, params: &[(String, Value)]) -> Value {
    if let Some((
        "Ref",
        Value {
            kind: Kind::String(name),
            ..
        },
    )) = crate::function(v)
        && let Some((_, value)) = params.iter().find(|(p, _)| p == name)
    {
        return value.clone();
    }
    let kind = match &v.kind {
        Kind::Array(a) => Kind::Array(a.iter().map(|x| substitute(x, params)).collect()),
        Kind::Object(ms) => Kind::Object(
            ms.iter()
                .map(|m| diag::json::Member {
                    key: m.key.clone(),
                    key_span: m.key_span,
                    value: substitute(&m.value, params),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Value { kind, span: v.span }
}

/// SAM's transform of a function's permissions ("AWS::Serverless::Function", `Role`, `Policies`,
/// `AssumeRolePolicyDocument`, `PermissionsBoundary`): without `Role`, SAM generates the role
/// `{LogicalId}Role` trusted by `lambda.amazonaws.com` (or the given trust policy), with
/// `AWSLambdaBasicExecutionRole` and the managed policies named in `Policies`, and one inline policy
/// `{LogicalId}RolePolicy{i}` per inline document or policy template in `Policies`.
fn sam_function(
    t: &Template,
    r: &Resolver<'_>,
    res: &crate::Resource,
    out: &mut Vec<Policy>,
    skipped: &mut Vec<Skipped>,
    roles: &mut Vec<Role>,
) -> Result<(), IacError> {
    let id = res.logical_id.as_str();
    if res.property("Role").is_some() {
        skipped.push(Skipped {
            logical_id: id.to_string(),
            resource_type: res.kind.clone(),
            reason: "it names its role (`Role`): SAM generates none, and `Policies` is ignored"
                .into(),
        });
        return Ok(());
    }
    let role_id = format!("{id}Role");
    let s = r.settings();
    let p = crate::partition(&s.region);
    let mut managed = vec![format!(
        "arn:{p}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    )];
    let push =
        |out: &mut Vec<Policy>, path: String, ty: PolicyType, document: Value, span: Span| {
            out.push(Policy {
                logical_id: role_id.clone(),
                resource_type: "AWS::IAM::Role".into(),
                path,
                policy_type: ty,
                document,
                span,
                attached_to: Vec::new(),
            });
        };
    let trust = match res.property("AssumeRolePolicyDocument") {
        Some(v) => r.value(v).map_err(|e| e.about(id))?,
        None => None,
    };
    let trust = trust.unwrap_or_else(|| {
        spanned(
            &serde_json::json!({"Version": "2012-10-17", "Statement": [{"Action": ["sts:AssumeRole"],
                "Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}}]}),
            res.span,
        )
    });
    push(
        out,
        "AssumeRolePolicyDocument (SAM)".into(),
        PolicyType::Trust,
        trust,
        res.span,
    );
    let items: Vec<Value> = match res.property("Policies") {
        None => Vec::new(),
        Some(v) => match r.value(v).map_err(|e| e.about(id))? {
            Some(Value {
                kind: Kind::Array(a),
                ..
            }) => a,
            Some(one) => vec![one],
            None => Vec::new(),
        },
    };
    for (i, item) in items.iter().enumerate() {
        let name = format!("{role_id}Policy{i}");
        match &item.kind {
            Kind::String(m) => managed.push(if m.starts_with("arn:") {
                m.clone()
            } else {
                format!("arn:{p}:iam::aws:policy/{m}")
            }),
            Kind::Object(_) if member(item, "Statement").is_some() => {
                push(
                    out,
                    format!("Policies[{i}] ({name})"),
                    PolicyType::Identity,
                    item.clone(),
                    item.span,
                );
            }
            Kind::Object(ms) if ms.len() == 1 => {
                let (tname, args) =
                    ms.first()
                        .map(|m| (m.key.as_str(), &m.value))
                        .ok_or_else(|| {
                            IacError::template(&t.name, item.span, "an empty policy").about(id)
                        })?;
                let (params, def) = sam_template(tname).ok_or_else(|| {
                    IacError::template(
                        &t.name,
                        item.span,
                        format!("`Policies[{i}]`: `{tname}` is not one of SAM's policy templates, a policy document or a managed policy"),
                    )
                    .about(id)
                })?;
                let mut values = Vec::new();
                for p in &params {
                    let v = member(args, p).ok_or_else(|| {
                        IacError::template(
                            &t.name,
                            item.span,
                            format!("the SAM policy template `{tname}` needs `{p}`"),
                        )
                        .about(id)
                    })?;
                    values.push((p.clone(), v.clone()));
                }
                let def = substitute(&spanned(&def, item.span), &values);
                // As SAM writes it: `{"Statement": […]}`, without a `Version` (SAM's translator output).
                let doc = r.value(&def).map_err(|e| e.about(id))?.ok_or_else(|| {
                    IacError::unresolved(&t.name, item.span, "an empty policy template").about(id)
                })?;
                push(
                    out,
                    format!("Policies[{i}] ({name}, {tname})"),
                    PolicyType::Identity,
                    doc,
                    item.span,
                );
            }
            other => {
                return Err(IacError::template(
                    &t.name,
                    item.span,
                    format!("`Policies[{i}]` is {}: SAM takes a managed policy, a policy document or a policy template", other.name()),
                )
                .about(id));
            }
        }
    }
    let boundary = match res.property("PermissionsBoundary") {
        Some(v) => r
            .value(v)
            .map_err(|e| e.about(id))?
            .map(|v| crate::scalar_text(&v)),
        None => None,
    };
    let name = crate::resolve::generated(&s.stack_name, &role_id, "AWS::IAM::Role");
    roles.push(Role {
        logical_id: role_id.clone(),
        arn: format!("arn:{p}:iam::{}:role/{name}", s.account),
        name,
        boundary,
        managed,
    });
    Ok(())
}

/// The template's identity pools, each with the role attachment that names it.
/// The user-pool groups of a template. A `Precedence` that is not a non-negative integer is an error
/// (CloudFormation refuses it; a wrong order would pick the wrong preferred role).
fn user_pool_groups(t: &Template, r: &Resolver<'_>) -> Result<Vec<UserPoolGroup>, IacError> {
    let mut out = Vec::new();
    for res in t
        .resources
        .iter()
        .filter(|x| x.kind == "AWS::Cognito::UserPoolGroup")
    {
        let id = res.logical_id.as_str();
        let precedence = match r.text_of(res.property("Precedence"), id)? {
            None => None,
            Some(p) => Some(p.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                IacError::template(
                    &t.name,
                    res.property("Precedence").map_or(res.span, |v| v.span),
                    format!("`Precedence` is a non-negative integer, not `{p}`"),
                )
                .about(id)
            })?),
        };
        out.push(UserPoolGroup {
            logical_id: id.to_string(),
            name: r.resource_text("Ref", id, id, res.span)?,
            user_pool_id: r
                .text_of(res.property("UserPoolId"), id)?
                .unwrap_or_default(),
            role_arn: r.text_of(res.property("RoleArn"), id)?,
            precedence,
            span: res.span,
        });
    }
    Ok(out)
}

fn identity_pools(t: &Template, r: &Resolver<'_>) -> Result<Vec<IdentityPool>, IacError> {
    let mut pools = Vec::new();
    for res in t
        .resources
        .iter()
        .filter(|x| x.kind == "AWS::Cognito::IdentityPool")
    {
        let id = res.logical_id.as_str();
        let pool_id = r.resource_text("Ref", id, id, res.span)?;
        let flag = |k: &str| -> Result<bool, IacError> {
            Ok(r.text_of(res.property(k), id)?.is_some_and(|v| v == "true"))
        };
        let mut providers = Vec::new();
        if let Some(v) = res.property("CognitoIdentityProviders")
            && let Some(Kind::Array(items)) = r.value(v).map_err(|e| e.about(id))?.map(|x| x.kind)
        {
            for p in &items {
                let get = |k: &str| member(p, k).map(crate::scalar_text).unwrap_or_default();
                providers.push((get("ProviderName"), get("ClientId")));
            }
        }
        let oidc = match res.property("OpenIdConnectProviderARNs") {
            Some(v) => texts(r, v).map_err(|e| e.about(id))?,
            None => Vec::new(),
        };
        pools.push(IdentityPool {
            logical_id: id.to_string(),
            id: pool_id,
            allow_unauthenticated: flag("AllowUnauthenticatedIdentities")?,
            allow_classic_flow: flag("AllowClassicFlow")?,
            providers,
            openid_connect_provider_arns: oidc,
            authenticated_role: None,
            unauthenticated_role: None,
            role_mappings: Vec::new(),
            span: res.span,
        });
    }
    for res in t
        .resources
        .iter()
        .filter(|x| x.kind == "AWS::Cognito::IdentityPoolRoleAttachment")
    {
        let id = res.logical_id.as_str();
        let target = r
            .text_of(res.property("IdentityPoolId"), id)?
            .unwrap_or_default();
        let Some(pool) = pools.iter_mut().find(|p| p.id == target) else {
            return Err(IacError::unresolved(
                &t.name,
                res.span,
                format!("the role attachment names identity pool `{target}`, which is not in the template"),
            )
            .about(id));
        };
        if let Some(roles) = res.property("Roles") {
            let roles = r.value(roles).map_err(|e| e.about(id))?;
            let get = |k: &str| {
                roles
                    .as_ref()
                    .and_then(|v| member(v, k))
                    .map(crate::scalar_text)
            };
            pool.authenticated_role = get("authenticated");
            pool.unauthenticated_role = get("unauthenticated");
        }
        if let Some(m) = res.property("RoleMappings")
            && let Some(Value {
                kind: Kind::Object(ms),
                ..
            }) = r.value(m).map_err(|e| e.about(id))?
        {
            for m in &ms {
                let v = &m.value;
                let get = |k: &str| member(v, k).map(crate::scalar_text);
                let mut rules = Vec::new();
                if let Some(Kind::Array(rs)) = member(v, "RulesConfiguration")
                    .and_then(|c| member(c, "Rules"))
                    .map(|x| &x.kind)
                {
                    for rule in rs {
                        let g =
                            |k: &str| member(rule, k).map(crate::scalar_text).unwrap_or_default();
                        rules.push((g("Claim"), g("MatchType"), g("Value"), g("RoleARN")));
                    }
                }
                pool.role_mappings.push(RoleMapping {
                    identity_provider: get("IdentityProvider").unwrap_or_else(|| m.key.clone()),
                    kind: get("Type").unwrap_or_default(),
                    ambiguous: get("AmbiguousRoleResolution"),
                    rules,
                });
            }
        }
    }
    Ok(pools)
}
