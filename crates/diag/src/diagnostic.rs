//! Diagnostics: one type for every mistake the parser and validator find, rendered through miette.

use crate::codes;
use std::fmt;

use crate::source::{Source, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The document is rejected (and an evaluator refuses it: fail closed).
    Error,
    /// The document is accepted, but probably does not do what its author meant.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding about a policy document, located by a byte span.
///
/// Codes are stable strings such as `json::trailing-comma` or `iam::effect`; where IAM Access Analyzer has
/// a check for the same mistake, [`Diagnostic::aws_code`] names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// One line, lower case, no final period.
    pub message: String,
    /// Where the mistake is.
    pub span: Span,
    /// Text shown under the primary span.
    pub label: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The matching IAM Access Analyzer issue code, when there is one.
    pub aws_code: Option<&'static str>,
    /// Other places that explain this one (for example the first of two duplicate keys).
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A new error.
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
            aws_code: None,
            related: Vec::new(),
        }
    }
    /// A new warning.
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, span, message)
        }
    }
    /// Sets the label under the span.
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }
    /// Sets the hint.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// Names the Access Analyzer check.
    #[must_use]
    pub fn aws(mut self, code: &'static str) -> Self {
        self.aws_code = Some(code);
        self
    }
    /// Adds a related location.
    #[must_use]
    pub fn related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    /// Attaches the source so miette can render the diagnostic with a snippet.
    pub fn with_source<'a>(&'a self, source: &'a Source) -> Located<'a> {
        Located {
            diag: self,
            source,
            named: Snippet::new(source),
        }
    }

    /// Whether rendering should show no snippet at all: the document is too large or not text, so the
    /// one-line message says everything and nothing of the input is echoed.
    pub fn wants_one_line(&self, source: &Source) -> bool {
        matches!(self.code, codes::IAM_TOO_LARGE | codes::JSON_UTF8) || source.text().contains('\0')
    }
}

/// Longest run of one line shown around a span, in bytes; longer lines (a minified policy, a policy on
/// one line) are cut to a window around the span.
const SNIPPET_WINDOW: usize = 80;
/// Lines up to this length are shown whole.
const SNIPPET_LINE_MAX: usize = 240;

/// The source as miette reads it for snippets: bounded and safe to print. Lines longer than
/// [`SNIPPET_LINE_MAX`] are cut to about [`SNIPPET_WINDOW`] bytes either side of the span (the line and
/// column shown stay the real ones), and control characters and bidirectional overrides are replaced by
/// characters of the same UTF-8 length, so offsets still line up and nothing reaches the terminal raw.
#[derive(Debug)]
struct Snippet {
    name: String,
    text: std::sync::Arc<str>,
    source: Source,
}

impl Snippet {
    fn new(source: &Source) -> Self {
        let raw = source.text();
        let unsafe_char = |c: char| c != '\r' && is_unprintable(c);
        let text: std::sync::Arc<str> = if raw.chars().any(unsafe_char) {
            raw.chars()
                .map(|c| match (unsafe_char(c), c.len_utf8()) {
                    (false, _) => c,
                    (true, 1) => '?',
                    (true, 2) => '¿',
                    (true, _) => '\u{fffd}',
                })
                .collect::<String>()
                .into()
        } else {
            source.text_arc().clone()
        };
        Self {
            name: source.name().to_string(),
            text,
            source: source.clone(),
        }
    }

    fn floor(&self, mut i: usize) -> usize {
        i = i.min(self.text.len());
        while !self.text.is_char_boundary(i) {
            i -= 1;
        }
        i
    }

    fn ceil(&self, mut i: usize) -> usize {
        i = i.min(self.text.len());
        while !self.text.is_char_boundary(i) {
            i += 1;
        }
        i
    }
}

impl miette::SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let whole = self.text.read_span(span, before, after)?;
        let long_line = whole
            .data()
            .split(|b| *b == b'\n')
            .any(|l| l.len() > SNIPPET_LINE_MAX);
        if !long_line {
            return Ok(Box::new(miette::MietteSpanContents::new_named(
                self.name.clone(),
                whole.data(),
                *whole.span(),
                whole.line(),
                whole.column(),
                whole.line_count(),
            )));
        }
        // Cut the span's own line to a window around it.
        let start = self.floor(span.offset());
        let end = self.ceil(start + span.len().min(SNIPPET_WINDOW));
        let line_start = self
            .text
            .get(..start)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let line_end = self
            .text
            .get(end..)
            .and_then(|t| t.find('\n'))
            .map_or(self.text.len(), |i| end + i);
        let from = self.floor(start.saturating_sub(SNIPPET_WINDOW).max(line_start));
        let to = self.ceil((end + SNIPPET_WINDOW).min(line_end));
        let (line, column) = self.source.line_col(from);
        let data = self.text.as_bytes().get(from..to).unwrap_or_default();
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            data,
            miette::SourceSpan::new(from.into(), to - from),
            line - 1,
            column - 1,
            1,
        )))
    }
}

/// A diagnostic together with its source: implements [`miette::Diagnostic`] for rendering.
#[derive(Debug)]
pub struct Located<'a> {
    diag: &'a Diagnostic,
    source: &'a Source,
    named: Snippet,
}

impl Located<'_> {
    /// 1-based line and column of the primary span.
    pub fn line_col(&self) -> (usize, usize) {
        self.source.line_col(self.diag.span.start)
    }
    /// The diagnostic.
    pub fn diagnostic(&self) -> &Diagnostic {
        self.diag
    }
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&printable(&self.diag.message))
    }
}

/// Characters that must not reach a terminal raw: controls (but newline and tab) and bidirectional
/// overrides, which can hide or reorder what a reader sees.
fn is_unprintable(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with unprintable characters written as `\u{…}` escapes, for messages that quote the input.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unprintable) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unprintable(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

impl std::error::Error for Located<'_> {}

impl miette::Diagnostic for Located<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(printable(h).into_owned()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.named)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        // A related span far along the same long line cannot share the bounded snippet: name its
        // position in the primary label instead.
        let (pl, _) = self.source.line_col(self.diag.span.start);
        let mut label = self.diag.label.clone();
        let mut related = Vec::new();
        for (span, l) in &self.diag.related {
            let (rl, rc) = self.source.line_col(span.start);
            if rl == pl && span.start.abs_diff(self.diag.span.start) > SNIPPET_WINDOW {
                if !label.is_empty() {
                    label.push_str("; ");
                }
                label.push_str(&format!("{l} at {rl}:{rc}"));
            } else {
                related.push(miette::LabeledSpan::new_with_span(Some(l.clone()), *span));
            }
        }
        let primary = miette::LabeledSpan::new_primary_with_span(
            (!label.is_empty()).then(|| printable(&label).into_owned()),
            self.diag.span,
        );
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}
