//! Condition operators: IAM's documented semantics for single values, sets, missing keys and negation.

use std::cmp::Ordering;

use authz_core::{Context, ContextKey, ContextValue};
use iam_policy::value::{DecimalRef, parse_bool, parse_date};
use iam_policy::{BaseOperator, BoolValue, ConditionOperator, Qualifier, TypedValue};

use crate::matcher::{P, Unresolved, compile_pieces, eq_ignore_case, is_match, split_arn};

/// A compiled policy value.
#[derive(Clone, Debug)]
pub enum CValue {
    /// String family (wildcards only for the `Like` forms, decided by the pieces).
    Str(Box<[P]>),
    /// Numeric.
    Num(iam_policy::value::Decimal),
    /// Date.
    Date(iam_policy::value::Instant),
    /// Bool literal.
    Bool(bool),
    /// Bool with a variable.
    BoolVar(Box<[P]>),
    /// Binary.
    Bin(Box<[u8]>),
    /// IP network.
    Ip(ipnet::IpNet),
    /// ARN parts.
    Arn(Box<[Box<[P]>]>),
    /// Null (`true` = must be absent).
    Null(bool),
}

impl CValue {
    /// Compiles a typed value; `None` for an invalid one.
    pub fn compile(t: &TypedValue) -> Option<CValue> {
        Some(match t {
            TypedValue::String(t) => CValue::Str(compile_pieces(t)),
            TypedValue::Number(d) => CValue::Num(d.clone()),
            TypedValue::Date(i) => CValue::Date(*i),
            TypedValue::Bool(BoolValue::Literal(b)) => CValue::Bool(*b),
            TypedValue::Bool(BoolValue::Template(t)) => CValue::BoolVar(compile_pieces(t)),
            TypedValue::Binary(b) => CValue::Bin(b.clone().into_boxed_slice()),
            TypedValue::Ip(n) => CValue::Ip(*n),
            TypedValue::Arn(parts) => CValue::Arn(parts.iter().map(compile_pieces).collect()),
            TypedValue::Null(b) => CValue::Null(*b),
            TypedValue::Invalid => return None,
        })
    }
}

/// A compiled condition: operator, key (lower case), values.
#[derive(Clone, Debug)]
pub struct CCondition {
    /// The operator.
    pub op: ConditionOperator,
    /// The key, prepared (lower case, hashed once).
    pub key: ContextKey,
    /// The policy values.
    pub values: Box<[CValue]>,
}

/// How one policy value compared with one request value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// The base (non-negated) test holds.
    Match,
    /// It does not hold.
    NoMatch,
    /// The policy value's variable could not be resolved, or the request value is not of the operator's
    /// type: counts as "no match" for both polarities.
    Unusable,
}

/// Compares one policy value with one request value under the base operator, ignoring negation.
pub fn compare(op: BaseOperator, pv: &CValue, rv: &str, ctx: &Context) -> Cmp {
    use BaseOperator::*;
    let b = |x: bool| if x { Cmp::Match } else { Cmp::NoMatch };
    let r = |x: Result<bool, Unresolved>| match x {
        Ok(v) => b(v),
        Err(Unresolved) => Cmp::Unusable,
    };
    match (op, pv) {
        (StringEqualsIgnoreCase | StringNotEqualsIgnoreCase, CValue::Str(p)) => {
            r(eq_ignore_case(p, rv, ctx))
        }
        (_, CValue::Str(p)) => r(is_match(p, rv, ctx)),
        (_, CValue::Num(d)) => match DecimalRef::parse(rv) {
            Some(x) => {
                let o = x.cmp_to(&d.as_ref());
                b(match op {
                    NumericEquals | NumericNotEquals => o == Ordering::Equal,
                    NumericLessThan => o == Ordering::Less,
                    NumericLessThanEquals => o != Ordering::Greater,
                    NumericGreaterThan => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                })
            }
            None => Cmp::Unusable,
        },
        (_, CValue::Date(t)) => match parse_date(rv) {
            Some((x, _)) => {
                let o = x.cmp(t);
                b(match op {
                    DateEquals | DateNotEquals => o == Ordering::Equal,
                    DateLessThan => o == Ordering::Less,
                    DateLessThanEquals => o != Ordering::Greater,
                    DateGreaterThan => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                })
            }
            None => Cmp::Unusable,
        },
        (_, CValue::Bool(want)) => match parse_bool(rv) {
            Some(x) => b(x == *want),
            None => Cmp::Unusable,
        },
        (_, CValue::BoolVar(p)) => {
            // `Bool` with a variable: substitute, then read as a boolean. Both sides being booleans, the
            // substituted text equals the request value (ignoring case) exactly when the booleans agree.
            match parse_bool(rv) {
                Some(_) => r(eq_ignore_case(p, rv, ctx)),
                None => Cmp::Unusable,
            }
        }
        (_, CValue::Bin(bytes)) => b64_eq(rv, bytes),
        (_, CValue::Ip(net)) => match rv.parse::<std::net::IpAddr>() {
            Ok(a) => b(net.contains(&a)),
            Err(_) => Cmp::Unusable,
        },
        (_, CValue::Arn(parts)) => match split_arn(rv) {
            Some(rparts) => {
                let mut all = true;
                for (p, v) in parts.iter().zip(rparts.iter()) {
                    match is_match(p, v, ctx) {
                        Ok(true) => {}
                        Ok(false) => all = false,
                        Err(Unresolved) => return Cmp::Unusable,
                    }
                }
                b(all)
            }
            None => Cmp::Unusable,
        },
        (_, CValue::Null(_)) => Cmp::Unusable,
    }
}

fn b64_eq(rv: &str, want: &[u8]) -> Cmp {
    use base64::Engine as _;
    let mut buf = [0u8; 512];
    let engine = base64::engine::general_purpose::STANDARD;
    if rv.len() / 4 * 3 + 3 <= buf.len() {
        match engine.decode_slice(rv, &mut buf) {
            Ok(n) => {
                return if buf.get(..n) == Some(want) {
                    Cmp::Match
                } else {
                    Cmp::NoMatch
                };
            }
            Err(_) => return Cmp::Unusable,
        }
    }
    match engine.decode(rv) {
        Ok(v) => {
            if v == want {
                Cmp::Match
            } else {
                Cmp::NoMatch
            }
        }
        Err(_) => Cmp::Unusable,
    }
}

/// Does one request value satisfy the condition's values (OR for positive operators, NOR for negated)?
fn value_ok(c: &CCondition, rv: &str, ctx: &Context) -> bool {
    let neg = c.op.base.is_negated();
    let any = c
        .values
        .iter()
        .any(|pv| compare(c.op.base, pv, rv, ctx) == Cmp::Match);
    if neg {
        // A request value that is not of the operator's type matches nothing, so a negated test holds.
        !any
    } else {
        any
    }
}

/// Why a condition evaluated as it did (for explanations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The key is absent (or an empty set).
    Absent,
    /// A bare operator met two or more request values (a set operator is required).
    MultipleValues,
    /// The values were compared.
    Compared,
}

/// Evaluates a condition against the context.
pub fn evaluate(c: &CCondition, ctx: &Context) -> bool {
    evaluate_why(c, ctx).0
}

/// Evaluates a condition and says which rule decided it.
pub fn evaluate_why(c: &CCondition, ctx: &Context) -> (bool, Why) {
    let got: Option<&ContextValue> = ctx.get_key(&c.key);
    let values: &[String] = got.map_or(&[], |v| v.values());
    if c.op.base == BaseOperator::Null {
        // A key given as "" or [] counts as null (the IAM guide uses Null: false to exclude empty values).
        let present =
            !(values.is_empty() || (values.len() == 1 && values.iter().all(String::is_empty)));
        let want_absent = matches!(c.values.first(), Some(CValue::Null(true)));
        return match c.op.qualifier {
            Some(Qualifier::ForAllValues) => (true, Why::Compared),
            Some(Qualifier::ForAnyValue) => (false, Why::Compared),
            None => (
                present != want_absent,
                if present { Why::Compared } else { Why::Absent },
            ),
        };
    }
    let absent = values.is_empty();
    match c.op.qualifier {
        None => {
            if absent {
                return (c.op.if_exists || c.op.base.is_negated(), Why::Absent);
            }
            if values.len() > 1 {
                return (false, Why::MultipleValues);
            }
            (values.iter().all(|v| value_ok(c, v, ctx)), Why::Compared)
        }
        Some(Qualifier::ForAllValues) => {
            if absent {
                return (true, Why::Absent);
            }
            (values.iter().all(|v| value_ok(c, v, ctx)), Why::Compared)
        }
        Some(Qualifier::ForAnyValue) => {
            if absent {
                return (c.op.if_exists, Why::Absent);
            }
            (values.iter().any(|v| value_ok(c, v, ctx)), Why::Compared)
        }
    }
}
