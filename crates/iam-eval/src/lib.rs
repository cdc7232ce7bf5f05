//! Compiles IAM policies into an immutable [`PolicySet`] and evaluates requests against it the way AWS
//! documents: action and resource matching with wildcards and policy variables, `NotAction` /
//! `NotResource` / `NotPrincipal`, every condition operator with `IfExists` and the set qualifiers, and
//! the evaluation logic across identity, resource-based, boundary, session, SCP and RCP policies
//! ([`Authorizer`]).
//!
//! Compiling does all the work that can be done once: actions are indexed (evaluation cost does not grow
//! with the number of action patterns), condition keys are lower-cased, values are typed. Evaluating
//! borrows the request and allocates nothing; [`Outcome`] is `Copy` and names the deciding statement.
//!
//! ```
//! use authz_core::{Context, Decision, Layer, Request};
//! use iam_eval::PolicySet;
//! use iam_policy::Source;
//!
//! let src = Source::new("row-level.json", r#"{
//!   "Version": "2012-10-17",
//!   "Statement": [{
//!     "Effect": "Allow",
//!     "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
//!     "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
//!     "Condition": {"ForAllValues:StringEquals": {
//!       "dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"]}}
//!   }]
//! }"#);
//! let doc = iam_policy::parse(&src).unwrap();
//! let set = PolicySet::compile(Layer::Identity, [doc]).unwrap();
//!
//! let mut ctx = Context::new();
//! ctx.insert("cognito-identity.amazonaws.com:sub", "us-east-1:1111");
//! ctx.insert_multi("dynamodb:LeadingKeys", ["us-east-1:1111"]);
//! let req = Request::new("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Notes").context(&ctx);
//! assert_eq!(set.evaluate(&req).decision, Decision::Allow);
//!
//! let mut other = ctx.clone();
//! other.insert_multi("dynamodb:LeadingKeys", ["us-east-1:2222"]);
//! let req = req.context(&other);
//! assert_eq!(set.evaluate(&req).decision, Decision::ImplicitDeny);
//! ```
//!
//! This crate never reads files, never parses JSON and never renders; `iam-policy` parses and
//! `policy-check` does I/O.
#![deny(missing_docs)]

use std::collections::{HashMap as StdHashMap, HashSet as StdHashSet};

/// Maps on the hot path use foldhash: seeded (so keys from requests cannot be chosen to collide) and
/// several times faster than SipHash on short strings.
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = StdHashSet<K, foldhash::fast::RandomState>;
use std::sync::Arc;

pub use authz_core::{
    Context, ContextValue, Decision, Layer, NoTrace, Outcome, Request, StatementRef, Step, Trace,
};
use iam_policy::{Effect, PolicyDocument, PrincipalKind, PrincipalValue, ResourceKind};

pub mod condition;
mod explain;
pub mod matcher;

pub use explain::{
    ConditionCheck, Explanation, Recorder, StatementExplanation, StatementInfo, Verdict,
};

use condition::{CCondition, CValue};
use matcher::{P, Unresolved, compile_pieces, is_match, split_arn};

/// A policy that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{policy}: {message}")]
pub struct CompileError {
    /// The policy's source name.
    pub policy: String,
    /// What is wrong.
    pub message: String,
}

/// Action patterns of one statement, grouped for lookup by service.
#[derive(Debug, Clone, Default)]
struct ActionMatcher {
    any: bool,
    /// `service:action` exact, lower case.
    exact: HashSet<Box<str>>,
    /// Services with `service:*`.
    whole_service: HashSet<Box<str>>,
    /// Other wildcard patterns, by service.
    globs: HashMap<Box<str>, Vec<Box<[P]>>>,
}

impl ActionMatcher {
    fn is_match(&self, full_lower: &str, service: &str, action: &str, ctx: &Context) -> bool {
        if self.any || self.exact.contains(full_lower) || self.whole_service.contains(service) {
            return true;
        }
        self.globs
            .get(service)
            .is_some_and(|gs| gs.iter().any(|g| is_match(g, action, ctx) == Ok(true)))
    }
}

#[derive(Debug, Clone)]
enum ResourceMatcher {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    /// Six segments, each matched on its own.
    Segments(Box<[Box<[P]>]>),
    /// Fewer than six segments; the last ends in `*` and may cross colons.
    Open(Box<[Box<[P]>]>),
}

impl ResourceMatcher {
    fn compile(kind: &ResourceKind) -> ResourceMatcher {
        let ResourceKind::Arn(p) = kind else {
            return ResourceMatcher::Any;
        };
        let segs: Box<[Box<[P]>]> = p.segments.iter().map(compile_pieces).collect();
        if p.open_ended {
            return ResourceMatcher::Open(segs);
        }
        // The literal text comes from the pieces, not the raw string: `${*}` stands for a literal `*`.
        let literals: Vec<Option<String>> = p
            .segments
            .iter()
            .map(iam_policy::Template::as_literal)
            .collect();
        if literals.iter().all(Option::is_some) {
            return ResourceMatcher::Exact(
                literals
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(":")
                    .into(),
            );
        }
        // `arn:…:prefix*` with nothing else variable: a prefix test on the whole ARN.
        let head_literal = p.segments.iter().take(5).all(|s| s.as_literal().is_some());
        if let Some(last) = p.segments.get(5)
            && head_literal
            && matches!(last.pieces.last(), Some(iam_policy::Piece::Star))
            && last
                .pieces
                .iter()
                .rev()
                .skip(1)
                .all(|x| matches!(x, iam_policy::Piece::Literal(_)))
        {
            let mut prefix: Vec<String> = literals.iter().take(5).flatten().cloned().collect();
            let mut tail = String::new();
            for piece in &last.pieces {
                if let iam_policy::Piece::Literal(l) = piece {
                    tail.push_str(l);
                }
            }
            prefix.push(tail);
            return ResourceMatcher::Prefix(prefix.join(":").into());
        }
        ResourceMatcher::Segments(segs)
    }

    /// `Err(Unresolved)`: a variable could not be resolved.
    fn is_match(&self, resource: &str, ctx: &Context) -> Result<bool, Unresolved> {
        match self {
            ResourceMatcher::Any => Ok(true),
            ResourceMatcher::Exact(e) => Ok(**e == *resource),
            ResourceMatcher::Prefix(p) => {
                Ok(resource.starts_with(&**p) && split_arn(resource).is_some())
            }
            ResourceMatcher::Segments(segs) => {
                let Some(parts) = split_arn(resource) else {
                    return Ok(false);
                };
                let mut all = true;
                for (s, v) in segs.iter().zip(parts.iter()) {
                    if !is_match(s, v, ctx)? {
                        all = false;
                    }
                }
                Ok(all)
            }
            ResourceMatcher::Open(segs) => {
                let n = segs.len();
                let mut rest = resource;
                for (i, s) in segs.iter().enumerate() {
                    if i + 1 == n {
                        return is_match(s, rest, ctx);
                    }
                    let Some((head, tail)) = rest.split_once(':') else {
                        return Ok(false);
                    };
                    if !is_match(s, head, ctx)? {
                        return Ok(false);
                    }
                    rest = tail;
                }
                Ok(false)
            }
        }
    }
}

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
struct PrincipalMatcher {
    negated: bool,
    any: bool,
    entries: Box<[(PrincipalKind, Box<str>)]>,
}

/// The account of an ARN principal.
fn arn_account(p: &str) -> Option<&str> {
    let parts = split_arn_prefix(p)?;
    Some(parts.4).filter(|a| !a.is_empty())
}

fn split_arn_prefix(p: &str) -> Option<(&str, &str, &str, &str, &str, &str)> {
    let a = split_arn(p)?;
    Some((a[0], a[1], a[2], a[3], a[4], a[5]))
}

impl PrincipalMatcher {
    /// The strongest grant of any entry to `principal` (not considering negation).
    fn grant(&self, principal: Option<&str>, issuer: Option<&str>) -> Option<Grant> {
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
fn role_name(res: &str) -> Option<&str> {
    let path = res.strip_prefix("role/")?;
    path.rsplit('/').next()
}

/// How the `AWS` principal value `v` grants the caller `p` (`issuer`: the IAM user behind a
/// federated-user session).
fn aws_grant(v: &str, p: &str, issuer: Option<&str>) -> Option<Grant> {
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
    let (_, _, psvc, _, p_account, pres) = caller?;
    if p_account.is_empty() {
        return None;
    }
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        return (v == p_account).then_some(Grant::Account);
    }
    let (_, _, vsvc, _, vacct, vres) = split_arn_prefix(v)?;
    if vsvc != "iam" || vacct != p_account {
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

#[derive(Debug, Clone)]
struct CStatement {
    at: StatementRef,
    effect: Effect,
    not_action: bool,
    actions: ActionMatcher,
    not_resource: bool,
    /// `None`: no Resource element (trust policies).
    resources: Option<Box<[ResourceMatcher]>>,
    principal: Option<PrincipalMatcher>,
    conditions: Box<[CCondition]>,
}

/// Which statements can match an action. A statement is listed under every key one of its patterns
/// produces: exact `service:action`; `service:*`; a wildcard pattern under `service:` plus the first three
/// characters of its literal prefix (`ec2:des` for `ec2:Describe*`), or under the service alone when the
/// prefix is shorter; `*` and `NotAction` statements always. A request looks up five short lists, so the
/// cost does not grow with the number of patterns or statements that cannot match.
#[derive(Debug, Default)]
struct ActionIndex {
    exact: HashMap<Box<str>, Vec<u32>>,
    whole_service: HashMap<Box<str>, Vec<u32>>,
    glob_prefix: HashMap<Box<str>, Vec<u32>>,
    glob_short: HashMap<Box<str>, Vec<u32>>,
    always: Vec<u32>,
}

/// Characters of literal prefix used to bucket wildcard patterns.
const GLOB_BUCKET: usize = 3;

/// The end of the first `n` characters of `s` (in bytes), if it has that many.
fn char_prefix_end(s: &str, n: usize) -> Option<usize> {
    s.char_indices()
        .nth(n)
        .map(|(i, _)| i)
        .or_else(|| (s.chars().count() == n).then_some(s.len()))
}

#[derive(Debug)]
struct Inner {
    layer: Layer,
    docs: Vec<PolicyDocument>,
    statements: Vec<CStatement>,
    index: ActionIndex,
}

/// Compiled policies of one layer (for example all identity policies of a principal), immutable and
/// cheap to clone.
#[derive(Debug, Clone)]
pub struct PolicySet {
    inner: Arc<Inner>,
}

/// The result of evaluating one layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerResult {
    /// The first applicable `Deny`.
    pub deny: Option<StatementRef>,
    /// The applicable `Allow` with the strongest principal grant (first in order among equals).
    pub allow: Option<(StatementRef, Option<Grant>)>,
}

/// Lower-cases an action into the caller's stack buffer (long actions fall back to the heap) and finds
/// its colon in the same pass. Returns the lower-cased action and the colon's offset.
fn lower_action<'b>(
    s: &str,
    buf: &'b mut [u8; 64],
    heap: &'b mut String,
) -> (&'b str, Option<usize>) {
    let mut colon = None;
    if s.len() <= buf.len() {
        let dst = buf.get_mut(..s.len()).unwrap_or_default();
        for (i, (d, b)) in dst.iter_mut().zip(s.bytes()).enumerate() {
            *d = b.to_ascii_lowercase();
            if b == b':' && colon.is_none() {
                colon = Some(i);
            }
        }
        // ASCII lower-casing keeps UTF-8 valid, so this never fails.
        (std::str::from_utf8(dst).unwrap_or(""), colon)
    } else {
        *heap = s.to_ascii_lowercase();
        (heap.as_str(), heap.find(':'))
    }
}

fn split_action(full: &str, colon: Option<usize>) -> (&str, &str) {
    match colon {
        Some(c) => (full.get(..c).unwrap_or(""), full.get(c + 1..).unwrap_or("")),
        None => ("", full),
    }
}

impl PolicySet {
    /// Compiles policies into one set for `layer`. Statement ids are (policy index, statement index).
    pub fn compile(
        layer: Layer,
        docs: impl IntoIterator<Item = PolicyDocument>,
    ) -> Result<PolicySet, CompileError> {
        let docs: Vec<PolicyDocument> = docs.into_iter().collect();
        let mut statements = Vec::new();
        let mut index = ActionIndex::default();
        for (pi, doc) in docs.iter().enumerate() {
            let err = |m: String| CompileError {
                policy: doc.source.name().to_string(),
                message: m,
            };
            for (si, s) in doc.statements.iter().enumerate() {
                let at = StatementRef {
                    layer,
                    policy: u32::try_from(pi).map_err(|_| err("too many policies".into()))?,
                    statement: u32::try_from(si).map_err(|_| err("too many statements".into()))?,
                };
                let id = u32::try_from(statements.len())
                    .map_err(|_| err("too many statements".into()))?;
                let Some(ab) = &s.action else {
                    return Err(err(format!("statement {si} has no Action")));
                };
                let mut actions = ActionMatcher::default();
                for a in &ab.items {
                    match &a.service {
                        None => actions.any = true,
                        Some(svc) => {
                            let has_wild = a.action.contains(['*', '?']);
                            if a.action == "*" {
                                actions.whole_service.insert(svc.as_str().into());
                            } else if has_wild {
                                let t = iam_policy::grammar::template(
                                    &a.action,
                                    iam_policy::grammar::TemplateMode {
                                        wildcards: true,
                                        variables: false,
                                    },
                                    None,
                                    a.span,
                                )
                                .map_err(|e| err(e.message))?;
                                actions
                                    .globs
                                    .entry(svc.as_str().into())
                                    .or_default()
                                    .push(compile_pieces(&t));
                            } else {
                                actions.exact.insert(format!("{svc}:{}", a.action).into());
                            }
                        }
                    }
                }
                // Index: NotAction and `*` statements are always candidates.
                if ab.negated || actions.any {
                    index.always.push(id);
                } else {
                    let push = |map: &mut HashMap<Box<str>, Vec<u32>>, key: Box<str>| {
                        let v = map.entry(key).or_default();
                        if v.last() != Some(&id) {
                            v.push(id);
                        }
                    };
                    for e in &actions.exact {
                        push(&mut index.exact, e.clone());
                    }
                    for svc in &actions.whole_service {
                        push(&mut index.whole_service, svc.clone());
                    }
                    for a in &ab.items {
                        let (Some(svc), true) = (&a.service, a.action.contains(['*', '?'])) else {
                            continue;
                        };
                        if a.action == "*" {
                            continue;
                        }
                        let literal_end = a.action.find(['*', '?']).unwrap_or(a.action.len());
                        let literal = a.action.get(..literal_end).unwrap_or("");
                        match char_prefix_end(literal, GLOB_BUCKET) {
                            Some(end) => push(
                                &mut index.glob_prefix,
                                format!("{svc}:{}", literal.get(..end).unwrap_or("")).into(),
                            ),
                            None => push(&mut index.glob_short, svc.as_str().into()),
                        }
                    }
                }
                let resources = s.resource.as_ref().map(|r| {
                    r.items
                        .iter()
                        .map(|i| ResourceMatcher::compile(&i.kind))
                        .collect::<Box<[_]>>()
                });
                let principal = s.principal.as_ref().map(|p| {
                    let (any, entries) = match &p.value {
                        PrincipalValue::Any => (true, Box::default()),
                        PrincipalValue::Map(es) => (
                            false,
                            es.iter()
                                .flat_map(|e| {
                                    e.values
                                        .iter()
                                        .map(move |v| (e.kind, v.value.as_str().into()))
                                })
                                .collect::<Box<[_]>>(),
                        ),
                    };
                    PrincipalMatcher {
                        negated: p.negated,
                        any,
                        entries,
                    }
                });
                let mut conditions = Vec::with_capacity(s.conditions.len());
                for c in &s.conditions {
                    let mut values = Vec::with_capacity(c.values.len());
                    for v in &c.values {
                        values.push(CValue::compile(&v.typed).ok_or_else(|| {
                            err(format!(
                                "condition value `{}` of `{}` is invalid",
                                v.raw.text(),
                                c.key.value
                            ))
                        })?);
                    }
                    conditions.push(CCondition {
                        op: c.operator.value,
                        key: c.key.value.to_ascii_lowercase().into(),
                        values: values.into(),
                    });
                }
                statements.push(CStatement {
                    at,
                    effect: s.effect.value,
                    not_action: ab.negated,
                    actions,
                    not_resource: s.resource.as_ref().is_some_and(|r| r.negated),
                    resources,
                    principal,
                    conditions: conditions.into(),
                });
            }
        }
        for v in index
            .exact
            .values_mut()
            .chain(index.whole_service.values_mut())
            .chain(index.glob_prefix.values_mut())
            .chain(index.glob_short.values_mut())
        {
            v.sort_unstable();
            v.dedup();
        }
        Ok(PolicySet {
            inner: Arc::new(Inner {
                layer,
                docs,
                statements,
                index,
            }),
        })
    }

    /// The layer this set was compiled for.
    pub fn layer(&self) -> Layer {
        self.inner.layer
    }

    /// The policies, in compile order.
    pub fn documents(&self) -> &[PolicyDocument] {
        &self.inner.docs
    }

    /// The number of statements.
    pub fn len(&self) -> usize {
        self.inner.statements.len()
    }

    /// Whether the set has no statements.
    pub fn is_empty(&self) -> bool {
        self.inner.statements.is_empty()
    }

    /// Evaluates the set alone: an applicable `Deny` gives `ExplicitDeny`, else an applicable `Allow`
    /// gives `Allow`, else `ImplicitDeny`. Principals are not checked unless the request names one.
    pub fn evaluate(&self, req: &Request<'_>) -> Outcome {
        self.evaluate_with(req, &mut NoTrace)
    }

    /// [`PolicySet::evaluate`] with a tracer.
    pub fn evaluate_with<T: Trace>(&self, req: &Request<'_>, trace: &mut T) -> Outcome {
        let r = self.evaluate_layer_with(req, trace);
        if let Some(d) = r.deny {
            return Outcome {
                decision: Decision::ExplicitDeny,
                decided_by: Some(d),
                blocked_by: None,
            };
        }
        match r.allow {
            Some((a, _)) => Outcome {
                decision: Decision::Allow,
                decided_by: Some(a),
                blocked_by: None,
            },
            None => Outcome {
                decision: Decision::ImplicitDeny,
                decided_by: None,
                blocked_by: Some(self.inner.layer),
            },
        }
    }

    /// Finds the applicable `Deny` and `Allow` statements of this layer.
    pub fn evaluate_layer_with<T: Trace>(&self, req: &Request<'_>, trace: &mut T) -> LayerResult {
        let (mut buf, mut heap) = ([0u8; 64], String::new());
        let (full, colon) = lower_action(req.action, &mut buf, &mut heap);
        let (service, action) = split_action(full, colon);
        self.evaluate_prepared(req, (full, service, action), trace)
    }

    /// [`PolicySet::evaluate_layer_with`] for an action already lower-cased and split
    /// (`service:action`, `service`, `action`): the authorizer prepares it once for every layer.
    fn evaluate_prepared<T: Trace>(
        &self,
        req: &Request<'_>,
        (full, service, action): (&str, &str, &str),
        trace: &mut T,
    ) -> LayerResult {
        let ix = &self.inner.index;
        let empty: &[u32] = &[];
        fn get<'m>(m: &'m HashMap<Box<str>, Vec<u32>>, k: &str, empty: &'m [u32]) -> &'m [u32] {
            // Most sets use few kinds of pattern: skip hashing for maps that are empty.
            if m.is_empty() {
                empty
            } else {
                m.get(k).map_or(empty, Vec::as_slice)
            }
        }
        let bucket =
            char_prefix_end(action, GLOB_BUCKET).and_then(|e| full.get(..service.len() + 1 + e));
        let lists: [&[u32]; 5] = [
            get(&ix.exact, full, empty),
            get(&ix.whole_service, service, empty),
            bucket.map_or(empty, |b| get(&ix.glob_prefix, b, empty)),
            get(&ix.glob_short, service, empty),
            ix.always.as_slice(),
        ];
        let mut pos = [0usize; 5];
        let mut out = LayerResult::default();
        // Visit the union of the sorted lists in statement order.
        loop {
            let mut next: Option<u32> = None;
            for (l, p) in lists.iter().zip(pos.iter()) {
                if let Some(&v) = l.get(*p) {
                    next = Some(next.map_or(v, |n: u32| n.min(v)));
                }
            }
            let Some(id) = next else { break };
            // A statement found under the exact key is known to match the action.
            let known = lists
                .first()
                .and_then(|l| l.get(pos.first().copied().unwrap_or(0)))
                == Some(&id);
            for (l, p) in lists.iter().zip(pos.iter_mut()) {
                if l.get(*p) == Some(&id) {
                    *p += 1;
                }
            }
            let Some(st) = self.inner.statements.get(id as usize) else {
                break;
            };
            let grant = self.applies(st, req, (known, full, service, action), trace);
            trace.statement(st.at, grant.is_some());
            let Some(grant) = grant else { continue };
            match st.effect {
                Effect::Deny => {
                    if out.deny.is_none() {
                        out.deny = Some(st.at);
                    }
                }
                Effect::Allow => {
                    let better = match out.allow {
                        None => true,
                        Some((_, g)) => match (g, grant) {
                            (Some(old), Some(new)) => new < old,
                            (None, Some(_)) => true,
                            _ => false,
                        },
                    };
                    if better {
                        out.allow = Some((st.at, grant));
                    }
                }
            }
        }
        out
    }

    /// `None` when the statement does not apply; otherwise the principal grant (`None` inside when the
    /// statement has no principal element).
    fn applies<T: Trace>(
        &self,
        st: &CStatement,
        req: &Request<'_>,
        (known, full, service, action): (bool, &str, &str, &str),
        trace: &mut T,
    ) -> Option<Option<Grant>> {
        let ctx = req.context;
        if !known && st.actions.is_match(full, service, action, ctx) == st.not_action {
            trace.verdict(st.at, Step::Action);
            return None;
        }
        if !resource_applies(st, req.resource, ctx) {
            trace.verdict(st.at, Step::Resource);
            return None;
        }
        let grant = match &st.principal {
            None => None,
            Some(p) => {
                let g = p.grant(req.principal, req.session_issuer);
                if p.negated {
                    // Documented quirk: a resource-policy Deny with NotPrincipal always denies a principal
                    // that has a permissions boundary.
                    let quirk = st.effect == Effect::Deny
                        && req.has_boundary
                        && self.inner.layer == Layer::Resource;
                    if g.is_some() && !quirk {
                        trace.verdict(st.at, Step::Principal);
                        return None;
                    }
                    Some(Grant::Exact)
                } else if g.is_none() {
                    trace.verdict(st.at, Step::Principal);
                    return None;
                } else {
                    g
                }
            }
        };
        for (n, c) in st.conditions.iter().enumerate() {
            let ok = condition::evaluate(c, ctx);
            trace.condition(st.at, n, ok);
            if !ok {
                trace.verdict(st.at, Step::Condition(n));
                return None;
            }
        }
        trace.verdict(st.at, Step::Applies);
        Some(grant)
    }

    /// The statement behind an id, with its policy: for explanations, off the hot path.
    pub fn statement(&self, at: StatementRef) -> Option<StatementInfo<'_>> {
        let doc = self.inner.docs.get(at.policy as usize)?;
        let st = doc.statements.get(at.statement as usize)?;
        Some(StatementInfo {
            at,
            document: doc,
            statement: st,
        })
    }
}

fn resource_applies(st: &CStatement, resource: &str, ctx: &Context) -> bool {
    let Some(rs) = &st.resources else { return true };
    if st.not_resource {
        // Matches when the resource matches none of the entries; an entry with an unresolvable variable
        // excludes nothing.
        !rs.iter().any(|r| r.is_match(resource, ctx) == Ok(true))
    } else {
        rs.iter().any(|r| r.is_match(resource, ctx) == Ok(true))
    }
}

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
    /// The resource policy must name the principal (role trust policies, KMS key policies).
    pub resource_policy_required: bool,
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
            resource_policy_required: false,
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

    /// Decides a request.
    pub fn evaluate(&self, req: &Request<'_>) -> Outcome {
        self.evaluate_with(req, &mut NoTrace)
    }

    /// Decides a request, reporting to `trace`.
    pub fn evaluate_with<T: Trace>(&self, req: &Request<'_>, trace: &mut T) -> Outcome {
        if T::COMPLETE {
            // A complete trace (an explanation) wants every layer's verdicts, also after an early deny:
            // the same layer evaluation reports them all, then the decision is taken as always.
            let req = Request {
                has_boundary: req.has_boundary || self.boundary.is_some(),
                ..*req
            };
            for set in self.sets() {
                set.evaluate_layer_with(&req, trace);
            }
            return self.decide(&req, &mut NoTrace);
        }
        self.decide(req, trace)
    }

    fn decide<T: Trace>(&self, req: &Request<'_>, trace: &mut T) -> Outcome {
        // A principal whose boundary is given has a boundary, whatever the request says.
        let with_boundary;
        let req = if self.boundary.is_some() && !req.has_boundary {
            with_boundary = Request {
                has_boundary: true,
                ..*req
            };
            &with_boundary
        } else {
            req
        };
        // The action is lower-cased and split once for every layer.
        let (mut buf, mut heap) = ([0u8; 64], String::new());
        let (full, colon) = lower_action(req.action, &mut buf, &mut heap);
        let (service, action) = split_action(full, colon);
        let prep = (full, service, action);
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
        if self.resource_policy_required && !matches!(res_allow, Some((_, Some(_)))) {
            // Role trust and KMS key policies must name the principal even in the same account.
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

fn is_service_or_federated(p: Option<&str>) -> bool {
    p.is_some_and(|p| {
        !(p.starts_with("arn:") || p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()))
    })
}
