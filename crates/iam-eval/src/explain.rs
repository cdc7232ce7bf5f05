//! Explanations: which statements applied, why the others did not, and which context keys were missing.
//!
//! There is one evaluator. An explanation is a [`Recorder`] (a [`Trace`]) fed by the same
//! `evaluate_with` the hot path runs: each statement's verdict is what that evaluation reported. Off the
//! hot path, the recorder then renders what people read: the conditions' values and the missing keys.

use std::collections::BTreeSet;

use std::collections::HashMap;

use authz_core::{Context, Outcome, Request, StatementRef, Step, Trace};
use iam_policy::{Effect, PolicyDocument, Statement};

use crate::condition::{self, CCondition, CValue, Why};
use crate::matcher::{P, resolve};
use crate::{Authorizer, PolicySet};

/// A statement with the policy it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct StatementInfo<'a> {
    /// Its id.
    pub at: StatementRef,
    /// The policy.
    pub document: &'a PolicyDocument,
    /// The statement.
    pub statement: &'a Statement,
}

impl StatementInfo<'_> {
    /// `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.statement
            .sid
            .as_ref()
            .map(|s| s.value.as_str())
            .filter(|s| !s.is_empty())
    }
    /// The statement by name, as the shared result gives it.
    pub fn determining(&self) -> authz_core::Determining {
        authz_core::Determining {
            layer: self.at.layer,
            policy: self.document.source.name().to_string(),
            sid: self.sid().map(str::to_string),
            statement: Some(self.at.statement),
        }
    }
    /// File, line and column of the statement: in the template it was resolved from, when the policy
    /// came out of one ([`diag::Source::located`]).
    pub fn location(&self) -> (String, usize, usize) {
        let (f, l, c) = self.document.source.located(self.statement.span.start);
        (f.to_string(), l, c)
    }
    /// `file:line:column (Sid X)` or `file:line:column (statement #N)`.
    pub fn label(&self) -> String {
        let (f, l, c) = self.location();
        match self.sid() {
            Some(s) => format!("{f}:{l}:{c} (Sid {s})"),
            None => format!("{f}:{l}:{c} (statement #{})", self.at.statement + 1),
        }
    }
}

/// Why a statement did or did not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It applies to the request.
    Applies,
    /// The action is not in its `Action` (or is in its `NotAction`).
    ActionNotMatched,
    /// The resource is not matched (or is excluded by `NotResource`).
    ResourceNotMatched,
    /// The principal element does not name the caller.
    PrincipalNotMatched,
    /// The condition at this index is false.
    ConditionFailed(usize),
}

/// One condition as evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionCheck {
    /// The operator as written.
    pub operator: String,
    /// The key.
    pub key: String,
    /// The policy values (variables substituted where they resolve).
    pub policy_values: Vec<String>,
    /// The request's values, `None` when the key is absent.
    pub request_values: Option<Vec<String>>,
    /// The result.
    pub result: bool,
    /// A note on the rule that decided (absent key, multiple values without a qualifier, unresolved
    /// variable).
    pub note: Option<String>,
}

/// One statement as evaluated.
#[derive(Debug, Clone)]
pub struct StatementExplanation {
    /// Its id.
    pub at: StatementRef,
    /// `file:line:column (Sid …)`.
    pub label: String,
    /// The source name of its policy.
    pub policy: String,
    /// Its `Sid`.
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// Whether and why not it applied.
    pub verdict: Verdict,
    /// Its conditions, evaluated (only when action, resource and principal matched).
    pub conditions: Vec<ConditionCheck>,
}

/// A decision with its reasons.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The decision, as [`Authorizer::evaluate`] gives it.
    pub outcome: Outcome,
    /// Every statement of every layer, in order.
    pub statements: Vec<StatementExplanation>,
    /// Context keys that conditions or variables of otherwise-matching statements needed but the request
    /// lacked (like the policy simulator's `MissingContextValues`).
    pub missing_context: Vec<String>,
}

impl Explanation {
    /// The shared result this explanation records: the decision and the deciding statement by name.
    pub fn answer(&self) -> authz_core::Answer {
        let mut a = authz_core::Answer::new(self.outcome.decision);
        a.blocked_by = self.outcome.blocked_by;
        if let Some(s) = self
            .outcome
            .decided_by
            .and_then(|at| self.statements.iter().find(|s| s.at == at))
        {
            a.determining.push(authz_core::Determining {
                layer: s.at.layer,
                policy: s.policy.clone(),
                sid: s.sid.clone(),
                statement: Some(s.at.statement),
            });
        }
        a
    }
}

/// Records every statement's verdict as the evaluator reports it.
#[derive(Debug, Default)]
pub struct Recorder {
    verdicts: HashMap<StatementRef, Step>,
}

impl Trace for Recorder {
    const COMPLETE: bool = true;
    fn verdict(&mut self, at: StatementRef, step: Step) {
        self.verdicts.insert(at, step);
    }
}

impl Recorder {
    /// The verdict recorded for a statement; a statement the evaluator never considered (its action
    /// index ruled it out) does not match the action.
    pub fn verdict(&self, at: StatementRef) -> Verdict {
        match self.verdicts.get(&at) {
            None | Some(Step::Action) => Verdict::ActionNotMatched,
            Some(Step::Resource) => Verdict::ResourceNotMatched,
            Some(Step::Principal) => Verdict::PrincipalNotMatched,
            Some(Step::Condition(i)) => Verdict::ConditionFailed(*i),
            Some(Step::Applies) => Verdict::Applies,
        }
    }
}

pub(crate) fn explain(auth: &Authorizer, req: &Request<'_>) -> Explanation {
    let mut rec = Recorder::default();
    let outcome = auth.evaluate_with(req, &mut rec);
    let mut statements = Vec::new();
    let mut missing = BTreeSet::new();
    for set in auth.sets() {
        render_set(set, req, &rec, &mut statements, &mut missing);
    }
    Explanation {
        outcome,
        statements,
        missing_context: missing.into_iter().collect(),
    }
}

fn values_of(ctx: &Context, key: &str) -> Option<Vec<String>> {
    ctx.get_lower(key).map(|v| v.values().to_vec())
}

fn show_pieces(p: &[P], ctx: &Context, missing: &mut BTreeSet<String>) -> String {
    let mut s = String::new();
    for x in p {
        match x {
            P::Lit(l) => s.push_str(l),
            P::Star => s.push('*'),
            P::One => s.push('?'),
            P::Var(k, d) => match resolve(k, d.as_deref(), ctx) {
                Some(v) => s.push_str(v),
                None => {
                    missing.insert(k.as_str().to_string());
                    s.push_str(&format!("${{{}}}", k.as_str()));
                }
            },
            // Never substituted, whatever the request holds: not a missing key.
            P::Never(k) => s.push_str(&format!("${{{k}}} (multivalued: never substituted)")),
        }
    }
    s
}

fn show_value(v: &CValue, ctx: &Context, missing: &mut BTreeSet<String>) -> String {
    match v {
        CValue::Str(p) | CValue::BoolVar(p) => show_pieces(p, ctx, missing),
        CValue::Num(d) => d.to_string(),
        CValue::Date(t) => format!("{} (epoch ns)", t.0),
        CValue::Bool(b) | CValue::Null(b) => b.to_string(),
        CValue::Bin(b) => format!("{} bytes", b.len()),
        CValue::Ip(n) => n.to_string(),
        CValue::Arn(parts) => parts
            .iter()
            .map(|p| show_pieces(p, ctx, missing))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

fn check(c: &CCondition, ctx: &Context, missing: &mut BTreeSet<String>) -> ConditionCheck {
    let (result, why) = condition::evaluate_why(c, ctx);
    let request_values = values_of(ctx, c.key.as_str());
    let mut local = BTreeSet::new();
    let policy_values: Vec<String> = c
        .values
        .iter()
        .map(|v| show_value(v, ctx, &mut local))
        .collect();
    let note = match why {
        Why::Absent => {
            missing.insert(c.key.as_str().to_string());
            Some(format!("key `{}` is absent from the request", c.key.as_str()))
        }
        Why::MultipleValues => Some("the request gives several values; without ForAllValues:/ForAnyValue: the test is false".into()),
        Why::Compared if !local.is_empty() => Some(format!(
            "variable {} not in the request: that value matches nothing",
            local.iter().map(|k| format!("${{{k}}}")).collect::<Vec<_>>().join(", ")
        )),
        Why::Compared => None,
    };
    missing.extend(local);
    ConditionCheck {
        operator: c.op.to_string(),
        key: c.key.as_str().to_string(),
        policy_values,
        request_values,
        result,
        note,
    }
}

/// Renders the recorded verdicts of one set: the conditions' values for statements that reached their
/// conditions, and the variables a resource needed but the request lacked.
fn render_set(
    set: &PolicySet,
    req: &Request<'_>,
    rec: &Recorder,
    out: &mut Vec<StatementExplanation>,
    missing: &mut BTreeSet<String>,
) {
    let ctx = req.context;
    for st in &set.inner.statements {
        let info = set.statement(st.at);
        let verdict = rec.verdict(st.at);
        let mut conditions = Vec::new();
        match verdict {
            Verdict::Applies | Verdict::ConditionFailed(_) => {
                for c in st.conditions.iter() {
                    conditions.push(check(c, ctx, missing));
                }
            }
            Verdict::ResourceNotMatched => {
                if let Some(r) = info.and_then(|i| i.statement.resource.as_ref()) {
                    for it in &r.items {
                        if let iam_policy::ResourceKind::Arn(p) = &it.kind {
                            for v in p.segments.iter().flat_map(|s| s.variables()) {
                                let k = authz_core::ContextKey::new(&v.key);
                                if resolve(&k, v.default.as_deref(), ctx).is_none() {
                                    missing.insert(k.as_str().to_string());
                                }
                            }
                        }
                    }
                }
            }
            Verdict::ActionNotMatched | Verdict::PrincipalNotMatched => {}
        }
        out.push(StatementExplanation {
            at: st.at,
            label: info.map(|i| i.label()).unwrap_or_default(),
            policy: info
                .map(|i| i.document.source.name().to_string())
                .unwrap_or_default(),
            sid: info.and_then(|i| i.sid().map(str::to_string)),
            effect: st.effect,
            verdict,
            conditions,
        });
    }
}
