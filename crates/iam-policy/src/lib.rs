//! IAM policy JSON → a syntax tree that keeps source positions, with every mistake explained.
//!
//! - [`parse`] reads one policy document. It finds all JSON mistakes it can step over (trailing commas,
//!   comments, unquoted keys, bad escapes, duplicate keys at any depth) and all content mistakes (unknown
//!   elements, `Effect` spelled `allow`, unknown condition operators, values that do not fit their
//!   operator, malformed `${…}` variables, bad ARNs) in one pass.
//! - [`validate`] adds the rules of one [`PolicyType`] (identity, resource, trust, boundary, SCP, RCP,
//!   session): which elements it requires or forbids.
//! - A [`PolicyDocument`] prints back to JSON with `Display`; parsing that output gives the same document.
//!
//! Every [`Diagnostic`] carries a byte span, a stable code, a message and a hint; [`Diagnostic::with_source`]
//! renders it through miette with a snippet.
//!
//! ```
//! use iam_policy::{parse, validate, PolicyType, Source, ValidateOptions};
//!
//! let src = Source::new("policy.json", r#"{
//!   "Version": "2012-10-17",
//!   "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
//!                  "Resource": "arn:aws:s3:::photos/${aws:username}/*"}]
//! }"#);
//! let doc = parse(&src).expect("valid policy");
//! assert_eq!(doc.statements.len(), 1);
//! assert!(validate(&doc, PolicyType::Identity, &ValidateOptions::default()).is_empty());
//!
//! let bad = Source::new("bad.json", r#"{"Version": "2012-10-17", "Statement": {"Effect": "allow",
//!   "Action": "s3:GetObject", "Resource": "*"}}"#);
//! let err = parse(&bad).unwrap_err();
//! let d = &err.diagnostics[0];
//! assert_eq!(d.code, "iam::effect");
//! assert_eq!(bad.line_col(d.span.start), (1, 51));
//! ```
//!
//! This crate does no I/O and no evaluation (that is `iam-eval`).
#![deny(missing_docs)]

pub mod ast;
pub mod catalog;
pub mod grammar;
mod parse;
mod print;
mod validate;
pub mod value;

pub use ast::*;
pub use diag::{Diagnostic, Located, Severity, Source, Span, Spanned, codes, json, printable};
pub use parse::{MAX_DOCUMENT_BYTES, parse_bytes, parse_node, parse_source};
pub use validate::{
    PARTITIONS, ParsePolicyTypeError, PolicyType, ValidateOptions, partition_of_region, validate,
};

/// A document that failed to parse: every diagnostic found (at least one error), with the source.
#[derive(Debug, Clone)]
pub struct ParseErrors {
    /// The source the diagnostics point into.
    pub source: Source,
    /// Errors and warnings, in document order of discovery.
    pub diagnostics: Vec<Diagnostic>,
}

impl std::fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors: Vec<&Diagnostic> = self.diagnostics.iter().filter(|d| d.is_error()).collect();
        match errors.first() {
            Some(d) => {
                let (l, c) = self.source.line_col(d.span.start);
                write!(f, "{}:{l}:{c}: {}", self.source.name(), d.message)?;
                if errors.len() > 1 {
                    write!(f, " (and {} more)", errors.len() - 1)?;
                }
                Ok(())
            }
            None => write!(f, "{}: invalid policy", self.source.name()),
        }
    }
}

impl std::error::Error for ParseErrors {}

impl diag::Coded for ParseErrors {
    /// The code of the first error.
    fn code(&self) -> &'static str {
        self.diagnostics
            .iter()
            .find(|d| d.is_error())
            .map_or(codes::JSON_UNEXPECTED, |d| d.code)
    }
}

impl miette::Diagnostic for ParseErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(diag::Coded::code(self)))
    }
}

/// Parses one policy document. Warnings are dropped on success; use [`parse_source`] to keep them.
pub fn parse(source: &Source) -> Result<PolicyDocument, ParseErrors> {
    let (doc, diagnostics) = parse_source(source);
    match doc {
        Some(d) if !diagnostics.iter().any(Diagnostic::is_error) => Ok(d),
        _ => Err(ParseErrors {
            source: source.clone(),
            diagnostics,
        }),
    }
}

/// The result of [`check`]: the document when it parsed, and all diagnostics of parsing and validation.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The source.
    pub source: Source,
    /// The document as far as it could be read (check [`Checked::has_errors`] before using it).
    pub document: Option<PolicyDocument>,
    /// Everything found, parse diagnostics first.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any error was found.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// [`check`] for an engine that is about to evaluate the policy: the findings for documents AWS stores
/// and evaluates anyway are warnings here, so the policy is decided as AWS decides it, not refused.
/// Today that is a `Version` that is not 2012-10-17 in an identity policy, boundary, session policy or
/// SCP (IAM's `CreatePolicy` refuses it for managed policies, but inline and older stored policies carry
/// it; `${…}` is then literal text, IAM User Guide, "Policy variables"). RCPs keep the error: Organizations requires 2012-10-17.
/// `validate` and `lint` keep the errors ([`check`]).
///
/// Only what changes the decision is checked: errors, and the warnings that say a request may be decided
/// otherwise than the author meant (an unknown condition key, a multivalued variable). The advice-only
/// warnings of [`validate`] (unknown actions, `ForAllValues:` without `Null`, …) are left to `validate`
/// and `lint`: an engine loading thousands of policies does not compute findings it never shows.
pub fn check_for_evaluation(name: &str, bytes: &[u8], ty: PolicyType) -> Checked {
    let (source, document, diagnostics) = parse_bytes(name, bytes);
    let mut c = Checked {
        source,
        document,
        diagnostics,
    };
    if let Some(doc) = &c.document {
        c.diagnostics.extend(validate::validate_with(
            doc,
            ty,
            &ValidateOptions::default(),
            validate::Advice::Skip,
        ));
    }
    for d in &mut c.diagnostics {
        if d.is_error() && evaluated_anyway(d.code, ty) {
            d.severity = diag::Severity::Warning;
        }
    }
    c
}

/// [`check_for_evaluation`] for a policy that is a node of a larger JSON file already read (see
/// [`parse_node`]): diagnostics are located in `src`, the whole file.
pub fn check_node_for_evaluation(
    src: &Source,
    node: &diag::json::Value,
    ty: PolicyType,
) -> Checked {
    let (document, mut diagnostics) = parse::parse_node(src, node);
    if let Some(doc) = &document {
        diagnostics.extend(validate::validate_with(
            doc,
            ty,
            &ValidateOptions::default(),
            validate::Advice::Skip,
        ));
    }
    for d in &mut diagnostics {
        if d.is_error() && evaluated_anyway(d.code, ty) {
            d.severity = diag::Severity::Warning;
        }
    }
    Checked {
        source: src.clone(),
        document,
        diagnostics,
    }
}

/// Whether AWS stores and evaluates a policy of type `ty` with a finding of `code`
/// ([`check_for_evaluation`]).
pub fn evaluated_anyway(code: &str, ty: PolicyType) -> bool {
    code == codes::IAM_VERSION_REQUIRED && ty != PolicyType::Rcp
}

/// Parses `bytes` (checking UTF-8) and validates the document as `ty`.
pub fn check(name: &str, bytes: &[u8], ty: PolicyType, opts: &ValidateOptions) -> Checked {
    let (source, document, mut diagnostics) = parse_bytes(name, bytes);
    if let Some(doc) = &document {
        diagnostics.extend(validate(doc, ty, opts));
    }
    Checked {
        source,
        document,
        diagnostics,
    }
}
