//! SMT-LIB text: string literals both ways, and a reader for the solver's answers (s-expressions).

use std::fmt::Write as _;

/// An SMT-LIB string literal for `s`: printable ASCII as is (`"` doubled), everything else (and `\`)
/// as `\u{…}`, so the solver reads exactly the characters of `s`.
pub(crate) fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\"\""),
            '\\' => out.push_str("\\u{5c}"),
            ' '..='~' => out.push(c),
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

/// An s-expression from the solver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sexp {
    /// A symbol or numeral (`true`, `12`, `#x0a`).
    Atom(String),
    /// A string literal, unescaped.
    Str(String),
    /// `( … )`
    List(Vec<Sexp>),
}

/// Reads one s-expression from the front of `text`; `None` when it is incomplete or malformed.
pub(crate) fn parse(text: &str) -> Option<(Sexp, &str)> {
    let t = text.trim_start();
    let mut chars = t.char_indices();
    let (_, c) = chars.next()?;
    match c {
        '(' => {
            let mut items = Vec::new();
            let mut rest = t.get(1..)?;
            loop {
                let r = rest.trim_start();
                if let Some(after) = r.strip_prefix(')') {
                    return Some((Sexp::List(items), after));
                }
                let (item, after) = parse(r)?;
                items.push(item);
                rest = after;
            }
        }
        '"' => {
            let mut out = String::new();
            let body = t.get(1..)?;
            let mut it = body.char_indices().peekable();
            while let Some((i, c)) = it.next() {
                match c {
                    '"' => {
                        if matches!(it.peek(), Some((_, '"'))) {
                            it.next();
                            out.push('"');
                        } else {
                            return Some((Sexp::Str(unescape(&out)?), body.get(i + 1..)?));
                        }
                    }
                    _ => out.push(c),
                }
            }
            None
        }
        ')' => None,
        _ => {
            let end = t
                .find(|c: char| c.is_whitespace() || c == '(' || c == ')')
                .unwrap_or(t.len());
            Some((Sexp::Atom(t.get(..end)?.to_string()), t.get(end..)?))
        }
    }
}

/// Interprets the solver's `\u{…}` and `\uXXXX` escapes.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\\u") {
        out.push_str(rest.get(..i)?);
        let after = rest.get(i + 2..)?;
        if let Some(braced) = after.strip_prefix('{') {
            let close = braced.find('}')?;
            let code = u32::from_str_radix(braced.get(..close)?, 16).ok()?;
            out.push(char::from_u32(code)?);
            rest = braced.get(close + 1..)?;
        } else if after.len() >= 4
            && after
                .get(..4)
                .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            let code = u32::from_str_radix(after.get(..4)?, 16).ok()?;
            out.push(char::from_u32(code)?);
            rest = after.get(4..)?;
        } else {
            out.push_str("\\u");
            rest = after;
        }
    }
    out.push_str(rest);
    Some(out)
}

impl Sexp {
    /// A boolean value.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Sexp::Atom(a) if a == "true" => Some(true),
            Sexp::Atom(a) if a == "false" => Some(false),
            _ => None,
        }
    }
    /// An integer value (`12`, `(- 12)`).
    pub(crate) fn as_int(&self) -> Option<i128> {
        match self {
            Sexp::Atom(a) => a.parse().ok(),
            Sexp::List(items) => match items.as_slice() {
                [Sexp::Atom(m), x] if m == "-" => x.as_int().map(|v| -v),
                _ => None,
            },
            Sexp::Str(_) => None,
        }
    }
    /// A bit-vector value (`#x…`, `#b…`).
    pub(crate) fn as_bits(&self) -> Option<u128> {
        match self {
            Sexp::Atom(a) => {
                if let Some(h) = a.strip_prefix("#x") {
                    u128::from_str_radix(h, 16).ok()
                } else if let Some(b) = a.strip_prefix("#b") {
                    u128::from_str_radix(b, 2).ok()
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_round_trip_through_the_reader() {
        for s in ["", "a\"b", "back\\slash", "é ünï", "tab\there", "\\u{41}"] {
            let text = lit(s);
            let (back, rest) = parse(&text).unwrap();
            assert_eq!(back, Sexp::Str(s.to_string()), "{s:?}");
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn reads_models() {
        let (v, _) = parse("((svc \"s3\") (n (- 12)) (b true) (ip #x0a000001))").unwrap();
        let Sexp::List(items) = v else { panic!("list") };
        assert_eq!(items.len(), 4);
        let Some(Sexp::List(n)) = items.get(1) else {
            panic!("pair")
        };
        assert_eq!(n.get(1).and_then(Sexp::as_int), Some(-12));
        let Some(Sexp::List(ip)) = items.get(3) else {
            panic!("pair")
        };
        assert_eq!(ip.get(1).and_then(Sexp::as_bits), Some(0x0a00_0001));
        assert!(parse("((a \"unterminated)").is_none());
    }
}
