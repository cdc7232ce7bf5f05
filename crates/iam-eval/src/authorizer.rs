//! [`Authorizer`]: the evaluation logic across layers (deny first, RCPs, SCPs, resource-based policy, identity, boundary, session).

use authz_core::{Decision, Layer, NoTrace, Outcome, Request, StatementRef, Trace};

use crate::matcher::split_arn;
use crate::principal::*;
use crate::set::*;
use crate::{Explanation, StatementInfo, explain};

/// All the policies that bear on a request: identity policies, and optionally a resource-based policy,
/// a permissions boundary, session policies, and SCP / RCP chains (one set per organization level).
#[derive(Debug, Clone)]
pub struct Authorizer {
    /// Identity-based policies.
    pub identity: PolicySet,
    /// The resource's resource-based policy (or a role's trust policy).
    pub resource: Option<PolicySet>,
    /// Permissions boundary.
    pub boundary: Option<PolicySet>,
    /// Session policies (pooled).
    pub session: Option<PolicySet>,
    /// SCPs, root first; every level must allow.
    pub scps: Vec<PolicySet>,
    /// RCPs, root first; every level must allow.
    pub rcps: Vec<PolicySet>,
    /// Whether AWS's `RCPFullAWSAccess` (allow all) is attached at every RCP level, as it is whenever RCPs
    /// are enabled. Default `true`.
    pub rcp_full_access: bool,
    /// What kind of resource-based policy [`Authorizer::resource`] is. It decides only where that policy
    /// must name the principal even in the same account; see [`ResourceKind`].
    pub resource_kind: ResourceKind,
}

/// The kind of a resource-based policy. In AWS a policy's kind comes from where it is attached, not from
/// what it says; the kind changes one rule: where the policy must name the principal explicitly even when
/// the caller is in the resource's account ("role trust policies and KMS key policies", EDA).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ResourceKind {
    /// A resource-based policy (bucket, queue, topic, …): same-account grants as EDA describes them.
    #[default]
    Resource,
    /// A role's trust policy. For a role assumption (`sts:AssumeRole`, `…WithSAML`, `…WithWebIdentity`,
    /// `sts:TagSession`, `sts:SetSourceIdentity`, `sts:SetContext`) on the role it belongs to, it must
    /// name the principal; any other request is decided as with a resource-based policy.
    Trust {
        /// The role's ARN, when known: an assumption of another role is not this policy's business
        /// (the trust rule is not applied). `None`: any role ARN in the request is taken as the role.
        role: Option<String>,
    },
    /// A KMS key policy: it must name the principal for every request.
    KeyPolicy,
}

/// Whether `action` (any case) is one of the role-assumption actions a trust policy governs: the `sts`
/// actions whose resource type is `role` in the Service Authorization Reference.
pub fn is_role_assumption(action: &str) -> bool {
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    service.eq_ignore_ascii_case("sts")
        && [
            "AssumeRole",
            "AssumeRoleWithSAML",
            "AssumeRoleWithWebIdentity",
            "TagSession",
            "SetSourceIdentity",
            "SetContext",
        ]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(name))
}

/// Whether `resource` is an IAM role ARN (`arn:<partition>:iam::<account>:role/…`).
fn is_role_arn(resource: &str) -> bool {
    split_arn(resource).is_some_and(|a| a[2] == "iam" && a[5].starts_with("role/"))
}

impl ResourceKind {
    /// Whether this kind's "must name the principal" rule governs `req`: always for a key policy; for a
    /// trust policy only on a role assumption of its role; never for other resource policies.
    pub fn requires_naming(&self, req: &Request<'_>) -> bool {
        match self {
            ResourceKind::Resource => false,
            ResourceKind::KeyPolicy => true,
            ResourceKind::Trust { role } => {
                is_role_assumption(req.action)
                    && match role {
                        Some(r) => r == req.resource,
                        None => is_role_arn(req.resource),
                    }
            }
        }
    }
}

impl Authorizer {
    /// Identity policies only.
    pub fn new(identity: PolicySet) -> Self {
        Self {
            identity,
            resource: None,
            boundary: None,
            session: None,
            scps: Vec::new(),
            rcps: Vec::new(),
            rcp_full_access: true,
            resource_kind: ResourceKind::Resource,
        }
    }

    /// All compiled sets, for looking statements up.
    pub fn sets(&self) -> impl Iterator<Item = &PolicySet> {
        std::iter::once(&self.identity)
            .chain(self.resource.iter())
            .chain(self.boundary.iter())
            .chain(self.session.iter())
            .chain(self.scps.iter())
            .chain(self.rcps.iter())
    }

    /// The statement behind an id, in whichever layer it belongs to.
    pub fn statement(&self, at: StatementRef) -> Option<StatementInfo<'_>> {
        self.sets()
            .find(|s| s.layer() == at.layer)
            .and_then(|s| s.statement(at))
    }

    /// Decides a request and names what decided it: the shared result every engine answers with. The
    /// decision is [`Authorizer::evaluate`]'s (the same allocation-free path); only the naming allocates.
    pub fn answer(&self, req: &Request<'_>) -> authz_core::Answer {
        self.answer_of(self.evaluate(req))
    }

    /// The shared result for an outcome of this authorizer.
    pub fn answer_of(&self, outcome: Outcome) -> authz_core::Answer {
        let mut a = authz_core::Answer::new(outcome.decision);
        a.blocked_by = outcome.blocked_by;
        if let Some(info) = outcome.decided_by.and_then(|at| self.statement(at)) {
            a.determining.push(info.determining());
        }
        a
    }

    /// Decides a request.
    pub fn evaluate(&self, req: &Request<'_>) -> Outcome {
        self.evaluate_with(req, &mut NoTrace)
    }

    /// Decides a request, reporting to `trace`.
    pub fn evaluate_with<T: Trace>(&self, req: &Request<'_>, trace: &mut T) -> Outcome {
        // A principal whose boundary is given has a boundary, whatever the request says (a copy of a
        // few references, no allocation).
        let req = &req.with_boundary(req.has_boundary || self.boundary.is_some());
        if T::COMPLETE {
            // A complete trace (an explanation) wants every layer's verdicts, also after an early deny:
            // the same layer evaluation reports them all, then the decision is taken as always.
            for set in self.sets() {
                set.evaluate_layer_with(req, trace);
            }
            return self.decide(req, &mut NoTrace);
        }
        self.decide(req, trace)
    }

    /// The decision across layers; `req` already says whether the principal has a boundary.
    fn decide<T: Trace>(&self, req: &Request<'_>, trace: &mut T) -> Outcome {
        // The action is lower-cased and split once for every layer (by the caller, when the request was
        // made from a prepared `authz_core::Action`).
        let (mut buf, mut heap) = ([0u8; 64], String::new());
        let prep = match req.prepared_action() {
            Some(p) => p,
            None => {
                let (full, colon) = lower_action(req.action, &mut buf, &mut heap);
                let (service, action) = split_action(full, colon);
                (full, service, action)
            }
        };
        let deny = |at| Outcome {
            decision: Decision::ExplicitDeny,
            decided_by: Some(at),
            blocked_by: None,
        };
        let implicit = |l| Outcome {
            decision: Decision::ImplicitDeny,
            decided_by: None,
            blocked_by: Some(l),
        };
        // 1. Any applicable Deny anywhere wins.
        for set in &self.rcps {
            if let Some(d) = set.evaluate_prepared(req, prep, trace).deny {
                return deny(d);
            }
        }
        let mut scp_allows = true;
        let mut scp_block = None;
        for set in &self.scps {
            let r = set.evaluate_prepared(req, prep, trace);
            if let Some(d) = r.deny {
                return deny(d);
            }
            if r.allow.is_none() && scp_allows {
                scp_allows = false;
                scp_block = Some(set.layer());
            }
        }
        let res = self
            .resource
            .as_ref()
            .map(|s| s.evaluate_prepared(req, prep, trace));
        if let Some(d) = res.and_then(|r| r.deny) {
            return deny(d);
        }
        let id = self.identity.evaluate_prepared(req, prep, trace);
        if let Some(d) = id.deny {
            return deny(d);
        }
        let bnd = self
            .boundary
            .as_ref()
            .map(|s| s.evaluate_prepared(req, prep, trace));
        if let Some(d) = bnd.and_then(|r| r.deny) {
            return deny(d);
        }
        let ses = self
            .session
            .as_ref()
            .map(|s| s.evaluate_prepared(req, prep, trace));
        if let Some(d) = ses.and_then(|r| r.deny) {
            return deny(d);
        }
        // 2. RCPs: every level must allow (RCPFullAWSAccess does unless told otherwise).
        if !self.rcp_full_access {
            for set in &self.rcps {
                if set
                    .evaluate_prepared(req, prep, &mut NoTrace)
                    .allow
                    .is_none()
                {
                    return implicit(set.layer());
                }
            }
        }
        // 3. SCPs: every level must allow. SCPs limit the organization's own IAM principals only, not
        // anonymous callers, service principals or federation providers.
        let outside_org =
            req.principal == Some("anonymous") || is_service_or_federated(req.principal);
        if let (false, Some(l), false) = (scp_allows, scp_block, outside_org) {
            return implicit(l);
        }
        // The account's root user is allowed by default (explicit denies, SCPs and RCPs still apply).
        if let Some(p) = req.principal {
            let root_of_resource_account = split_arn(p).is_some_and(|a| {
                a[2] == "iam"
                    && a[5] == "root"
                    && req
                        .resource_account
                        .or_else(|| arn_account(req.resource))
                        .is_none_or(|r| r == a[4])
            });
            if root_of_resource_account {
                return Outcome {
                    decision: Decision::Allow,
                    decided_by: None,
                    blocked_by: None,
                };
            }
        }
        let boundary_ok = bnd.is_none_or(|r| r.allow.is_some());
        let session_ok = ses.is_none_or(|r| r.allow.is_some());
        let res_allow = res.and_then(|r| r.allow);
        let anonymous = req.principal == Some("anonymous");
        let principal_account = req.principal.and_then(arn_account);
        let resource_account = req.resource_account.or_else(|| arn_account(req.resource));
        let cross_account =
            matches!((principal_account, resource_account), (Some(p), Some(r)) if p != r);
        let allow = |at: StatementRef| Outcome {
            decision: Decision::Allow,
            decided_by: Some(at),
            blocked_by: None,
        };

        if anonymous || is_service_or_federated(req.principal) {
            // Only the resource-based policy (or trust policy) can grant: it must name the caller.
            return match res_allow {
                Some((at, Some(_))) => allow(at),
                _ => implicit(Layer::Resource),
            };
        }
        if self.resource_kind.requires_naming(req) && !matches!(res_allow, Some((_, Some(_)))) {
            // Role trust policies (for an assumption of their role) and KMS key policies must name the
            // principal even in the same account.
            return implicit(Layer::Resource);
        }
        if !cross_account {
            // 4. Same-account resource-based policy.
            if let Some((at, grant)) = res_allow {
                match grant {
                    Some(Grant::Exact) => return allow(at),
                    Some(Grant::Issuer) if boundary_ok && session_ok => return allow(at),
                    _ => {}
                }
            }
        }
        // 5–7. Identity policies, boundary, session policies.
        let Some((id_at, _)) = id.allow else {
            return implicit(Layer::Identity);
        };
        if !boundary_ok {
            return implicit(Layer::Boundary);
        }
        if !session_ok {
            return implicit(Layer::Session);
        }
        if cross_account {
            // Cross-account: the resource side must allow as well.
            return match res_allow {
                Some((_, Some(_))) => allow(id_at),
                _ => implicit(Layer::Resource),
            };
        }
        allow(id_at)
    }

    /// Decides a request and explains it: every statement considered, why each did or did not apply,
    /// and which context keys the conditions needed but the request lacked.
    pub fn explain(&self, req: &Request<'_>) -> Explanation {
        explain::explain(self, req)
    }
}

pub(crate) fn is_service_or_federated(p: Option<&str>) -> bool {
    p.is_some_and(|p| {
        !(p.starts_with("arn:") || p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()))
    })
}
