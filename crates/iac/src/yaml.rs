//! YAML templates read into the same spanned tree as JSON ([`diag::json::Value`]), with CloudFormation's
//! short-form tags turned into their long forms: `!Ref X` is `{"Ref": "X"}`, `!GetAtt A.B` is
//! `{"Fn::GetAtt": ["A", "B"]}`, `!Condition C` is `{"Condition": "C"}`, every other `!Name v` is
//! `{"Fn::Name": v}`. Plain scalars are YAML 1.2 core types (`true`, `false`, `null`, `~`, numbers);
//! quoted ones are strings. Anchors and aliases are followed.

use std::collections::HashMap;

use diag::Span;
use diag::json::{Kind, Member, Value};
use saphyr_parser_bw::{Event, Parser, ScalarStyle};

use crate::IacError;

/// The short-form tags CloudFormation defines.
pub const SHORT_FORMS: &[&str] = &[
    "Ref",
    "Condition",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Select",
    "Split",
    "FindInMap",
    "ImportValue",
    "Equals",
    "Not",
    "And",
    "Or",
    "Base64",
    "Cidr",
    "GetAZs",
    "Transform",
    "ToJsonString",
    "Length",
];

/// Deepest nesting accepted (as the JSON reader's): templates need a dozen levels; anything past this
/// is not a template, and would make resolution recurse without bound.
pub const MAX_DEPTH: usize = diag::json::MAX_DEPTH;

/// Most values a template may expand to through aliases (a "billion laughs" document is refused, not
/// expanded).
pub const MAX_VALUES: usize = 1_000_000;

/// The number of values in `v`, counting no further than `limit`.
fn count(v: &Value, limit: usize) -> usize {
    let mut n = 1;
    let mut todo = vec![v];
    while let Some(x) = todo.pop() {
        if n > limit {
            break;
        }
        match &x.kind {
            Kind::Array(items) => {
                n += items.len();
                todo.extend(items);
            }
            Kind::Object(ms) => {
                n += ms.len();
                todo.extend(ms.iter().map(|m| &m.value));
            }
            _ => {}
        }
    }
    n
}

/// Character index → byte offset (the parser counts characters).
struct Offsets(Option<Vec<usize>>, usize);

impl Offsets {
    fn new(text: &str) -> Self {
        if text.is_ascii() {
            Self(None, text.len())
        } else {
            Self(
                Some(text.char_indices().map(|(b, _)| b).collect()),
                text.len(),
            )
        }
    }
    fn byte(&self, chars: usize) -> usize {
        match &self.0 {
            None => chars.min(self.1),
            Some(v) => v.get(chars).copied().unwrap_or(self.1),
        }
    }
}

enum Frame {
    Seq(Vec<Value>, usize, Option<String>, usize),
    Map(
        Vec<Member>,
        Option<(String, Span)>,
        usize,
        Option<String>,
        usize,
    ),
}

fn plain(s: &str) -> Kind {
    match s {
        "true" | "True" | "TRUE" => Kind::Bool(true),
        "false" | "False" | "FALSE" => Kind::Bool(false),
        "null" | "Null" | "NULL" | "~" | "" => Kind::Null,
        _ if serde_json::from_str::<serde_json::Number>(s).is_ok() => Kind::Number(s.to_string()),
        _ => Kind::String(s.to_string()),
    }
}

/// Wraps a tagged node in its long form.
fn tagged(tag: Option<&str>, v: Value, name: &str) -> Result<Value, IacError> {
    let Some(t) = tag else { return Ok(v) };
    if !SHORT_FORMS.contains(&t) {
        return Err(IacError::parse(
            name,
            v.span,
            format!("`!{t}` is not one of CloudFormation's short-form tags"),
        ));
    }
    let span = v.span;
    let v = match (t, &v.kind) {
        ("GetAtt", Kind::String(s)) => {
            let (a, b) = s.split_once('.').ok_or_else(|| {
                IacError::parse(
                    name,
                    span,
                    format!("`!GetAtt {s}` is not LogicalId.Attribute"),
                )
            })?;
            let part = |x: &str| Value {
                kind: Kind::String(x.to_string()),
                span,
            };
            Value {
                kind: Kind::Array(vec![part(a), part(b)]),
                span,
            }
        }
        _ => v,
    };
    let key = match t {
        "Ref" | "Condition" => t.to_string(),
        other => format!("Fn::{other}"),
    };
    Ok(Value {
        kind: Kind::Object(vec![Member {
            key,
            key_span: span,
            value: v,
        }]),
        span,
    })
}

/// Reads one YAML document.
pub fn read(name: &str, text: &str) -> Result<Value, IacError> {
    let offsets = Offsets::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Value> = HashMap::new();
    let mut root: Option<Value> = None;
    // Values made so far, aliases expanded.
    let mut values = 0usize;
    let tag_of = |t: &Option<std::borrow::Cow<'_, saphyr_parser_bw::Tag>>| -> Option<String> {
        t.as_ref()
            .filter(|t| t.handle == "!")
            .map(|t| t.suffix.clone())
    };
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| {
            let m = e.marker();
            let at = offsets.byte(m.index());
            IacError::parse(name, Span::new(at, at), format!("YAML: {}", e.info()))
        })?;
        let start = offsets.byte(span.start.index());
        let end = offsets.byte(span.end.index()).max(start);
        let done: Option<(Value, usize)> = match ev {
            Event::Scalar(s, style, anchor, tag) => {
                let kind = if style == ScalarStyle::Plain && tag.is_none() {
                    plain(&s)
                } else {
                    Kind::String(s.into_owned())
                };
                let v = Value {
                    kind,
                    span: Span::new(start, end),
                };
                Some((tagged(tag_of(&tag).as_deref(), v, name)?, anchor))
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                return Err(IacError::parse(
                    name,
                    Span::new(start, end),
                    format!("nested deeper than {MAX_DEPTH} levels: not a template"),
                ));
            }
            Event::SequenceStart(anchor, tag) => {
                stack.push(Frame::Seq(Vec::new(), start, tag_of(&tag), anchor));
                None
            }
            Event::MappingStart(anchor, tag) => {
                stack.push(Frame::Map(Vec::new(), None, start, tag_of(&tag), anchor));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, s, tag, anchor)) => {
                    let v = Value {
                        kind: Kind::Array(items),
                        span: Span::new(s, end.max(s)),
                    };
                    Some((tagged(tag.as_deref(), v, name)?, anchor))
                }
                _ => {
                    return Err(IacError::parse(
                        name,
                        Span::new(start, end),
                        "YAML: unbalanced",
                    ));
                }
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(members, _, s, tag, anchor)) => {
                    let v = Value {
                        kind: Kind::Object(members),
                        span: Span::new(s, end.max(s)),
                    };
                    Some((tagged(tag.as_deref(), v, name)?, anchor))
                }
                _ => {
                    return Err(IacError::parse(
                        name,
                        Span::new(start, end),
                        "YAML: unbalanced",
                    ));
                }
            },
            Event::Alias(id) => {
                let v = anchors.get(&id).cloned().ok_or_else(|| {
                    IacError::parse(name, Span::new(start, end), "YAML: an alias to no anchor")
                })?;
                values += count(&v, MAX_VALUES);
                if values > MAX_VALUES {
                    return Err(IacError::parse(
                        name,
                        Span::new(start, end),
                        format!(
                            "the aliases expand to more than {MAX_VALUES} values: not a template"
                        ),
                    ));
                }
                Some((v, 0))
            }
            Event::DocumentStart(_) if root.is_some() => {
                return Err(IacError::parse(
                    name,
                    Span::new(start, end),
                    "a template is one YAML document; this file has another",
                ));
            }
            _ => None,
        };
        let Some((v, anchor)) = done else { continue };
        if anchor != 0 {
            anchors.insert(anchor, v.clone());
        }
        match stack.last_mut() {
            None => root = Some(v),
            Some(Frame::Seq(items, ..)) => items.push(v),
            Some(Frame::Map(members, key, ..)) => match key.take() {
                None => match &v.kind {
                    Kind::String(k) => *key = Some((k.clone(), v.span)),
                    Kind::Number(k) => *key = Some((k.clone(), v.span)),
                    Kind::Bool(b) => *key = Some((b.to_string(), v.span)),
                    _ => {
                        return Err(IacError::parse(
                            name,
                            v.span,
                            "a mapping key must be a scalar",
                        ));
                    }
                },
                Some((k, ks)) => {
                    if members.iter().any(|m| m.key == k) {
                        return Err(IacError::parse(
                            name,
                            ks,
                            format!("the key `{k}` appears twice in this mapping"),
                        ));
                    }
                    members.push(Member {
                        key: k,
                        key_span: ks,
                        value: v,
                    });
                }
            },
        }
    }
    root.ok_or_else(|| IacError::parse(name, Span::new(0, 0), "the template is empty"))
}
