//! Findings in Access Analyzer's shape (`ValidatePolicyFinding`), located twice: as Access Analyzer's
//! `Position` (line from 1, column from 0, offset from 0, the last two in UTF-16 code units, as the
//! service's Java strings count them) and as editors count (line and column from 1, in characters).

use diag::{Diagnostic, codes};
use serde::Serialize;

use crate::catalogue::{self, FindingType};

/// One finding.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Its finding type.
    pub finding_type: FindingType,
    /// Access Analyzer's issue code (`PASS_ROLE_WITH_STAR_IN_RESOURCE`), or ours (`cognito::…`) for a
    /// check Access Analyzer does not make.
    pub issue_code: String,
    /// The message.
    #[serde(rename = "findingDetails")]
    pub details: String,
    /// The check reference's page for it (empty for ours).
    #[serde(rename = "learnMoreLink")]
    pub link: String,
    /// Where: the first location is the finding's own; Access Analyzer gives more for some checks (the
    /// covered actions of a `REDUNDANT_ACTION`, the `Resource` of a `PASS_ROLE_WITH_STAR_IN_RESOURCE`).
    pub locations: Vec<Location>,
    /// Our registered code for it (`iam::unknown-action` for Access Analyzer's `INVALID_ACTION`,
    /// `lint::check` for the checks of [`crate::CHECKS`]).
    #[serde(skip)]
    pub code: &'static str,
    /// The check's title from the catalogue (the code for ours).
    #[serde(skip)]
    pub title: String,
}

/// A location: the path into the JSON document and the span.
#[derive(Debug, Clone, Serialize)]
pub struct Location {
    /// Access Analyzer's path (`[{"value": "Statement"}, {"index": 0}, {"value": "Action"}]`).
    pub path: Vec<PathElement>,
    /// Access Analyzer's span.
    pub span: Span,
    /// Where editors put the start and end: (line from 1, column from 1 in characters).
    #[serde(skip)]
    pub editor: ((usize, usize), (usize, usize)),
    /// The span in bytes of the text.
    #[serde(skip)]
    pub bytes: diag::Span,
    /// The line the location starts on, printable and cut at 120 characters.
    #[serde(skip)]
    pub snippet: String,
}

/// One step of a path (`PathElement`, a union: exactly one member is set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PathElement {
    /// An index into an array.
    Index(usize),
    /// An object member's name (a condition key).
    Key(String),
    /// The value of an object member.
    Value(String),
}

/// A span: start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    /// Start.
    pub start: Position,
    /// End.
    pub end: Position,
}

/// Access Analyzer's `Position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 0, in UTF-16 code units.
    pub column: usize,
    /// Offset into the document, from 0, in UTF-16 code units.
    pub offset: usize,
}

/// Access Analyzer's `Position`s in one text: built once (line starts, and UTF-16 counts every 256
/// bytes), so each position costs a bisection and a scan of at most 256 bytes, whatever the size.
pub(crate) struct Positions<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// UTF-16 units before byte `256 * i` (at a character boundary at or before it).
    checkpoints: Vec<(usize, usize)>,
}

impl<'a> Positions<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        let mut checkpoints = vec![(0, 0)];
        let mut units = 0;
        let mut next = 256;
        for (i, c) in text.char_indices() {
            if i >= next {
                checkpoints.push((i, units));
                next = i + 256;
            }
            units += c.len_utf16();
            if c == '\n' {
                line_starts.push(i + 1);
            }
        }
        Self {
            text,
            line_starts,
            checkpoints,
        }
    }

    /// UTF-16 units before byte `byte` (a character boundary).
    fn units_at(&self, byte: usize) -> usize {
        let k = self.checkpoints.partition_point(|(b, _)| *b <= byte);
        let (b, u) = self
            .checkpoints
            .get(k.saturating_sub(1))
            .copied()
            .unwrap_or((0, 0));
        u + self
            .text
            .get(b..byte)
            .map_or(0, |s| s.chars().map(char::len_utf16).sum::<usize>())
    }

    fn line_start(&self, byte: usize) -> (usize, usize) {
        let line = self.line_starts.partition_point(|s| *s <= byte);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        (line.max(1), start)
    }

    /// The line holding byte `byte`, printable and cut at 120 characters (no scan of the lines before).
    fn line_text(&self, byte: usize) -> String {
        let (_, start) = self.line_start(byte.min(self.text.len()));
        let rest = self.text.get(start..).unwrap_or("");
        let end = rest.char_indices().nth(480).map_or(rest.len(), |(i, _)| i);
        let head = rest.get(..end).unwrap_or("").lines().next().unwrap_or("");
        diag::printable(head).chars().take(120).collect()
    }

    fn boundary(&self, byte: usize) -> usize {
        let mut byte = byte.min(self.text.len());
        // A span may end inside a character (a replaced invalid byte): count up to its start.
        while byte > 0 && !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        byte
    }

    pub(crate) fn at(&self, byte: usize) -> Position {
        let byte = self.boundary(byte);
        let (line, start) = self.line_start(byte);
        let offset = self.units_at(byte);
        Position {
            line,
            column: offset - self.units_at(start).min(offset),
            offset,
        }
    }

    /// (line from 1, column from 1 in characters), as editors count.
    fn editor(&self, byte: usize) -> (usize, usize) {
        let byte = self.boundary(byte);
        let (line, start) = self.line_start(byte);
        let col = self.text.get(start..byte).map_or(0, |s| s.chars().count());
        (line, col + 1)
    }

    pub(crate) fn location(&self, tree: Option<&diag::json::Value>, s: diag::Span) -> Location {
        Location {
            path: json_path(tree, s.start, s.end),
            span: Span {
                start: self.at(s.start),
                end: self.at(s.end),
            },
            editor: (self.editor(s.start), self.editor(s.end)),
            bytes: s,
            snippet: self.line_text(s.start),
        }
    }
}

/// The path into the document Access Analyzer gives: the members and indexes leading to the innermost
/// value that holds the span.
fn json_path(root: Option<&diag::json::Value>, start: usize, end: usize) -> Vec<PathElement> {
    let mut path = Vec::new();
    let mut at = root;
    let holds = |s: diag::Span| s.start <= start && end <= s.end;
    while let Some(v) = at {
        at = None;
        match &v.kind {
            diag::json::Kind::Object(members) => {
                for m in members {
                    // A member's name itself is a `key` step, as Access Analyzer writes it for a
                    // condition key.
                    if holds(m.key_span) {
                        path.push(PathElement::Key(m.key.clone()));
                        break;
                    }
                    if holds(m.value.span) {
                        path.push(PathElement::Value(m.key.clone()));
                        at = Some(&m.value);
                        break;
                    }
                }
            }
            diag::json::Kind::Array(items) => {
                // Items are in document order: the one holding the span is found by bisection, so a
                // finding on each of n items costs n log n, not n².
                let i = items.partition_point(|x| x.span.end < start);
                if let Some(item) = items.get(i).filter(|x| holds(x.span)) {
                    path.push(PathElement::Index(i));
                    at = Some(item);
                }
            }
            _ => {}
        }
    }
    path
}

/// Our codes that grant more than the policy seems to: security warnings.
const SECURITY: &[&str] = &[
    codes::COGNITO_TRUST_WITHOUT_AUD,
    codes::COGNITO_TRUST_WITHOUT_AMR,
    codes::COGNITO_GUEST_ASSUMES_ROLE,
    codes::IAM_FORALLVALUES_ABSENT_KEY,
];

/// Diagnostics of one text as findings.
pub(crate) fn findings(text: &str, diags: &[Diagnostic]) -> Vec<Finding> {
    let mut ignored = Vec::new();
    let tree = diag::json::read(text, &mut ignored);
    let positions = Positions::new(text);
    diags
        .iter()
        .map(|d| {
            let known = d
                .aws_code
                .and_then(|c| catalogue::lookup(c).map(|k| (c, k)));
            let (finding_type, issue_code, title, link) = match known {
                Some((c, k)) => (
                    k.finding_type,
                    c.to_string(),
                    k.title.clone(),
                    k.link.clone(),
                ),
                None => {
                    let ty = if d.is_error() {
                        FindingType::Error
                    } else if SECURITY.contains(&d.code) {
                        FindingType::SecurityWarning
                    } else {
                        FindingType::Warning
                    };
                    (ty, d.code.to_string(), d.code.to_string(), String::new())
                }
            };
            Finding {
                finding_type,
                issue_code,
                code: d.code,
                title,
                details: d.message.clone(),
                link,
                locations: std::iter::once(d.span)
                    .chain(
                        // Access Analyzer's extra locations, for the checks of this crate.
                        d.related
                            .iter()
                            .filter(|_| d.code == codes::LINT_CHECK)
                            .map(|(s, _)| *s),
                    )
                    .map(|s| positions.location(tree.as_ref(), s))
                    .collect(),
            }
        })
        .collect()
}
