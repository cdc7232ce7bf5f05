//! `lint --pool`: what the given identity-pool configurations say about the policy files linted (read
//! from the files; the checks themselves are `identity_pool::lint`'s).

use crate::Failure;
use std::collections::BTreeMap;

use diag::codes;
use iam_policy::{Diagnostic, PolicyDocument};

/// What the given identity pools say about policy files (paths canonicalised).
#[derive(Default)]
pub(crate) struct Pools {
    /// Every permission policy file a role of the pools uses.
    pub(crate) used: std::collections::BTreeSet<std::path::PathBuf>,
    /// The permission policy files of guest roles (canonical path → the path as the configuration
    /// leads to it, for messages).
    pub(crate) guest: BTreeMap<std::path::PathBuf, std::path::PathBuf>,
    /// Trust policy files of roles (not the guest role) that a pool's guests can assume with the basic
    /// flow (canonical path → the path shown, the role and the pool).
    pub(crate) guest_assumable: BTreeMap<std::path::PathBuf, (std::path::PathBuf, String, String)>,
}

pub(crate) fn load_pools(paths: &[std::path::PathBuf]) -> Result<Pools, Failure> {
    let mut pools = Pools::default();
    for p in paths {
        let config: identity_pool::PoolConfig =
            crate::input::decode(&p.display().to_string(), &crate::read_text(p)?)?;
        let base = p.parent().unwrap_or(std::path::Path::new("."));
        // The loaded pool decides which roles its guests can assume.
        let pool = crate::input::load_pool(p)?;
        for (arn, role) in &config.roles {
            let guest_role = config.unauthenticated_role.as_deref() == Some(arn.as_str());
            if !guest_role
                && pool.guest_can_assume(arn)
                && let Some(rel) = role.trust.as_str()
            {
                let shown = base.join(rel);
                let full = shown.canonicalize().unwrap_or_else(|_| shown.clone());
                pools
                    .guest_assumable
                    .insert(full, (shown, arn.clone(), config.identity_pool_id.clone()));
            }
            let guest = config.unauthenticated_role.as_deref() == Some(arn.as_str())
                && config.allow_unauthenticated;
            for policy in &role.policies {
                // Inline policies have no file to report on.
                let Some(rel) = policy.as_str() else { continue };
                let shown = base.join(rel);
                let full = shown.canonicalize().unwrap_or_else(|_| shown.clone());
                if guest {
                    pools.guest.insert(full.clone(), shown);
                }
                pools.used.insert(full);
            }
        }
    }
    Ok(pools)
}

/// The pool-aware Cognito checks for one file.
pub(crate) fn pool_checks(
    path: &std::path::Path,
    doc: &PolicyDocument,
    text: &str,
    pools: &Pools,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let full = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if let Some((_, role, pool)) = pools.guest_assumable.get(&full) {
        out.push(
            Diagnostic::warning(
                codes::COGNITO_GUEST_ASSUMES_ROLE,
                doc.span,
                format!(
                    "unauthenticated identities of {pool} can assume `{role}`, which is not the pool's guest role: the pool allows the basic flow and this trust policy accepts a guest's OpenID token (`amr` `unauthenticated`)"
                ),
            )
            .help("require \"ForAnyValue:StringLike\": {\"cognito-identity.amazonaws.com:amr\": \"authenticated\"}, or turn the basic flow off (AllowClassicFlow false)"),
        );
    }
    // The sub variable where no identity-pool credentials can ever carry it.
    let var = "${cognito-identity.amazonaws.com:sub}";
    if !pools.used.contains(&full)
        && let Some(at) = text.to_ascii_lowercase().find(var)
    {
        out.push(
            Diagnostic::warning(
                codes::COGNITO_SUB_VARIABLE_UNUSED,
                diag::Span::new(at, at + var.len()),
                "no role of the given identity pools uses this policy, so `${cognito-identity.amazonaws.com:sub}` never resolves and what it guards matches nothing",
            )
            .help("attach the policy to the pool's role, or check the pool configuration"),
        );
    }
    if pools.guest.contains_key(&full) {
        out.extend(identity_pool::lint::guest_beyond_session_policy(doc));
    }
    out
}
