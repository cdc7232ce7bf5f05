//! Witness requests: a solver model read back as a concrete request, in `eval`'s request format.

use std::net::{Ipv4Addr, Ipv6Addr};

use iam_policy::PolicyDocument;

use crate::ReasonError;
use crate::encode::{Encoder, Kind};
use crate::smt::Sexp;

/// A context value of a witness.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WitnessValue {
    /// One value (`ctx.insert`).
    One(String),
    /// A set (`ctx.insert_multi`), possibly empty.
    Many(Vec<String>),
}

/// A concrete request found by the solver and replayed by `iam-eval`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// The caller (resource policies), if any.
    pub principal: Option<String>,
    /// The IAM user behind a federated-user session, if any.
    pub session_issuer: Option<String>,
    /// `service:Action`.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// Condition keys with values (keys absent from the request are left out).
    pub context: Vec<(String, WitnessValue)>,
    /// The index of the statement that allows it.
    pub statement: usize,
    /// What it shows, in one sentence.
    pub claim: String,
}

impl Witness {
    /// The request in `policy-check eval --request`'s format.
    pub fn to_request(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        if let Some(p) = &self.principal {
            m.insert("principal".into(), p.clone().into());
        }
        m.insert("action".into(), self.action.clone().into());
        m.insert("resource".into(), self.resource.clone().into());
        if let Some(i) = &self.session_issuer {
            m.insert("session_issuer".into(), i.clone().into());
        }
        if !self.context.is_empty() {
            let mut c = serde_json::Map::new();
            for (k, v) in &self.context {
                c.insert(
                    k.clone(),
                    match v {
                        WitnessValue::One(s) => s.clone().into(),
                        WitnessValue::Many(vs) => vs.clone().into(),
                    },
                );
            }
            m.insert("context".into(), c.into());
        }
        serde_json::Value::Object(m)
    }
}

fn get<'a>(values: &'a [(String, Sexp)], name: &str) -> Option<&'a Sexp> {
    values.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

fn string(values: &[(String, Sexp)], name: &str) -> Result<String, ReasonError> {
    match get(values, name) {
        Some(Sexp::Str(s)) => Ok(s.clone()),
        _ => Err(ReasonError::Solver(format!(
            "the model has no string for {name}"
        ))),
    }
}

fn boolean(values: &[(String, Sexp)], name: &str) -> Result<bool, ReasonError> {
    get(values, name)
        .and_then(Sexp::as_bool)
        .ok_or_else(|| ReasonError::Solver(format!("the model has no boolean for {name}")))
}

fn int(values: &[(String, Sexp)], name: &str) -> Result<i128, ReasonError> {
    get(values, name)
        .and_then(Sexp::as_int)
        .ok_or_else(|| ReasonError::Solver(format!("the model has no integer for {name}")))
}

fn bits(values: &[(String, Sexp)], name: &str) -> Result<u128, ReasonError> {
    get(values, name)
        .and_then(Sexp::as_bits)
        .ok_or_else(|| ReasonError::Solver(format!("the model has no bit-vector for {name}")))
}

/// `n × 10^-scale` as the strict decimal syntax.
fn decimal(n: i128, scale: u32) -> String {
    let neg = n < 0;
    let digits = n.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    let frac = frac.trim_end_matches('0');
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(int);
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Nanoseconds since the epoch as ISO 8601 with nine fraction digits.
fn date(nanos: i128) -> Result<String, ReasonError> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .map_err(|e| ReasonError::Solver(format!("date out of range: {e}")))?;
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond()
    ))
}

/// The action with the service reference's casing when it names a listed action.
fn canonical_action(svc: &str, name: &str) -> String {
    let cat = iam_policy::catalog::catalog();
    if let Some(found) = cat
        .actions(svc)
        .and_then(|acts| acts.iter().find(|a| a.eq_ignore_ascii_case(name)))
    {
        return format!("{svc}:{found}");
    }
    format!("{svc}:{name}")
}

/// Builds the witness from a model.
pub(crate) fn build(
    enc: &Encoder,
    values: &[(String, Sexp)],
    statement: usize,
    _doc: &PolicyDocument,
) -> Result<Witness, ReasonError> {
    let svc = string(values, "svc")?;
    let name = string(values, "name")?;
    let whole = |x: &str| -> Result<String, ReasonError> {
        if boolean(values, &format!("{x}a"))? {
            let parts: Result<Vec<String>, ReasonError> =
                (0..6).map(|i| string(values, &format!("{x}{i}"))).collect();
            Ok(parts?.join(":"))
        } else {
            string(values, &format!("{x}o"))
        }
    };
    let resource = whole("r")?;
    let principal = if boolean(values, "hp")? {
        Some(whole("p")?)
    } else {
        None
    };
    let session_issuer = if boolean(values, "hi")? {
        Some(string(values, "iss")?)
    } else {
        None
    };
    let mut context = Vec::new();
    for (j, k) in enc.keys.iter().enumerate() {
        let mut vals = Vec::new();
        for i in 0..k.slots {
            if !boolean(values, &format!("k{j}_a{i}"))? {
                continue;
            }
            let v = match k.kind {
                Kind::Str => string(values, &format!("k{j}_v{i}"))?,
                Kind::Num => match int(values, &format!("k{j}_t{i}"))? {
                    0 => decimal(int(values, &format!("k{j}_n{i}"))?, enc.scale),
                    1 => "not-a-number".into(),
                    _ => String::new(),
                },
                Kind::Date => match int(values, &format!("k{j}_t{i}"))? {
                    0 => date(int(values, &format!("k{j}_d{i}"))?)?,
                    1 => "not-a-date".into(),
                    _ => String::new(),
                },
                Kind::Ip => match int(values, &format!("k{j}_t{i}"))? {
                    4 => {
                        let b = u32::try_from(bits(values, &format!("k{j}_4{i}"))?).unwrap_or(0);
                        Ipv4Addr::from(b).to_string()
                    }
                    6 => Ipv6Addr::from(bits(values, &format!("k{j}_6{i}"))?).to_string(),
                    1 => "not-an-ip".into(),
                    _ => String::new(),
                },
            };
            vals.push(v);
        }
        let multi = k.set && boolean(values, &format!("k{j}_m"))?;
        if multi {
            context.push((k.name.clone(), WitnessValue::Many(vals)));
        } else if let Some(v) = vals.into_iter().next() {
            context.push((k.name.clone(), WitnessValue::One(v)));
        }
    }
    Ok(Witness {
        principal,
        session_issuer,
        action: canonical_action(&svc, &name),
        resource,
        context,
        statement,
        claim: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_render_in_the_strict_syntax() {
        assert_eq!(decimal(125, 1), "12.5");
        assert_eq!(decimal(-5, 2), "-0.05");
        assert_eq!(decimal(0, 1), "0");
        assert_eq!(decimal(120, 1), "12");
        for (n, s) in [(125, 1), (-5, 2), (7, 3)] {
            let text = decimal(n, s);
            assert_eq!(crate::encode::scaled_decimal(&text, s), n, "{text}");
        }
    }

    #[test]
    fn dates_read_back_to_the_same_instant() {
        for n in [0i128, 1_700_000_000_123_456_789, -86_400_000_000_000] {
            let text = date(n).unwrap();
            let (back, _) = iam_policy::value::parse_date(&text).unwrap();
            assert_eq!(back.0, n, "{text}");
        }
    }
}
