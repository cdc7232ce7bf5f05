//! The decision vocabulary shared by every engine in policy-check: IAM, identity pools and Cedar report
//! through these types, so callers never branch on the engine.
//!
//! - [`Decision`]: `Allow`, `ExplicitDeny` (a statement denied), `ImplicitDeny` (nothing allowed).
//! - [`Outcome`]: the decision, the statement that decided it, and the layer that blocked or allowed it.
//!   It holds ids only and is `Copy`, so evaluating allocates nothing.
//! - [`Answer`]: the shared result of every engine (IAM, identity pools, Cedar): the decision, what
//!   decided it by name ([`Determining`]), the blocking layer, errors, and whether the identity was
//!   verified. Built at the edge from an `Outcome` (or Cedar's response); renderers read only this.
//! - [`Trace`]: a hook called during evaluation; [`NoTrace`] compiles away.
//! - [`Context`] / [`Request`]: the request model — principal, action, resource, and context keys with
//!   single or multiple values.
//!
//! ```
//! use authz_core::{Context, Decision, Request};
//!
//! let mut ctx = Context::new();
//! ctx.insert("aws:SourceIp", "203.0.113.7");
//! ctx.insert_multi("aws:TagKeys", ["team", "cost-center"]);
//! let req = Request::new("s3:GetObject", "arn:aws:s3:::photos/alice/1.jpg").context(&ctx);
//! assert_eq!(req.context.get("AWS:SOURCEIP").unwrap().values(), ["203.0.113.7"]);
//! assert!(Decision::ExplicitDeny.is_deny());
//! ```
//!
//! This crate depends on std and foldhash (a fast, seeded hasher for context keys: the hot path looks
//! keys up on every condition; std's SipHash cost a third of an evaluation).
#![deny(missing_docs)]

use std::fmt;

/// The answer to "is this request allowed?".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Some policy allowed it and nothing denied it.
    Allow,
    /// A statement that applies denied it.
    ExplicitDeny,
    /// Nothing allowed it (or a required layer did not allow it).
    ImplicitDeny,
}

impl Decision {
    /// `Allow`, `ExplicitDeny` or `ImplicitDeny`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "Allow",
            Decision::ExplicitDeny => "ExplicitDeny",
            Decision::ImplicitDeny => "ImplicitDeny",
        }
    }
    /// Whether the request is refused.
    pub const fn is_deny(self) -> bool {
        !matches!(self, Decision::Allow)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision's name that is not one (`Allow`, `ExplicitDeny`/`Deny`, `ImplicitDeny`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseDecisionError {
    /// What was given.
    pub input: String,
}

impl fmt::Display for ParseDecisionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown decision `{}`; expected Allow, ExplicitDeny or ImplicitDeny",
            self.input
        )
    }
}

impl std::error::Error for ParseDecisionError {}

impl std::str::FromStr for Decision {
    type Err = ParseDecisionError;
    fn from_str(s: &str) -> Result<Self, ParseDecisionError> {
        match s {
            "Allow" => Ok(Decision::Allow),
            "ExplicitDeny" | "Deny" => Ok(Decision::ExplicitDeny),
            "ImplicitDeny" => Ok(Decision::ImplicitDeny),
            other => Err(ParseDecisionError {
                input: other.to_string(),
            }),
        }
    }
}

/// Which group of policies a statement belongs to, or which layer blocked a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Identity-based policies of the principal.
    Identity,
    /// The resource's resource-based policy (or a role's trust policy).
    Resource,
    /// The principal's permissions boundary.
    Boundary,
    /// Session policies.
    Session,
    /// Service control policies at the given organization level (0 = root).
    Scp(u8),
    /// Resource control policies at the given organization level.
    Rcp(u8),
    /// A Cedar policy set.
    Cedar,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Identity => f.write_str("identity policies"),
            Layer::Resource => f.write_str("resource-based policy"),
            Layer::Boundary => f.write_str("permissions boundary"),
            Layer::Session => f.write_str("session policy"),
            Layer::Scp(l) => write!(f, "service control policies (level {l})"),
            Layer::Rcp(l) => write!(f, "resource control policies (level {l})"),
            Layer::Cedar => f.write_str("Cedar policies"),
        }
    }
}

/// A statement by id: the policy (index in its set) and the statement's index in that policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatementRef {
    /// The layer the policy belongs to.
    pub layer: Layer,
    /// Index of the policy within its layer.
    pub policy: u32,
    /// Index of the statement within the policy.
    pub statement: u32,
}

/// The result of one evaluation: ids only, `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The decision.
    pub decision: Decision,
    /// The statement that decided: the denying statement, or an allowing one.
    pub decided_by: Option<StatementRef>,
    /// For an implicit deny, the layer that did not allow.
    pub blocked_by: Option<Layer>,
}

impl Outcome {
    /// An implicit deny with nothing to point at.
    pub const IMPLICIT: Outcome = Outcome {
        decision: Decision::ImplicitDeny,
        decided_by: None,
        blocked_by: None,
    };
}

/// What decided a request, by name: for IAM a statement (its policy's source name and its `Sid`, or
/// `#N` for the N-th statement without one); for Cedar a policy id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Determining {
    /// The layer (IAM) or [`Layer::Cedar`].
    pub layer: Layer,
    /// The policy: a file or source name (IAM), a policy id (Cedar).
    pub policy: String,
    /// The statement's `Sid` (IAM); `None` for Cedar and for a statement without one.
    pub sid: Option<String>,
    /// The statement's index in its policy (IAM); `None` for Cedar.
    pub statement: Option<u32>,
}

/// An error met while deciding, that did not stop the decision (a Cedar policy whose evaluation failed is
/// skipped): its registered code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerError {
    /// The registered code (`cedar::evaluation`, …).
    pub code: &'static str,
    /// The policy it happened in, when there is one.
    pub policy: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// The shared result every engine answers with: IAM (`iam-eval`), identity pools and the Cedar bridge.
/// Renderers (text, JSON, Verified Permissions JSON) and the suite runner read only this, so they never
/// branch on the engine. Unlike [`Outcome`] it names things (it allocates): the hot path returns an
/// `Outcome`, and an `Answer` is built from it at the edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The decision.
    pub decision: Decision,
    /// What decided: the denying statement or an allowing one (IAM, at most one), the determining
    /// policies (Cedar: every forbid that applied for a deny, every permit for an allow).
    pub determining: Vec<Determining>,
    /// For an implicit deny, the layer that did not allow.
    pub blocked_by: Option<Layer>,
    /// Errors that did not stop the decision.
    pub errors: Vec<AnswerError>,
    /// Whether the identity behind the request was verified: `Some(false)` for claims given by hand (every
    /// output built from them says so), `None` when the request names no token identity.
    pub verified: Option<bool>,
}

impl Answer {
    /// An answer with only a decision.
    pub fn new(decision: Decision) -> Self {
        Self {
            decision,
            determining: Vec::new(),
            blocked_by: None,
            errors: Vec::new(),
            verified: None,
        }
    }
    /// The `Sid` of the first determining statement, if it has one.
    pub fn sid(&self) -> Option<&str> {
        self.determining.first().and_then(|d| d.sid.as_deref())
    }
}

/// How far a statement got in evaluation: the first element that did not match the request, or
/// [`Step::Applies`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// Every element matched: the statement applies.
    Applies,
    /// The action is not in its `Action` (or is in its `NotAction`).
    Action,
    /// The resource is not matched (or is excluded by `NotResource`).
    Resource,
    /// The principal element does not name the caller.
    Principal,
    /// The condition at this index (within the statement) is false.
    Condition(usize),
}

/// Called during evaluation. Every method has an empty default; [`NoTrace`] implements none and costs
/// nothing.
pub trait Trace {
    /// Whether the evaluator must visit every layer even after the decision is known (an explanation
    /// wants every statement's verdict; the hot path stops at the first explicit deny).
    const COMPLETE: bool = false;
    /// A statement was considered; `matched` says whether it applies to the request.
    fn statement(&mut self, _at: StatementRef, _matched: bool) {}
    /// How far a considered statement got. Statements the evaluator never considers (its action index
    /// rules them out) get no call: their action does not match.
    fn verdict(&mut self, _at: StatementRef, _step: Step) {}
    /// A condition (by index within its statement) was evaluated.
    fn condition(&mut self, _at: StatementRef, _index: usize, _matched: bool) {}
}

/// The tracer that records nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTrace;
impl Trace for NoTrace {}

/// The values of one context key: a single value, or a set (possibly empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextValue {
    values: Vec<String>,
    multi: bool,
}

impl ContextValue {
    /// A single value.
    pub fn single(v: impl Into<String>) -> Self {
        Self {
            values: vec![v.into()],
            multi: false,
        }
    }
    /// A set of values.
    pub fn multi<I: IntoIterator<Item = S>, S: Into<String>>(vs: I) -> Self {
        Self {
            values: vs.into_iter().map(Into::into).collect(),
            multi: true,
        }
    }
    /// The values.
    pub fn values(&self) -> &[String] {
        &self.values
    }
    /// Whether it was given as a set.
    pub fn is_multi(&self) -> bool {
        self.multi
    }
}

/// The hasher every [`Context`] and [`ContextKey`] of this process share (seeded once at random), so a
/// key's hash can be computed when a policy is compiled and reused by every lookup.
fn key_hasher() -> &'static foldhash::fast::RandomState {
    static STATE: std::sync::OnceLock<foldhash::fast::RandomState> = std::sync::OnceLock::new();
    STATE.get_or_init(foldhash::fast::RandomState::default)
}

fn hash_key(lower: &str) -> u64 {
    use std::hash::BuildHasher;
    key_hasher().hash_one(lower)
}

/// A context key prepared once (lower case, hashed), for lookups that neither fold case nor hash: what
/// compiled conditions and policy variables hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextKey {
    lower: Box<str>,
    hash: u64,
}

impl ContextKey {
    /// Prepares a key given in any case.
    pub fn new(key: &str) -> Self {
        let lower: Box<str> = key.to_ascii_lowercase().into();
        let hash = hash_key(&lower);
        Self { lower, hash }
    }
    /// The key in lower case.
    pub fn as_str(&self) -> &str {
        &self.lower
    }
}

#[derive(Clone, Debug)]
struct Entry {
    key: String,
    hash: u64,
    value: ContextValue,
}

/// Request context: key names are case-insensitive (stored lower-cased); values as given.
#[derive(Clone, Default)]
pub struct Context {
    map: hashbrown::HashTable<Entry>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for Context {
    fn eq(&self, other: &Self) -> bool {
        self.map.len() == other.map.len() && self.iter().all(|(k, v)| other.get_lower(k) == Some(v))
    }
}
impl Eq for Context {}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }
    /// An empty context with room for `n` keys (a request's keys are known before they are inserted).
    pub fn with_capacity(n: usize) -> Self {
        Self {
            map: hashbrown::HashTable::with_capacity(n),
        }
    }
    /// Sets a single-valued key.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.insert_value(key, ContextValue::single(value))
    }
    /// Sets a multivalued key.
    pub fn insert_multi<I: IntoIterator<Item = S>, S: Into<String>>(
        &mut self,
        key: &str,
        values: I,
    ) -> &mut Self {
        self.insert_value(key, ContextValue::multi(values))
    }
    /// Sets a key to a value.
    pub fn insert_value(&mut self, key: &str, value: ContextValue) -> &mut Self {
        let key = key.to_ascii_lowercase();
        let hash = hash_key(&key);
        match self.map.entry(hash, |e| e.key == key, |e| e.hash) {
            hashbrown::hash_table::Entry::Occupied(mut o) => o.get_mut().value = value,
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(Entry { key, hash, value });
            }
        }
        self
    }
    /// Looks a key up; `key` may be in any case (lower-case keys avoid a copy).
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.get_lower(&key.to_ascii_lowercase());
        }
        self.get_lower(key)
    }
    /// Looks up a key already in lower case, without allocating.
    pub fn get_lower(&self, key_lower: &str) -> Option<&ContextValue> {
        self.find(hash_key(key_lower), key_lower)
    }
    /// Looks up a prepared key: no case folding, no hashing.
    #[inline]
    pub fn get_key(&self, key: &ContextKey) -> Option<&ContextValue> {
        self.find(key.hash, &key.lower)
    }
    #[inline]
    fn find(&self, hash: u64, lower: &str) -> Option<&ContextValue> {
        if self.map.is_empty() {
            return None;
        }
        self.map.find(hash, |e| e.key == lower).map(|e| &e.value)
    }
    /// The keys (lower case) and values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ContextValue)> {
        self.map.iter().map(|e| (e.key.as_str(), &e.value))
    }
    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.given)
    }
}

/// An action prepared once for every layer and every evaluation: as given, lower-cased, and split at its
/// first colon. A [`Request`] made with [`Request::for_action`] carries it, so evaluation does no case
/// folding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    given: Box<str>,
    lower: Box<str>,
    colon: Option<usize>,
}

impl Action {
    /// Prepares `service:Action` (any case).
    pub fn new(action: &str) -> Self {
        let lower: Box<str> = action.to_ascii_lowercase().into();
        let colon = lower.find(':');
        Self {
            given: action.into(),
            lower,
            colon,
        }
    }
    /// The action as given.
    pub fn as_str(&self) -> &str {
        &self.given
    }
    /// The action in lower case.
    #[inline]
    pub fn lower(&self) -> &str {
        &self.lower
    }
    /// The lower-case service prefix (before the first colon; empty without one).
    #[inline]
    pub fn service(&self) -> &str {
        self.colon.and_then(|c| self.lower.get(..c)).unwrap_or("")
    }
    /// The lower-case action name (after the first colon; the whole action without one).
    #[inline]
    pub fn name(&self) -> &str {
        match self.colon {
            Some(c) => self.lower.get(c + 1..).unwrap_or(""),
            None => &self.lower,
        }
    }
}

/// One request: who, what, on what, with which context. Borrows everything.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The principal's ARN (`arn:aws:iam::…:user/…`, `arn:aws:sts::…:assumed-role/…/…`), a service
    /// principal (`s3.amazonaws.com`), a federation provider (`cognito-identity.amazonaws.com`), or
    /// `"anonymous"` for an unauthenticated caller. `None` means an unnamed IAM principal of the
    /// resource's account: the one the identity policies belong to.
    pub principal: Option<&'a str>,
    /// `service:Action`.
    pub action: &'a str,
    /// The resource ARN (or `*` for actions without resource-level permissions).
    pub resource: &'a str,
    /// The account that owns the resource, when it differs from the one in the ARN or the ARN has none.
    pub resource_account: Option<&'a str>,
    /// Whether the principal has a permissions boundary (for the documented `NotPrincipal` quirk).
    pub has_boundary: bool,
    /// The IAM user behind a federated-user session (`arn:aws:sts::A:federated-user/N`, made by
    /// `GetFederationToken`): a resource-policy grant to that user ARN is limited by the boundary and the
    /// session policy, as a grant to a role ARN is. The federated-user ARN does not name its user, so the
    /// request has to.
    pub session_issuer: Option<&'a str>,
    /// Context keys.
    pub context: &'a Context,
    /// The action prepared once, when the request was made from one ([`Request::for_action`]).
    prepared: Option<&'a Action>,
}

static EMPTY: std::sync::OnceLock<Context> = std::sync::OnceLock::new();

impl<'a> Request<'a> {
    /// A request with no principal and an empty context.
    pub fn new(action: &'a str, resource: &'a str) -> Self {
        Self {
            principal: None,
            action,
            resource,
            resource_account: None,
            has_boundary: false,
            session_issuer: None,
            context: EMPTY.get_or_init(Context::new),
            prepared: None,
        }
    }
    /// A request for a prepared action (no principal, an empty context): evaluation uses its lower-cased
    /// parts instead of folding the action's case on every call.
    pub fn for_action(action: &'a Action, resource: &'a str) -> Self {
        Self {
            prepared: Some(action),
            ..Self::new(&action.given, resource)
        }
    }
    /// The prepared action's `(lower case, service, name)`, when the request carries one that is still its
    /// `action` (a caller that replaced `action` afterwards gets `None`, and evaluation folds case itself).
    #[inline]
    pub fn prepared_action(&self) -> Option<(&'a str, &'a str, &'a str)> {
        let p = self.prepared?;
        let same = std::ptr::eq(p.given.as_ptr(), self.action.as_ptr())
            && p.given.len() == self.action.len();
        same.then(|| (p.lower(), p.service(), p.name()))
    }
    /// Sets the context.
    #[must_use]
    pub fn context(mut self, ctx: &'a Context) -> Self {
        self.context = ctx;
        self
    }
    /// Sets the principal.
    #[must_use]
    pub fn principal(mut self, p: &'a str) -> Self {
        self.principal = Some(p);
        self
    }
    /// Sets the resource's account.
    #[must_use]
    pub fn resource_account(mut self, a: &'a str) -> Self {
        self.resource_account = Some(a);
        self
    }
    /// Names the IAM user behind a federated-user session.
    #[must_use]
    pub fn session_issuer(mut self, arn: &'a str) -> Self {
        self.session_issuer = Some(arn);
        self
    }
    /// Says the principal has a permissions boundary.
    #[must_use]
    pub fn with_boundary(mut self, b: bool) -> Self {
        self.has_boundary = b;
        self
    }
}

/// Now, in Unix seconds: the one clock every engine reads when the caller gives no time (token expiry,
/// the API Gateway authorizer cache, SigV4 dates, `aws:CurrentTime`). Callers that need another time
/// pass it explicitly (`--now`, suites' `now`).
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_keys_are_case_insensitive() {
        let mut c = Context::new();
        c.insert("AWS:SourceIp", "1.2.3.4");
        assert!(c.get("aws:sourceip").is_some());
        assert!(c.get_lower("aws:sourceip").is_some());
        assert!(c.get("aws:SOURCEIP").is_some());
        assert!(!c.get("aws:sourceip").unwrap().is_multi());
        // Prepared keys find the same entry; a later insert under another case replaces it.
        assert_eq!(
            c.get_key(&ContextKey::new("Aws:SourceIP")),
            Some(&ContextValue::single("1.2.3.4"))
        );
        c.insert("aws:SOURCEIP", "5.6.7.8");
        assert_eq!(c.iter().count(), 1);
        assert_eq!(
            c.get_key(&ContextKey::new("aws:sourceip"))
                .map(ContextValue::values),
            Some(&["5.6.7.8".to_string()][..])
        );
        assert_eq!(c.get_key(&ContextKey::new("aws:sourcevpc")), None);
    }

    #[test]
    fn contexts_compare_by_content() {
        let (mut a, mut b) = (Context::new(), Context::new());
        a.insert("k1", "v").insert_multi("k2", ["x", "y"]);
        b.insert_multi("K2", ["x", "y"]).insert("K1", "v");
        assert_eq!(a, b);
        b.insert("k3", "z");
        assert_ne!(a, b);
        a.insert("k3", "other");
        assert_ne!(a, b);
    }

    #[test]
    fn a_prepared_action_is_used_only_while_it_is_the_request_action() {
        let a = Action::new("DynamoDB:GetItem");
        assert_eq!(
            (a.as_str(), a.lower()),
            ("DynamoDB:GetItem", "dynamodb:getitem")
        );
        assert_eq!((a.service(), a.name()), ("dynamodb", "getitem"));
        let r = Request::for_action(&a, "*");
        assert_eq!(r.action, "DynamoDB:GetItem");
        assert_eq!(
            r.prepared_action(),
            Some(("dynamodb:getitem", "dynamodb", "getitem"))
        );
        // A caller that replaces the action afterwards must not be evaluated as the prepared one.
        let mut other = r;
        other.action = "s3:GetObject";
        assert_eq!(other.prepared_action(), None);
        // The same text elsewhere is not the prepared action either (it is folded as usual).
        let copy = String::from("DynamoDB:GetItem");
        other.action = &copy;
        assert_eq!(other.prepared_action(), None);
        let bare = Action::new("GetItem");
        assert_eq!((bare.service(), bare.name()), ("", "getitem"));
    }

    #[test]
    fn decisions_parse() {
        assert_eq!("Allow".parse::<Decision>(), Ok(Decision::Allow));
        assert!("allow".parse::<Decision>().is_err());
        assert!(!Decision::Allow.is_deny());
        assert!(Decision::ImplicitDeny.is_deny());
    }
}
