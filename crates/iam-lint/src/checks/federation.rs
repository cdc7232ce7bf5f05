//! Access Analyzer checks on federated principals and role trust policies: federated principals where
//! they cannot work or are malformed, trust actions that do not fit their principals, IAM Roles Anywhere's
//! three permissions, `aud` tested with a set qualifier, GitHub's OIDC provider without a repository
//! condition (the rules as the check reference documents them; where it gives only an example, the example
//! is the rule).

use iam_policy::{Diagnostic, Effect, PolicyType, PrincipalKind, PrincipalValue, Statement};

use super::principals::{GITHUB, entries, federated_ok, is_saml, values};
use super::{Ctx, Reach, finding, finding_at, reach};

pub(super) fn federated(s: &Statement, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let ty = cx.ty;
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

pub(super) fn trust_actions(s: &Statement, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let ty = cx.ty;
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

pub(super) fn github(s: &Statement, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let ty = cx.ty;
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
