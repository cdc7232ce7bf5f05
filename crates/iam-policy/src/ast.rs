//! The syntax tree of a policy document: named for what users write, every node with its span.

use crate::value::{Decimal, Instant};
use diag::{Source, Span, Spanned};

/// The policy language version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17` (also the meaning of an absent `Version`): `${…}` is literal text.
    V2008_10_17,
}

impl Version {
    /// The text written in `Version`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::V2012_10_17 => "2012-10-17",
            Version::V2008_10_17 => "2008-10-17",
        }
    }
}

/// A parsed policy document.
#[derive(Clone, Debug)]
pub struct PolicyDocument {
    /// Where it came from.
    pub source: Source,
    /// `Version`, if written.
    pub version: Option<Spanned<Version>>,
    /// `Id`, if written.
    pub id: Option<Spanned<String>>,
    /// The statements, in order.
    pub statements: Vec<Statement>,
    /// Whether `Statement` was written as an array (printing keeps the form).
    pub statement_array: bool,
    /// The whole document object.
    pub span: Span,
}

impl PartialEq for PolicyDocument {
    fn eq(&self, o: &Self) -> bool {
        self.version == o.version
            && self.id == o.id
            && self.statements == o.statements
            && self.statement_array == o.statement_array
    }
}

impl PolicyDocument {
    /// Whether the text reads as a role trust policy: every statement names only `sts:` actions (in
    /// `Action` or `NotAction`) and none has a resource element (IAM refuses `Resource` in a trust
    /// policy). A policy's type comes from where it is attached; this is only the guess for a policy
    /// given without one.
    pub fn looks_like_trust(&self) -> bool {
        !self.statements.is_empty()
            && self.statements.iter().all(|s| {
                s.resource.is_none()
                    && s.action.as_ref().is_some_and(|a| {
                        a.items.iter().all(|i| i.service.as_deref() == Some("sts"))
                    })
            })
    }

    /// The effective language version (absent means 2008-10-17).
    pub fn effective_version(&self) -> Version {
        self.version
            .as_ref()
            .map_or(Version::V2008_10_17, |v| v.value)
    }
    /// Whether `${…}` are policy variables in this document.
    pub fn substitutes_variables(&self) -> bool {
        self.effective_version() == Version::V2012_10_17
    }
}

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `Allow`
    Allow,
    /// `Deny`
    Deny,
}

impl Effect {
    /// The text written.
    pub const fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// One statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// `Sid`, if written.
    pub sid: Option<Spanned<String>>,
    /// `Effect`.
    pub effect: Spanned<Effect>,
    /// `Principal` or `NotPrincipal`.
    pub principal: Option<PrincipalBlock>,
    /// `Action` or `NotAction`.
    pub action: Option<ActionBlock>,
    /// `Resource` or `NotResource`.
    pub resource: Option<ResourceBlock>,
    /// The condition entries, one per operator and key, in written order.
    pub conditions: Vec<Condition>,
    /// Whether a `Condition` element was written (it may be `{}`).
    pub has_condition_element: bool,
    /// The statement object.
    pub span: Span,
}

/// `Action` / `NotAction`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionBlock {
    /// `true` for `NotAction`.
    pub negated: bool,
    /// The patterns.
    pub items: Vec<ActionPattern>,
    /// Written as an array.
    pub array: bool,
    /// The element's value.
    pub span: Span,
}

/// One action pattern such as `s3:Get*` or `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionPattern {
    /// As written.
    pub raw: String,
    /// Service prefix in lower case; `None` for the bare `*`.
    pub service: Option<String>,
    /// Action name pattern in lower case (`*` and `?` are wildcards).
    pub action: String,
    /// Where it was written.
    pub span: Span,
}

/// `Resource` / `NotResource`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceBlock {
    /// `true` for `NotResource`.
    pub negated: bool,
    /// The patterns.
    pub items: Vec<ResourcePattern>,
    /// Written as an array.
    pub array: bool,
    /// The element's value.
    pub span: Span,
}

/// One resource pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePattern {
    /// As written.
    pub raw: String,
    /// What it means.
    pub kind: ResourceKind,
    /// Where it was written.
    pub span: Span,
}

/// The forms of resource pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    /// `*`: every resource.
    Any,
    /// An ARN pattern.
    Arn(ArnPattern),
}

/// An ARN pattern split at its first five colons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArnPattern {
    /// Partition, service, region, account and resource, as far as written. Only the resource part may
    /// hold variables.
    pub segments: Vec<Template>,
    /// Fewer than six segments and the last ends in `*`: that `*` also matches the following colons
    /// (`arn:aws:sqs:*`).
    pub open_ended: bool,
}

/// Text with wildcards and policy variables, as a sequence of pieces.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Template {
    /// The pieces in order.
    pub pieces: Vec<Piece>,
}

impl Template {
    /// Whether the template is plain text (no wildcard, no variable).
    pub fn as_literal(&self) -> Option<String> {
        self.literal().map(std::borrow::Cow::into_owned)
    }
    /// [`Template::as_literal`], borrowed when the text is one piece (nearly always).
    pub fn literal(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self.pieces.as_slice() {
            [] => Some(std::borrow::Cow::Borrowed("")),
            [Piece::Literal(l)] => Some(std::borrow::Cow::Borrowed(l.as_str())),
            pieces => {
                let mut s = String::new();
                for p in pieces {
                    match p {
                        Piece::Literal(l) => s.push_str(l),
                        _ => return None,
                    }
                }
                Some(std::borrow::Cow::Owned(s))
            }
        }
    }
    /// Whether any piece is a policy variable.
    pub fn has_variables(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Var(_)))
    }
    /// The variables in order.
    pub fn variables(&self) -> impl Iterator<Item = &PolicyVariable> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var(v) => Some(v),
            _ => None,
        })
    }
}

/// One piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Literal text (this includes `${*}`, `${?}`, `${$}`, which stand for a literal character).
    Literal(String),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    Question,
    /// `${key}` or `${key, 'default'}`.
    Var(PolicyVariable),
}

/// A policy variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVariable {
    /// The key as written (`aws:username`).
    pub key: String,
    /// The default value after `, '…'`.
    pub default: Option<String>,
    /// Where `${…}` was written (when it could be located).
    pub span: Span,
}

/// `Principal` / `NotPrincipal`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalBlock {
    /// `true` for `NotPrincipal`.
    pub negated: bool,
    /// The principals.
    pub value: PrincipalValue,
    /// The element's value.
    pub span: Span,
}

/// The value of a principal element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrincipalValue {
    /// `"*"`.
    Any,
    /// `{"AWS": …, "Service": …}` in written order.
    Map(Vec<PrincipalEntry>),
}

/// The kinds of principal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// `AWS`
    Aws,
    /// `Service`
    Service,
    /// `Federated`
    Federated,
    /// `CanonicalUser`
    CanonicalUser,
}

impl PrincipalKind {
    /// The key written.
    pub const fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }
}

/// One `kind: value(s)` entry of a principal map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalEntry {
    /// `AWS`, `Service`, …
    pub kind: PrincipalKind,
    /// The values.
    pub values: Vec<Spanned<String>>,
    /// Written as an array.
    pub array: bool,
}

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// `ForAllValues:`
    ForAllValues,
    /// `ForAnyValue:`
    ForAnyValue,
}

/// The base condition operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[expect(missing_docs, reason = "the names are the operators AWS documents")]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// Operator families: what a value must parse as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[expect(missing_docs, reason = "one per family in the IAM docs")]
pub enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

impl BaseOperator {
    /// All base operators.
    pub const ALL: [BaseOperator; 27] = {
        use BaseOperator::*;
        [
            StringEquals,
            StringNotEquals,
            StringEqualsIgnoreCase,
            StringNotEqualsIgnoreCase,
            StringLike,
            StringNotLike,
            NumericEquals,
            NumericNotEquals,
            NumericLessThan,
            NumericLessThanEquals,
            NumericGreaterThan,
            NumericGreaterThanEquals,
            DateEquals,
            DateNotEquals,
            DateLessThan,
            DateLessThanEquals,
            DateGreaterThan,
            DateGreaterThanEquals,
            Bool,
            BinaryEquals,
            IpAddress,
            NotIpAddress,
            ArnEquals,
            ArnLike,
            ArnNotEquals,
            ArnNotLike,
            Null,
        ]
    };

    /// The operator's name.
    pub const fn as_str(self) -> &'static str {
        use BaseOperator::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// The family, which fixes how values are parsed and compared.
    pub const fn family(self) -> Family {
        use BaseOperator::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => Family::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }

    /// Negated operators: the request value must match none of the policy values, and a missing key
    /// makes them true.
    pub const fn is_negated(self) -> bool {
        use BaseOperator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// A full condition operator: `[ForAllValues:|ForAnyValue:]Base[IfExists]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConditionOperator {
    /// The set qualifier.
    pub qualifier: Option<Qualifier>,
    /// The base operator.
    pub base: BaseOperator,
    /// `…IfExists`.
    pub if_exists: bool,
}

impl std::fmt::Display for ConditionOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.qualifier {
            Some(Qualifier::ForAllValues) => f.write_str("ForAllValues:")?,
            Some(Qualifier::ForAnyValue) => f.write_str("ForAnyValue:")?,
            None => {}
        }
        f.write_str(self.base.as_str())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

/// One condition test: an operator, a key, and the values (OR-ed; NOR-ed for negated operators).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The operator.
    pub operator: Spanned<ConditionOperator>,
    /// The context key as written (names are case-insensitive).
    pub key: Spanned<String>,
    /// The values.
    pub values: Vec<ConditionValue>,
    /// Written as an array.
    pub array: bool,
}

/// A condition value as written and as typed by its operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionValue {
    /// The JSON scalar as written.
    pub raw: RawScalar,
    /// The value typed by the operator's family.
    pub typed: TypedValue,
    /// Where it was written.
    pub span: Span,
}

/// A JSON scalar as written in a condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawScalar {
    /// A JSON string.
    String(String),
    /// A JSON number, as written.
    Number(String),
    /// A JSON boolean.
    Bool(bool),
}

impl RawScalar {
    /// The literal text (`10`, `true`, or the string).
    pub fn text(&self) -> &str {
        match self {
            RawScalar::String(s) | RawScalar::Number(s) => s,
            RawScalar::Bool(true) => "true",
            RawScalar::Bool(false) => "false",
        }
    }
}

/// A condition value parsed for its operator family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypedValue {
    /// String operators (wildcards only for the `Like` forms).
    String(Template),
    /// Numeric operators.
    Number(Decimal),
    /// Date operators.
    Date(Instant),
    /// `Bool`: a literal, or a template with variables (substituted, then read as a boolean).
    Bool(BoolValue),
    /// `BinaryEquals`: the decoded bytes.
    Binary(Vec<u8>),
    /// `IpAddress` / `NotIpAddress`.
    Ip(ipnet::IpNet),
    /// ARN operators: six colon-separated parts, each a template.
    Arn(Vec<Template>),
    /// `Null`: `true` means "the key must be absent".
    Null(bool),
    /// The value did not parse; an error was reported.
    Invalid,
}

/// A `Bool` policy value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoolValue {
    /// `true` / `false`.
    Literal(bool),
    /// Text with a policy variable.
    Template(Template),
}
