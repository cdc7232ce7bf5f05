//! Wildcard matching over template pieces, written by hand because it is the hot path: it resolves
//! policy variables in place (the substituted string is never built) and runs in time linear in the
//! value for a fixed pattern (no backtracking blow-up on `*a*a*a*…*b`).

use authz_core::{Context, ContextKey};
use iam_policy::{Piece, Template};

/// Looks up a policy variable: the single value of its key, else its default. `None` when the key is
/// absent and there is no default, or when the request gives the key as a set (of any size: AWS documents
/// that multivalued keys cannot be used as variables, and a set says the key is multivalued): the element
/// holding the variable then matches nothing, whatever the default.
pub fn resolve<'c>(
    key: &ContextKey,
    default: Option<&'c str>,
    ctx: &'c Context,
) -> Option<&'c str> {
    match ctx.get_key(key) {
        Some(v) if !v.is_multi() => v.values().first().map(String::as_str),
        Some(_) => None,
        None => default,
    }
}

/// A compiled piece: literal text, `*`, `?`, or a variable (key in lower case).
#[derive(Clone, Debug)]
pub enum P {
    /// Literal text.
    Lit(Box<str>),
    /// `*`
    Star,
    /// `?`
    One,
    /// `${key}` / `${key, 'default'}`.
    Var(ContextKey, Option<Box<str>>),
    /// A variable that never resolves: its key is documented as multivalued (key in lower case).
    Never(Box<str>),
}

/// Compiles template pieces.
pub fn compile_pieces(t: &Template) -> Box<[P]> {
    t.pieces
        .iter()
        .map(|p| match p {
            Piece::Literal(l) => P::Lit(l.as_str().into()),
            Piece::Star => P::Star,
            Piece::Question => P::One,
            // A documented multivalued key is never substituted [VAR]: the element matches nothing.
            Piece::Var(v) if iam_policy::catalog::catalog().is_multivalued(&v.key) => {
                P::Never(v.key.to_ascii_lowercase().into())
            }
            Piece::Var(v) => P::Var(
                ContextKey::new(&v.key),
                v.default.as_deref().map(Into::into),
            ),
        })
        .collect()
}

/// A policy variable could not be resolved: the element holding it matches nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unresolved;

/// Counts comparison steps; tests use it to prove matching is linear.
#[derive(Default, Debug)]
pub struct Steps(pub u64);

/// Matches `value` against `pieces`. `Err(Unresolved)` when a variable cannot be resolved.
pub fn is_match(pieces: &[P], value: &str, ctx: &Context) -> Result<bool, Unresolved> {
    is_match_counted(pieces, value, ctx, &mut Steps::default())
}

/// [`is_match`] that counts steps.
pub fn is_match_counted(
    pieces: &[P],
    value: &str,
    ctx: &Context,
    steps: &mut Steps,
) -> Result<bool, Unresolved> {
    // Fast paths for the commonest shapes: one literal, or one variable (`${…:sub}`).
    match pieces {
        [P::Lit(l)] => {
            steps.0 += 1;
            return Ok(**l == *value);
        }
        [P::Var(k, d)] => {
            steps.0 += 1;
            return resolve(k, d.as_deref(), ctx)
                .map(|v| v == value)
                .ok_or(Unresolved);
        }
        _ => {}
    }
    // Resolve every variable first: an unresolvable one makes the whole element match nothing.
    for p in pieces {
        match p {
            P::Var(k, d) if resolve(k, d.as_deref(), ctx).is_none() => return Err(Unresolved),
            P::Never(_) => return Err(Unresolved),
            _ => {}
        }
    }
    let mut segs = pieces.split(|p| matches!(p, P::Star));
    let first = segs.next().unwrap_or(&[]);
    let star_count = pieces.iter().filter(|p| matches!(p, P::Star)).count();
    if star_count == 0 {
        return Ok(seg_at(first, value, 0, ctx, steps) == Some(value.len()));
    }
    let Some(mut pos) = seg_at(first, value, 0, ctx, steps) else {
        return Ok(false);
    };
    let mut remaining = star_count;
    for seg in segs {
        remaining -= 1;
        if remaining == 0 {
            // The last segment is anchored at the end.
            if seg.is_empty() {
                return Ok(true);
            }
            // A literal last segment: the value ends with it, at or after `pos`.
            if let [P::Lit(l)] = seg {
                steps.0 += 1;
                return Ok(value.len() >= pos + l.len() && value.ends_with(&**l));
            }
            let mut q = pos;
            loop {
                steps.0 += 1;
                if seg_at(seg, value, q, ctx, steps) == Some(value.len()) {
                    return Ok(true);
                }
                match next_boundary(value, q) {
                    Some(n) => q = n,
                    None => return Ok(false),
                }
            }
        }
        if seg.is_empty() {
            continue;
        }
        // Middle segments: the leftmost match is always the right choice for `*` patterns. A literal
        // segment is found with `str::find` (linear; the positions it passes are counted as steps).
        if let [P::Lit(l)] = seg {
            let Some(i) = value.get(pos..).and_then(|rest| find_literal(rest, l)) else {
                steps.0 += (value.len() - pos.min(value.len())) as u64 + 1;
                return Ok(false);
            };
            steps.0 += i as u64 + 1;
            pos += i + l.len();
            continue;
        }
        let mut q = pos;
        loop {
            steps.0 += 1;
            if let Some(end) = seg_at(seg, value, q, ctx, steps) {
                pos = end;
                break;
            }
            match next_boundary(value, q) {
                Some(n) => q = n,
                None => return Ok(false),
            }
        }
    }
    Ok(true)
}

/// The first occurrence of `needle` in `hay`: a scan for the needle's first byte, then a comparison.
/// ARNs are short, and `str::find` sets up a Two-Way searcher per call that costs more than the whole
/// scan here; for a fixed pattern this stays linear in the value.
fn find_literal(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some(&first) = n.first() else {
        return Some(0);
    };
    let last_start = h.len().checked_sub(n.len())?;
    let mut i = 0;
    while i <= last_start {
        let at = i + h.get(i..=last_start)?.iter().position(|&b| b == first)?;
        if h.get(at..at + n.len()) == Some(n) {
            // `first` is the first byte of a character (UTF-8 never starts a character with a
            // continuation byte), so `at` is a character boundary.
            return Some(at);
        }
        i = at + 1;
    }
    None
}

fn next_boundary(s: &str, at: usize) -> Option<usize> {
    let c = s.get(at..)?.chars().next()?;
    Some(at + c.len_utf8())
}

/// Matches one star-free segment at byte offset `at`; returns the end offset.
fn seg_at(
    seg: &[P],
    value: &str,
    mut at: usize,
    ctx: &Context,
    steps: &mut Steps,
) -> Option<usize> {
    for p in seg {
        steps.0 += 1;
        match p {
            P::Lit(l) => {
                if value.get(at..)?.starts_with(&**l) {
                    at += l.len();
                } else {
                    return None;
                }
            }
            P::One => at = next_boundary(value, at)?,
            P::Var(k, d) => {
                let v = resolve(k, d.as_deref(), ctx)?;
                if value.get(at..)?.starts_with(v) {
                    at += v.len();
                } else {
                    return None;
                }
            }
            P::Star | P::Never(_) => return None,
        }
    }
    Some(at)
}

/// Compares the resolved template to `value` ignoring case (Unicode simple lower-casing, char by char).
pub fn eq_ignore_case(pieces: &[P], value: &str, ctx: &Context) -> Result<bool, Unresolved> {
    let mut texts: [&str; 8] = [""; 8];
    if pieces.len() > texts.len() {
        // Long templates are rare; compare through an owned string.
        let mut s = String::new();
        for p in pieces {
            s.push_str(piece_text(p, ctx)?);
        }
        return Ok(lower_eq(&s, value));
    }
    for (slot, p) in texts.iter_mut().zip(pieces) {
        *slot = piece_text(p, ctx)?;
    }
    let left = texts
        .iter()
        .take(pieces.len())
        .flat_map(|t| t.chars())
        .flat_map(char::to_lowercase);
    Ok(left.eq(value.chars().flat_map(char::to_lowercase)))
}

fn piece_text<'a>(p: &'a P, ctx: &'a Context) -> Result<&'a str, Unresolved> {
    match p {
        P::Lit(l) => Ok(l),
        P::Star => Ok("*"),
        P::One => Ok("?"),
        P::Var(k, d) => resolve(k, d.as_deref(), ctx).ok_or(Unresolved),
        P::Never(_) => Err(Unresolved),
    }
}

fn lower_eq(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Splits an ARN into its first five colon-separated parts and the rest; `None` if it has fewer than six.
pub fn split_arn(s: &str) -> Option<[&str; 6]> {
    let mut out = [""; 6];
    let mut rest = s;
    for slot in out.iter_mut().take(5) {
        let (a, b) = rest.split_once(':')?;
        *slot = a;
        rest = b;
    }
    out[5] = rest;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use iam_policy::Span;

    #[test]
    fn find_literal_agrees_with_str_find() {
        let hays = [
            "",
            "a",
            "abcabc",
            "a1b2c3/prod/GET/petstore/v2/status",
            "ééaé",
            "aaab",
            "/x/",
        ];
        let needles = [
            "a",
            "abc",
            "/petstore/v1/",
            "é",
            "aab",
            "/",
            "c/",
            "zz",
            "status",
            "ééaéé",
        ];
        for h in hays {
            for n in needles {
                assert_eq!(find_literal(h, n), h.find(n), "{h:?} {n:?}");
            }
        }
    }
    use iam_policy::grammar::{TemplateMode, template};

    fn pieces(s: &str) -> Box<[P]> {
        compile_pieces(
            &template(
                s,
                TemplateMode {
                    wildcards: true,
                    variables: true,
                },
                None,
                Span::default(),
            )
            .unwrap(),
        )
    }

    /// The reference: a naive recursive matcher on strings (exponential, fine for short inputs).
    fn naive(p: &[char], v: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('*', rest)) => (0..=v.len()).any(|i| naive(rest, &v[i..])),
            Some(('?', rest)) => !v.is_empty() && naive(rest, &v[1..]),
            Some((c, rest)) => v.first() == Some(c) && naive(rest, &v[1..]),
        }
    }

    #[test]
    fn wildcards() {
        let c = Context::new();
        for (p, v, want) in [
            ("a*b", "axxb", true),
            ("a*b", "axxbc", false),
            ("*", "", true),
            ("b/*/test/*", "b/1/2/test/x", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("?", "é", true),
            ("*a*a*b", "aaab", true),
            ("*a*a*b", "aab", true),
            ("*a*a*b", "ab", false),
        ] {
            assert_eq!(is_match(&pieces(p), v, &c), Ok(want), "{p} {v}");
        }
    }

    #[test]
    fn variables_resolve_in_place() {
        let mut c = Context::new();
        c.insert("aws:username", "a*");
        assert_eq!(
            is_match(&pieces("home/${aws:username}/*"), "home/a*/x", &c),
            Ok(true)
        );
        assert_eq!(
            is_match(&pieces("home/${aws:username}"), "home/abc", &c),
            Ok(false)
        );
        assert_eq!(is_match(&pieces("${aws:userid}"), "x", &c), Err(Unresolved));
        assert_eq!(is_match(&pieces("${aws:userid, 'x'}"), "x", &c), Ok(true));
        c.insert_multi("aws:tagkeys", ["a", "b"]);
        assert_eq!(
            is_match(&pieces("${aws:TagKeys}"), "a", &c),
            Err(Unresolved)
        );
    }

    #[test]
    fn linear_on_hostile_patterns() {
        let c = Context::new();
        let value = "a".repeat(100_000);
        let p = pieces("*a*a*a*a*a*a*a*a*b");
        let mut steps = Steps::default();
        assert_eq!(is_match_counted(&p, &value, &c, &mut steps), Ok(false));
        assert!(steps.0 <= 4 * value.len() as u64, "{} steps", steps.0);
    }

    #[test]
    fn agrees_with_naive_matcher() {
        use proptest::prelude::*;
        let c = Context::new();
        proptest!(|(p in "[ab*?]{0,8}", v in "[abc]{0,10}")| {
            let want = naive(&p.chars().collect::<Vec<_>>(), &v.chars().collect::<Vec<_>>());
            prop_assert_eq!(is_match(&pieces(&p), &v, &c), Ok(want));
        });
    }

    #[test]
    fn ignore_case() {
        let c = Context::new();
        assert_eq!(eq_ignore_case(&pieces("John"), "jOHN", &c), Ok(true));
        assert_eq!(eq_ignore_case(&pieces("Straße"), "STRASSE", &c), Ok(false));
        assert_eq!(eq_ignore_case(&pieces("ÉCOLE"), "école", &c), Ok(true));
    }

    #[test]
    fn arns_split() {
        assert_eq!(
            split_arn("arn:aws:s3:::b/k:x"),
            Some(["arn", "aws", "s3", "", "", "b/k:x"])
        );
        assert_eq!(split_arn("arn:aws:s3"), None);
    }
}
