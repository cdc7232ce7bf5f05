//! The checks, as a table: each has a name, the Access Analyzer issue codes it can raise, and a function
//! run once per statement or once per document. [`run`] runs them all; `tests/checks.rs` runs each alone
//! against its triggering and non-triggering policy (`fixtures/lint/checks.json`).
//!
//! Every finding is a [`Diagnostic`] with the registered code `lint::check` and Access Analyzer's issue
//! code (`Diagnostic::aws`); `validate` (the grammar and the service reference) adds its own before these
//! run.

use diag::codes;
use iam_policy::catalog::glob;
use iam_policy::{Diagnostic, PolicyDocument, PolicyType, Statement};

use crate::ResourceType;

mod conditions;
mod federation;
mod grants;
mod keys;
mod principals;
mod quotas;
mod redundancy;

/// What every check sees.
pub(crate) struct Ctx<'a> {
    pub doc: &'a PolicyDocument,
    pub ty: PolicyType,
    pub text: &'a str,
    pub resource_type: Option<ResourceType>,
}

/// How a check runs.
#[derive(Clone, Copy)]
pub enum Run {
    /// Once per statement.
    Statement(fn(&Statement, &Ctx, &mut Vec<Diagnostic>)),
    /// Once per document.
    Document(fn(&Ctx, &mut Vec<Diagnostic>)),
}

/// One named check.
#[derive(Clone, Copy)]
pub struct Check {
    /// Its name (kebab case), for `--ignore`-like selection and for tests.
    pub name: &'static str,
    /// The Access Analyzer issue codes it raises.
    pub codes: &'static [&'static str],
    pub(crate) run: Run,
}

macro_rules! stmt {
    ($name:literal, $f:path, [$($code:literal),* $(,)?]) => {
        Check { name: $name, codes: &[$($code),*], run: Run::Statement($f) }
    };
}
macro_rules! doc {
    ($name:literal, $f:path, [$($code:literal),* $(,)?]) => {
        Check { name: $name, codes: &[$($code),*], run: Run::Document($f) }
    };
}

/// Every check `lint` adds to `validate`, in the order they run.
pub const CHECKS: &[Check] = &[
    stmt!(
        "pass-role",
        grants::pass_role,
        [
            "PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE",
            "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
            "PASS_ROLE_WITH_NOT_RESOURCE",
            "PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
            "PASS_ROLE_WITH_STAR_IN_RESOURCE",
            "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
        ]
    ),
    stmt!(
        "create-service-linked-role",
        grants::create_slr,
        [
            "CREATE_SLR_WITH_NOT_ACTION_AND_NOT_RESOURCE",
            "CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
            "CREATE_SLR_WITH_NOT_RESOURCE",
            "CREATE_SLR_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
            "CREATE_SLR_WITH_STAR_IN_RESOURCE",
            "CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE",
        ]
    ),
    stmt!(
        "empty-condition",
        grants::empty_condition,
        ["EMPTY_OBJECT_CONDITION"]
    ),
    stmt!("empty-sid", grants::empty_sid, ["EMPTY_SID_VALUE"]),
    stmt!(
        "like-operator-on-arn-key",
        keys::like_on_arn_key,
        ["STRING_LIKE_OPERATOR_WITH_ARN_CONDITION_KEYS"]
    ),
    stmt!(
        "equivalent-to-null-false",
        keys::null_false,
        ["EQUIVALENT_TO_NULL_FALSE"]
    ),
    stmt!("type-mismatch", keys::type_mismatch, ["TYPE_MISMATCH"]),
    stmt!(
        "private-source-ip",
        keys::private_source_ip,
        [
            "PRIVATE_IP_ADDRESS",
            "PRIVATE_NOT_IP_ADDRESS",
            "PRIVATE_IP_ADDRESS_SUBSET",
            "PRIVATE_NOT_IP_ADDRESS_SUBSET",
        ]
    ),
    stmt!(
        "redundant-numeric-value",
        keys::redundant_numeric,
        ["REDUNDANT_CONDITION_VALUE_NUM"]
    ),
    stmt!(
        "deprecated-key",
        keys::deprecated_key,
        ["DEPRECATED_GLOBAL_CONDITION_KEY"]
    ),
    stmt!(
        "service-principal-without-source",
        grants::service_principal_source,
        ["RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL"]
    ),
    stmt!(
        "oidc-without-condition",
        grants::oidc_without_condition,
        ["MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL"]
    ),
    stmt!(
        "redundant-action",
        redundancy::actions,
        ["REDUNDANT_ACTION"]
    ),
    stmt!(
        "redundant-resource",
        redundancy::resources,
        ["REDUNDANT_RESOURCE"]
    ),
    doc!(
        "redundant-statement",
        redundancy::statements,
        ["REDUNDANT_STATEMENT"]
    ),
    stmt!(
        "invalid-partition",
        quotas::partition,
        ["INVALID_PARTITION"]
    ),
    doc!(
        "size-quota",
        quotas::size,
        [
            "POLICY_SIZE_EXCEEDS_SCP_QUOTA",
            "POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA",
            "POLICY_SIZE_EXCEEDS_ROLE_TRUST_POLICY_QUOTA",
        ]
    ),
    stmt!(
        "resource-type-actions",
        quotas::resource_type_actions,
        ["UNSUPPORTED_ACTION_IN_POLICY"]
    ),
    stmt!(
        "resource-type-arns",
        quotas::resource_type_arns,
        ["UNSUPPORTED_RESOURCE_ARN_IN_POLICY"]
    ),
    stmt!(
        "resource-type-keys",
        quotas::resource_type_keys,
        ["IRRELEVANT_CONDITION_KEY_IN_POLICY"]
    ),
    doc!(
        "resource-type-size",
        quotas::resource_type_size,
        ["POLICY_SIZE_EXCEEDS_RESOURCE_POLICY_QUOTA"]
    ),
    stmt!(
        "federated-principal",
        federation::federated,
        [
            "FEDERATED_PRINCIPAL_NOT_SUPPORTED",
            "INVALID_FEDERATED_PRINCIPAL_SYNTAX_IN_ROLE_TRUST_POLICY",
            "ROLE_TRUST_POLICY_UNSUPPORTED_WILDCARD_IN_PRINCIPAL",
        ]
    ),
    stmt!(
        "trust-actions",
        federation::trust_actions,
        [
            "CONFIRM_AUDIENCE_CLAIM_TYPE",
            "MISMATCHED_ACTION_FOR_PRINCIPAL",
            "MISSING_ACTION_FOR_CONDITION_KEY",
            "MISSING_ACTION_FOR_ROLES_ANYWHERE_TRUST_POLICY",
        ]
    ),
    stmt!(
        "github-oidc",
        federation::github,
        [
            "MISSING_GITHUB_REPO_CONDITION_KEY",
            "SPECIFIC_GITHUB_REPO_AND_BRANCH_RECOMMENDED"
        ]
    ),
    stmt!(
        "principal-ids-and-sessions",
        principals::ids_and_sessions,
        [
            "INVALID_ROLE_REFERENCE",
            "INVALID_USER_REFERENCE",
            "REDUNDANT_PRINCIPAL_IN_ROLE_TRUST_POLICY",
        ]
    ),
    stmt!(
        "service-principals",
        principals::service_principals,
        [
            "INVALID_SERVICE_PRINCIPAL_FORMAT",
            "RECOMMENDED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL",
            "UNSUPPORTED_CONDITION_KEY_FOR_SERVICE_PRINCIPAL",
        ]
    ),
    stmt!(
        "duplicate-keys-with-different-case",
        conditions::blocks,
        ["DUPLICATE_KEYS_WITH_DIFFERENT_CASE"]
    ),
    stmt!(
        "condition-values",
        conditions::values,
        [
            "INVALID_CONDITION_DATA_TYPE",
            "INVALID_CONDITION_KEY_FORMAT",
            "INVALID_DATE_VALUE",
            "INVALID_REGION",
            "INVALID_VPCE_FORMAT",
            "INVALID_VPC_FORMAT",
            "MISSING_TAG_KEY_IN_CONDITION",
        ]
    ),
    stmt!(
        "paired-keys",
        conditions::paired,
        ["MISSING_PAIRED_CONDITION_KEYS"]
    ),
    stmt!(
        "tag-keys",
        conditions::tags,
        [
            "ALLOW_NOTACTION_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
            "ALLOW_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
            "DENY_NOTACTION_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
            "DENY_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
        ]
    ),
];

/// Runs every check of [`CHECKS`] on a document.
pub(crate) fn run(cx: &Ctx, out: &mut Vec<Diagnostic>) {
    for c in CHECKS {
        run_one(c, cx, out);
    }
}

/// Runs one check.
pub(crate) fn run_one(c: &Check, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    match c.run {
        Run::Statement(f) => {
            for s in &cx.doc.statements {
                f(s, cx, out);
            }
        }
        Run::Document(f) => f(cx, out),
    }
}

pub(crate) fn finding(
    aws: &'static str,
    span: diag::Span,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::warning(codes::LINT_CHECK, span, message).aws(aws)
}

/// How a statement's `Action` / `NotAction` reaches an action: named, by a wildcard, or not at all.
#[derive(PartialEq, Eq)]
pub(crate) enum Reach {
    Named,
    Wildcard,
    Excluded,
}

pub(crate) fn reach(s: &Statement, action: &str) -> Reach {
    let Some(a) = &s.action else {
        return Reach::Excluded;
    };
    let (service, name) = action.split_once(':').unwrap_or(("", action));
    let matches = |p: &iam_policy::ActionPattern| match &p.service {
        None => true,
        Some(svc) => glob(svc, service) && glob(&p.action, name),
    };
    if a.negated {
        // NotAction reaches every action it does not list.
        return if a.items.iter().any(matches) {
            Reach::Excluded
        } else {
            Reach::Wildcard
        };
    }
    if a.items
        .iter()
        .any(|p| p.service.as_deref() == Some(service) && p.action == name)
    {
        Reach::Named
    } else if a.items.iter().any(matches) {
        Reach::Wildcard
    } else {
        Reach::Excluded
    }
}

/// A finding at several places: the first in document order is its own, the rest Access Analyzer's
/// further locations.
pub(crate) fn finding_at(
    aws: &'static str,
    mut spans: Vec<diag::Span>,
    message: impl Into<String>,
) -> Diagnostic {
    spans.sort_by_key(|s| s.start);
    let mut d = finding(aws, spans.first().copied().unwrap_or_default(), message);
    for s in spans.into_iter().skip(1) {
        d = d.related(s, "also here");
    }
    d
}
