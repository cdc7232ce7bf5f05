//! IAM policies as SMT-LIB formulas over one symbolic request, mirroring `iam-eval` rule by rule.
//!
//! The request: `svc`/`name` (the action, lower case, as the evaluator compares it), `res` (the
//! resource), `hp`/`p` (a principal, or none), `hi`/`iss` (the IAM user behind a federated-user session),
//! and for every condition key a few *slots* (`kJ_aI`: is value I there, and the value). A key's sort
//! follows the operators used on it: strings (String, ARN, Bool operators and policy variables), an
//! integer for numbers (scaled past the finest literal), an integer of nanoseconds for dates, bit-vectors
//! for IP addresses; each non-string value can also be unparseable or empty, as a request's can.

use std::collections::HashMap;
use std::fmt::Write as _;

use iam_policy::{
    BaseOperator, BoolValue, ConditionOperator, Effect, Family, Piece, PolicyDocument,
    PrincipalKind, PrincipalValue, Qualifier, ResourceKind, Span, Statement, Template, TypedValue,
};

use crate::smt::lit;

/// A construct the encoding does not cover: the answer becomes UNKNOWN, naming it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// What is not covered.
    pub what: String,
    /// The policy (its source name).
    pub policy: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A key's sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    Num,
    Date,
    Ip,
}

#[derive(Clone, Debug)]
pub(crate) struct Key {
    /// As first written.
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) slots: usize,
    /// Modelled as a set (a set qualifier uses it, or AWS documents it as multivalued).
    pub(crate) set: bool,
    /// Documented multivalued: a policy variable naming it never resolves.
    pub(crate) never_var: bool,
    /// The sort was fixed by an operator or a variable.
    fixed: bool,
}

/// The most values one key gets in a witness; more conditions on one key than this make a PASS unproven.
pub const MAX_SLOTS: usize = 8;

/// Earliest and latest instants a witness date can be written as (years 0001 to 9999, ISO 8601).
const DATE_MIN: i128 = -62_135_596_800_000_000_000;
const DATE_MAX: i128 = 253_402_300_799_999_999_999;

/// An Allow statement of an encoded policy.
#[derive(Clone, Debug)]
pub(crate) struct Allow {
    /// Its index in its policy.
    pub(crate) index: usize,
    /// The name of its formula.
    pub(crate) formula: String,
    /// The name of its action-match constant.
    pub(crate) act: String,
    /// Which policy (for several).
    pub(crate) doc: usize,
}

pub(crate) struct Encoder {
    pub(crate) decls: String,
    pub(crate) keys: Vec<Key>,
    by_lower: HashMap<String, usize>,
    /// Numbers are integers times 10^-scale.
    pub(crate) scale: u32,
    pub(crate) unsupported: Vec<Unsupported>,
    /// Some key had more conditions than slots: a PASS is not proven.
    pub(crate) capped: bool,
    splits: HashMap<String, String>,
    fresh: usize,
    /// Each statement's action-match constant and its action element.
    pub(crate) action_blocks: Vec<(String, Option<iam_policy::ActionBlock>)>,
}

fn family_kind(f: Family) -> Option<Kind> {
    match f {
        Family::String | Family::Bool | Family::Binary | Family::Arn => Some(Kind::Str),
        Family::Numeric => Some(Kind::Num),
        Family::Date => Some(Kind::Date),
        Family::Ip => Some(Kind::Ip),
        Family::Null => None,
    }
}

fn and(parts: Vec<String>) -> String {
    let parts: Vec<String> = parts.into_iter().filter(|p| p != "true").collect();
    if parts.iter().any(|p| p == "false") {
        return "false".into();
    }
    match parts.len() {
        0 => "true".into(),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ => format!("(and {})", parts.join(" ")),
    }
}

fn or(parts: Vec<String>) -> String {
    let parts: Vec<String> = parts.into_iter().filter(|p| p != "false").collect();
    if parts.iter().any(|p| p == "true") {
        return "true".into();
    }
    match parts.len() {
        0 => "false".into(),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ => format!("(or {})", parts.join(" ")),
    }
}

pub(crate) fn not(p: &str) -> String {
    match p {
        "true" => "false".into(),
        "false" => "true".into(),
        _ => format!("(not {p})"),
    }
}

fn re_concat(parts: Vec<String>) -> String {
    match parts.len() {
        0 => "(str.to_re \"\")".into(),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ => format!("(re.++ {})", parts.join(" ")),
    }
}

const RE_ANY: &str = "(re.* re.allchar)";
/// Any character but `:`.
const NOCOLON: &str = "(re.diff re.allchar (str.to_re \":\"))";
/// Five colon-free parts, each followed by its colon.
const HEAD5: &str =
    "((_ re.loop 5 5) (re.++ (re.* (re.diff re.allchar (str.to_re \":\"))) (str.to_re \":\")))";

/// A regular expression for one colon-free ARN part (`*` and `?` do not cross colons).
fn segment_regex(pieces: &[Piece]) -> Option<String> {
    let mut out = Vec::new();
    for p in pieces {
        out.push(match p {
            Piece::Literal(l) => format!("(str.to_re {})", lit(l)),
            Piece::Star => format!("(re.* {NOCOLON})"),
            Piece::Question => NOCOLON.into(),
            Piece::Var(_) => return None,
        });
    }
    Some(re_concat(out))
}

/// A regular expression for wildcard pieces without variables (`None` if there is one).
fn regex(pieces: &[Piece]) -> Option<String> {
    let mut out = Vec::new();
    for p in pieces {
        out.push(match p {
            Piece::Literal(l) => format!("(str.to_re {})", lit(l)),
            Piece::Star => RE_ANY.into(),
            Piece::Question => "re.allchar".into(),
            Piece::Var(_) => return None,
        });
    }
    Some(re_concat(out))
}

/// Case-insensitive regular expression for literal text (ASCII letters either case; the Kelvin sign
/// lower-cases to `k`). `None` for other letters with case.
fn ci_regex(text: &str) -> Option<String> {
    let mut out = Vec::new();
    for c in text.chars() {
        if c.is_ascii_alphabetic() {
            let l = c.to_ascii_lowercase();
            let u = c.to_ascii_uppercase();
            let mut alts = vec![
                format!("(str.to_re {})", lit(&l.to_string())),
                format!("(str.to_re {})", lit(&u.to_string())),
            ];
            if l == 'k' {
                alts.push(format!("(str.to_re {})", lit("\u{212a}")));
            }
            out.push(format!("(re.union {})", alts.join(" ")));
        } else if c.is_alphabetic()
            && (c.to_lowercase().ne(std::iter::once(c)) || c.to_uppercase().ne(std::iter::once(c)))
        {
            return None;
        } else {
            out.push(format!("(str.to_re {})", lit(&c.to_string())));
        }
    }
    Some(re_concat(out))
}

/// The printable ASCII without upper case, `*` and `?`: what a witness action name is made of.
const ACTION_CHARS: &str = "(re.union (re.range \" \" \")\") (re.range \"+\" \">\") (re.range \"@\" \"@\") (re.range \"[\" \"~\"))";

impl Encoder {
    /// Collects every condition key and policy variable of `docs`, fixing each key's sort and slots.
    pub(crate) fn new(docs: &[&PolicyDocument]) -> Encoder {
        let mut e = Encoder {
            decls: String::new(),
            keys: Vec::new(),
            by_lower: HashMap::new(),
            scale: 0,
            unsupported: Vec::new(),
            capped: false,
            splits: HashMap::new(),
            fresh: 0,
            action_blocks: Vec::new(),
        };
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for doc in docs {
            for st in &doc.statements {
                for c in &st.conditions {
                    let j = e.key(&c.key.value);
                    *counts.entry(j).or_default() += 1;
                    if c.operator.value.qualifier.is_some()
                        && let Some(k) = e.keys.get_mut(j)
                    {
                        k.set = true;
                    }
                    if let Some(kind) = family_kind(c.operator.value.base.family()) {
                        e.want_kind(j, kind, doc, c.key.span);
                    }
                    for v in &c.values {
                        match &v.typed {
                            TypedValue::Number(d) => {
                                let text = d.to_string();
                                let digits = text.split_once('.').map_or(0, |(_, f)| f.len());
                                e.scale = e.scale.max(u32::try_from(digits).unwrap_or(u32::MAX));
                            }
                            TypedValue::String(t) | TypedValue::Bool(BoolValue::Template(t)) => {
                                e.template_vars(t, doc, v.span);
                            }
                            TypedValue::Arn(parts) => {
                                for t in parts {
                                    e.template_vars(t, doc, v.span);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                if let Some(r) = &st.resource {
                    for item in &r.items {
                        if let ResourceKind::Arn(p) = &item.kind {
                            for t in &p.segments {
                                e.template_vars(t, doc, item.span);
                            }
                        }
                    }
                }
            }
        }
        // One more digit than the finest literal: strictly between two literals there is a value.
        e.scale = (e.scale + 1).min(30);
        for (j, k) in e.keys.iter_mut().enumerate() {
            let n = counts.get(&j).copied().unwrap_or(0);
            if k.set {
                if n > MAX_SLOTS {
                    e.capped = true;
                }
                k.slots = n.clamp(1, MAX_SLOTS);
            }
        }
        e.declare();
        e
    }

    fn key(&mut self, name: &str) -> usize {
        let lower = name.to_ascii_lowercase();
        if let Some(&j) = self.by_lower.get(&lower) {
            return j;
        }
        let cat = iam_policy::catalog::catalog();
        let never_var = cat.is_multivalued(name);
        self.keys.push(Key {
            name: name.to_string(),
            kind: Kind::Str,
            slots: 1,
            set: never_var,
            never_var,
            fixed: false,
        });
        self.by_lower.insert(lower, self.keys.len() - 1);
        self.keys.len() - 1
    }

    fn locate(doc: &PolicyDocument, span: Span, what: String) -> Unsupported {
        let (file, line, column) = doc.source.located(span.start);
        Unsupported {
            what,
            policy: file.to_string(),
            line,
            column,
        }
    }

    fn unsupported(&mut self, doc: &PolicyDocument, span: Span, what: String) {
        let u = Self::locate(doc, span, what);
        if !self.unsupported.contains(&u) {
            self.unsupported.push(u);
        }
    }

    fn want_kind(&mut self, j: usize, kind: Kind, doc: &PolicyDocument, span: Span) {
        let Some(k) = self.keys.get_mut(j) else {
            return;
        };
        if !k.fixed {
            k.kind = kind;
            k.fixed = true;
        } else if k.kind != kind {
            let what = format!(
                "condition key `{}` is compared both as {:?} and as {:?}",
                k.name, k.kind, kind
            );
            self.unsupported(doc, span, what);
        }
    }

    fn template_vars(&mut self, t: &Template, doc: &PolicyDocument, span: Span) {
        for v in t.variables() {
            let j = self.key(&v.key);
            let at = if v.span.end > v.span.start {
                v.span
            } else {
                span
            };
            self.want_kind(j, Kind::Str, doc, at);
        }
    }

    fn declare(&mut self) {
        let mut d = String::new();
        let _ = writeln!(
            d,
            "(declare-const svc String)\n(declare-const name String)\n\
             (declare-const hp Bool)\n(declare-const hi Bool)\n(declare-const iss String)\n\
             (assert (str.in_re svc (re.+ (re.union (re.range \"a\" \"z\") (re.range \"0\" \"9\") (str.to_re \"-\")))))\n\
             (assert (str.in_re name (re.+ {ACTION_CHARS})))\n(assert (=> hi hp))"
        );
        // The resource and the principal: an ARN's six parts, or a name without colons.
        for (x, whole) in [("r", "res"), ("p", "p")] {
            let _ = writeln!(
                d,
                "(declare-const {x}a Bool)\n(declare-const {x}o String)\n(assert (not (str.contains {x}o \":\")))"
            );
            for i in 0..6 {
                let _ = writeln!(d, "(declare-const {x}{i} String)");
                if i < 5 {
                    let _ = writeln!(d, "(assert (not (str.contains {x}{i} \":\")))");
                }
            }
            let _ = writeln!(
                d,
                "(define-fun {whole} () String (ite {x}a (str.++ {x}0 \":\" {x}1 \":\" {x}2 \":\" {x}3 \":\" {x}4 \":\" {x}5) {x}o))"
            );
        }
        let _ = writeln!(
            d,
            "(assert (> (str.len res) 0))\n(assert (=> hp (> (str.len p) 0)))\n(assert (=> hi (> (str.len iss) 0)))"
        );
        for (j, k) in self.keys.iter().enumerate() {
            for i in 0..k.slots {
                let _ = writeln!(d, "(declare-const k{j}_a{i} Bool)");
                match k.kind {
                    Kind::Str => {
                        let _ = writeln!(d, "(declare-const k{j}_v{i} String)");
                    }
                    Kind::Num => {
                        let _ = writeln!(
                            d,
                            "(declare-const k{j}_n{i} Int)\n(declare-const k{j}_t{i} Int)\n(assert (and (>= k{j}_t{i} 0) (<= k{j}_t{i} 2)))"
                        );
                    }
                    Kind::Date => {
                        let _ = writeln!(
                            d,
                            "(declare-const k{j}_d{i} Int)\n(declare-const k{j}_t{i} Int)\n(assert (and (>= k{j}_t{i} 0) (<= k{j}_t{i} 2)))\n\
                             (assert (and (>= k{j}_d{i} {DATE_MIN}) (<= k{j}_d{i} {DATE_MAX})))"
                        );
                    }
                    Kind::Ip => {
                        let _ = writeln!(
                            d,
                            "(declare-const k{j}_4{i} (_ BitVec 32))\n(declare-const k{j}_6{i} (_ BitVec 128))\n(declare-const k{j}_t{i} Int)\n\
                             (assert (or (= k{j}_t{i} 1) (= k{j}_t{i} 2) (= k{j}_t{i} 4) (= k{j}_t{i} 6)))"
                        );
                    }
                }
            }
            if k.set {
                let rest: Vec<String> = (1..k.slots).map(|i| format!("(not k{j}_a{i})")).collect();
                let _ = writeln!(d, "(declare-const k{j}_m Bool)");
                if !rest.is_empty() {
                    let _ = writeln!(d, "(assert (=> (not k{j}_m) {}))", and(rest));
                }
            }
        }
        self.decls.push_str(&d);
    }

    /// The ARN decomposition of the string constant `term` (declared once): `(ok, head, rest)` where
    /// `ok` says it has at least five colons, `head` is everything up to and including the fifth colon and
    /// `rest` the resource part. Regular expressions, not `str.indexof`: the split is unique, so this
    /// is exact, and solvers decide it fast.
    fn split(&mut self, term: &str) -> (String, String, String) {
        let x = match self.splits.get(term) {
            Some(x) => x.clone(),
            None => {
                self.fresh += 1;
                let x = format!("sp{}", self.fresh);
                let _ = writeln!(
                    self.decls,
                    "(declare-const {x}_h String)\n(declare-const {x}_r String)\n\
                     (define-fun {x}_ok () Bool (str.in_re {term} (re.++ {HEAD5} {RE_ANY})))\n\
                     (assert (=> {x}_ok (and (= {term} (str.++ {x}_h {x}_r)) (str.in_re {x}_h {HEAD5}))))"
                );
                self.splits.insert(term.to_string(), x.clone());
                x
            }
        };
        (format!("{x}_ok"), format!("{x}_h"), format!("{x}_r"))
    }

    /// `term` is an ARN whose six parts match `segments` (variables only in the resource part).
    fn arn_match(
        &mut self,
        segments: &[Template],
        term: &str,
        doc: &PolicyDocument,
        span: Span,
    ) -> String {
        let (ok, head, rest) = self.split(term);
        let mut head_re = Vec::new();
        for seg in segments.iter().take(5) {
            match segment_regex(&seg.pieces) {
                Some(r) => head_re.push(r),
                None => {
                    self.unsupported(
                        doc,
                        span,
                        "a policy variable outside an ARN's resource part".into(),
                    );
                    return "false".into();
                }
            }
            head_re.push("(str.to_re \":\")".into());
        }
        let mut conds = vec![ok, format!("(str.in_re {head} {})", re_concat(head_re))];
        if let Some(last) = segments.get(5) {
            conds.push(self.seg_match(&last.pieces, &rest, doc, span));
        }
        and(conds)
    }

    /// `(resolves, value)` of a policy variable.
    fn var_term(&self, key: &str, default: Option<&str>) -> (String, String) {
        let Some(&j) = self.by_lower.get(&key.to_ascii_lowercase()) else {
            return ("false".into(), "\"\"".into());
        };
        let Some(k) = self.keys.get(j) else {
            return ("false".into(), "\"\"".into());
        };
        if k.never_var || k.kind != Kind::Str {
            return ("false".into(), "\"\"".into());
        }
        let (single, absent) = if k.set {
            (
                format!("(and (not k{j}_m) k{j}_a0)"),
                format!("(and (not k{j}_m) (not k{j}_a0))"),
            )
        } else {
            (format!("k{j}_a0"), format!("(not k{j}_a0)"))
        };
        match default {
            Some(dv) => (
                format!("(or {single} {absent})"),
                format!("(ite k{j}_a0 k{j}_v0 {})", lit(dv)),
            ),
            None => (single, format!("k{j}_v0")),
        }
    }

    /// Does the string term `s` match the template `pieces` (wildcards, variables resolved from the
    /// request; an unresolvable variable matches nothing)?
    fn seg_match(&mut self, pieces: &[Piece], s: &str, doc: &PolicyDocument, span: Span) -> String {
        if let Some(re) = regex(pieces) {
            if let [Piece::Literal(l)] = pieces {
                return format!("(= {s} {})", lit(l));
            }
            return format!("(str.in_re {s} {re})");
        }
        let var_at: Vec<usize> = pieces
            .iter()
            .enumerate()
            .filter(|(_, p)| matches!(p, Piece::Var(_)))
            .map(|(i, _)| i)
            .collect();
        let (Some(&first), Some(&last)) = (var_at.first(), var_at.last()) else {
            return "false".into();
        };
        let star_before_last = pieces.iter().take(last).any(|p| matches!(p, Piece::Star));
        let star_after_first = pieces.iter().skip(first).any(|p| matches!(p, Piece::Star));
        let mut conds = Vec::new();
        let mut resolved = Vec::new();
        let mut vt = |p: &Piece| -> Option<String> {
            if let Piece::Var(v) = p {
                let (ok, val) = self.var_term(&v.key, v.default.as_deref());
                resolved.push(ok);
                Some(val)
            } else {
                None
            }
        };
        let no_question_before_last = !pieces
            .iter()
            .take(last)
            .any(|p| matches!(p, Piece::Question));
        if !star_before_last && no_question_before_last {
            // Literals and variables up to the last variable: the value starts with their concatenation
            // (what solvers decide best), and the rest matches the tail.
            // The literals right after the last variable belong to the head too.
            let lits_after = pieces
                .iter()
                .skip(last + 1)
                .take_while(|p| matches!(p, Piece::Literal(_)))
                .count();
            let mut head = Vec::new();
            for p in pieces.iter().take(last + 1 + lits_after) {
                match p {
                    Piece::Literal(l) => head.push(lit(l)),
                    Piece::Var(_) => head.push(vt(p).unwrap_or_default()),
                    _ => {}
                }
            }
            let head = if head.len() == 1 {
                head.concat()
            } else {
                format!("(str.++ {})", head.join(" "))
            };
            let tail: Vec<Piece> = pieces.iter().skip(last + 1 + lits_after).cloned().collect();
            match tail.as_slice() {
                [] => conds.push(format!("(= {s} {head})")),
                [Piece::Star] => conds.push(format!("(str.prefixof {head} {s})")),
                _ => {
                    let re = regex(&tail).unwrap_or_default();
                    conds.push(format!("(str.prefixof {head} {s})"));
                    conds.push(format!(
                        "(str.in_re (str.substr {s} (str.len {head}) (- (str.len {s}) (str.len {head}))) {re})"
                    ));
                }
            }
        } else if !star_before_last {
            // Left to right: every piece up to the last variable has a known length.
            let mut pos = "0".to_string();
            for p in pieces.iter().take(last + 1) {
                match p {
                    Piece::Literal(l) => {
                        let n = l.chars().count();
                        conds.push(format!("(= (str.substr {s} {pos} {n}) {})", lit(l)));
                        pos = format!("(+ {pos} {n})");
                    }
                    Piece::Question => {
                        conds.push(format!("(< {pos} (str.len {s}))"));
                        pos = format!("(+ {pos} 1)");
                    }
                    Piece::Var(_) => {
                        let val = vt(p).unwrap_or_default();
                        conds.push(format!("(= (str.substr {s} {pos} (str.len {val})) {val})"));
                        pos = format!("(+ {pos} (str.len {val}))");
                    }
                    Piece::Star => {}
                }
            }
            let tail: Vec<Piece> = pieces.iter().skip(last + 1).cloned().collect();
            if tail.is_empty() {
                conds.push(format!("(= {pos} (str.len {s}))"));
            } else {
                let re = regex(&tail).unwrap_or_default();
                conds.push(format!("(<= {pos} (str.len {s}))"));
                conds.push(format!(
                    "(str.in_re (str.substr {s} {pos} (- (str.len {s}) {pos})) {re})"
                ));
            }
        } else if !star_after_first {
            // Right to left from the end: every piece from the first variable on has a known length.
            let mut end = format!("(str.len {s})");
            for p in pieces.iter().skip(first).rev() {
                match p {
                    Piece::Literal(l) => {
                        let n = l.chars().count();
                        conds.push(format!("(>= {end} {n})"));
                        conds.push(format!("(= (str.substr {s} (- {end} {n}) {n}) {})", lit(l)));
                        end = format!("(- {end} {n})");
                    }
                    Piece::Question => {
                        conds.push(format!("(>= {end} 1)"));
                        end = format!("(- {end} 1)");
                    }
                    Piece::Var(_) => {
                        let val = vt(p).unwrap_or_default();
                        conds.push(format!("(>= {end} (str.len {val}))"));
                        conds.push(format!(
                            "(= (str.substr {s} (- {end} (str.len {val})) (str.len {val})) {val})"
                        ));
                        end = format!("(- {end} (str.len {val}))");
                    }
                    Piece::Star => {}
                }
            }
            let head: Vec<Piece> = pieces.iter().take(first).cloned().collect();
            let re = regex(&head).unwrap_or_default();
            conds.push(format!("(str.in_re (str.substr {s} 0 {end}) {re})"));
        } else {
            self.unsupported(
                doc,
                span,
                "a policy variable with wildcards on both sides of it".into(),
            );
            return "false".into();
        }
        let mut all = resolved;
        all.extend(conds);
        and(all)
    }

    fn resource(&mut self, kind: &ResourceKind, doc: &PolicyDocument, span: Span) -> String {
        let ResourceKind::Arn(p) = kind else {
            return "true".into();
        };
        let n = p.segments.len();
        let literals: Vec<Option<String>> = p.segments.iter().map(Template::as_literal).collect();
        if !p.open_ended && literals.iter().all(Option::is_some) {
            let whole: Vec<String> = literals.into_iter().flatten().collect();
            if n == 6 {
                let parts: Vec<String> = whole
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("(= r{i} {})", lit(l)))
                    .collect();
                return and(vec!["ra".into(), and(parts)]);
            }
            return format!("(and (not ra) (= ro {}))", lit(&whole.join(":")));
        }
        if p.open_ended {
            // Fewer than six segments; the last one's `*` may cross colons.
            let mut conds = vec!["ra".to_string()];
            for (i, seg) in p.segments.iter().enumerate() {
                if i + 1 == n {
                    let rest: Vec<String> = (i..6).map(|k| format!("r{k}")).collect();
                    let term = if rest.len() == 1 {
                        rest.concat()
                    } else {
                        format!("(str.++ {})", rest.join(" \":\" "))
                    };
                    conds.push(self.seg_match(&seg.pieces, &term, doc, span));
                } else {
                    conds.push(self.seg_match(&seg.pieces, &format!("r{i}"), doc, span));
                }
            }
            let arn = and(conds);
            return match p.segments.first() {
                Some(only) if n == 1 => {
                    let other = self.seg_match(&only.pieces, "ro", doc, span);
                    or(vec![arn, format!("(and (not ra) {other})")])
                }
                _ => arn,
            };
        }
        // Part by part, as far as written (the evaluator zips the parts).
        let mut conds = vec!["ra".to_string()];
        for (i, seg) in p.segments.iter().enumerate().take(6) {
            conds.push(self.seg_match(&seg.pieces, &format!("r{i}"), doc, span));
        }
        and(conds)
    }

    fn principal(&mut self, st: &Statement) -> String {
        let Some(pb) = &st.principal else {
            return "true".into();
        };
        let g = match &pb.value {
            PrincipalValue::Any => "true".to_string(),
            PrincipalValue::Map(entries) => {
                let mut alts = Vec::new();
                for e in entries {
                    for v in &e.values {
                        alts.push(self.principal_entry(e.kind, &v.value));
                    }
                }
                or(alts)
            }
        };
        if pb.negated { not(&g) } else { g }
    }

    fn principal_entry(&mut self, kind: PrincipalKind, v: &str) -> String {
        let caller = "(and hp (not (and (not pa) (= po \"anonymous\"))))";
        let exact = match split_arn6(v) {
            Some(parts) => {
                let eqs: Vec<String> = parts
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("(= p{i} {})", lit(l)))
                    .collect();
                format!("(and pa {})", eqs.join(" "))
            }
            None => format!("(and (not pa) (= po {}))", lit(v)),
        };
        if kind != PrincipalKind::Aws {
            return format!("(and {caller} {exact})");
        }
        if v == "*" {
            return "true".into();
        }
        let mut alts = vec![exact];
        if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
            alts.push(format!("(and pa (= p4 {}))", lit(v)));
        } else if let Some([_, vpart, vsvc, _, vacct, vres]) = split_arn6(v)
            && vsvc == "iam"
            && !vacct.is_empty()
        {
            {
                let same = format!("(and pa (= p1 {}) (= p4 {}))", lit(vpart), lit(vacct));
                if vres == "root" {
                    alts.push(same);
                } else if let Some(rest) = vres.strip_prefix("role/") {
                    let name = rest.rsplit('/').next().unwrap_or(rest);
                    alts.push(format!(
                        "(and {same} (or (and (= p2 \"sts\") (or (= p5 {}) (str.prefixof {} p5))) \
                         (and (= p2 \"iam\") (str.prefixof \"role/\" p5) (str.suffixof {} p5))))",
                        lit(&format!("assumed-role/{name}")),
                        lit(&format!("assumed-role/{name}/")),
                        lit(&format!("/{name}"))
                    ));
                } else if vres.starts_with("user/") {
                    alts.push(format!(
                        "(and {same} (= p2 \"sts\") (str.prefixof \"federated-user/\" p5) hi (= iss {}))",
                        lit(v)
                    ));
                }
            }
        }
        format!("(and {caller} {})", or(alts))
    }

    /// The condition, over the request's slots for its key.
    fn condition(&mut self, c: &iam_policy::Condition, doc: &PolicyDocument) -> String {
        let Some(&j) = self.by_lower.get(&c.key.value.to_ascii_lowercase()) else {
            return "false".into();
        };
        let Some(k) = self.keys.get(j).cloned() else {
            return "false".into();
        };
        let op: ConditionOperator = c.operator.value;
        let n = k.slots;
        let present = or((0..n).map(|i| format!("k{j}_a{i}")).collect());
        let mut multi = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                multi.push(format!("(and k{j}_a{a} k{j}_a{b})"));
            }
        }
        let multi = or(multi);
        if op.base == BaseOperator::Null {
            let empty = |i: usize| match k.kind {
                Kind::Str => format!("(= k{j}_v{i} \"\")"),
                _ => format!("(= k{j}_t{i} 2)"),
            };
            let only_empty = or((0..n)
                .map(|i| {
                    let mut parts = vec![format!("k{j}_a{i}"), empty(i)];
                    parts.extend(
                        (0..n)
                            .filter(|&o| o != i)
                            .map(|o| format!("(not k{j}_a{o})")),
                    );
                    and(parts)
                })
                .collect());
            let present_null = and(vec![present.clone(), not(&only_empty)]);
            let want_absent = matches!(
                c.values.first().map(|v| &v.typed),
                Some(TypedValue::Null(true))
            );
            return match op.qualifier {
                Some(Qualifier::ForAllValues) => "true".into(),
                Some(Qualifier::ForAnyValue) => "false".into(),
                None => {
                    if want_absent {
                        not(&present_null)
                    } else {
                        present_null
                    }
                }
            };
        }
        let neg = op.base.is_negated();
        let mut ok = Vec::with_capacity(n);
        for i in 0..n {
            let mut tests = Vec::new();
            for v in &c.values {
                tests.push(self.compare(op.base, &v.typed, &k, j, i, doc, v.span));
            }
            let any = or(tests);
            ok.push(if neg { not(&any) } else { any });
        }
        let absent = not(&present);
        match op.qualifier {
            None => {
                let on_absent = if op.if_exists || neg { "true" } else { "false" };
                // Exactly one value (a bare operator refuses sets of two or more): that value decides.
                let single = or((0..n)
                    .map(|i| {
                        and(vec![
                            format!("k{j}_a{i}"),
                            ok.get(i).cloned().unwrap_or_default(),
                        ])
                    })
                    .collect());
                format!("(ite {absent} {on_absent} (and {} {single}))", not(&multi))
            }
            Some(Qualifier::ForAllValues) => {
                let all = and((0..n)
                    .map(|i| format!("(=> k{j}_a{i} {})", ok.get(i).cloned().unwrap_or_default()))
                    .collect());
                format!("(or {absent} {all})")
            }
            Some(Qualifier::ForAnyValue) => {
                let on_absent = if op.if_exists { "true" } else { "false" };
                let any = or((0..n)
                    .map(|i| {
                        and(vec![
                            format!("k{j}_a{i}"),
                            ok.get(i).cloned().unwrap_or_default(),
                        ])
                    })
                    .collect());
                format!("(ite {absent} {on_absent} {any})")
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn compare(
        &mut self,
        base: BaseOperator,
        pv: &TypedValue,
        k: &Key,
        j: usize,
        i: usize,
        doc: &PolicyDocument,
        span: Span,
    ) -> String {
        use BaseOperator::*;
        let cmp = |o: &str, x: &str, y: &str| -> String {
            match base {
                NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => {
                    format!("(= {x} {y})")
                }
                NumericLessThan | DateLessThan => format!("(< {x} {y})"),
                NumericLessThanEquals | DateLessThanEquals => format!("(<= {x} {y})"),
                NumericGreaterThan | DateGreaterThan => format!("(> {x} {y})"),
                _ => format!("({o} {x} {y})"),
            }
        };
        match (k.kind, pv) {
            (Kind::Str, TypedValue::String(t)) => {
                let v = format!("k{j}_v{i}");
                if matches!(base, StringEqualsIgnoreCase | StringNotEqualsIgnoreCase) {
                    match t.as_literal().and_then(|l| ci_regex(&l)) {
                        Some(re) => format!("(str.in_re {v} {re})"),
                        None => {
                            self.unsupported(
                                doc,
                                span,
                                format!(
                                    "{} with a policy variable or a non-ASCII letter",
                                    base.as_str()
                                ),
                            );
                            "false".into()
                        }
                    }
                } else {
                    self.seg_match(&t.pieces, &v, doc, span)
                }
            }
            (Kind::Str, TypedValue::Bool(BoolValue::Literal(b))) => {
                let re = ci_regex(if *b { "true" } else { "false" }).unwrap_or_default();
                format!("(str.in_re k{j}_v{i} {re})")
            }
            (Kind::Str, TypedValue::Arn(parts)) => {
                let v = format!("k{j}_v{i}");
                let mut segs = parts.clone();
                while segs.len() < 6 {
                    segs.push(Template {
                        pieces: vec![Piece::Star],
                    });
                }
                self.arn_match(&segs, &v, doc, span)
            }
            (Kind::Num, TypedValue::Number(d)) => {
                let scaled = scaled_decimal(&d.to_string(), self.scale);
                format!(
                    "(and (= k{j}_t{i} 0) {})",
                    cmp(">=", &format!("k{j}_n{i}"), &int_lit(scaled))
                )
            }
            (Kind::Date, TypedValue::Date(t)) => {
                format!(
                    "(and (= k{j}_t{i} 0) {})",
                    cmp(">=", &format!("k{j}_d{i}"), &int_lit(t.0))
                )
            }
            (Kind::Ip, TypedValue::Ip(net)) => match net {
                ipnet::IpNet::V4(n) => format!(
                    "(and (= k{j}_t{i} 4) (= (bvand k{j}_4{i} #x{:08x}) #x{:08x}))",
                    u32::from(n.netmask()),
                    u32::from(n.network())
                ),
                ipnet::IpNet::V6(n) => format!(
                    "(and (= k{j}_t{i} 6) (= (bvand k{j}_6{i} #x{:032x}) #x{:032x}))",
                    u128::from(n.netmask()),
                    u128::from(n.network())
                ),
            },
            (_, TypedValue::Invalid) => "false".into(),
            _ => {
                self.unsupported(doc, span, format!("the {} operator", base.as_str()));
                "false".into()
            }
        }
    }

    /// The statement as a formula over the request.
    pub(crate) fn statement(&mut self, st: &Statement, doc: &PolicyDocument, act: &str) -> String {
        let mut parts = Vec::new();
        // Whether the action matches is decided outside the solver, over a finite set of actions
        // (see `actions`): here it is a constant the query fixes.
        let _ = writeln!(self.decls, "(declare-const {act} Bool)");
        self.action_blocks
            .push((act.to_string(), st.action.clone()));
        parts.push(act.to_string());
        if let Some(rb) = &st.resource {
            let any = or(rb
                .items
                .iter()
                .map(|r| self.resource(&r.kind, doc, r.span))
                .collect());
            parts.push(if rb.negated { not(&any) } else { any });
        }
        parts.push(self.principal(st));
        for c in &st.conditions {
            parts.push(self.condition(c, doc));
        }
        and(parts)
    }

    /// Defines `name` as "the policy allows the request" (`name_any`: some Allow applies; `name_deny`:
    /// some Deny applies) and `name_sI` per statement; returns the Allow statements.
    pub(crate) fn policy(&mut self, name: &str, doc: &PolicyDocument) -> Vec<Allow> {
        let mut allows = Vec::new();
        let mut denies = Vec::new();
        for (i, st) in doc.statements.iter().enumerate() {
            let act = format!("{name}_a{i}");
            let f = self.statement(st, doc, &act);
            let s = format!("{name}_s{i}");
            let _ = writeln!(self.decls, "(define-fun {s} () Bool {f})");
            match st.effect.value {
                Effect::Allow => allows.push(Allow {
                    index: i,
                    formula: s,
                    act,
                    doc: 0,
                }),
                Effect::Deny => denies.push(s),
            }
        }
        let _ = writeln!(
            self.decls,
            "(define-fun {name}_deny () Bool {})",
            or(denies)
        );
        let _ = writeln!(
            self.decls,
            "(define-fun {name}_any () Bool {})",
            or(allows.iter().map(|a| a.formula.clone()).collect())
        );
        let _ = writeln!(
            self.decls,
            "(define-fun {name} () Bool (and {name}_any (not {name}_deny)))"
        );
        allows
    }

    /// [`Encoder::policy`] for several policies of one layer (AWS: an Allow in any, no Deny in any).
    pub(crate) fn policies(&mut self, name: &str, docs: &[&PolicyDocument]) -> Vec<Allow> {
        let mut all = Vec::new();
        let mut anys = Vec::new();
        let mut denies = Vec::new();
        for (k, doc) in docs.iter().enumerate() {
            let n = format!("{name}{k}");
            for mut a in self.policy(&n, doc) {
                a.doc = k;
                all.push(a);
            }
            anys.push(format!("{n}_any"));
            denies.push(format!("{n}_deny"));
        }
        let _ = writeln!(
            self.decls,
            "(define-fun {name}_deny () Bool {})",
            or(denies)
        );
        let _ = writeln!(self.decls, "(define-fun {name}_any () Bool {})", or(anys));
        let _ = writeln!(
            self.decls,
            "(define-fun {name} () Bool (and {name}_any (not {name}_deny)))"
        );
        all
    }

    /// Every constant a model must give to build the witness.
    pub(crate) fn model_names(&self) -> Vec<String> {
        let mut out: Vec<String> = ["svc", "name", "hp", "hi", "iss", "ra", "ro", "pa", "po"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for x in ["r", "p"] {
            for i in 0..6 {
                out.push(format!("{x}{i}"));
            }
        }
        for (j, k) in self.keys.iter().enumerate() {
            if k.set {
                out.push(format!("k{j}_m"));
            }
            for i in 0..k.slots {
                out.push(format!("k{j}_a{i}"));
                match k.kind {
                    Kind::Str => out.push(format!("k{j}_v{i}")),
                    Kind::Num => out.extend([format!("k{j}_n{i}"), format!("k{j}_t{i}")]),
                    Kind::Date => out.extend([format!("k{j}_d{i}"), format!("k{j}_t{i}")]),
                    Kind::Ip => out.extend([
                        format!("k{j}_4{i}"),
                        format!("k{j}_6{i}"),
                        format!("k{j}_t{i}"),
                    ]),
                }
            }
        }
        out
    }

    /// The key index of `name`, if any condition or variable uses it.
    pub(crate) fn key_index(&self, name: &str) -> Option<usize> {
        self.by_lower.get(&name.to_ascii_lowercase()).copied()
    }
}

fn int_lit(v: i128) -> String {
    if v < 0 {
        format!("(- {})", v.unsigned_abs())
    } else {
        v.to_string()
    }
}

/// `-12.5` at scale 3 → -12500.
pub(crate) fn scaled_decimal(text: &str, scale: u32) -> i128 {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut digits = String::from(int);
    for i in 0..scale as usize {
        digits.push(frac.as_bytes().get(i).map_or('0', |b| char::from(*b)));
    }
    let v: i128 = digits.trim_start_matches('0').parse().unwrap_or(0);
    if neg { -v } else { v }
}

/// Splits a literal ARN at its first five colons.
pub(crate) fn split_arn6(s: &str) -> Option<[&str; 6]> {
    let mut out = [""; 6];
    let mut rest = s;
    for slot in out.iter_mut().take(5) {
        let (a, b) = rest.split_once(':')?;
        *slot = a;
        rest = b;
    }
    if let Some(last) = out.get_mut(5) {
        *last = rest;
    }
    Some(out)
}
