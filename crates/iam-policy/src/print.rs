//! Prints a document back to JSON (two-space indent). Parsing the output gives the same document.

use std::fmt::{self, Write as _};

use crate::ast::*;

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn list(f: &mut fmt::Formatter<'_>, items: &[String], array: bool, indent: &str) -> fmt::Result {
    match (array, items) {
        (false, [one]) => f.write_str(one),
        _ => {
            f.write_str("[")?;
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "\n{indent}  {it}")?;
            }
            write!(f, "\n{indent}]")
        }
    }
}

fn scalar(v: &RawScalar) -> String {
    match v {
        RawScalar::String(s) => q(s),
        RawScalar::Number(n) => n.clone(),
        RawScalar::Bool(b) => b.to_string(),
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        let mut first = true;
        let mut sep = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            if !first {
                f.write_str(",")?;
            }
            first = false;
            f.write_str("\n  ")
        };
        if let Some(v) = &self.version {
            sep(f)?;
            write!(f, "\"Version\": {}", q(v.value.as_str()))?;
        }
        if let Some(id) = &self.id {
            sep(f)?;
            write!(f, "\"Id\": {}", q(&id.value))?;
        }
        sep(f)?;
        f.write_str("\"Statement\": ")?;
        if self.statement_array || self.statements.len() != 1 {
            f.write_str("[")?;
            for (i, s) in self.statements.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                f.write_str("\n    ")?;
                statement(f, s, "    ")?;
            }
            f.write_str("\n  ]")?;
        } else if let Some(s) = self.statements.first() {
            statement(f, s, "  ")?;
        }
        f.write_str("\n}\n")
    }
}

fn statement(f: &mut fmt::Formatter<'_>, s: &Statement, ind: &str) -> fmt::Result {
    let inner = format!("{ind}  ");
    f.write_str("{")?;
    let mut parts: Vec<String> = Vec::new();
    if let Some(sid) = &s.sid {
        parts.push(format!("\"Sid\": {}", q(&sid.value)));
    }
    parts.push(format!("\"Effect\": {}", q(s.effect.value.as_str())));
    if let Some(p) = &s.principal {
        let key = if p.negated {
            "NotPrincipal"
        } else {
            "Principal"
        };
        let body = match &p.value {
            PrincipalValue::Any => "\"*\"".to_string(),
            PrincipalValue::Map(entries) => {
                let mut b = String::from("{");
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        b.push(',');
                    }
                    let items: Vec<String> = e.values.iter().map(|v| q(&v.value)).collect();
                    let _ = write!(
                        b,
                        "\n{inner}  {}: {}",
                        q(e.kind.as_str()),
                        Fmt(|f| list(f, &items, e.array, &format!("{inner}  ")))
                    );
                }
                let _ = write!(b, "\n{inner}}}");
                b
            }
        };
        parts.push(format!("\"{key}\": {body}"));
    }
    if let Some(a) = &s.action {
        let key = if a.negated { "NotAction" } else { "Action" };
        let items: Vec<String> = a.items.iter().map(|i| q(&i.raw)).collect();
        parts.push(format!(
            "\"{key}\": {}",
            Fmt(|f| list(f, &items, a.array, &inner))
        ));
    }
    if let Some(r) = &s.resource {
        let key = if r.negated { "NotResource" } else { "Resource" };
        let items: Vec<String> = r.items.iter().map(|i| q(&i.raw)).collect();
        parts.push(format!(
            "\"{key}\": {}",
            Fmt(|f| list(f, &items, r.array, &inner))
        ));
    }
    if s.has_condition_element {
        let mut b = String::from("{");
        let mut i = 0;
        let conds = &s.conditions;
        let mut first_op = true;
        while let Some(c) = conds.get(i) {
            let op = c.operator.value;
            if !first_op {
                b.push(',');
            }
            first_op = false;
            let _ = write!(b, "\n{inner}  {}: {{", q(&op.to_string()));
            let mut first_key = true;
            while let Some(c) = conds.get(i).filter(|c| c.operator.value == op) {
                if !first_key {
                    b.push(',');
                }
                first_key = false;
                let items: Vec<String> = c.values.iter().map(|v| scalar(&v.raw)).collect();
                let ind2 = format!("{inner}    ");
                let _ = write!(
                    b,
                    "\n{ind2}{}: {}",
                    q(&c.key.value),
                    Fmt(|f| list(f, &items, c.array, &ind2))
                );
                i += 1;
            }
            let _ = write!(b, "\n{inner}  }}");
        }
        if conds.is_empty() {
            b.push('}');
        } else {
            let _ = write!(b, "\n{inner}}}");
        }
        parts.push(format!("\"Condition\": {b}"));
    }
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            f.write_str(",")?;
        }
        write!(f, "\n{inner}{p}")?;
    }
    write!(f, "\n{ind}}}")
}

struct Fmt<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result>(F);
impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> fmt::Display for Fmt<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)(f)
    }
}
