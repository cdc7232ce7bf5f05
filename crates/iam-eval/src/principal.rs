//! Principal matching, and what kind of grant a resource-based policy makes (AWS's same-account table).

use iam_policy::PrincipalKind;

use crate::matcher::split_arn;

/// How a principal element matched the caller (strongest first). The kind decides how a same-account
/// resource-based policy combines with the caller's boundary and session policies (IAM User Guide,
/// "Policy evaluation logic" and "Permissions boundaries for IAM entities").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    /// The caller's own ARN (IAM user, assumed-role session, federated-user session), a service, a
    /// federation provider, or `*`: not limited by implicit denies in identity, boundary or session
    /// policies.
    Exact,
    /// The identity behind the calling session: the role ARN of an assumed-role session (a request
    /// written as the role ARN stands for one of its sessions), or the IAM user behind a federated-user
    /// session. Limited by an implicit deny in the boundary or a session policy.
    Issuer,
    /// The caller's account (`123456789012` or `…:root`): delegates to the identity policies.
    Account,
}

#[derive(Debug, Clone)]
pub(crate) struct PrincipalMatcher {
    pub(crate) negated: bool,
    pub(crate) any: bool,
    pub(crate) entries: Box<[(PrincipalKind, Box<str>)]>,
}

/// The account of an ARN principal.
pub(crate) fn arn_account(p: &str) -> Option<&str> {
    let parts = split_arn_prefix(p)?;
    Some(parts.4).filter(|a| !a.is_empty())
}

pub(crate) fn split_arn_prefix(p: &str) -> Option<(&str, &str, &str, &str, &str, &str)> {
    let a = split_arn(p)?;
    Some((a[0], a[1], a[2], a[3], a[4], a[5]))
}

impl PrincipalMatcher {
    /// The strongest grant of any entry to `principal` (not considering negation).
    pub(crate) fn grant(&self, principal: Option<&str>, issuer: Option<&str>) -> Option<Grant> {
        if self.any {
            return Some(Grant::Exact);
        }
        let p = principal.filter(|p| *p != "anonymous");
        let mut best: Option<Grant> = None;
        for (kind, v) in self.entries.iter() {
            let g = match kind {
                PrincipalKind::Aws => {
                    if &**v == "*" {
                        Some(Grant::Exact)
                    } else if let Some(p) = p {
                        aws_grant(v, p, issuer)
                    } else {
                        None
                    }
                }
                _ => p.filter(|p| *p == &**v).map(|_| Grant::Exact),
            };
            best = match (best, g) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        best
    }
}

/// The role name of a role ARN's resource part (`role/path/NAME` → `NAME`).
pub(crate) fn role_name(res: &str) -> Option<&str> {
    let path = res.strip_prefix("role/")?;
    path.rsplit('/').next()
}

/// How the `AWS` principal value `v` grants the caller `p` (`issuer`: the IAM user behind a
/// federated-user session).
pub(crate) fn aws_grant(v: &str, p: &str, issuer: Option<&str>) -> Option<Grant> {
    let caller = split_arn_prefix(p);
    let caller_role =
        caller.and_then(|(_, _, svc, _, _, res)| (svc == "iam").then(|| role_name(res))?);
    if v == p {
        // A role never makes a request itself: a request written as the role ARN stands for a session of
        // that role, and a grant to the role ARN is a role grant, limited by the boundary.
        return Some(if caller_role.is_some() {
            Grant::Issuer
        } else {
            Grant::Exact
        });
    }
    let (_, p_partition, psvc, _, p_account, pres) = caller?;
    if p_account.is_empty() {
        return None;
    }
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        return (v == p_account).then_some(Grant::Account);
    }
    let (_, v_partition, vsvc, _, vacct, vres) = split_arn_prefix(v)?;
    if vsvc != "iam" || vacct != p_account || v_partition != p_partition {
        return None;
    }
    if vres == "root" {
        return Some(Grant::Account);
    }
    if let Some(granted_role) = role_name(vres) {
        // Every session of the role: arn:…:sts::A:assumed-role/NAME/SESSION (role names are unique in an
        // account, and the session ARN carries no path), or the role ARN written with another path.
        let session_of = (psvc == "sts")
            .then(|| pres.strip_prefix("assumed-role/"))
            .flatten()
            .and_then(|s| s.split('/').next());
        if session_of == Some(granted_role) || caller_role == Some(granted_role) {
            return Some(Grant::Issuer);
        }
        return None;
    }
    // The IAM user behind a federated-user session (GetFederationToken).
    if vres.starts_with("user/") && psvc == "sts" && pres.starts_with("federated-user/") {
        return (issuer == Some(v)).then_some(Grant::Issuer);
    }
    None
}
