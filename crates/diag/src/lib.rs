//! The diagnostic vocabulary every policy-check library shares: [`Source`] and [`Span`], one
//! [`Diagnostic`] type with a [`Severity`] and a stable code from the [`codes`] registry, rendering through
//! miette with a bounded snippet, the [`Coded`] trait that every library error implements, and the spanned
//! JSON reader ([`json`]) that locates every mistake in a document.
//!
//! ```
//! use diag::{codes, json, Source};
//!
//! let src = Source::new("pool.json", "{\"a\": 1,}");
//! let mut found = Vec::new();
//! let value = json::read(src.text(), &mut found);
//! assert!(value.is_some(), "the reader steps over a trailing comma");
//! assert_eq!(found[0].code, codes::JSON_TRAILING_COMMA);
//! assert_eq!(src.line_col(found[0].span.start), (1, 8));
//! assert!(codes::is_registered(found[0].code));
//! ```
//!
//! This crate depends only on miette.
#![deny(missing_docs)]

pub mod codes;
pub mod de;
mod diagnostic;
pub mod json;
mod source;

pub use diagnostic::{Diagnostic, Located, Severity, printable};
pub use source::{Origin, Source, Span, Spanned, locate};

/// An error with a registered code. Every library error implements it (and `miette::Diagnostic` with the
/// same code), so callers compare codes exactly instead of matching message text.
pub trait Coded {
    /// The registered code (a constant of [`codes`]).
    fn code(&self) -> &'static str;
    /// The AWS error this is answered with where AWS answers one (`ValidationException`,
    /// `NotAuthorizedException`, …).
    fn aws_code(&self) -> Option<&'static str> {
        None
    }
    /// Whether `want` names this error: its code or its AWS error name, compared exactly.
    fn is(&self, want: &str) -> bool {
        self.code() == want || self.aws_code() == Some(want)
    }
}
