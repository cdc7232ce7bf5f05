//! The sub-grammars inside JSON strings, written with nom: policy variables and wildcards (templates),
//! action patterns, ARN patterns and condition operators.

use diag::codes;
use nom::branch::alt;
use nom::bytes::complete::{is_not, tag, take_until, take_while1};
use nom::combinator::{all_consuming, map, opt};
use nom::sequence::{delimited, preceded};
use nom::{IResult, Parser};

use crate::ast::{
    ActionPattern, ArnPattern, BaseOperator, ConditionOperator, Piece, PolicyVariable, Qualifier,
    Template,
};
use diag::Span;

/// A mistake inside a string, located relative to the string's first character.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrammarError {
    /// Byte offset in the string.
    pub offset: usize,
    /// Length of the offending text.
    pub len: usize,
    /// Diagnostic code.
    pub code: &'static str,
    /// Access Analyzer issue code, if any.
    pub aws: Option<&'static str>,
    /// Message.
    pub message: String,
    /// Hint.
    pub help: Option<&'static str>,
}

impl std::fmt::Display for GrammarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GrammarError {}

impl diag::Coded for GrammarError {
    fn code(&self) -> &'static str {
        self.code
    }
}

impl miette::Diagnostic for GrammarError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display + 'a>)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            None,
            self.offset,
            self.len,
        ))))
    }
}

impl GrammarError {
    fn new(offset: usize, len: usize, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            offset,
            len,
            code,
            aws: None,
            message: message.into(),
            help: None,
        }
    }
    fn aws(mut self, c: &'static str) -> Self {
        self.aws = Some(c);
        self
    }
    fn help(mut self, h: &'static str) -> Self {
        self.help = Some(h);
        self
    }
}

/// What a template may contain.
#[derive(Clone, Copy, Debug)]
pub struct TemplateMode {
    /// `*` and `?` are wildcards (otherwise literal).
    pub wildcards: bool,
    /// `${…}` are policy variables (otherwise literal text).
    pub variables: bool,
}

enum VarBody<'a> {
    Special(&'a str),
    Key(&'a str, Option<&'a str>),
}

fn var_body(i: &str) -> IResult<&str, VarBody<'_>> {
    alt((
        map(alt((tag("*"), tag("?"), tag("$"))), VarBody::Special),
        map(
            (
                take_while1(|c: char| {
                    !c.is_whitespace() && !matches!(c, ',' | '\'' | '}' | '{' | '$')
                }),
                opt(preceded(
                    tag(", "),
                    delimited(tag("'"), opt(is_not("'")), tag("'")),
                )),
            ),
            |(k, d)| VarBody::Key(k, d.map(|d| d.unwrap_or(""))),
        ),
    ))
    .parse(i)
}

fn variable(i: &str) -> IResult<&str, VarBody<'_>> {
    delimited(tag("${"), var_body, tag("}")).parse(i)
}

/// Explains why `${…}` at the start of `rest` is not a valid variable.
fn variable_error(rest: &str, at: usize) -> GrammarError {
    let close: IResult<&str, &str> = take_until("}").parse(rest);
    let body = match close {
        Ok((_, before)) if !before.get(2..).unwrap_or("").contains("${") => {
            before.get(2..).unwrap_or("")
        }
        _ => {
            let len = rest
                .find(|c: char| c == '/' || c.is_whitespace())
                .unwrap_or(rest.len())
                .max(2);
            return GrammarError::new(
                at,
                len,
                codes::IAM_VARIABLE_BRACE,
                "policy variable is missing its closing `}`",
            )
            .aws("MISSING_BRACE_IN_VARIABLE")
            .help("close the variable: ${aws:username}");
        }
    };
    let len = body.len() + 3;
    if body.is_empty() {
        return GrammarError::new(
            at,
            len,
            codes::IAM_VARIABLE_EMPTY,
            "empty policy variable `${}`",
        )
        .aws("EMPTY_VARIABLE")
        .help("name a context key: ${aws:username}");
    }
    if let Some((_, d)) = body.split_once(',') {
        let d = d.trim_start();
        if !(d.starts_with('\'') && d.ends_with('\'') && d.len() >= 2) {
            return GrammarError::new(
                at,
                len,
                codes::IAM_VARIABLE_DEFAULT,
                format!("the default value in `${{{body}}}` must be in single quotes"),
            )
            .aws("MISSING_QUOTE_IN_VARIABLE")
            .help("write the default as ${key, 'value'}: comma, one space, single quotes");
        }
        return GrammarError::new(
            at,
            len,
            codes::IAM_VARIABLE_SPACE,
            format!("`${{{body}}}` must have exactly one space after the comma"),
        )
        .aws("UNSUPPORTED_SPACE_IN_VARIABLE")
        .help("write the default as ${key, 'value'}: comma, one space, single quotes");
    }
    if body.chars().any(char::is_whitespace) {
        return GrammarError::new(
            at,
            len,
            codes::IAM_VARIABLE_SPACE,
            format!("space inside policy variable `${{{body}}}`"),
        )
        .aws("UNSUPPORTED_SPACE_IN_VARIABLE")
        .help("remove the spaces: ${aws:username}");
    }
    GrammarError::new(
        at,
        len,
        codes::IAM_VARIABLE,
        format!("`${{{body}}}` is not a valid policy variable"),
    )
    .help("a variable is ${key}, ${key, 'default'}, ${*}, ${?} or ${$}")
}

/// Parses text with wildcards and/or variables. `base` is the byte offset of the text in the source, when
/// the text was written without escapes (so offsets carry over); otherwise `fallback` locates variables.
pub fn template(
    s: &str,
    mode: TemplateMode,
    base: Option<usize>,
    fallback: Span,
) -> Result<Template, GrammarError> {
    let bytes = s.as_bytes();
    let special =
        |b: u8| (mode.variables && b == b'$') || (mode.wildcards && (b == b'*' || b == b'?'));
    // Most texts (an account id, a Region, a bucket name) are one literal: copied once.
    if !bytes.iter().any(|&b| special(b)) {
        return Ok(Template {
            pieces: if s.is_empty() {
                Vec::new()
            } else {
                vec![Piece::Literal(s.to_string())]
            },
        });
    }
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if mode.variables && b == b'$' && bytes.get(i + 1) == Some(&b'{') {
            let rest = s.get(i..).unwrap_or("");
            match variable(rest) {
                Ok((after, body)) => {
                    let used = rest.len() - after.len();
                    match body {
                        VarBody::Special(c) => lit.push_str(c),
                        VarBody::Key(k, d) => {
                            if !lit.is_empty() {
                                pieces.push(Piece::Literal(std::mem::take(&mut lit)));
                            }
                            let span = base.map_or(fallback, |b0| Span::new(b0 + i, b0 + i + used));
                            pieces.push(Piece::Var(PolicyVariable {
                                key: k.to_string(),
                                default: d.map(str::to_string),
                                span,
                            }));
                        }
                    }
                    i += used;
                }
                Err(_) => return Err(variable_error(rest, i)),
            }
            continue;
        }
        if mode.wildcards && (b == b'*' || b == b'?') {
            if !lit.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut lit)));
            }
            pieces.push(if b == b'*' {
                Piece::Star
            } else {
                Piece::Question
            });
            i += 1;
            continue;
        }
        // The run of plain text up to the next special byte (ASCII: never inside a character).
        let run = bytes
            .get(i + 1..)
            .and_then(|r| r.iter().position(|&c| special(c)))
            .map_or(bytes.len(), |n| i + 1 + n);
        lit.push_str(s.get(i..run).unwrap_or(""));
        i = run;
    }
    if !lit.is_empty() {
        pieces.push(Piece::Literal(lit));
    }
    // A literal is pushed only before a variable or a wildcard and at the end (`${*}` and the other
    // special variables join the literal text), so no two literals are adjacent: equal texts give
    // equal templates.
    Ok(Template { pieces })
}

fn service_prefix(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')(i)
}

/// Parses an action pattern: `*` or `service:action` with `*`/`?` in the action part.
pub fn action(raw: &str, span: Span) -> Result<ActionPattern, GrammarError> {
    if raw == "*" {
        return Ok(ActionPattern {
            raw: raw.to_string(),
            service: None,
            action: "*".into(),
            span,
        });
    }
    if raw.as_bytes().windows(2).any(|w| w == b"${") {
        return Err(GrammarError::new(
            0,
            raw.len(),
            codes::IAM_VARIABLE_PLACE,
            "policy variables are not allowed in actions",
        )
        .aws("VARIABLE_UNSUPPORTED_IN_ELEMENT")
        .help("list the actions explicitly or use wildcards"));
    }
    let Some((svc, act)) = raw.split_once(':') else {
        return Err(GrammarError::new(
            0,
            raw.len(),
            codes::IAM_ACTION_PREFIX,
            format!("action `{raw}` has no service prefix"),
        )
        .aws("INVALID_ACTION")
        .help("write actions as service:Action, for example s3:GetObject"));
    };
    if let Some(second) = act.find(':') {
        return Err(GrammarError::new(
            svc.len() + 1 + second,
            1,
            codes::IAM_ACTION_COLON,
            format!("action `{raw}` has more than one `:`"),
        )
        .help("an action is service:Action with exactly one colon"));
    }
    if svc.bytes().any(|b| b == b'*' || b == b'?') {
        return Err(GrammarError::new(
            0,
            svc.len(),
            codes::IAM_ACTION_SERVICE_WILDCARD,
            format!("wildcard in the service prefix of `{raw}`"),
        )
        .help("wildcards are allowed only in the action name: s3:Get*"));
    }
    let ok: IResult<&str, &str> = all_consuming(service_prefix).parse(svc);
    if ok.is_err() {
        return Err(GrammarError::new(
            0,
            svc.len().max(1),
            codes::IAM_ACTION_PREFIX,
            format!("`{svc}` is not a valid service prefix"),
        )
        .aws("INVALID_SERVICE")
        .help("a service prefix is letters, digits and `-`, such as s3 or cognito-identity"));
    }
    if act.is_empty() {
        return Err(GrammarError::new(
            svc.len(),
            1,
            codes::IAM_ACTION_EMPTY,
            format!("action `{raw}` has no action name"),
        )
        .help("name an action after the colon, or use `*`"));
    }
    Ok(ActionPattern {
        raw: raw.to_string(),
        service: Some(svc.to_ascii_lowercase()),
        // Action names are ASCII (the Unicode lower-casing gives the same text for them, slower).
        action: if act.is_ascii() {
            act.to_ascii_lowercase()
        } else {
            act.to_lowercase()
        },
        span,
    })
}

/// Splits at the first `max - 1` colons, skipping colons inside `${…}` (variable keys contain colons).
fn split_colons(s: &str, max: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_var = false;
    let mut prev = '\0';
    for (i, c) in s.char_indices() {
        if out.len() + 1 == max {
            break;
        }
        if c == '{' && prev == '$' {
            in_var = true;
        } else if c == '}' {
            in_var = false;
        }
        prev = c;
        if c == ':' && !in_var {
            out.push((start, s.get(start..i).unwrap_or("")));
            start = i + 1;
        }
    }
    out.push((start, s.get(start..).unwrap_or("")));
    out
}

/// Parses a resource ARN pattern (`arn:partition:service:region:account:resource`). `variables` says
/// whether `${…}` in the resource part are policy variables.
pub fn arn_pattern(
    raw: &str,
    variables: bool,
    base: Option<usize>,
    fallback: Span,
) -> Result<ArnPattern, GrammarError> {
    let prefix: IResult<&str, &str> = tag("arn:").parse(raw);
    if prefix.is_err() {
        return Err(GrammarError::new(
            0,
            raw.len(),
            codes::IAM_ARN_FORMAT,
            format!("resource `{raw}` must be an ARN or `*`"),
        )
        .aws("INVALID_ARN_PREFIX")
        .help("an ARN is arn:partition:service:region:account-id:resource"));
    }
    let parts = split_colons(raw, 6);
    let n = parts.len();
    for (idx, (off, seg)) in parts.iter().enumerate().take(5) {
        // AWS's own managed policies put variables in the account part
        // (`arn:*:kms:*:${aws:PrincipalAccount}:key/*`), so region, account and resource may hold them.
        if seg.contains("${") && idx < 3 {
            return Err(GrammarError::new(
                *off,
                seg.len(),
                codes::IAM_VARIABLE_PLACE,
                "policy variables are not allowed in the partition or service of an ARN",
            )
            .aws("VARIABLE_UNSUPPORTED_IN_ELEMENT")
            .help("name the partition and service literally"));
        }
        if idx == 2 && seg.contains(['*', '?']) {
            return Err(GrammarError::new(
                *off,
                seg.len(),
                codes::IAM_ARN_SERVICE_WILDCARD,
                format!("wildcard in the service of ARN `{raw}`"),
            )
            // Access Analyzer's catalogue calls this `WILDCARD_IN_SERVICE_NAME`, a suggestion; the IAM
            // User Guide's Resource page now says a wildcard cannot stand in the service segment, so
            // this stays our error, without Access Analyzer's code.
            .help("name the service exactly, for example arn:aws:s3:::bucket"));
        }
    }
    let open_ended = n < 6 && parts.last().is_some_and(|(_, s)| s.ends_with('*'));
    if n < 6 && !open_ended {
        return Err(GrammarError::new(0, raw.len(), codes::IAM_ARN_SHORT, format!("ARN `{raw}` has {n} parts; an ARN has six"))
            .aws("MISSING_ARN_FIELD")
            .help("an ARN is arn:partition:service:region:account-id:resource; end a shorter pattern with `*`"));
    }
    let mut segments = Vec::with_capacity(n);
    for (idx, (off, seg)) in parts.iter().enumerate() {
        let mode = TemplateMode {
            wildcards: true,
            variables: variables && idx >= 3,
        };
        let t = template(seg, mode, base.map(|b| b + off), fallback).map_err(|mut e| {
            e.offset += off;
            e
        })?;
        segments.push(t);
    }
    Ok(ArnPattern {
        segments,
        open_ended,
    })
}

/// Parses an ARN condition value: six parts, each matched separately (no wildcard crosses a `:`).
pub fn arn_value(
    raw: &str,
    variables: bool,
    base: Option<usize>,
    fallback: Span,
) -> Result<Vec<Template>, GrammarError> {
    let parts = split_colons(raw, 6);
    if parts.len() < 6 {
        return Err(GrammarError::new(
            0,
            raw.len(),
            codes::IAM_ARN_VALUE,
            format!("`{raw}` is not an ARN: it has {} of six parts", parts.len()),
        )
        .aws("MISSING_ARN_FIELD")
        .help(
            "ARN operators compare the six parts arn:partition:service:region:account-id:resource",
        ));
    }
    parts
        .iter()
        .map(|(off, seg)| {
            template(
                seg,
                TemplateMode {
                    wildcards: true,
                    variables,
                },
                base.map(|b| b + off),
                fallback,
            )
            .map_err(|mut e| {
                e.offset += off;
                e
            })
        })
        .collect()
}

fn qualifier(i: &str) -> IResult<&str, Option<Qualifier>> {
    opt(alt((
        map(tag("ForAllValues:"), |_| Qualifier::ForAllValues),
        map(tag("ForAnyValue:"), |_| Qualifier::ForAnyValue),
    )))
    .parse(i)
}

/// Parses `[ForAllValues:|ForAnyValue:]Base[IfExists]`. Names are case-sensitive.
pub fn operator(raw: &str) -> Result<ConditionOperator, GrammarError> {
    let unknown = || {
        let hint = suggest_operator(raw);
        let mut e = GrammarError::new(
            0,
            raw.len(),
            codes::IAM_CONDITION_OPERATOR,
            format!("unknown condition operator `{raw}`"),
        )
        .aws("INVALID_CONDITION_OPERATOR");
        e.help = Some(if hint {
            "check the spelling; operators are case-sensitive, such as StringEquals, ForAnyValue:StringLike or ArnLikeIfExists"
        } else {
            "a Condition maps operators (StringEquals, ArnLike, …) to {key: value}; a context key cannot stand where an operator belongs"
        });
        e
    };
    let (rest, q) = qualifier(raw).map_err(|_| unknown())?;
    let (base_txt, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let base = BaseOperator::ALL
        .iter()
        .copied()
        .find(|b| b.as_str() == base_txt)
        .ok_or_else(unknown)?;
    if base == BaseOperator::Null && if_exists {
        return Err(GrammarError::new(
            0,
            raw.len(),
            codes::IAM_NULL_IF_EXISTS,
            "`Null` cannot take `IfExists`",
        )
        .aws("NULL_WITH_IF_EXISTS")
        .help("use Null alone: it already tests whether the key exists"));
    }
    Ok(ConditionOperator {
        qualifier: q,
        base,
        if_exists,
    })
}

/// Whether `raw` looks like a misspelt operator rather than a context key.
fn suggest_operator(raw: &str) -> bool {
    let l = raw.to_ascii_lowercase();
    !raw.contains(':') || l.starts_with("for")
}

/// The closest known name within edit distance 2, for "did you mean" hints.
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    const MAX: usize = 2;
    let w: Vec<char> = word.chars().map(|c| c.to_ascii_lowercase()).collect();
    // Two rows of the distance table, reused for every candidate (a service has hundreds of actions).
    let mut rows = (Vec::new(), Vec::new());
    let mut cand = Vec::new();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        // The edit distance is at least the difference in length: skip the candidates it rules out
        // before paying for the distance.
        let len = if c.is_ascii() {
            c.len()
        } else {
            c.chars().count()
        };
        if len.abs_diff(w.len()) > MAX {
            continue;
        }
        cand.clear();
        cand.extend(c.chars().map(|c| c.to_ascii_lowercase()));
        if let Some(d) = levenshtein_within(&w, &cand, MAX, &mut rows)
            && best.is_none_or(|(b, _)| d < b)
        {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// The edit distance between `a` and `b` when it is at most `max` (`None` beyond: a row whose smallest
/// entry exceeds `max` ends the work early), computed in the two rows `rows`.
fn levenshtein_within(
    a: &[char],
    b: &[char],
    max: usize,
    rows: &mut (Vec<usize>, Vec<usize>),
) -> Option<usize> {
    let (prev, cur) = rows;
    prev.clear();
    prev.extend(0..=b.len());
    for (i, ca) in a.iter().enumerate() {
        cur.clear();
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        if cur.iter().min().is_some_and(|m| *m > max) {
            return None;
        }
        std::mem::swap(prev, cur);
    }
    prev.last().copied().filter(|d| *d <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: TemplateMode = TemplateMode {
        wildcards: true,
        variables: true,
    };

    fn t(s: &str) -> Template {
        template(s, VARS, Some(0), Span::default()).unwrap()
    }
    fn terr(s: &str) -> &'static str {
        template(s, VARS, Some(0), Span::default())
            .unwrap_err()
            .code
    }

    #[test]
    fn templates() {
        assert_eq!(
            t("a*b?").pieces,
            [
                Piece::Literal("a".into()),
                Piece::Star,
                Piece::Literal("b".into()),
                Piece::Question
            ]
        );
        assert_eq!(t("b/${*}x").pieces, [Piece::Literal("b/*x".into())]);
        assert_eq!(t("${?}${$}").pieces, [Piece::Literal("?$".into())]);
        let v = t("home/${aws:username}/");
        let var = v.variables().next().unwrap();
        assert_eq!(var.key, "aws:username");
        assert_eq!((var.span.start, var.span.end), (5, 20));
        let d = t("${aws:PrincipalTag/team, 'company-wide'}");
        assert_eq!(
            d.variables().next().unwrap().default.as_deref(),
            Some("company-wide")
        );
        let e = t("${k, ''}");
        assert_eq!(e.variables().next().unwrap().default.as_deref(), Some(""));
        let lit = template(
            "${x}*",
            TemplateMode {
                wildcards: false,
                variables: false,
            },
            None,
            Span::default(),
        )
        .unwrap();
        assert_eq!(lit.pieces, [Piece::Literal("${x}*".into())]);
    }

    #[test]
    fn variable_errors() {
        assert_eq!(terr("home/${aws:username/*"), codes::IAM_VARIABLE_BRACE);
        assert_eq!(terr("${}"), codes::IAM_VARIABLE_EMPTY);
        assert_eq!(terr("${aws: username}"), codes::IAM_VARIABLE_SPACE);
        assert_eq!(
            terr("${aws:PrincipalTag/team, company-wide}"),
            codes::IAM_VARIABLE_DEFAULT
        );
        assert_eq!(terr("${k,'d'}"), codes::IAM_VARIABLE_SPACE);
        let e = template("abc${aws:username", VARS, Some(0), Span::default()).unwrap_err();
        assert_eq!(e.offset, 3);
    }

    #[test]
    fn actions() {
        let a = action("S3:getObject", Span::default()).unwrap();
        assert_eq!(
            (a.service.as_deref(), a.action.as_str()),
            (Some("s3"), "getobject")
        );
        assert!(action("*", Span::default()).unwrap().service.is_none());
        assert_eq!(
            action("invalid", Span::default()).unwrap_err().code,
            codes::IAM_ACTION_PREFIX
        );
        assert_eq!(
            action("s3:List:Bucket", Span::default()).unwrap_err().code,
            codes::IAM_ACTION_COLON
        );
        assert_eq!(
            action("s*:Get", Span::default()).unwrap_err().code,
            codes::IAM_ACTION_SERVICE_WILDCARD
        );
        assert_eq!(
            action("a a:List", Span::default()).unwrap_err().code,
            codes::IAM_ACTION_PREFIX
        );
        assert_eq!(
            action("s3:${aws:username}", Span::default())
                .unwrap_err()
                .code,
            codes::IAM_VARIABLE_PLACE
        );
    }

    #[test]
    fn arns() {
        let p = arn_pattern(
            "arn:aws:s3:::b/${aws:username}/*",
            true,
            Some(0),
            Span::default(),
        )
        .unwrap();
        assert_eq!(p.segments.len(), 6);
        assert!(p.segments[5].has_variables());
        assert!(
            arn_pattern("arn:aws:sqs:*", true, None, Span::default())
                .unwrap()
                .open_ended
        );
        assert_eq!(
            arn_pattern("arn:aws:s*:::b", true, None, Span::default())
                .unwrap_err()
                .code,
            codes::IAM_ARN_SERVICE_WILDCARD
        );
        assert_eq!(
            arn_pattern("sns-topic-name", true, None, Span::default())
                .unwrap_err()
                .code,
            codes::IAM_ARN_FORMAT
        );
        assert_eq!(
            arn_pattern("arn:aws:s3", true, None, Span::default())
                .unwrap_err()
                .code,
            codes::IAM_ARN_SHORT
        );
        assert_eq!(
            arn_pattern("arn:${aws:p}:s3:::b", true, None, Span::default())
                .unwrap_err()
                .code,
            codes::IAM_VARIABLE_PLACE
        );
        let acct = arn_pattern(
            "arn:*:kms:*:${aws:PrincipalAccount}:key/*",
            true,
            None,
            Span::default(),
        )
        .unwrap();
        assert!(acct.segments[4].has_variables());
        let colon = arn_pattern(
            "arn:aws:ssm:us-east-1:123456789012:parameter/a:b",
            true,
            None,
            Span::default(),
        )
        .unwrap();
        assert_eq!(
            colon.segments[5].as_literal().as_deref(),
            Some("parameter/a:b")
        );
    }

    #[test]
    fn operators() {
        let o = operator("ForAnyValue:StringEqualsIfExists").unwrap();
        assert_eq!(
            (o.qualifier, o.base, o.if_exists),
            (
                Some(Qualifier::ForAnyValue),
                BaseOperator::StringEquals,
                true
            )
        );
        assert_eq!(o.to_string(), "ForAnyValue:StringEqualsIfExists");
        for bad in [
            "StringEqual",
            "stringequals",
            "ForSomeValues:StringEquals",
            "ForAnyValue::StringEquals",
            "servicecatalog:accountLevel",
        ] {
            assert_eq!(
                operator(bad).unwrap_err().code,
                codes::IAM_CONDITION_OPERATOR,
                "{bad}"
            );
        }
        assert_eq!(
            operator("NullIfExists").unwrap_err().code,
            codes::IAM_NULL_IF_EXISTS
        );
        assert_eq!(
            did_you_mean("effect", &["Effect", "Action"]),
            Some("Effect")
        );
        // Up to two edits, case aside; the nearest wins, the first among equals; three edits is none.
        let names = ["GetObject", "GetObjectAcl", "PutObject", "GetObjects"];
        assert_eq!(did_you_mean("getobjekt", &names), Some("GetObject"));
        assert_eq!(did_you_mean("GETOBJECTACLX", &names), Some("GetObjectAcl"));
        assert_eq!(did_you_mean("getobjectz", &names), Some("GetObject"));
        assert_eq!(did_you_mean("xxtobject", &names), Some("GetObject"));
        assert_eq!(did_you_mean("xxxobject", &names), None);
        assert_eq!(did_you_mean("", &["ab", "abc"]), Some("ab"));
        assert_eq!(did_you_mean("déjà", &["deja"]), Some("deja"));
    }
}
