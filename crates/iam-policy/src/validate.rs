//! Validation per policy type: which elements each type requires or forbids, and checks that need the
//! service catalogue.

use diag::codes;
use std::fmt;
use std::str::FromStr;

use crate::ast::*;
use crate::catalog::{catalog, resource_fits};
use crate::parse::is_account_id;
use diag::Diagnostic;
use diag::Span;

/// The kinds of IAM policy, which differ in the elements they require or forbid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// Attached to a user, group or role.
    Identity,
    /// Attached to a resource (S3 bucket, SQS queue, API Gateway API, KMS key, …).
    Resource,
    /// A role's trust policy (who may assume it).
    Trust,
    /// A permissions boundary.
    Boundary,
    /// An AWS Organizations service control policy.
    Scp,
    /// An AWS Organizations resource control policy.
    Rcp,
    /// A session policy passed to `AssumeRole*` / `GetFederationToken`.
    Session,
}

/// The partition of a Region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, `aws-iso-b` /
/// `aws-iso` for the isolated Regions, `aws` otherwise.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// AWS's partitions (commercial, China, GovCloud, the ISO partitions, the European Sovereign Cloud): the
/// values an ARN's partition and `--partition` may take.
pub const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

impl crate::PolicyDocument {
    /// The type of a policy given without one: identity when no statement names a principal, a role
    /// trust policy when it [looks like one](crate::PolicyDocument::looks_like_trust), a resource policy
    /// otherwise. A policy's type comes from where it is attached; this is only the guess.
    pub fn guess_type(&self) -> PolicyType {
        if self.statements.iter().all(|s| s.principal.is_none()) {
            PolicyType::Identity
        } else if self.looks_like_trust() {
            PolicyType::Trust
        } else {
            PolicyType::Resource
        }
    }
}

impl PolicyType {
    /// All types.
    pub const ALL: [PolicyType; 7] = [
        PolicyType::Identity,
        PolicyType::Resource,
        PolicyType::Trust,
        PolicyType::Boundary,
        PolicyType::Scp,
        PolicyType::Rcp,
        PolicyType::Session,
    ];
    /// The name used on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::Resource => "resource",
            PolicyType::Trust => "trust",
            PolicyType::Boundary => "boundary",
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
            PolicyType::Session => "session",
        }
    }
    /// What it is called in a sentence ("an identity policy").
    pub const fn title(self) -> &'static str {
        match self {
            PolicyType::Identity => "an identity policy",
            PolicyType::Resource => "a resource-based policy",
            PolicyType::Trust => "a role trust policy",
            PolicyType::Boundary => "a permissions boundary",
            PolicyType::Scp => "a service control policy",
            PolicyType::Rcp => "a resource control policy",
            PolicyType::Session => "a session policy",
        }
    }
    /// Whether statements of this type name a principal.
    pub const fn has_principal(self) -> bool {
        matches!(
            self,
            PolicyType::Resource | PolicyType::Trust | PolicyType::Rcp
        )
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy type's name that is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsePolicyTypeError {
    /// What was given.
    pub input: String,
}

impl fmt::Display for ParsePolicyTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown policy type `{}`; expected identity, resource, trust, boundary, scp, rcp or session",
            self.input
        )
    }
}

impl std::error::Error for ParsePolicyTypeError {}

impl FromStr for PolicyType {
    type Err = ParsePolicyTypeError;
    fn from_str(s: &str) -> Result<Self, ParsePolicyTypeError> {
        PolicyType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| ParsePolicyTypeError {
                input: s.to_string(),
            })
    }
}

/// Options for [`validate`].
#[derive(Clone, Debug, Default)]
pub struct ValidateOptions {
    /// The partition the policy is for (`aws`, `aws-cn`, …). When set, ARNs naming another partition are
    /// errors: IAM in `aws-cn` rejects `arn:aws:…`.
    pub partition: Option<String>,
}

/// Checks a parsed document against the rules of one policy type.
pub fn validate(doc: &PolicyDocument, ty: PolicyType, opts: &ValidateOptions) -> Vec<Diagnostic> {
    validate_with(doc, ty, opts, Advice::Give)
}

/// Whether the advice-only rules run: warnings that do not change how a request is decided (an unknown
/// action or service, a condition key the statement's actions do not carry, `ForAllValues:` without a
/// `Null` guard). An engine about to evaluate a policy reads only its errors and the warnings that do
/// change the decision (an unknown condition key, a multivalued variable), so it skips them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Advice {
    Give,
    Skip,
}

/// [`validate`] with or without the advice-only rules.
pub(crate) fn validate_with(
    doc: &PolicyDocument,
    ty: PolicyType,
    opts: &ValidateOptions,
    advice: Advice,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    version_rules(doc, ty, &mut out);
    for s in &doc.statements {
        statement_rules(s, ty, &mut out);
        catalog_rules(s, advice, &mut out);
        if let Some(r) = &s.resource {
            for item in &r.items {
                if let ResourceKind::Arn(p) = &item.kind {
                    arn_rules(item, p, ty, opts, &mut out);
                }
            }
        }
        if let Some(p) = &s.principal {
            principal_rules(p, s, &mut out);
        }
    }
    out
}

fn version_rules(doc: &PolicyDocument, ty: PolicyType, out: &mut Vec<Diagnostic>) {
    let iam_managed = matches!(ty, PolicyType::Identity | PolicyType::Boundary);
    let at = doc
        .version
        .as_ref()
        .map_or(Span::new(doc.span.start, doc.span.start + 1), |v| v.span);
    // The document's own text: a policy built from a node of a larger file (an inline policy in a test
    // suite) shares that file's source.
    let text = doc.source.text();
    // Read only for a document without `Version` (the common case has one).
    let uses_vars = || {
        text.get(doc.span.start..doc.span.end)
            .unwrap_or(text)
            .contains("${")
    };
    match doc.version.as_ref().map(|v| v.value) {
        Some(Version::V2008_10_17) if iam_managed || ty == PolicyType::Rcp => out.push(
            Diagnostic::error(
                codes::IAM_VERSION_REQUIRED,
                at,
                format!("{} must be version 2012-10-17", ty.title()),
            )
            .label("2008-10-17 is accepted only in older resource policies")
            .help("write \"Version\": \"2012-10-17\""),
        ),
        None if ty == PolicyType::Rcp || (iam_managed && uses_vars()) => out.push(
            Diagnostic::error(
                codes::IAM_VERSION_REQUIRED,
                at,
                format!(
                    "{} without `Version` must not use policy variables",
                    ty.title()
                ),
            )
            .label("no Version: 2008-10-17 semantics, where `${…}` is literal text")
            .help("add \"Version\": \"2012-10-17\" as the first element")
            .aws("VARIABLE_UNSUPPORTED_IN_VERSION"),
        ),
        None => out.push(
            Diagnostic::warning(
                codes::IAM_VERSION_MISSING,
                at,
                "the policy has no `Version`; the 2008-10-17 language applies",
            )
            .label("no Version")
            .help("add \"Version\": \"2012-10-17\" as the first element")
            .aws("MISSING_VERSION"),
        ),
        _ => {}
    }
}

fn first_brace(s: &Statement) -> Span {
    Span::new(s.span.start, s.span.start + 1)
}

fn statement_rules(s: &Statement, ty: PolicyType, out: &mut Vec<Diagnostic>) {
    match (&s.principal, ty.has_principal()) {
        (Some(p), false) => out.push(
            Diagnostic::error(codes::IAM_PRINCIPAL_FORBIDDEN, p.span, format!("{} cannot name a principal", ty.title()))
                .label(if p.negated { "NotPrincipal here" } else { "Principal here" })
                .help(if ty == PolicyType::Identity {
                    "an identity policy applies to the identity it is attached to; remove Principal (it belongs in a trust or resource policy)"
                } else {
                    "remove the principal element"
                })
                .aws(if ty == PolicyType::Scp {
                    "SCP_SYNTAX_ERROR_PRINCIPAL"
                } else {
                    "UNSUPPORTED_PRINCIPAL"
                }),
        ),
        (None, true) => out.push(
            Diagnostic::error(codes::IAM_MISSING_PRINCIPAL, first_brace(s), format!("{} must name a principal", ty.title()))
                .label("this statement has no Principal")
                .help("add \"Principal\": {\"AWS\": \"arn:aws:iam::123456789012:root\"} or \"Principal\": \"*\"")
                .aws("MISSING_PRINCIPAL"),
        ),
        _ => {}
    }
    if let Some(p) = &s.principal {
        if p.negated && matches!(ty, PolicyType::Trust | PolicyType::Rcp) {
            let d = Diagnostic::error(
                codes::IAM_NOTPRINCIPAL_FORBIDDEN,
                p.span,
                format!("{} does not support `NotPrincipal`", ty.title()),
            )
            .label("NotPrincipal")
            .help("use Principal, narrowed with conditions");
            // Access Analyzer has a code for trust policies; its catalogue has none for RCPs.
            out.push(if ty == PolicyType::Trust {
                d.aws("ROLE_TRUST_POLICY_SYNTAX_ERROR_NOTPRINCIPAL")
            } else {
                d
            });
        }
        if p.negated && s.effect.value == Effect::Allow && ty == PolicyType::Resource {
            out.push(
                Diagnostic::warning(codes::IAM_ALLOW_NOTPRINCIPAL, p.span, "`Allow` with `NotPrincipal` grants access to everyone not listed, anonymous callers included")
                    .label("NotPrincipal")
                    .help("use Principal to list who is allowed")
                    .aws("ALLOW_WITH_NOT_PRINCIPAL"),
            );
        }
    }
    match (&s.resource, ty) {
        (Some(r), PolicyType::Trust) => out.push(
            Diagnostic::error(
                codes::IAM_RESOURCE_FORBIDDEN,
                r.span,
                "a role trust policy cannot have `Resource`",
            )
            .label("the role itself is the resource")
            .help("remove Resource from the trust policy")
            .aws("ROLE_TRUST_POLICY_SYNTAX_ERROR_RESOURCE"),
        ),
        (None, t) if t != PolicyType::Trust => out.push(
            Diagnostic::error(
                codes::IAM_MISSING_RESOURCE,
                first_brace(s),
                "the statement has no `Resource` or `NotResource`",
            )
            .label("this statement")
            .help("add \"Resource\": \"arn:…\" (or \"*\")")
            .aws("MISSING_RESOURCE"),
        ),
        _ => {}
    }
    if let Some(r) = &s.resource
        && ty != PolicyType::Resource
    {
        for item in &r.items {
            if item.raw.starts_with("execute-api:") {
                out.push(
                        Diagnostic::error(codes::IAM_ARN_FORMAT, item.span, format!("`{}` is API Gateway's short form, valid only in an API's resource policy", item.raw))
                            .label("not an ARN")
                            .help("write the full ARN: arn:aws:execute-api:region:account-id:api-id/stage/METHOD/path")
                            .aws("INVALID_ARN_PREFIX"),
                    );
            }
        }
    }
    if ty == PolicyType::Trust
        && let Some(a) = &s.action
    {
        for item in &a.items {
            let fine = item.service.as_deref() == Some("sts") || item.service.is_none();
            if !fine && !a.negated {
                out.push(
                        Diagnostic::warning(codes::IAM_TRUST_ACTION, item.span, format!("`{}` has no effect in a trust policy", item.raw))
                            .label("not an sts action")
                            .help("trust policies grant sts:AssumeRole, sts:AssumeRoleWithWebIdentity, sts:AssumeRoleWithSAML, sts:TagSession, sts:SetSourceIdentity"),
                    );
            }
        }
    }
    if ty == PolicyType::Rcp {
        if let Some(a) = &s.action
            && a.negated
        {
            out.push(
                Diagnostic::error(
                    codes::IAM_RCP_NOTACTION,
                    a.span,
                    "a resource control policy does not support `NotAction`",
                )
                .label("NotAction")
                .help("list the actions with Action"),
            );
        }
        if let Some(p) = &s.principal
            && !p.negated
            && p.value != PrincipalValue::Any
        {
            out.push(
                    Diagnostic::error(codes::IAM_RCP_PRINCIPAL, p.span, "a resource control policy's principal must be \"*\"")
                        .label("narrow principals with conditions instead")
                        .help("write \"Principal\": \"*\" and add aws:PrincipalAccount or aws:PrincipalOrgID conditions"),
                );
        }
        let full_access = s.effect.value == Effect::Allow
            && s.action
                .as_ref()
                .is_some_and(|a| a.items.len() == 1 && a.items.iter().all(|i| i.raw == "*"))
            && s.resource
                .as_ref()
                .is_some_and(|r| r.items.iter().all(|i| i.raw == "*"))
            && s.conditions.is_empty();
        if s.effect.value == Effect::Allow && !full_access {
            out.push(
                Diagnostic::error(
                    codes::IAM_RCP_ALLOW,
                    s.effect.span,
                    "a resource control policy can only deny",
                )
                .label("Allow")
                .help("RCPs restrict; the only Allow is AWS's RCPFullAWSAccess (Allow * on *)"),
            );
        }
    }
}

fn principal_rules(p: &PrincipalBlock, _s: &Statement, out: &mut Vec<Diagnostic>) {
    let PrincipalValue::Map(entries) = &p.value else {
        return;
    };
    for e in entries {
        for v in &e.values {
            let text = v.value.as_str();
            if e.kind == PrincipalKind::Aws && text != "*" {
                if text.contains(['*', '?']) {
                    out.push(
                        Diagnostic::error(
                            codes::IAM_PRINCIPAL_WILDCARD,
                            v.span,
                            format!("wildcards are not allowed in principal `{text}`"),
                        )
                        .label("only a bare \"*\" may stand for everyone")
                        .help("use \"*\" with an aws:PrincipalArn ArnLike condition")
                        .aws("UNSUPPORTED_WILDCARD_IN_PRINCIPAL"),
                    );
                    continue;
                }
                let account_ok = if let Some(rest) = text.strip_prefix("arn:") {
                    let parts: Vec<&str> = rest.splitn(5, ':').collect();
                    parts.get(3).is_some_and(|a| is_account_id(a)) && parts.len() == 5
                } else {
                    is_account_id(text)
                        || (text.len() >= 20 && text.starts_with("AROA")
                            || text.starts_with("AIDA"))
                };
                if !account_ok {
                    out.push(
                        Diagnostic::error(codes::IAM_PRINCIPAL_INVALID, v.span, format!("invalid principal `{text}`"))
                            .label("expected a 12-digit account id or an IAM ARN")
                            .help("write an account id (123456789012) or an ARN such as arn:aws:iam::123456789012:role/Name")
                            .aws("INVALID_PRINCIPAL_FORMAT"),
                    );
                }
            }
            if e.kind == PrincipalKind::Service && text.contains(['*', '?']) {
                out.push(
                    Diagnostic::error(
                        codes::IAM_PRINCIPAL_WILDCARD,
                        v.span,
                        format!("wildcards are not allowed in service principal `{text}`"),
                    )
                    .label("wildcard")
                    .aws("UNSUPPORTED_WILDCARD_IN_PRINCIPAL"),
                );
            }
        }
    }
}

fn arn_rules(
    item: &ResourcePattern,
    p: &ArnPattern,
    _ty: PolicyType,
    opts: &ValidateOptions,
    out: &mut Vec<Diagnostic>,
) {
    let lit = |i: usize| p.segments.get(i).and_then(Template::literal);
    if let (Some(want), Some(part)) = (&opts.partition, lit(1))
        && &part != want
    {
        out.push(
            Diagnostic::error(
                codes::IAM_ARN_PARTITION,
                item.span,
                format!(
                    "partition `{part}` is not valid for resource `{}`",
                    item.raw
                ),
            )
            .label(format!("this policy is for the `{want}` partition"))
            .help(format!(
                "write arn:{want}:… (or arn:${{AWS::Partition}} in CloudFormation)"
            ))
            .aws("INVALID_PARTITION"),
        );
    }
    if p.open_ended || item.raw.starts_with("execute-api:") {
        return;
    }
    let (Some(service), Some(region), Some(account)) = (lit(2), lit(3), lit(4)) else {
        return;
    };
    let Some(formats) = catalog().arn_formats(&service) else {
        // A service no ARN in the Service Authorization Reference names, and no action prefix: the
        // entry matches no resource (Access Analyzer's `INVALID_SERVICE`). IAM stores it, so it is a
        // warning for evaluation.
        if !catalog().is_service(&service) && !service.is_empty() {
            out.push(
                Diagnostic::warning(
                    codes::IAM_UNKNOWN_SERVICE,
                    item.span,
                    format!("`{service}` in resource `{}` is not a service in the Service Authorization Reference", item.raw),
                )
                .label("unknown service")
                .help("check the service segment (for example `s3`, `dynamodb`, `execute-api`); a retired service's resources match nothing")
                .aws("INVALID_SERVICE"),
            );
        }
        return;
    };
    // The resource part: literal, or a pattern whose literal prefix (up to the first wildcard or
    // variable) decides which formats it can reach. The Region and account rules hold when every
    // reachable format agrees.
    let resource = lit(5);
    let raw_resource = p
        .segments
        .get(5)
        .filter(|_| resource.is_none())
        .map(|t| {
            t.pieces
                .iter()
                .map_while(|x| match x {
                    crate::Piece::Literal(l) => Some(l.as_str()),
                    _ => None,
                })
                .collect::<String>()
        })
        .unwrap_or_default();
    let fitting: Vec<_> = formats
        .iter()
        .filter(|f| match &resource {
            Some(r) => resource_fits(f.resource, r),
            None => {
                let head = f.resource.split("${").next().unwrap_or("");
                head.starts_with(raw_resource.as_str()) || raw_resource.starts_with(head)
            }
        })
        .collect();
    let Some(resource) = resource.or_else(|| {
        (!fitting.is_empty())
            .then(|| std::borrow::Cow::Borrowed(item.raw.splitn(6, ':').nth(5).unwrap_or("")))
    }) else {
        return;
    };
    if fitting.is_empty() {
        // Only a resource part without wildcards or variables can be said to fit no format.
        if !item.raw.contains(['*', '?', '$']) {
            out.push(
                Diagnostic::warning(
                    codes::IAM_ARN_RESOURCE,
                    item.span,
                    format!(
                        "`{resource}` fits none of the {service} resource ARN formats in the Service Authorization Reference"
                    ),
                )
                .label("matches no resource")
                .help(format!(
                    "{service} resources look like {}",
                    formats
                        .iter()
                        .take(3)
                        .map(|f| format!("`{}`", f.resource))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .aws("INVALID_ARN_RESOURCE"),
            );
        }
        return;
    }
    if region.is_empty() && fitting.iter().all(|f| f.region) {
        out.push(
            Diagnostic::warning(
                codes::IAM_ARN_REGION_MISSING,
                item.span,
                format!("resource `{}` has no Region", item.raw),
            )
            .label(format!("{service} resources of this form have a Region"))
            .help("write the Region, or `*` for any: an empty Region matches no resource")
            .aws("MISSING_ARN_REGION"),
        );
    }
    if !region.is_empty() && fitting.iter().all(|f| !f.region) {
        out.push(
            Diagnostic::error(
                codes::IAM_ARN_REGION_NOT_ALLOWED,
                item.span,
                format!("resource `{}` cannot contain a Region", item.raw),
            )
            .label(format!("{service} resources of this form have no Region"))
            .help(format!(
                "leave the Region empty: arn:{}:{service}::{account}:{resource}",
                lit(1).unwrap_or_default()
            ))
            .aws("ARN_REGION_NOT_ALLOWED"),
        );
    }
    if !account.is_empty() && fitting.iter().all(|f| !f.account) {
        out.push(
            Diagnostic::error(
                codes::IAM_ARN_ACCOUNT_NOT_ALLOWED,
                item.span,
                format!("resource `{}` cannot contain an account id", item.raw),
            )
            .label(format!("{service} resources of this form have no account"))
            .help("leave the account empty")
            .aws("ARN_ACCOUNT_NOT_ALLOWED"),
        );
    }
}

/// Checks against the Service Authorization Reference that catch typos which quietly change what a
/// policy does: an action that does not exist (an `Allow` that grants nothing, a `Deny` that blocks
/// nothing), a condition key that does not exist or does not apply to the statement's services (a
/// condition that never holds, or under `ForAllValues:` / a negated operator, always holds), and
/// `ForAllValues:` in an `Allow` on a key the request can leave out (an absent key makes it true).
/// The most "did you mean" suggestions computed per statement: each costs a comparison with every name
/// of the service, so a statement of many thousand unknown actions stays linear and fast.
const MAX_SUGGESTIONS: usize = 100;

fn catalog_rules(s: &Statement, advice: Advice, out: &mut Vec<Diagnostic>) {
    let c = catalog();
    let mut suggestions = 0usize;
    // The services the statement's actions name; `None` when it can apply to any (`*`, `NotAction`).
    let mut services: Option<Vec<&str>> = Some(Vec::new());
    if let Some(a) = s.action.as_ref().filter(|_| advice == Advice::Give) {
        if a.negated {
            services = None;
        }
        for item in &a.items {
            let Some(svc) = item.service.as_deref() else {
                services = None;
                continue;
            };
            if let Some(v) = services.as_mut() {
                v.push(svc);
            }
            match c.action_matches(svc, &item.action) {
                None => {
                    let known: Vec<&str> = c.services().collect();
                    let d = Diagnostic::warning(
                        codes::IAM_UNKNOWN_SERVICE,
                        item.span,
                        format!(
                            "`{svc}` is not a service prefix in the Service Authorization Reference"
                        ),
                    )
                    .label("unknown service");
                    // Access Analyzer answers `INVALID_SERVICE_IN_ACTION` for an unknown prefix in an
                    // action, with or without a close prefix to suggest (its answers for AWS managed
                    // policies naming retired services, such as `elastic-inference:Connect`).
                    suggestions += 1;
                    let near = if suggestions <= MAX_SUGGESTIONS {
                        crate::grammar::did_you_mean(svc, &known)
                    } else {
                        None
                    };
                    out.push(match near {
                        Some(near) => d
                            .help(format!("did you mean `{near}`? a retired service's actions match nothing"))
                            .aws("INVALID_SERVICE_IN_ACTION"),
                        None => d
                            .help("check the prefix (for example `s3`, `dynamodb`, `execute-api`); a retired service's actions match nothing")
                            .aws("INVALID_SERVICE_IN_ACTION"),
                    });
                }
                // Whitespace in an action is already an error of its own.
                Some(false) if item.raw.contains(char::is_whitespace) => {}
                Some(false) => {
                    let wildcard = item.action.contains(['*', '?']);
                    let mut d = Diagnostic::warning(
                        codes::IAM_UNKNOWN_ACTION,
                        item.span,
                        if wildcard {
                            format!("`{}` matches no action of `{svc}`", item.raw)
                        } else {
                            format!("the action `{}` does not exist", item.raw)
                        },
                    )
                    .label(if wildcard {
                        "matches nothing"
                    } else {
                        "unknown action"
                    })
                    .aws("INVALID_ACTION");
                    let names = c.actions(svc).unwrap_or_default();
                    suggestions += 1;
                    let near = if suggestions <= MAX_SUGGESTIONS {
                        crate::grammar::did_you_mean(&item.action, names)
                    } else {
                        None
                    };
                    if let Some(m) = near {
                        d = d.help(format!("did you mean `{svc}:{m}`?"));
                    } else {
                        d = d.help(format!(
                            "an {} that names no real action has no effect",
                            s.effect.value.as_str()
                        ));
                    }
                    out.push(d);
                }
                Some(true) => {}
            }
        }
    } else {
        services = None;
    }
    for cond in &s.conditions {
        let key = cond.key.value.to_ascii_lowercase();
        let Some((prefix, _)) = key.split_once(':') else {
            continue;
        };
        // Keys of web-identity and SAML providers (`cognito-identity.amazonaws.com:sub`, an OIDC
        // issuer's keys) are not in the reference; only `aws:` and service prefixes are checked.
        let checkable = prefix == "aws" || c.is_service(prefix);
        let known = c.key_type(&key).is_some();
        if checkable && !known {
            let global = prefix == "aws";
            out.push(
                Diagnostic::warning(
                    codes::IAM_UNKNOWN_CONDITION_KEY,
                    cond.key.span,
                    if global {
                        format!("the global condition key `{}` does not exist", cond.key.value)
                    } else {
                        format!(
                            "the condition key `{}` does not exist in the service `{prefix}`",
                            cond.key.value
                        )
                    },
                )
                .label("unknown key: never present in a request")
                .help("an absent key makes most operators false, and negated operators, `…IfExists` and `ForAllValues:` true")
                .aws(if global {
                    "INVALID_GLOBAL_CONDITION_KEY"
                } else {
                    "INVALID_SERVICE_CONDITION_KEY"
                }),
            );
        } else if advice == Advice::Give
            && known
            && c.is_service(prefix)
            && let Some(svcs) = &services
            && !svcs.is_empty()
            && !svcs.contains(&prefix)
        {
            out.push(
                Diagnostic::warning(
                    codes::IAM_CONDITION_KEY_SERVICE,
                    cond.key.span,
                    format!(
                        "`{}` is a key of `{prefix}`, but the statement's actions are of {}",
                        cond.key.value,
                        svcs.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .label("not in these requests")
                .help("the key is absent from these actions' requests; move the condition to a statement for that service")
                .aws("UNSUPPORTED_ACTION_FOR_CONDITION_KEY"),
            );
        }
        // Per action: a service's own key (or an identity provider's) that no named action of that
        // service in the statement supports, through its own keys or its resource types'
        // (`dynamodb:LeadingKeys` on `dynamodb:DescribeTable`, `cognito-identity.amazonaws.com:aud` on
        // `sts:TagSession`): the condition is never evaluated as written. Access Analyzer's answers for
        // AWS managed policies stay quiet when another action of the statement supports the key, on
        // `Null` (which tests for absence), and on keys the reference lists for no action at all
        // (service-wide keys such as `ec2:SourceInstanceARN`); so does this check.
        if advice == Advice::Give
            && prefix != "aws"
            && cond.operator.value.base != BaseOperator::Null
            && let Some(a) = s.action.as_ref().filter(|a| !a.negated)
        {
            let owners = c.key_services(prefix);
            let named: Vec<(&str, &crate::ActionPattern)> = a
                .items
                .iter()
                .filter(|i| !i.action.contains(['*', '?']))
                .filter_map(|i| {
                    let svc = i.service.as_deref()?;
                    owners.contains(&svc).then_some((svc, i))
                })
                .collect();
            let support = |(svc, i): &(&str, &crate::ActionPattern)| {
                c.action_supports_key(svc, &i.action, &key)
            };
            let unsupported: Vec<&str> = if !named.is_empty()
                && named.iter().all(|x| support(x) == Some(false))
                && named
                    .iter()
                    .any(|(svc, _)| c.key_listed_by_any_action(svc, &key))
            {
                named.iter().map(|(_, i)| i.raw.as_str()).collect()
            } else {
                Vec::new()
            };
            if !unsupported.is_empty() {
                out.push(
                    Diagnostic::warning(
                        codes::IAM_CONDITION_KEY_SERVICE,
                        cond.key.span,
                        format!(
                            "The following actions: {} are not supported by the condition key {}",
                            unsupported.join(", "),
                            cond.key.value
                        ),
                    )
                    .label("absent from these actions' requests")
                    .help("the condition is not evaluated for these actions as written: move them to a statement without this key")
                    .aws("UNSUPPORTED_ACTION_FOR_CONDITION_KEY"),
                );
            }
        }
        if advice == Advice::Give
            && s.effect.value == Effect::Allow
            && cond.operator.value.qualifier == Some(Qualifier::ForAllValues)
            && !cond.operator.value.if_exists
        {
            let guarded = s.conditions.iter().any(|o| {
                o.operator.value.base == BaseOperator::Null
                    && o.operator.value.qualifier.is_none()
                    && o.key.value.eq_ignore_ascii_case(&cond.key.value)
                    && o.values
                        .iter()
                        .any(|v| v.raw.text().eq_ignore_ascii_case("false"))
            });
            if !guarded {
                out.push(
                    Diagnostic::warning(
                        codes::IAM_FORALLVALUES_ABSENT_KEY,
                        cond.key.span,
                        format!(
                            "`ForAllValues:` is true when `{}` is absent, so this Allow also applies to requests without it",
                            cond.key.value
                        ),
                    )
                    .label(if known || !checkable { "may be absent" } else { "unknown key: always absent" })
                    .help(format!(
                        "add \"Null\": {{\"{}\": \"false\"}} to require the key, or use ForAnyValue:",
                        cond.key.value
                    )),
                );
            }
        }
    }
}
