//! Diagnostics: one type for every mistake the parser and validator find, rendered through miette.

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
        let named = miette::NamedSource::new(source.name(), source.text_arc().clone());
        Located {
            diag: self,
            source,
            named,
        }
    }
}

/// A diagnostic together with its source: implements [`miette::Diagnostic`] for rendering.
#[derive(Debug)]
pub struct Located<'a> {
    diag: &'a Diagnostic,
    source: &'a Source,
    named: miette::NamedSource<std::sync::Arc<str>>,
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
        f.write_str(&self.diag.message)
    }
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
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.named)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let primary = miette::LabeledSpan::new_primary_with_span(
            (!self.diag.label.is_empty()).then(|| self.diag.label.clone()),
            self.diag.span,
        );
        let related = self
            .diag
            .related
            .iter()
            .map(|(s, l)| miette::LabeledSpan::new_with_span(Some(l.clone()), *s));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}
