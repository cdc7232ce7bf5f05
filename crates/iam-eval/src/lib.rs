//! Compiles IAM policies into an immutable [`PolicySet`] and evaluates requests against it the way AWS
//! documents: action and resource matching with wildcards and policy variables, `NotAction` /
//! `NotResource` / `NotPrincipal`, every condition operator with `IfExists` and the set qualifiers, and
//! the evaluation logic across identity, resource-based, boundary, session, SCP and RCP policies
//! ([`Authorizer`]).
//!
//! Compiling does all the work that can be done once: actions are indexed (evaluation cost does not grow
//! with the number of action patterns), condition keys are lower-cased, values are typed. Evaluating
//! borrows the request and allocates nothing; [`Outcome`] is `Copy` and names the deciding statement.
//!
//! ```
//! use authz_core::{Context, Decision, Layer, Request};
//! use iam_eval::PolicySet;
//! use iam_policy::Source;
//!
//! let src = Source::new("row-level.json", r#"{
//!   "Version": "2012-10-17",
//!   "Statement": [{
//!     "Effect": "Allow",
//!     "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
//!     "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
//!     "Condition": {"ForAllValues:StringEquals": {
//!       "dynamodb:LeadingKeys": ["${cognito-identity.amazonaws.com:sub}"]}}
//!   }]
//! }"#);
//! let doc = iam_policy::parse(&src).unwrap();
//! let set = PolicySet::compile(Layer::Identity, [doc]).unwrap();
//!
//! let mut ctx = Context::new();
//! ctx.insert("cognito-identity.amazonaws.com:sub", "us-east-1:1111");
//! ctx.insert_multi("dynamodb:LeadingKeys", ["us-east-1:1111"]);
//! let req = Request::new("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:123456789012:table/Notes").context(&ctx);
//! assert_eq!(set.evaluate(&req).decision, Decision::Allow);
//!
//! let mut other = ctx.clone();
//! other.insert_multi("dynamodb:LeadingKeys", ["us-east-1:2222"]);
//! let req = req.context(&other);
//! assert_eq!(set.evaluate(&req).decision, Decision::ImplicitDeny);
//! ```
//!
//! This crate never reads files, never parses JSON and never renders; `iam-policy` parses and
//! `policy-check` does I/O.

#![deny(missing_docs)]

//! Layout, one step per module: `compiled` (compiled statements and the matchers per element),
//! `principal` (principal matching and AWS's same-account grant kinds), `condition` (operators),
//! `matcher` (wildcards and variables), `set` (compiling and evaluating one layer), `authorizer` (the
//! logic across layers) and `explain` (the recorder that turns one evaluation into an explanation).

use std::collections::{HashMap as StdHashMap, HashSet as StdHashSet};

pub use authz_core::{
    Context, ContextValue, Decision, Layer, NoTrace, Outcome, Request, StatementRef, Step, Trace,
};

mod authorizer;
mod compiled;
mod condition;
mod explain;
mod matcher;
mod principal;
mod set;

pub use authorizer::{Authorizer, ResourceKind, is_role_assumption};

/// Matches `value` against an IAM wildcard pattern (`*`, `?`; no variables) with the evaluator's own
/// matcher and counts its comparison steps: `None` when the pattern is not a valid template. For tests and
/// benchmarks that prove matching is linear in the value (the matcher itself is private).
pub fn wildcard_match_steps(pattern: &str, value: &str) -> Option<(bool, u64)> {
    let t = iam_policy::grammar::template(
        pattern,
        iam_policy::grammar::TemplateMode {
            wildcards: true,
            variables: false,
        },
        Some(0),
        iam_policy::Span::new(0, pattern.len()),
    )
    .ok()?;
    let pieces = matcher::compile_pieces(&t);
    let mut steps = matcher::Steps::default();
    let matched = matcher::is_match_counted(&pieces, value, &Context::new(), &mut steps).ok()?;
    Some((matched, steps.0))
}
pub use explain::{
    ConditionCheck, Explanation, Recorder, StatementExplanation, StatementInfo, Verdict,
};
pub use principal::Grant;
pub use set::{LayerResult, PolicySet};

/// Maps on the hot path use foldhash: seeded (so keys from requests cannot be chosen to collide) and
/// several times faster than SipHash on short strings.
type HashMap<K, V> = StdHashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = StdHashSet<K, foldhash::fast::RandomState>;

/// A policy that cannot be compiled, located in its file (the template's, for a policy resolved out of
/// one) and coded: the grammar's own code for an action the grammar refuses, `eval::compile` otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{policy}:{line}:{column}: {message}")]
pub struct CompileError {
    /// The policy's source name (the file it was located in).
    pub policy: String,
    /// What is wrong.
    pub message: String,
    /// The code: the grammar's, or `eval::compile`.
    pub code: &'static str,
    /// Line of the statement or value concerned (1-based).
    pub line: usize,
    /// Column (1-based).
    pub column: usize,
}

impl diag::Coded for CompileError {
    fn code(&self) -> &'static str {
        self.code
    }
}

impl miette::Diagnostic for CompileError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
}
