//! [`PolicySet`]: compiling one layer's policies, and evaluating a request against them.

use std::sync::Arc;

use authz_core::{Decision, Layer, NoTrace, Outcome, Request, StatementRef, Step, Trace};
use iam_policy::{Effect, PolicyDocument, PrincipalValue};

use crate::compiled::*;
use crate::condition::{self, CCondition, CValue};
use crate::matcher::compile_pieces;
use crate::principal::*;
use crate::{CompileError, HashMap, StatementInfo};

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) layer: Layer,
    pub(crate) docs: Vec<PolicyDocument>,
    pub(crate) statements: Vec<CStatement>,
    pub(crate) index: ActionIndex,
}

/// Compiled policies of one layer (for example all identity policies of a principal), immutable and
/// cheap to clone.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub(crate) inner: Arc<Inner>,
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
pub(crate) fn lower_action<'b>(
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

pub(crate) fn split_action(full: &str, colon: Option<usize>) -> (&str, &str) {
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
            for (si, s) in doc.statements.iter().enumerate() {
                // Located at the statement (or the value concerned), coded.
                let located = |code: &'static str, span: diag::Span, m: String| {
                    let (file, line, column) = doc.source.located(span.start);
                    CompileError {
                        policy: file.to_string(),
                        message: m,
                        code,
                        line,
                        column,
                    }
                };
                let err = |m: String| located(diag::codes::EVAL_COMPILE, s.span, m);
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
                                .map_err(|e| located(e.code, a.span, e.message))?;
                                actions
                                    .globs
                                    .entry(svc.as_str().into())
                                    .or_default()
                                    .push(compile_pieces(&t));
                            } else {
                                // Built at its exact size: no reallocation on the way to the key.
                                let mut k = String::with_capacity(svc.len() + 1 + a.action.len());
                                k.push_str(svc.as_str());
                                k.push(':');
                                k.push_str(&a.action);
                                actions.exact.insert(Key::from(k));
                            }
                        }
                    }
                }
                // Index: NotAction and `*` statements are always candidates.
                if ab.negated || actions.any {
                    index.always.push(id);
                } else {
                    let push = |map: &mut HashMap<Key, Vec<u32>>, key: Key| {
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
                        key: authz_core::ContextKey::new(&c.key.value),
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
        if let Some(prep) = req.prepared_action() {
            return self.evaluate_prepared(req, prep, trace);
        }
        let (mut buf, mut heap) = ([0u8; 64], String::new());
        let (full, colon) = lower_action(req.action, &mut buf, &mut heap);
        let (service, action) = split_action(full, colon);
        self.evaluate_prepared(req, (full, service, action), trace)
    }

    /// [`PolicySet::evaluate_layer_with`] for an action already lower-cased and split
    /// (`service:action`, `service`, `action`): the authorizer prepares it once for every layer.
    pub(crate) fn evaluate_prepared<T: Trace>(
        &self,
        req: &Request<'_>,
        (full, service, action): (&str, &str, &str),
        trace: &mut T,
    ) -> LayerResult {
        let ix = &self.inner.index;
        let empty: &[u32] = &[];
        fn get<'m>(m: &'m HashMap<Key, Vec<u32>>, k: &str, empty: &'m [u32]) -> &'m [u32] {
            // Most sets use few kinds of pattern: skip hashing for maps that are empty.
            if m.is_empty() {
                empty
            } else {
                m.get(k).map_or(empty, Vec::as_slice)
            }
        }
        // The glob bucket is worked out only for sets that have bucketed patterns.
        let bucket = if ix.glob_prefix.is_empty() {
            None
        } else {
            char_prefix_end(action, GLOB_BUCKET).and_then(|e| full.get(..service.len() + 1 + e))
        };
        let lists: [&[u32]; 5] = [
            get(&ix.exact, full, empty),
            get(&ix.whole_service, service, empty),
            bucket.map_or(empty, |b| get(&ix.glob_prefix, b, empty)),
            get(&ix.glob_short, service, empty),
            ix.always.as_slice(),
        ];
        let mut out = LayerResult::default();
        // Most requests find statements in one list only: walk it directly.
        let mut nonempty = lists.iter().enumerate().filter(|(_, l)| !l.is_empty());
        if let (Some((which, only)), None) = (nonempty.next(), nonempty.next()) {
            for &id in *only {
                let Some(st) = self.inner.statements.get(id as usize) else {
                    break;
                };
                self.visit(
                    st,
                    req,
                    (which == 0, full, service, action),
                    trace,
                    &mut out,
                );
            }
            return out;
        }
        let mut pos = [0usize; 5];
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
            self.visit(st, req, (known, full, service, action), trace, &mut out);
        }
        out
    }

    /// Decides whether one statement applies and records it in `out` (first Deny; strongest Allow).
    #[inline]
    fn visit<T: Trace>(
        &self,
        st: &CStatement,
        req: &Request<'_>,
        prep: (bool, &str, &str, &str),
        trace: &mut T,
        out: &mut LayerResult,
    ) {
        let grant = self.applies(st, req, prep, trace);
        trace.statement(st.at, grant.is_some());
        let Some(grant) = grant else { return };
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

    /// `None` when the statement does not apply; otherwise the principal grant (`None` inside when the
    /// statement has no principal element).
    pub(crate) fn applies<T: Trace>(
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
