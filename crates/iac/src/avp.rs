//! Verified Permissions policy stores of a template ("AWS::VerifiedPermissions::PolicyStore", `::Policy`,
//! `::PolicyTemplate`, `::IdentitySource`), resolved: what a local store is built from.

use diag::Span;
use diag::json::{Kind, Value};

use crate::{IacError, Resolver, Template, member, scalar_text};

/// A template-linked policy: `Definition.TemplateLinked`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateLink {
    /// The policy's logical id (its policy id locally).
    pub logical_id: String,
    /// The policy template's logical id.
    pub template: String,
    /// `Principal` as `Type::"id"`, when given.
    pub principal: Option<String>,
    /// `Resource` as `Type::"id"`, when given.
    pub resource: Option<String>,
}

/// An identity source: a Cognito user pool (`Configuration.CognitoUserPoolConfiguration`) or an OpenID
/// Connect provider (`Configuration.OpenIdConnectConfiguration`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentitySource {
    /// The user pool's id, from `UserPoolArn` (Cognito).
    pub user_pool_id: Option<String>,
    /// `Issuer` (OIDC).
    pub issuer: Option<String>,
    /// Cognito's `ClientIds`; OIDC's `TokenSelection.IdentityTokenOnly.ClientIds` or
    /// `TokenSelection.AccessTokenOnly.Audiences`.
    pub client_ids: Vec<String>,
    /// `PrincipalEntityType`.
    pub principal_entity_type: String,
    /// `GroupConfiguration.GroupEntityType`, when given.
    pub group_entity_type: Option<String>,
    /// `GroupConfiguration.GroupClaim` (OIDC), when given.
    pub group_claim: Option<String>,
    /// `EntityIdPrefix` (OIDC), when given.
    pub entity_id_prefix: Option<String>,
    /// `TokenSelection.*.PrincipalIdClaim` (OIDC), when given.
    pub principal_id_claim: Option<String>,
    /// OIDC `TokenSelection`: `access` (`AccessTokenOnly`) or `id` (`IdentityTokenOnly`).
    pub token_selection: Option<String>,
}

/// A policy store of the template and everything attached to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyStore {
    /// Its logical id.
    pub logical_id: String,
    /// `ValidationSettings.Mode` (`STRICT` or `OFF`).
    pub validation_mode: String,
    /// `Schema.CedarJson`, when given.
    pub schema_json: Option<String>,
    /// Static policies: (logical id, Cedar text).
    pub policies: Vec<(String, String)>,
    /// Policy templates: (logical id, Cedar text).
    pub templates: Vec<(String, String)>,
    /// Template-linked policies.
    pub links: Vec<TemplateLink>,
    /// The Cognito identity source, when there is one.
    pub identity_source: Option<IdentitySource>,
    /// The store's definition.
    pub span: Span,
}

/// `{"EntityType", "EntityId"}` as `Type::"id"`.
fn entity(v: Option<&Value>) -> Option<String> {
    let v = v?;
    let t = member(v, "EntityType").map(scalar_text)?;
    let i = member(v, "EntityId").map(scalar_text)?;
    Some(format!("{t}::{}", serde_json::Value::String(i)))
}

pub(crate) fn policy_stores(t: &Template, r: &Resolver<'_>) -> Result<Vec<PolicyStore>, IacError> {
    let of_kind = |k: &'static str| t.resources.iter().filter(move |x| x.kind == k);
    let mut stores = Vec::new();
    // What `Ref` / `PolicyStoreId` / `PolicyTemplateId` resolve to, by logical id.
    let mut store_ids = Vec::new();
    for res in of_kind("AWS::VerifiedPermissions::PolicyStore") {
        let id = res.logical_id.as_str();
        let refs = [
            r.resource_text("Ref", id, id, res.span)?,
            r.resource_text("Fn::GetAtt", &format!("{id}.PolicyStoreId"), id, res.span)?,
        ];
        store_ids.push((refs, stores.len()));
        let props = res.properties.as_ref();
        let mode = props
            .and_then(|p| member(p, "ValidationSettings"))
            .and_then(|v| member(v, "Mode"));
        let schema = props
            .and_then(|p| member(p, "Schema"))
            .and_then(|v| member(v, "CedarJson"));
        stores.push(PolicyStore {
            logical_id: id.to_string(),
            validation_mode: r.text_of(mode, id)?.unwrap_or_else(|| "OFF".into()),
            schema_json: r.text_of(schema, id)?,
            policies: Vec::new(),
            templates: Vec::new(),
            links: Vec::new(),
            identity_source: None,
            span: res.span,
        });
    }
    let store_of = |res: &crate::Resource| -> Result<usize, IacError> {
        let id = res.logical_id.as_str();
        let target = r
            .text_of(res.property("PolicyStoreId"), id)?
            .unwrap_or_default();
        store_ids
            .iter()
            .find(|(refs, _)| refs.contains(&target))
            .map(|(_, i)| *i)
            .ok_or_else(|| {
                IacError::unresolved(
                    &t.name,
                    res.span,
                    format!("`PolicyStoreId` is `{target}`, not a policy store of the template"),
                )
                .about(id)
            })
    };
    let mut template_ids: Vec<(Vec<String>, String)> = Vec::new();
    for res in of_kind("AWS::VerifiedPermissions::PolicyTemplate") {
        let id = res.logical_id.as_str();
        let i = store_of(res)?;
        let statement = r.text_of(res.property("Statement"), id)?.ok_or_else(|| {
            IacError::template(&t.name, res.span, "a policy template needs `Statement`").about(id)
        })?;
        let refs = vec![
            r.resource_text("Ref", id, id, res.span)?,
            r.resource_text(
                "Fn::GetAtt",
                &format!("{id}.PolicyTemplateId"),
                id,
                res.span,
            )?,
        ];
        template_ids.push((refs, id.to_string()));
        if let Some(s) = stores.get_mut(i) {
            s.templates.push((id.to_string(), statement));
        }
    }
    for res in of_kind("AWS::VerifiedPermissions::Policy") {
        let id = res.logical_id.as_str();
        let i = store_of(res)?;
        let def = res.property("Definition").ok_or_else(|| {
            IacError::template(&t.name, res.span, "a policy needs `Definition`").about(id)
        })?;
        let def = r
            .value(def)
            .map_err(|e| e.about(id))?
            .unwrap_or_else(|| def.clone());
        let Some(s) = stores.get_mut(i) else { continue };
        if let Some(st) = member(&def, "Static") {
            let statement = member(st, "Statement").map(scalar_text).ok_or_else(|| {
                IacError::template(&t.name, res.span, "a static policy needs `Statement`").about(id)
            })?;
            s.policies.push((id.to_string(), statement));
        } else if let Some(tl) = member(&def, "TemplateLinked") {
            let tid = member(tl, "PolicyTemplateId")
                .map(scalar_text)
                .unwrap_or_default();
            let template = template_ids
                .iter()
                .find(|(refs, _)| refs.contains(&tid))
                .map(|(_, l)| l.clone())
                .ok_or_else(|| {
                    IacError::unresolved(
                        &t.name,
                        res.span,
                        format!(
                            "`PolicyTemplateId` is `{tid}`, not a policy template of the template"
                        ),
                    )
                    .about(id)
                })?;
            s.links.push(TemplateLink {
                logical_id: id.to_string(),
                template,
                principal: entity(member(tl, "Principal")),
                resource: entity(member(tl, "Resource")),
            });
        } else {
            return Err(IacError::template(
                &t.name,
                res.span,
                "a policy's `Definition` is `Static` or `TemplateLinked`",
            )
            .about(id));
        }
    }
    for res in of_kind("AWS::VerifiedPermissions::IdentitySource") {
        let id = res.logical_id.as_str();
        let i = store_of(res)?;
        let conf = res
            .property("Configuration")
            .map(|c| r.value(c))
            .transpose()
            .map_err(|e| e.about(id))?
            .flatten();
        let list = |v: Option<&Value>| match v.map(|c| &c.kind) {
            Some(Kind::Array(a)) => a.iter().map(scalar_text).collect(),
            _ => Vec::new(),
        };
        let text = |v: Option<&Value>, k: &str| v.and_then(|v| member(v, k)).map(scalar_text);
        let cognito = conf
            .as_ref()
            .and_then(|c| member(c, "CognitoUserPoolConfiguration"));
        let oidc = conf
            .as_ref()
            .and_then(|c| member(c, "OpenIdConnectConfiguration"));
        let mut source = match (cognito, oidc) {
            (Some(cognito), None) => {
                let arn = member(cognito, "UserPoolArn")
                    .map(scalar_text)
                    .unwrap_or_default();
                IdentitySource {
                    user_pool_id: Some(arn.rsplit('/').next().unwrap_or("").to_string()),
                    issuer: None,
                    client_ids: list(member(cognito, "ClientIds")),
                    principal_entity_type: String::new(),
                    group_entity_type: text(
                        member(cognito, "GroupConfiguration"),
                        "GroupEntityType",
                    ),
                    group_claim: None,
                    entity_id_prefix: None,
                    principal_id_claim: None,
                    token_selection: None,
                }
            }
            (None, Some(oidc)) => {
                let group = member(oidc, "GroupConfiguration");
                let selection = member(oidc, "TokenSelection");
                let access = selection.and_then(|s| member(s, "AccessTokenOnly"));
                let identity = selection.and_then(|s| member(s, "IdentityTokenOnly"));
                let (chosen, token_selection, client_ids) = match (access, identity) {
                    (Some(a), None) => (Some(a), Some("access"), list(member(a, "Audiences"))),
                    (None, Some(i)) => (Some(i), Some("id"), list(member(i, "ClientIds"))),
                    _ => {
                        return Err(IacError::template(
                            &t.name,
                            res.span,
                            "an OpenID Connect identity source needs exactly one `TokenSelection` (`AccessTokenOnly` or `IdentityTokenOnly`)",
                        )
                        .about(id));
                    }
                };
                IdentitySource {
                    user_pool_id: None,
                    issuer: Some(text(Some(oidc), "Issuer").ok_or_else(|| {
                        IacError::template(
                            &t.name,
                            res.span,
                            "an OpenID Connect identity source needs `Issuer`",
                        )
                        .about(id)
                    })?),
                    client_ids,
                    principal_entity_type: String::new(),
                    group_entity_type: text(group, "GroupEntityType"),
                    group_claim: text(group, "GroupClaim"),
                    entity_id_prefix: text(Some(oidc), "EntityIdPrefix"),
                    principal_id_claim: text(chosen, "PrincipalIdClaim"),
                    token_selection: token_selection.map(str::to_string),
                }
            }
            _ => {
                return Err(IacError::template(
                    &t.name,
                    res.span,
                    "an identity source's `Configuration` is `CognitoUserPoolConfiguration` or `OpenIdConnectConfiguration` (one of them)",
                )
                .about(id));
            }
        };
        let principal = r
            .text_of(res.property("PrincipalEntityType"), id)?
            .ok_or_else(|| {
                IacError::template(
                    &t.name,
                    res.span,
                    "an identity source needs `PrincipalEntityType`",
                )
                .about(id)
            })?;
        source.principal_entity_type = principal;
        if let Some(s) = stores.get_mut(i) {
            s.identity_source = Some(source);
        }
    }
    Ok(stores)
}
