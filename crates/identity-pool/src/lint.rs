//! Lint checks for identity pools, beside the engine that decides them (`policy-check lint` and
//! `iam_lint::lint` run them as extra checks): role trust policies for Cognito identity pools without
//! `aud` or `amr`, and a guest role's policy against the guest session policy.

use diag::codes;
use iam_policy::{Diagnostic, PolicyDocument, PrincipalKind, PrincipalValue};

use crate::GUEST_SESSION_POLICY;

/// The Cognito checks: trust policies for identity pools. (`amr` tested without `ForAnyValue:` is
/// Access Analyzer's `MISSING_QUALIFIER`, which `validate` already reports from the service reference.)
pub fn trust_checks(doc: &PolicyDocument) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in &doc.statements {
        let federated_cognito = s.principal.as_ref().is_some_and(|p| match &p.value {
            PrincipalValue::Map(entries) => entries.iter().any(|e| {
                e.kind == PrincipalKind::Federated
                    && e.values
                        .iter()
                        .any(|v| v.value == "cognito-identity.amazonaws.com")
            }),
            PrincipalValue::Any => false,
        });
        let allows = s.effect.value == iam_policy::Effect::Allow;
        let has_aud = s.conditions.iter().any(|c| {
            c.key
                .value
                .eq_ignore_ascii_case("cognito-identity.amazonaws.com:aud")
        });
        if federated_cognito && allows && !has_aud {
            out.push(
                Diagnostic::warning(
                    codes::COGNITO_TRUST_WITHOUT_AUD,
                    s.span,
                    "this trust policy lets any Cognito identity pool assume the role: it has no condition on `cognito-identity.amazonaws.com:aud`",
                )
                .help("add \"StringEquals\": {\"cognito-identity.amazonaws.com:aud\": \"<identity pool id>\"}"),
            );
        }
        let has_amr = s.conditions.iter().any(|c| {
            c.key
                .value
                .eq_ignore_ascii_case("cognito-identity.amazonaws.com:amr")
        });
        let web_identity = s.action.as_ref().is_some_and(|a| {
            !a.negated
                && a.items.iter().any(|p| {
                    p.service.as_deref().is_none_or(|svc| svc == "sts")
                        && iam_policy::catalog::glob(&p.action, "assumerolewithwebidentity")
                })
        });
        if federated_cognito && allows && web_identity && !has_amr {
            out.push(
                Diagnostic::warning(
                    codes::COGNITO_TRUST_WITHOUT_AMR,
                    s.span,
                    "this trust policy does not test `cognito-identity.amazonaws.com:amr`: with the basic (classic) flow, the pool's unauthenticated identities can assume the role with their OpenID token",
                )
                .help("add \"ForAnyValue:StringLike\": {\"cognito-identity.amazonaws.com:amr\": \"authenticated\"} (or \"unauthenticated\" for the guest role)"),
            );
        }
    }
    out
}

/// A guest role's permission policy against the guest session policy Cognito applies to unauthenticated
/// identities in the enhanced flow: each allowed action the session policy never allows is a finding,
/// `cognito::unauth-beyond-session-policy` (guests cannot use it).
pub fn guest_beyond_session_policy(doc: &PolicyDocument) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    {
        let session: PolicyDocument =
            match iam_policy::parse_bytes("session", GUEST_SESSION_POLICY.as_bytes()) {
                (_, Some(d), _) => d,
                _ => return out,
            };
        let allowed: Vec<&iam_policy::ActionPattern> = session
            .statements
            .iter()
            .filter(|s| s.effect.value == iam_policy::Effect::Allow)
            .filter_map(|s| s.action.as_ref())
            .flat_map(|a| a.items.iter())
            .collect();
        for s in doc
            .statements
            .iter()
            .filter(|s| s.effect.value == iam_policy::Effect::Allow)
        {
            let Some(a) = s.action.as_ref().filter(|a| !a.negated) else {
                continue;
            };
            for p in &a.items {
                let (Some(svc), name) = (&p.service, &p.action) else {
                    continue;
                };
                let reachable = if p.raw.contains(['*', '?']) {
                    // A wildcard: reachable if the session policy allows anything of its service.
                    allowed.iter().any(|q| {
                        q.service
                            .as_deref()
                            .is_none_or(|qs| iam_policy::catalog::glob(qs, svc))
                    })
                } else {
                    allowed.iter().any(|q| match &q.service {
                        None => true,
                        Some(qs) => {
                            iam_policy::catalog::glob(qs, svc)
                                && iam_policy::catalog::glob(&q.action, name)
                        }
                    })
                };
                if !reachable {
                    out.push(
                        Diagnostic::warning(
                            codes::COGNITO_UNAUTH_BEYOND_SESSION_POLICY,
                            p.span,
                            format!(
                                "`{}` is allowed to the guest role, but the guest session policy Cognito applies to unauthenticated identities never allows it",
                                p.raw
                            ),
                        )
                        .help("guests cannot use it in the enhanced flow: remove it, or use the basic flow on purpose"),
                    );
                }
            }
        }
    }
    out
}
