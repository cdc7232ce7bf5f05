//! Identity pools: claims → IAM request context, role resolution (token or rules), the trust-policy check
//! for `sts:AssumeRoleWithWebIdentity`, and the final decision with the chosen role's policies.

use diag::codes;
use std::collections::BTreeMap;

use authz_core::{Context, ContextValue, Decision, Layer, Request};
use iam_eval::{Authorizer, Explanation, PolicySet};
use iam_policy::{PolicyDocument, PolicyType};
use serde::Deserialize;
use serde_json::Value;

use cognito::{Claims, string_list};

/// The managed `AmazonCognitoUnAuthedIdentitiesSessionPolicy` (version v4, 2026-05-01), the default
/// scope-down Cognito applies to guest identities in the enhanced flow.
pub const GUEST_SESSION_POLICY: &str =
    include_str!("../data/AmazonCognitoUnAuthedIdentitiesSessionPolicy.json");

/// The version id of [`GUEST_SESSION_POLICY`].
pub const GUEST_SESSION_POLICY_VERSION: &str = "v4";

/// How a rule compares a claim.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum MatchType {
    /// Equal.
    Equals,
    /// Not equal (skipped when the claim is absent).
    NotEqual,
    /// Prefix.
    StartsWith,
    /// Substring.
    Contains,
}

/// One mapping rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Claim name (custom attributes with `custom:`).
    pub claim: String,
    /// Comparison.
    pub match_type: MatchType,
    /// Value compared.
    pub value: String,
    /// Role chosen on a match.
    pub role_arn: String,
}

/// What to do when no role can be chosen.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
pub enum Ambiguous {
    /// Use the pool's authenticated role.
    #[default]
    AuthenticatedRole,
    /// Refuse.
    Deny,
}

/// Token- or rules-based mapping.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum MappingType {
    /// Choose the role from `cognito:roles` / `cognito:preferred_role`.
    Token,
    /// Evaluate rules in order.
    Rules,
}

/// A role mapping for one provider (`cognito-idp.<region>.amazonaws.com/<pool>:<client>`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    /// Token or Rules.
    #[serde(rename = "type")]
    pub kind: MappingType,
    /// Fallback.
    #[serde(default)]
    pub ambiguous_role_resolution: Ambiguous,
    /// Rules (for `Rules`).
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// A role: its trust policy and permission policies (paths relative to the config file, or inline).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// Trust policy.
    pub trust: Value,
    /// Permission policies.
    #[serde(default)]
    pub policies: Vec<Value>,
    /// Permissions boundary.
    #[serde(default)]
    pub boundary: Option<Value>,
}

/// Principal-tag mapping: `"default"` (username ← sub, client ← aud) or `{tag: claim}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum PrincipalTags {
    /// `"default"`.
    Named(String),
    /// Custom mapping.
    Custom(BTreeMap<String, String>),
}

/// A user pool app client the identity pool trusts (CreateIdentityPool's `CognitoIdentityProviders`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CognitoProvider {
    /// `cognito-idp.<region>.amazonaws.com/<userPoolId>`.
    pub provider_name: String,
    /// The app client id.
    pub client_id: String,
}

/// Why Cognito refused the identity or the request was malformed, before any policy was evaluated: an
/// error, not a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolError {
    /// `pool::not-authorized` (Cognito's refusal of a login token, answered with
    /// `NotAuthorizedException`), `pool::context-override` (the request tried to set a key the session
    /// owns) or `pool::config` (a configuration that cannot be used).
    pub code: &'static str,
    /// Why.
    pub message: String,
}

impl std::fmt::Display for PoolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match diag::Coded::aws_code(self) {
            Some(aws) => write!(f, "{aws}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for PoolError {}

impl PoolError {
    /// A configuration that cannot be used (`pool::config`).
    pub fn config(message: impl Into<String>) -> Self {
        Self {
            code: codes::POOL_CONFIG,
            message: message.into(),
        }
    }
}

impl diag::Coded for PoolError {
    fn code(&self) -> &'static str {
        self.code
    }
    fn aws_code(&self) -> Option<&'static str> {
        (self.code == codes::POOL_NOT_AUTHORIZED).then_some("NotAuthorizedException")
    }
}

impl miette::Diagnostic for PoolError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
}

/// Context keys a session owns: derived from the token and the pool, never from the request.
pub fn is_session_key(key_lower: &str) -> bool {
    key_lower.starts_with("cognito-identity.amazonaws.com:")
        || key_lower.starts_with("aws:principaltag/")
        || matches!(
            key_lower,
            "aws:principalarn"
                | "aws:principalaccount"
                | "aws:principaltype"
                | "aws:principalorgid"
                | "aws:principalorgpaths"
                | "aws:principalisawsservice"
                | "aws:principalservicename"
                | "aws:userid"
                | "aws:username"
                | "aws:federatedprovider"
                | "aws:tokenissuetime"
                | "aws:sourceidentity"
        )
}

/// An identity pool as JSON.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// `region:GUID`.
    pub identity_pool_id: String,
    /// Account of the roles.
    pub account: String,
    /// Default authenticated role ARN.
    #[serde(default)]
    pub authenticated_role: Option<String>,
    /// Default unauthenticated (guest) role ARN.
    #[serde(default)]
    pub unauthenticated_role: Option<String>,
    /// Whether guests are allowed.
    #[serde(default)]
    pub allow_unauthenticated: bool,
    /// Basic (classic) flow enabled.
    #[serde(default)]
    pub allow_classic_flow: bool,
    /// Roles by ARN.
    pub roles: BTreeMap<String, RoleConfig>,
    /// Role mappings by provider key.
    #[serde(default)]
    pub role_mappings: BTreeMap<String, RoleMapping>,
    /// Attributes for access control.
    #[serde(default)]
    pub principal_tags: Option<PrincipalTags>,
    /// Guest session policies; default: the managed policy.
    #[serde(default)]
    pub guest_session_policies: Option<Vec<Value>>,
    /// Identity ids by user-pool `sub` (otherwise derived, see [`identity_id`]).
    #[serde(default)]
    pub identity_ids: BTreeMap<String, String>,
    /// The user pool app clients the pool trusts. A token from any other issuer or client is refused.
    #[serde(default)]
    pub cognito_identity_providers: Vec<CognitoProvider>,
    /// IAM OIDC provider ARNs the pool trusts (`arn:aws:iam::<account>:oidc-provider/<issuer host/path>`).
    #[serde(default)]
    pub openid_connect_provider_arns: Vec<String>,
    /// Each OIDC provider's client ids (the IAM OIDC provider's `ClientIDList`), by provider ARN: a
    /// token from that provider must be for one of them (its `aud`). A provider with no list accepts no
    /// token, as an IAM OIDC provider with an empty `ClientIDList` does.
    #[serde(default)]
    pub openid_connect_client_ids: BTreeMap<String, Vec<String>>,
}

/// A role, its engines prepared at load: its trust policy as the resource side of an assumption, its
/// permissions with its boundary, and the same scoped down for guests.
struct Role {
    /// The trust policy, for `sts:AssumeRoleWithWebIdentity` (and `sts:TagSession`) on the role.
    trust: Authorizer,
    /// The role's permissions and boundary.
    permissions: Authorizer,
    /// The same with the guest session policy (the enhanced flow's scope-down for guests).
    guest: Authorizer,
    /// Whether the role has a permissions boundary (for the request).
    has_boundary: bool,
}

/// Decides with `auth`, explaining only when asked: (the outcome, its explanation when asked).
fn run(
    auth: &Authorizer,
    req: &Request<'_>,
    explain: bool,
) -> (authz_core::Outcome, Option<Explanation>) {
    if explain {
        let ex = auth.explain(req);
        (ex.outcome, Some(ex))
    } else {
        (auth.evaluate(req), None)
    }
}

/// The shared result for a pool decision of `decision` reached with `auth`'s `outcome`: the deciding
/// statement when that evaluation is what decided.
fn answered(
    auth: &Authorizer,
    outcome: authz_core::Outcome,
    decision: Decision,
) -> authz_core::Answer {
    if outcome.decision == decision {
        auth.answer_of(outcome)
    } else {
        authz_core::Answer::new(decision)
    }
}

/// The role's trust policy on `action` by the identity-pool principal with the identity's context.
fn trust_request<'r>(role_arn: &'r str, action: &'r str, ctx: &'r Context) -> Request<'r> {
    Request::new(action, role_arn)
        .principal("cognito-identity.amazonaws.com")
        .context(ctx)
}

/// A loaded identity pool: configuration with compiled policies.
pub struct IdentityPool {
    /// The configuration.
    pub config: PoolConfig,
    roles: BTreeMap<String, Role>,
}

impl std::fmt::Debug for IdentityPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityPool")
            .field("id", &self.config.identity_pool_id)
            .finish_non_exhaustive()
    }
}

/// Reads a policy a configuration names by path: the path as written → its text, named for display
/// (and, for a policy resolved out of a template, with the template as its origin, so that explanations
/// point into the template). The library does no file I/O; the caller decides where paths lead (the
/// CLI: next to the config file).
pub type PolicyFiles<'a> = &'a dyn Fn(&str) -> Result<iam_policy::Source, PoolError>;

/// For configurations whose policies are all inline: any path is refused (`pool::config`).
pub fn no_files(path: &str) -> Result<iam_policy::Source, PoolError> {
    Err(PoolError::config(format!(
        "`{path}`: this configuration must hold its policies inline (no files are read)"
    )))
}

/// Why no role could be chosen for an identity (enhanced flow): no mapping and no default role, a rule
/// set that matches nothing with `AmbiguousRoleResolution` `Deny`, a `CustomRoleArn` the token does not
/// offer, guests on a pool without them. Cognito gives such an identity no credentials: a refusal, not a
/// configuration error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRole {
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for NoRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for NoRole {}

impl From<String> for NoRole {
    fn from(reason: String) -> Self {
        Self { reason }
    }
}

impl From<&str> for NoRole {
    fn from(reason: &str) -> Self {
        Self {
            reason: reason.to_string(),
        }
    }
}

fn load_doc(
    v: &Value,
    files: PolicyFiles<'_>,
    ty: PolicyType,
    what: &str,
) -> Result<PolicyDocument, String> {
    let src = match v {
        Value::String(p) => files(p).map_err(|e| format!("{what}: {}", e.message))?,
        Value::Object(_) => iam_policy::Source::new(
            format!("{what} (inline)"),
            serde_json::to_string_pretty(v).map_err(|e| e.to_string())?,
        ),
        other => {
            return Err(format!(
                "{what}: a policy is a path or an inline document, found {other}"
            ));
        }
    };
    let c = iam_policy::check_for_evaluation(src.name(), src.text().as_bytes(), ty);
    if let Some(d) = c.diagnostics.iter().find(|d| d.is_error()) {
        let (f, l, col) = src.located(d.span.start);
        return Err(format!("{f}:{l}:{col}: {} [{}]", d.message, d.code));
    }
    let mut doc = c
        .document
        .ok_or_else(|| format!("{what}: unreadable policy"))?;
    // The same text: the given source keeps its origin.
    doc.source = src;
    Ok(doc)
}

/// Limits from the Cognito API reference (MappingRule, RoleMapping, SetPrincipalTagAttributeMap).
fn check_limits(c: &PoolConfig) -> Result<(), String> {
    if c.role_mappings.len() > 10 {
        return Err(format!(
            "{} role mappings; an identity pool has at most 10",
            c.role_mappings.len()
        ));
    }
    for (k, m) in &c.role_mappings {
        if !k.contains(':') {
            return Err(format!(
                "role mapping key `{k}` must be <provider>:<app client id>"
            ));
        }
        if m.kind == MappingType::Rules && !(1..=25).contains(&m.rules.len()) {
            return Err(format!(
                "role mapping `{k}` has {} rules; 1 to 25 are allowed",
                m.rules.len()
            ));
        }
        for r in &m.rules {
            if !(1..=64).contains(&r.claim.len())
                || !(1..=128).contains(&r.value.len())
                || !(20..=2048).contains(&r.role_arn.len())
            {
                return Err(format!(
                    "rule on `{}` in `{k}` breaks the length limits (claim 1–64, value 1–128, role ARN 20–2048)",
                    r.claim
                ));
            }
        }
    }
    if let Some(PrincipalTags::Custom(m)) = &c.principal_tags {
        if m.len() > 50 {
            return Err(format!("{} principal tags; at most 50", m.len()));
        }
        for (k, v) in m {
            if !(1..=128).contains(&k.len()) || !(1..=256).contains(&v.len()) {
                return Err(format!(
                    "principal tag `{k}` breaks the length limits (key 1–128, value 1–256)"
                ));
            }
        }
    }
    if let Some(PrincipalTags::Named(n)) = &c.principal_tags
        && n != "default"
    {
        return Err(format!(
            "principal_tags must be \"default\" or an object of tag → claim, not `{n}`"
        ));
    }
    Ok(())
}

/// The identity id for a user: configured, or derived deterministically as
/// `<region>:<uuid from SHA-256(pool id, issuer, sub)>` (the real one is random and kept by Cognito; a
/// stable stand-in lets tests and policies refer to it).
pub fn identity_id(pool_id: &str, issuer: &str, sub: &str) -> String {
    let region = pool_id.split(':').next().unwrap_or("us-east-1");
    let d = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{pool_id}\n{issuer}\n{sub}").as_bytes(),
    );
    let h: String = d
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    let g = |a: usize, b: usize| h.get(a..b).unwrap_or("");
    format!(
        "{region}:{}-{}-{}-{}-{}",
        g(0, 8),
        g(8, 12),
        g(12, 16),
        g(16, 20),
        g(20, 32)
    )
}

/// Which role was chosen and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChoice {
    /// Role ARN.
    pub role_arn: String,
    /// Guest identity (session policies apply).
    pub unauthenticated: bool,
    /// How it was chosen.
    pub reason: String,
}

/// The end-to-end result.
#[derive(Debug)]
pub struct PoolDecision {
    /// The role, when one was chosen and its trust policy accepted the identity.
    pub role: Option<RoleChoice>,
    /// The decision.
    pub decision: Decision,
    /// Why, in words (role refusals, trust-policy denials, the deciding statement).
    pub reason: String,
    /// The explanation of the final evaluation (or of the trust policy when it refused).
    pub explanation: Option<Explanation>,
    /// The IAM context the request was evaluated with.
    pub context: Context,
    /// Whether the identity's claims were verified (`None` for a guest); decisions made with claims
    /// typed in by hand say so.
    pub claims_verified: Option<bool>,
    /// The shared result of the evaluation that decided, named when the decision was made.
    answered: Option<authz_core::Answer>,
}

impl IdentityPool {
    /// Loads a pool configuration file; policy paths are relative to it.
    /// Compiles a configuration; `files` reads the policies it names by path.
    /// Errors: `pool::config`, naming what is wrong.
    pub fn from_config(config: PoolConfig, files: PolicyFiles<'_>) -> Result<Self, PoolError> {
        Self::compile_config(config, files).map_err(|message| PoolError {
            code: codes::POOL_CONFIG,
            message,
        })
    }

    fn compile_config(config: PoolConfig, files: PolicyFiles<'_>) -> Result<Self, String> {
        check_limits(&config)?;
        let mut roles = BTreeMap::new();
        for (arn, r) in &config.roles {
            let trust = load_doc(
                &r.trust,
                files,
                PolicyType::Trust,
                &format!("role {arn} trust"),
            )?;
            let mut perms = Vec::new();
            for (i, p) in r.policies.iter().enumerate() {
                perms.push(load_doc(
                    p,
                    files,
                    PolicyType::Identity,
                    &format!("role {arn} policy #{}", i + 1),
                )?);
            }
            let boundary = r
                .boundary
                .as_ref()
                .map(|b| {
                    load_doc(
                        b,
                        files,
                        PolicyType::Boundary,
                        &format!("role {arn} boundary"),
                    )
                })
                .transpose()?;
            let c = |l, d: Vec<PolicyDocument>| PolicySet::compile(l, d).map_err(|e| e.to_string());
            let mut trust_auth = Authorizer::new(c(Layer::Identity, Vec::new())?);
            trust_auth.resource = Some(c(Layer::Resource, vec![trust])?);
            trust_auth.resource_kind = iam_eval::ResourceKind::Trust {
                role: Some(arn.clone()),
            };
            let mut permissions = Authorizer::new(c(Layer::Identity, perms)?);
            permissions.boundary = boundary.map(|b| c(Layer::Boundary, vec![b])).transpose()?;
            roles.insert(
                arn.clone(),
                Role {
                    trust: trust_auth,
                    has_boundary: permissions.boundary.is_some(),
                    guest: permissions.clone(),
                    permissions,
                },
            );
        }
        for arn in config
            .authenticated_role
            .iter()
            .chain(config.unauthenticated_role.iter())
        {
            if !roles.contains_key(arn) {
                return Err(format!("role `{arn}` is not defined under `roles`"));
            }
        }
        let guest_docs = match &config.guest_session_policies {
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    load_doc(
                        p,
                        files,
                        PolicyType::Session,
                        &format!("guest session policy #{}", i + 1),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![load_doc(
                &serde_json::from_str(GUEST_SESSION_POLICY).map_err(|e| e.to_string())?,
                files,
                PolicyType::Session,
                "AmazonCognitoUnAuthedIdentitiesSessionPolicy",
            )?],
        };
        let guest = PolicySet::compile(Layer::Session, guest_docs).map_err(|e| e.to_string())?;
        for r in roles.values_mut() {
            r.guest.session = Some(guest.clone());
        }
        Ok(Self { config, roles })
    }

    fn provider_key(claims: &dyn Claims) -> String {
        let iss = claims.issuer();
        let provider = iss.strip_prefix("https://").unwrap_or(iss);
        format!("{provider}:{}", claims.client_id())
    }

    /// The identity id of a user.
    pub fn identity_id(&self, claims: &dyn Claims) -> String {
        self.config
            .identity_ids
            .get(claims.sub())
            .cloned()
            .unwrap_or_else(|| {
                identity_id(&self.config.identity_pool_id, claims.issuer(), claims.sub())
            })
    }

    /// Chooses the role (enhanced flow). `claims` `None` is a guest identity.
    pub fn resolve_role(
        &self,
        claims: Option<&dyn Claims>,
        custom_role_arn: Option<&str>,
    ) -> Result<RoleChoice, NoRole> {
        let Some(claims) = claims else {
            if !self.config.allow_unauthenticated {
                return Err("unauthenticated identities are not enabled for this pool".into());
            }
            let arn = self
                .config
                .unauthenticated_role
                .clone()
                .ok_or("the pool has no unauthenticated role")?;
            return Ok(RoleChoice {
                role_arn: arn,
                unauthenticated: true,
                reason: "guest identity: the pool's unauthenticated role".into(),
            });
        };
        let auth_default = |why: &str| -> Result<RoleChoice, NoRole> {
            let arn = self
                .config
                .authenticated_role
                .clone()
                .ok_or_else(|| format!("{why}, and the pool has no authenticated role"))?;
            Ok(RoleChoice {
                role_arn: arn,
                unauthenticated: false,
                reason: format!("{why}: the pool's authenticated role"),
            })
        };
        let key = Self::provider_key(claims);
        let Some(mapping) = self.config.role_mappings.get(&key) else {
            if let Some(c) = custom_role_arn {
                return Err(format!("CustomRoleArn `{c}` needs a role mapping for `{key}`").into());
            }
            return auth_default(&format!("no role mapping for `{key}`"));
        };
        let ambiguous = |why: &str| match mapping.ambiguous_role_resolution {
            Ambiguous::AuthenticatedRole => auth_default(why),
            Ambiguous::Deny => Err(format!("{why}, and AmbiguousRoleResolution is Deny").into()),
        };
        match mapping.kind {
            MappingType::Token => {
                let roles = string_list(claims.claims().get("cognito:roles"));
                if let Some(c) = custom_role_arn {
                    return if roles.contains(&c) {
                        Ok(RoleChoice {
                            role_arn: c.into(),
                            unauthenticated: false,
                            reason: "CustomRoleArn listed in cognito:roles".into(),
                        })
                    } else {
                        Err(
                            format!("CustomRoleArn `{c}` is not in the token's cognito:roles")
                                .into(),
                        )
                    };
                }
                if let Some(p) = claims.str("cognito:preferred_role") {
                    return Ok(RoleChoice {
                        role_arn: p.into(),
                        unauthenticated: false,
                        reason: "cognito:preferred_role (the group with the best precedence)"
                            .into(),
                    });
                }
                if roles.is_empty() {
                    ambiguous("the token has neither cognito:preferred_role nor cognito:roles")
                } else {
                    ambiguous(
                        "the token has cognito:roles but no cognito:preferred_role (groups tie on precedence)",
                    )
                }
            }
            MappingType::Rules => {
                for (i, r) in mapping.rules.iter().enumerate() {
                    if rule_matches(r, claims) {
                        if let Some(c) = custom_role_arn
                            && c != r.role_arn
                        {
                            return Err(format!(
                                "CustomRoleArn `{c}` differs from the role of the matching rule #{}",
                                i + 1
                            ).into());
                        }
                        return Ok(RoleChoice {
                            role_arn: r.role_arn.clone(),
                            unauthenticated: false,
                            reason: format!(
                                "rule #{} ({} {:?} `{}`) matched first",
                                i + 1,
                                r.claim,
                                r.match_type,
                                r.value
                            ),
                        });
                    }
                }
                ambiguous("no rule matched")
            }
        }
    }

    /// The IAM context of requests made with the identity's credentials (the caller's own context keys
    /// are added on top).
    pub fn iam_context(
        &self,
        claims: Option<&dyn Claims>,
        role_arn: &str,
        identity: &str,
    ) -> Context {
        let mut c = Context::new();
        let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
        c.insert("aws:PrincipalArn", role_arn);
        c.insert("aws:PrincipalType", "AssumedRole");
        c.insert("aws:PrincipalAccount", self.config.account.as_str());
        c.insert(
            "aws:userid",
            format!("AROA{}:CognitoIdentityCredentials", role_name.len()),
        );
        c.insert("aws:FederatedProvider", "cognito-identity.amazonaws.com");
        c.insert(
            "cognito-identity.amazonaws.com:aud",
            self.config.identity_pool_id.as_str(),
        );
        c.insert("cognito-identity.amazonaws.com:sub", identity);
        c.insert_value(
            "cognito-identity.amazonaws.com:amr",
            ContextValue::multi(amr(claims)),
        );
        if let Some(cl) = claims {
            for (tag, claim) in self.tag_map() {
                if let Some(v) = cl.claims().get(&claim) {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Array(_) | Value::Object(_) => continue,
                        other => other.to_string(),
                    };
                    c.insert(&format!("aws:PrincipalTag/{tag}"), text);
                }
            }
        }
        c
    }

    fn tag_map(&self) -> Vec<(String, String)> {
        match &self.config.principal_tags {
            None => Vec::new(),
            Some(PrincipalTags::Named(_)) => vec![
                ("username".into(), "sub".into()),
                ("client".into(), "aud".into()),
            ],
            Some(PrincipalTags::Custom(m)) => {
                m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
            }
        }
    }

    /// Decides a request end to end: role choice, trust policy, then the role's policies, with the
    /// explanation of the evaluation that decided ([`PoolDecision::explanation`]).
    ///
    /// Errors: the token is not from a provider the pool trusts (`NotAuthorizedException`, as Cognito
    /// answers `GetId`), or the request sets a key the session owns to another value.
    pub fn decide(
        &self,
        claims: Option<&dyn Claims>,
        custom_role_arn: Option<&str>,
        request: &crate::PoolRequest,
    ) -> Result<PoolDecision, PoolError> {
        self.decide_mode(claims, custom_role_arn, request, true)
    }

    /// [`IdentityPool::decide`] without the explanation: the same decision, role, reason and deciding
    /// statement ([`PoolDecision::answer`]), evaluated on the engines prepared at load with no
    /// explanation built (`explanation` is `None`).
    pub fn decide_fast(
        &self,
        claims: Option<&dyn Claims>,
        custom_role_arn: Option<&str>,
        request: &crate::PoolRequest,
    ) -> Result<PoolDecision, PoolError> {
        self.decide_mode(claims, custom_role_arn, request, false)
    }

    fn decide_mode(
        &self,
        claims: Option<&dyn Claims>,
        custom_role_arn: Option<&str>,
        request: &crate::PoolRequest,
        explain: bool,
    ) -> Result<PoolDecision, PoolError> {
        self.check_login(claims)?;
        let d = match self.resolve_role(claims, custom_role_arn) {
            Ok(choice) => self.decide_as(claims, choice, request, true, explain),
            Err(e) => Ok(refused(format!("no role: {e}"), None)),
        };
        d.map(|d| d.with_claims(claims))
    }

    /// Whether Cognito accepts the login: the token's issuer and client must be a configured provider
    /// (`cognito_identity_providers`, or an `openid_connect_provider_arns` entry for other issuers).
    /// Guests (`None`) need no login, but the pool must allow them.
    pub fn check_login(&self, claims: Option<&dyn Claims>) -> Result<(), PoolError> {
        let Some(c) = claims else {
            // GetId without logins on a pool that does not allow guests: Cognito refuses it
            // (`NotAuthorizedException`), there is no identity to decide for.
            if !self.config.allow_unauthenticated {
                return Err(PoolError {
                    code: codes::POOL_NOT_AUTHORIZED,
                    message: "Unauthenticated access is not supported for this identity pool."
                        .into(),
                });
            }
            return Ok(());
        };
        let refuse = |why: String| {
            Err(PoolError {
                code: codes::POOL_NOT_AUTHORIZED,
                message: format!("Invalid login token. {why}"),
            })
        };
        let iss = c.issuer();
        let provider = iss.strip_prefix("https://").unwrap_or(iss);
        if provider.is_empty() {
            return refuse("The token has no issuer (`iss`).".into());
        }
        let listed: Vec<&CognitoProvider> = self
            .config
            .cognito_identity_providers
            .iter()
            .filter(|p| p.provider_name == provider)
            .collect();
        if !listed.is_empty() {
            if listed.iter().any(|p| p.client_id == c.client_id()) {
                return Ok(());
            }
            return refuse(format!(
                "Incorrect token audience: client `{}` is not configured for provider `{provider}`.",
                c.client_id()
            ));
        }
        let oidc = self.config.openid_connect_provider_arns.iter().find(|arn| {
            arn.split_once(":oidc-provider/")
                .is_some_and(|(_, host)| host == provider)
        });
        if let Some(arn) = oidc {
            let clients = self
                .config
                .openid_connect_client_ids
                .get(arn.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            if clients.iter().any(|id| id == c.client_id()) {
                return Ok(());
            }
            return refuse(format!(
                "Incorrect token audience: `{}` is not a client id of the OIDC provider `{arn}` (its ClientIDList: {}).",
                c.client_id(),
                if clients.is_empty() {
                    "empty".to_string()
                } else {
                    clients.join(", ")
                }
            ));
        }
        refuse(format!(
            "Token is not from a supported provider of this identity pool (issuer `{provider}`)."
        ))
    }

    /// Whether this pool's unauthenticated identities could assume `role_arn` themselves: the basic flow
    /// is allowed, guests are, and the role's trust policy accepts the pool's OpenID token for a guest
    /// (`amr` `["unauthenticated"]`). Meant for roles that are not the guest role: a trust policy that
    /// does not require `authenticated` in `amr` lets guests take the signed-in users' permissions.
    pub fn guest_can_assume(&self, role_arn: &str) -> bool {
        if !self.config.allow_classic_flow || !self.config.allow_unauthenticated {
            return false;
        }
        let Some(role) = self.roles.get(role_arn) else {
            return false;
        };
        let identity = identity_id(&self.config.identity_pool_id, "unauthenticated", "guest");
        let ctx = self.iam_context(None, role_arn, &identity);
        role.trust
            .evaluate(&trust_request(
                role_arn,
                "sts:AssumeRoleWithWebIdentity",
                &ctx,
            ))
            .decision
            == Decision::Allow
    }

    /// Decides a request in the basic (classic) flow: the client took the pool's OpenID token and asked
    /// STS for `role_arn` itself. Cognito chooses no role and applies no guest scope-down; the role's
    /// trust policy alone decides whether the identity may assume it. Refused unless the pool allows the
    /// classic flow.
    pub fn decide_basic(
        &self,
        claims: Option<&dyn Claims>,
        role_arn: &str,
        request: &crate::PoolRequest,
    ) -> Result<PoolDecision, PoolError> {
        self.basic_flow(claims, role_arn, request)
            .map(|d| d.with_claims(claims))
    }

    fn basic_flow(
        &self,
        claims: Option<&dyn Claims>,
        role_arn: &str,
        request: &crate::PoolRequest,
    ) -> Result<PoolDecision, PoolError> {
        self.check_login(claims)?;
        if !self.config.allow_classic_flow {
            return Ok(refused(
                "the basic (classic) flow is disabled for this pool (allow_classic_flow is false)"
                    .into(),
                None,
            ));
        }
        if claims.is_none() && !self.config.allow_unauthenticated {
            return Ok(refused(
                "unauthenticated identities are not enabled for this pool".into(),
                None,
            ));
        }
        let choice = RoleChoice {
            role_arn: role_arn.to_string(),
            unauthenticated: claims.is_none(),
            reason: "basic flow: the client chose the role".into(),
        };
        self.decide_as(claims, choice, request, false, true)
    }

    fn decide_as(
        &self,
        claims: Option<&dyn Claims>,
        choice: RoleChoice,
        request: &crate::PoolRequest,
        scope_down_guest: bool,
        explain: bool,
    ) -> Result<PoolDecision, PoolError> {
        let deny = |reason: String,
                    explanation: Option<Explanation>,
                    role: Option<RoleChoice>,
                    context: Context| PoolDecision {
            role,
            decision: Decision::ImplicitDeny,
            reason,
            explanation,
            context,
            claims_verified: None,
            answered: None,
        };
        let Some(role) = self.roles.get(&choice.role_arn) else {
            return Ok(deny(
                format!(
                    "role `{}` is not defined in the pool configuration",
                    choice.role_arn
                ),
                None,
                Some(choice),
                Context::new(),
            ));
        };
        let identity = match claims {
            Some(c) => self.identity_id(c),
            None => identity_id(
                &self.config.identity_pool_id,
                "unauthenticated",
                request.guest_id.as_deref().unwrap_or("guest"),
            ),
        };
        let ctx = self.iam_context(claims, &choice.role_arn, &identity);
        // The trust policy must accept the identity for sts:AssumeRoleWithWebIdentity (and sts:TagSession
        // when principal tags are passed).
        let mut actions = vec!["sts:AssumeRoleWithWebIdentity"];
        if !self.tag_map().is_empty() && claims.is_some() {
            actions.push("sts:TagSession");
        }
        for a in actions {
            let (outcome, ex) = run(
                &role.trust,
                &trust_request(&choice.role_arn, a, &ctx),
                explain,
            );
            if outcome.decision != Decision::Allow {
                let answer = answered(&role.trust, outcome, Decision::ImplicitDeny);
                let mut d = deny(
                    format!(
                        "the trust policy of `{}` does not allow {a} for this identity",
                        choice.role_arn
                    ),
                    ex,
                    Some(choice),
                    ctx,
                );
                d.answered = Some(answer);
                return Ok(d);
            }
        }
        // The request, made by the role session, with the identity's IAM context. The request adds
        // service keys (`dynamodb:LeadingKeys`, `aws:SourceIp`, …) but cannot change the session's own
        // keys: one user must not be able to claim another's identity id or tags.
        let mut full = ctx.clone();
        for (k, v) in request.context.iter() {
            match ctx.get_lower(k) {
                Some(own) if own.values() != v.values() => {
                    return Err(PoolError {
                        code: codes::POOL_CONTEXT_OVERRIDE,
                        message: format!(
                            "the request sets `{k}` to {:?}, but the session derives {:?} from the token and the pool; leave it out or give the same value",
                            v.values(),
                            own.values()
                        ),
                    });
                }
                None if is_session_key(k) => {
                    return Err(PoolError {
                        code: codes::POOL_CONTEXT_OVERRIDE,
                        message: format!(
                            "the request sets `{k}` to {:?}, but that key belongs to the session and this session has no value for it",
                            v.values()
                        ),
                    });
                }
                _ => {
                    full.insert_value(k, v.clone());
                }
            }
        }
        let role_name = choice.role_arn.rsplit('/').next().unwrap_or("");
        let principal = format!(
            "arn:aws:sts::{}:assumed-role/{role_name}/CognitoIdentityCredentials",
            self.config.account
        );
        let auth = if choice.unauthenticated && scope_down_guest {
            &role.guest
        } else {
            &role.permissions
        };
        let req = Request::new(&request.action, &request.resource)
            .principal(&principal)
            .resource_account(
                request
                    .resource_account
                    .as_deref()
                    .unwrap_or(&self.config.account),
            )
            .with_boundary(role.has_boundary)
            .context(&full);
        let (outcome, ex) = run(auth, &req, explain);
        let reason = match outcome.decided_by.and_then(|at| auth.statement(at)) {
            Some(i) => format!(
                "{} by {} of role `{}` ({})",
                outcome.decision,
                i.label(),
                choice.role_arn,
                choice.reason
            ),
            None => format!(
                "{} with role `{}` ({})",
                outcome.decision, choice.role_arn, choice.reason
            ),
        };
        let answer = auth.answer_of(outcome);
        Ok(PoolDecision {
            decision: outcome.decision,
            role: Some(choice),
            reason,
            explanation: ex,
            context: full,
            claims_verified: None,
            answered: Some(answer),
        })
    }
}

impl PoolDecision {
    /// The shared result: the decision, the deciding statement of the final evaluation (or of the trust
    /// policy that refused the identity), and whether the identity's claims were verified.
    pub fn answer(&self) -> authz_core::Answer {
        let mut a = match (&self.answered, &self.explanation) {
            (Some(a), _) => a.clone(),
            (None, Some(ex)) if ex.outcome.decision == self.decision => ex.answer(),
            _ => authz_core::Answer::new(self.decision),
        };
        a.verified = self.claims_verified;
        a
    }

    fn with_claims(mut self, claims: Option<&dyn Claims>) -> Self {
        self.claims_verified = claims.map(Claims::verified);
        self
    }
}

fn refused(reason: String, role: Option<RoleChoice>) -> PoolDecision {
    PoolDecision {
        role,
        decision: Decision::ImplicitDeny,
        reason,
        explanation: None,
        context: Context::new(),
        claims_verified: None,
        answered: None,
    }
}

fn amr(claims: Option<&dyn Claims>) -> Vec<String> {
    match claims {
        None => vec!["unauthenticated".into()],
        Some(c) => {
            let provider = c
                .issuer()
                .strip_prefix("https://")
                .unwrap_or(c.issuer())
                .to_string();
            // The third element is observed for user-pool logins (`…:CognitoSignIn:<sub>`) and not
            // documented; other OIDC providers get only the two documented elements.
            let mut amr = vec!["authenticated".to_string(), provider.clone()];
            if provider.starts_with("cognito-idp.") {
                amr.push(format!("{provider}:CognitoSignIn:{}", c.sub()));
            }
            amr
        }
    }
}

fn rule_matches(r: &Rule, claims: &dyn Claims) -> bool {
    let values: Vec<String> = match claims.claims().get(&r.claim) {
        None | Some(Value::Null) => return false,
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(other) => vec![other.to_string()],
    };
    let v = r.value.as_str();
    match r.match_type {
        MatchType::Equals => values.iter().any(|x| x == v),
        MatchType::NotEqual => !values.iter().any(|x| x == v),
        MatchType::StartsWith => values.iter().any(|x| x.starts_with(v)),
        MatchType::Contains => values.iter().any(|x| x.contains(v)),
    }
}
