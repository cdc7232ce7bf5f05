//! Access Analyzer checks on principals and role trust policies that `lint` decides from the policy text:
//! federated principals where they cannot work, malformed federated and service principals, trust
//! actions that do not fit their principals, IAM Roles Anywhere's three permissions, GitHub's OIDC
//! provider without a repository condition, `aud` tested with a set qualifier, principal IDs instead of
//! ARNs, an assumed-role session listed beside its role, and service principals with keys they never send.
//!
//! The rules are Access Analyzer's as its check reference documents them ("IAM policy validation check
//! reference", AWS IAM User Guide); where the reference gives only an example, the example is the rule and
//! the module says so.

use iam_policy::{
    Diagnostic, PolicyType, PrincipalEntry, PrincipalKind, PrincipalValue, Statement,
};

use super::{Ctx, finding};

/// The principal entries of a statement's `Principal` (not `NotPrincipal`, not `"*"`).
pub(super) fn entries(s: &Statement) -> &[PrincipalEntry] {
    match &s.principal {
        Some(p) if !p.negated => match &p.value {
            PrincipalValue::Map(e) => e,
            PrincipalValue::Any => &[],
        },
        _ => &[],
    }
}

pub(super) fn values(
    s: &Statement,
    kind: PrincipalKind,
) -> impl Iterator<Item = &iam_policy::Spanned<String>> {
    entries(s)
        .iter()
        .filter(move |e| e.kind == kind)
        .flat_map(|e| e.values.iter())
}

pub(super) fn is_saml(v: &str) -> bool {
    v.starts_with("arn:") && v.contains(":saml-provider/")
}

/// A federated principal as a role trust policy may name it: a SAML or OIDC provider ARN
/// (`arn:aws:iam::123456789012:saml-provider/Name`), or a web identity provider's domain
/// (`cognito-identity.amazonaws.com`, `accounts.google.com`, `www.amazon.com`, `graph.facebook.com`).
pub(super) fn federated_ok(v: &str) -> bool {
    if let Some(rest) = v.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        return match parts.as_slice() {
            [partition, "iam", "", account, resource] => {
                !partition.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && ["saml-provider/", "oidc-provider/"]
                        .iter()
                        .any(|p| resource.strip_prefix(p).is_some_and(|n| !n.is_empty()))
            }
            _ => false,
        };
    }
    domain_ok(v)
}

/// A DNS name: dot-separated labels of letters, digits and inner hyphens, at least two labels.
fn domain_ok(v: &str) -> bool {
    let labels: Vec<&str> = v.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A service principal: a lower-case DNS name under one of AWS's service domains
/// (`service-name.amazonaws.com`, `service.region.amazonaws.com`, the China partition's
/// `amazonaws.com.cn`, and the few `amazon.com` principals such as `alexa-appkit.amazon.com`).
fn service_principal_ok(v: &str) -> bool {
    const SUFFIXES: [&str; 5] = [
        ".amazonaws.com",
        ".amazonaws.com.cn",
        ".amazon.com",
        ".c2s.ic.gov",
        ".sc2s.sgov.gov",
    ];
    v.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && SUFFIXES
            .iter()
            .any(|s| v.strip_suffix(s).is_some_and(domain_or_label))
}

fn domain_or_label(head: &str) -> bool {
    !head.is_empty()
        && head
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-'))
}

/// Keys that describe an IAM principal's organization or tags, never present when an AWS service
/// principal calls (the reference's example is `aws:PrincipalOrgID` with `cloudfront.amazonaws.com`).
fn principal_only_key(key_lower: &str) -> bool {
    key_lower == "aws:principalorgid"
        || key_lower == "aws:principalorgpaths"
        || key_lower.starts_with("aws:principaltag/")
}

/// Keys that name the source of a service's request on your behalf.
fn source_key(key_lower: &str) -> bool {
    matches!(
        key_lower,
        "aws:sourcearn" | "aws:sourceaccount" | "aws:sourceorgid" | "aws:sourceorgpaths"
    )
}

pub(super) const GITHUB: &str = "token.actions.githubusercontent.com";

pub(super) fn ids_and_sessions(s: &Statement, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let ty = cx.ty;
    let aws: Vec<&iam_policy::Spanned<String>> = values(s, PrincipalKind::Aws).collect();
    for v in &aws {
        // IAM unique IDs: AROA… for roles, AIDA… for users (IAM User Guide, "IAM identifiers").
        let id = v.value.len() >= 16 && v.value.bytes().all(|b| b.is_ascii_alphanumeric());
        if id && v.value.starts_with("AROA") {
            out.push(finding(
                "INVALID_ROLE_REFERENCE",
                v.span,
                format!(
                    "The Principal element includes the IAM role ID {}: use the role's ARN (a recreated role gets a new ID)",
                    v.value
                ),
            ));
        } else if id && v.value.starts_with("AIDA") {
            out.push(finding(
                "INVALID_USER_REFERENCE",
                v.span,
                format!(
                    "The Principal element includes the IAM user ID {}: use the user's ARN (a recreated user gets a new ID)",
                    v.value
                ),
            ));
        }
    }
    if ty != PolicyType::Trust {
        return;
    }
    // arn:P:sts::A:assumed-role/R/S beside arn:P:iam::A:role/[path/]R. Access Analyzer's own example
    // for this check writes the session as `arn:aws:iam::A:assumed-role/R/S`: both services count.
    for v in &aws {
        let Some(rest) = v.value.strip_prefix("arn:") else {
            continue;
        };
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, "sts" | "iam", "", account, resource] = parts.as_slice() else {
            continue;
        };
        let Some((role, _session)) = resource
            .strip_prefix("assumed-role/")
            .and_then(|r| r.split_once('/'))
        else {
            continue;
        };
        let parent = aws.iter().find(|p| {
            p.value
                .strip_prefix(&format!("arn:{partition}:iam::{account}:role/"))
                .is_some_and(|r| r.rsplit('/').next() == Some(role))
        });
        if let Some(parent) = parent {
            out.push(finding(
                "REDUNDANT_PRINCIPAL_IN_ROLE_TRUST_POLICY",
                v.span,
                format!(
                    "The assumed-role principal {} is redundant with its parent role {}. Remove the assumed-role principal.",
                    v.value, parent.value
                ),
            ));
        }
    }
}

pub(super) fn service_principals(s: &Statement, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let ty = cx.ty;
    let services: Vec<&iam_policy::Spanned<String>> = values(s, PrincipalKind::Service).collect();
    for v in &services {
        if !v.value.contains(['*', '?']) && !service_principal_ok(&v.value) {
            out.push(finding(
                "INVALID_SERVICE_PRINCIPAL_FORMAT",
                v.span,
                format!(
                    "`{}` is not a service principal: use the format service-name.amazonaws.com (lower case)",
                    v.value
                ),
            ));
        }
    }
    // Condition values that name service principals.
    for c in &s.conditions {
        let key = c.key.value.to_ascii_lowercase();
        let regional = key == "kms:viaservice";
        let strings = c.operator.value.base.family() == iam_policy::Family::String;
        if !strings || (key != "aws:principalservicename" && !regional) {
            continue;
        }
        for v in &c.values {
            let text = v.raw.text();
            if text.contains(['*', '?', '$']) {
                continue;
            }
            let ok = service_principal_ok(text) && (!regional || text.split('.').count() >= 4);
            if !ok {
                out.push(finding(
                    "INVALID_SERVICE_PRINCIPAL_FORMAT",
                    v.span,
                    format!(
                        "`{text}` does not match the service principal format {}",
                        if regional {
                            "service-name.region.amazonaws.com"
                        } else {
                            "service-name.amazonaws.com"
                        }
                    ),
                ));
            }
        }
    }
    // The rest is about statements whose principals are all services.
    let only_services =
        !services.is_empty() && entries(s).iter().all(|e| e.kind == PrincipalKind::Service);
    if !only_services {
        return;
    }
    let unsupported: Vec<&str> = s
        .conditions
        .iter()
        .filter(|c| principal_only_key(&c.key.value.to_ascii_lowercase()))
        .map(|c| c.key.value.as_str())
        .collect();
    if let Some(first) = s
        .conditions
        .iter()
        .find(|c| principal_only_key(&c.key.value.to_ascii_lowercase()))
    {
        out.push(finding(
            "UNSUPPORTED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL",
            first.key.span,
            format!(
                "The following condition keys are not supported when used with the service principal: {} (a service principal has no organization or principal tags)",
                unsupported.join(", ")
            ),
        ));
    }
    if ty == PolicyType::Resource
        && !s
            .conditions
            .iter()
            .any(|c| source_key(&c.key.value.to_ascii_lowercase()))
    {
        let prefix = services
            .first()
            .map_or("", |v| v.value.split('.').next().unwrap_or(""));
        for c in &s.conditions {
            let key = c.key.value.to_ascii_lowercase();
            if key.starts_with("aws:") && !principal_only_key(&key) {
                out.push(finding(
                    "RECOMMENDED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL",
                    c.key.span,
                    format!(
                        "To restrict access to the service principal {prefix} operating on your behalf, we recommend aws:SourceArn or aws:SourceAccount instead of {}.",
                        c.key.value
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(federated_ok("cognito-identity.amazonaws.com"));
        assert!(federated_ok("arn:aws:iam::123456789012:saml-provider/Okta"));
        assert!(federated_ok(
            "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
        ));
        assert!(!federated_ok("arn:aws:iam::123456789012:role/Okta"));
        assert!(!federated_ok("arn:aws:iam::12345:saml-provider/Okta"));
        assert!(!federated_ok("cognito identity"));
        assert!(!federated_ok("localhost"));
        assert!(service_principal_ok("lambda.amazonaws.com"));
        assert!(service_principal_ok("logs.us-east-1.amazonaws.com"));
        assert!(service_principal_ok("ec2.amazonaws.com.cn"));
        assert!(!service_principal_ok("lambda"));
        assert!(!service_principal_ok("Lambda.amazonaws.com"));
        assert!(!service_principal_ok("lambda.amazonaws.co"));
        assert!(!service_principal_ok(".amazonaws.com"));
    }
}
