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
    Diagnostic, Effect, PolicyDocument, PolicyType, PrincipalEntry, PrincipalKind, PrincipalValue,
    Statement,
};

use super::lint_checks::{Reach, finding, finding_at, reach};

/// The principal entries of a statement's `Principal` (not `NotPrincipal`, not `"*"`).
fn entries(s: &Statement) -> &[PrincipalEntry] {
    match &s.principal {
        Some(p) if !p.negated => match &p.value {
            PrincipalValue::Map(e) => e,
            PrincipalValue::Any => &[],
        },
        _ => &[],
    }
}

fn values(
    s: &Statement,
    kind: PrincipalKind,
) -> impl Iterator<Item = &iam_policy::Spanned<String>> {
    entries(s)
        .iter()
        .filter(move |e| e.kind == kind)
        .flat_map(|e| e.values.iter())
}

fn is_saml(v: &str) -> bool {
    v.starts_with("arn:") && v.contains(":saml-provider/")
}

/// A federated principal as a role trust policy may name it: a SAML or OIDC provider ARN
/// (`arn:aws:iam::123456789012:saml-provider/Name`), or a web identity provider's domain
/// (`cognito-identity.amazonaws.com`, `accounts.google.com`, `www.amazon.com`, `graph.facebook.com`).
fn federated_ok(v: &str) -> bool {
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

const GITHUB: &str = "token.actions.githubusercontent.com";

/// The checks for one document of type `ty` (`resource_type` as `--resource-type` gave it).
pub(crate) fn checks(doc: &PolicyDocument, ty: PolicyType) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in &doc.statements {
        federated(s, ty, &mut out);
        trust_actions(s, ty, &mut out);
        github(s, ty, &mut out);
        ids_and_sessions(s, ty, &mut out);
        service_principals(s, ty, &mut out);
    }
    out
}

fn federated(s: &Statement, ty: PolicyType, out: &mut Vec<Diagnostic>) {
    if ty == PolicyType::Trust
        && let Some(p) = &s.principal
        && !p.negated
        && p.value == PrincipalValue::Any
    {
        out.push(finding(
            "ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
            p.span,
            "\"Principal:\" \"*\" is not supported in the principal element of a role trust policy. Replace the wildcard with a valid principal value.",
        ));
    }
    for v in values(s, PrincipalKind::Federated) {
        // "Resource policies include trust policies for IAM roles" (ValidatePolicy's `policyType`): a
        // statement whose actions are all role assumptions is a trust policy's, where a federated
        // principal is what it should be.
        if ty == PolicyType::Resource && !assumption_only(s) {
            out.push(finding(
                "FEDERATED_PRINCIPAL_NOT_SUPPORTED",
                v.span,
                format!(
                    "`{}`: a resource policy does not support a federated identity provider as principal (only role trust policies do)",
                    v.value
                ),
            ));
        } else if ty == PolicyType::Trust && !federated_ok(&v.value) {
            out.push(finding(
                "INVALID_FEDERATED_PRINCIPAL_SYNTAX_IN_ROLE_TRUST_POLICY",
                v.span,
                format!(
                    "`{}` is neither a provider's domain name nor a SAML or OIDC provider ARN (arn:aws:iam::123456789012:saml-provider/Name)",
                    v.value
                ),
            ));
        }
    }
}

/// Whether every action the statement names is a role assumption (`sts:AssumeRole*`, `sts:TagSession`,
/// …): the statement can only be a role trust policy's.
fn assumption_only(s: &Statement) -> bool {
    s.action.as_ref().is_some_and(|a| {
        !a.negated
            && !a.items.is_empty()
            && a.items.iter().all(|i| iam_eval::is_role_assumption(&i.raw))
    })
}

fn trust_actions(s: &Statement, ty: PolicyType, out: &mut Vec<Diagnostic>) {
    if ty != PolicyType::Trust && !(ty == PolicyType::Resource && assumption_only(s)) {
        return;
    }
    let Some(actions) = s.action.as_ref().filter(|a| !a.negated) else {
        return;
    };
    let principals: Vec<&str> = entries(s)
        .iter()
        .flat_map(|e| e.values.iter().map(|v| v.value.as_str()))
        .collect();
    let federated: Vec<&iam_policy::Spanned<String>> =
        values(s, PrincipalKind::Federated).collect();
    let all_values: Vec<&iam_policy::Spanned<String>> =
        entries(s).iter().flat_map(|e| e.values.iter()).collect();
    // Each federation action needs a federated principal of its kind in the same statement, and
    // `sts:AssumeRole` takes none: the finding names the action and the principals that do not fit.
    type Fits = &'static dyn Fn(&str) -> bool;
    let rules: [(&str, Fits, bool); 3] = [
        ("sts:assumerolewithsaml", &|v: &str| is_saml(v), true),
        (
            "sts:assumerolewithwebidentity",
            &|v: &str| !is_saml(v),
            true,
        ),
        ("sts:assumerole", &|_: &str| false, false),
    ];
    for (action, fits, needs_federated) in rules {
        let named = actions
            .items
            .iter()
            .find(|p| p.raw.eq_ignore_ascii_case(action));
        let Some(p) = named else { continue };
        // The principals the action cannot be used with: for a federation action every principal when
        // none of the federated ones fits; for `sts:AssumeRole` the federated ones.
        let misfits: Vec<&iam_policy::Spanned<String>> = if needs_federated {
            if principals.is_empty() || federated.iter().any(|v| fits(&v.value)) {
                continue;
            }
            all_values.clone()
        } else {
            federated.clone()
        };
        if misfits.is_empty() {
            continue;
        }
        let names: Vec<&str> = misfits.iter().map(|v| v.value.as_str()).collect();
        out.push(finding_at(
            "MISMATCHED_ACTION_FOR_PRINCIPAL",
            std::iter::once(p.span)
                .chain(misfits.iter().map(|v| v.span))
                .collect(),
            format!(
                "The {} action is invalid with the following principal(s): {}. Use a SAML provider principal with the sts:AssumeRoleWithSAML action or use an OIDC provider principal with the sts:AssumeRoleWithWebIdentity action. Ensure the provider is Federated if you use either of the two options.",
                p.raw,
                names.join(", ")
            ),
        ));
    }
    // IAM Roles Anywhere needs all three permissions.
    let roles_anywhere = values(s, PrincipalKind::Service)
        .any(|v| v.value.eq_ignore_ascii_case("rolesanywhere.amazonaws.com"));
    if roles_anywhere && s.effect.value == Effect::Allow {
        let missing: Vec<&str> = ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"]
            .into_iter()
            .filter(|a| reach(s, &a.to_ascii_lowercase()) == Reach::Excluded)
            .collect();
        if !missing.is_empty() {
            out.push(finding(
                "MISSING_ACTION_FOR_ROLES_ANYWHERE_TRUST_POLICY",
                actions.span,
                format!(
                    "rolesanywhere.amazonaws.com needs sts:AssumeRole, sts:SetSourceIdentity and sts:TagSession to assume the role; missing: {}",
                    missing.join(", ")
                ),
            ));
        }
    }
    // Setting a session's source identity or transitive tags needs the action that sets them.
    for (key, action) in [
        ("sts:SourceIdentity", "sts:SetSourceIdentity"),
        ("sts:TransitiveTagKeys", "sts:TagSession"),
    ] {
        if let Some(c) = s
            .conditions
            .iter()
            .find(|c| c.key.value.eq_ignore_ascii_case(key))
            && reach(s, &action.to_ascii_lowercase()) == Reach::Excluded
        {
            out.push(finding(
                "MISSING_ACTION_FOR_CONDITION_KEY",
                c.key.span,
                format!(
                    "The {action} action must be in the action block to allow setting values for the condition key {key}. Add {action} to the action block."
                ),
            ));
        }
    }
    // `aud` of a web identity provider tested with a set qualifier: confirm the claim is multivalued.
    for c in &s.conditions {
        let key = c.key.value.to_ascii_lowercase();
        if let Some(provider) = key.strip_suffix(":aud")
            && provider.contains('.')
            && c.operator.value.qualifier.is_some()
        {
            out.push(finding(
                "CONFIRM_AUDIENCE_CLAIM_TYPE",
                c.key.span,
                format!(
                    "`{}` is tested with a set qualifier: keep it only if the provider's `aud` claim is multivalued (Cognito's and most providers' are single-valued)",
                    c.key.value
                ),
            ));
        }
    }
}

fn github(s: &Statement, ty: PolicyType, out: &mut Vec<Diagnostic>) {
    let github = values(s, PrincipalKind::Federated)
        .any(|v| v.value.ends_with(&format!(":oidc-provider/{GITHUB}")) || v.value == GITHUB);
    if ty != PolicyType::Trust || !github || s.effect.value != Effect::Allow {
        return;
    }
    let sub = format!("{GITHUB}:sub");
    let subs: Vec<&iam_policy::Condition> = s
        .conditions
        .iter()
        .filter(|c| c.key.value.eq_ignore_ascii_case(&sub))
        .collect();
    if subs.is_empty() {
        out.push(finding(
            "MISSING_GITHUB_REPO_CONDITION_KEY",
            s.principal.as_ref().map_or(s.span, |p| p.span),
            format!(
                "GitHub's OIDC provider is trusted without `{sub}`: workflows of any repository can assume the role; name the repository and branch"
            ),
        ));
    }
    for c in subs {
        for v in &c.values {
            if v.raw.text().contains('*') {
                out.push(finding(
                    "SPECIFIC_GITHUB_REPO_AND_BRANCH_RECOMMENDED",
                    v.span,
                    format!(
                        "`{}`: a wildcard in {sub} can let more repositories or branches assume the role than intended",
                        v.raw.text()
                    ),
                ));
            }
        }
    }
}

fn ids_and_sessions(s: &Statement, ty: PolicyType, out: &mut Vec<Diagnostic>) {
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

fn service_principals(s: &Statement, ty: PolicyType, out: &mut Vec<Diagnostic>) {
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
