//! The suite format as types: the suite object and each kind of case, decoded from the suite's spanned
//! tree by `diag::de` (one read of the file), every object with `deny_unknown_fields`. A misspelt field,
//! a value of the wrong type or a missing `cases` is a `json::shape` error at the key or value concerned
//! (file:line:column and a snippet), and the field names are written once, here.
//!
//! Policies (`identity`, `resource`, `trust`, `boundaries`, `scps`, `rcps`, `session`) are only checked
//! for their shape here ([`PolicyArg`]): they are built from their spanned nodes, so that inline documents
//! are located on the suite's own lines.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// `NAME: value` pairs (`parameters`, `physical_ids`, `import_values`, `env`, `identity_ids`).
pub(crate) type Pairs = BTreeMap<String, String>;

/// A policy key's value: a path, an inline document, or a list of those (for `scps` and `rcps`, a list of
/// such lists: one per level). Its shape is checked here; the policies are read from its node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolicyArg;

impl<'de> Deserialize<'de> for PolicyArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PolicyArg;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a policy: a path, an inline document, or a list of those")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<PolicyArg, E> {
                Ok(PolicyArg)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<PolicyArg, A::Error> {
                // The document is read from its node; its members are not walked twice.
                while m.next_key::<de::IgnoredAny>()?.is_some() {
                    m.next_value::<de::IgnoredAny>()?;
                }
                Ok(PolicyArg)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<PolicyArg, A::Error> {
                while s.next_element::<PolicyArg>()?.is_some() {}
                Ok(PolicyArg)
            }
        }
        d.deserialize_any(V)
    }
}

/// What an object-or-path field says it expects.
pub(crate) trait Expecting {
    /// For serde's "invalid type: …, expected …".
    const EXPECTING: &'static str;
}

/// A path (a string), or an object of type `T`.
#[derive(Debug, Clone)]
pub(crate) enum PathOr<T> {
    /// A path, relative to the suite.
    Path(String),
    /// The object.
    Object(T),
}

impl<'de, T: Deserialize<'de> + Expecting> Deserialize<'de> for PathOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Expecting> Visitor<'de> for V<T> {
            type Value = PathOr<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::EXPECTING)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<PathOr<T>, E> {
                Ok(PathOr::Path(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<PathOr<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(m)).map(PathOr::Object)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The suite object.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuiteDef {
    /// For the reader (a string: checked, not used).
    #[serde(rename = "name")]
    _name: Option<String>,
    /// For the reader.
    #[serde(rename = "description")]
    _description: Option<String>,
    /// The cases, each decoded from its node by its kind ([`CaseDef::decode`]).
    #[serde(rename = "cases")]
    _cases: Vec<de::IgnoredAny>,
    /// A pool configuration, or a template's pool.
    pub identity_pool: Option<PathOr<PoolPart>>,
    /// How tokens of identity-pool cases are verified.
    pub token_verifier: Option<TokenVerifierDef>,
    /// A store directory, or a template's store.
    pub cedar_store: Option<PathOr<StorePart>>,
    /// The API, authorizer and cache of API Gateway cases.
    pub apigw: Option<ApigwDef>,
    /// The template every template-reading part inherits.
    pub template: Option<PathOr<TemplateDef>>,
    /// A template role's, user's or group's identity policies, for every IAM case.
    pub identity_of: Option<String>,
    /// A template resource's resource-side policy, for every IAM case.
    pub resource_of: Option<String>,
    /// Policies shared by the IAM cases that give none of their own.
    pub identity: Option<PolicyArg>,
    /// A resource-based policy.
    pub resource: Option<PolicyArg>,
    /// A role trust policy (the resource-side policy, declared as one).
    pub trust: Option<PolicyArg>,
    /// Permissions boundaries.
    pub boundaries: Option<PolicyArg>,
    /// SCPs, by level.
    pub scps: Option<PolicyArg>,
    /// RCPs, by level.
    pub rcps: Option<PolicyArg>,
    /// Session policies.
    pub session: Option<PolicyArg>,
}

/// The suite-level `template`: `{"file", "parameters", "physical_ids", "import_values"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemplateDef {
    pub file: String,
    #[serde(default)]
    pub parameters: Pairs,
    #[serde(default)]
    pub physical_ids: Pairs,
    #[serde(default)]
    pub import_values: Pairs,
}

impl Expecting for TemplateDef {
    const EXPECTING: &'static str =
        "a template's path, or {\"file\", \"parameters\", \"physical_ids\", \"import_values\"}";
}

/// An `identity_pool` read from a template: `{"template", "logical_id", "parameters", "physical_ids",
/// "identity_ids"}` (`template`, `parameters` and `physical_ids` default to the suite-level `template`'s).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PoolPart {
    /// The template (else the suite-level one).
    pub template: Option<String>,
    /// The pool's logical id.
    pub logical_id: String,
    #[serde(default)]
    pub parameters: Pairs,
    #[serde(default)]
    pub physical_ids: Pairs,
    /// Identity ids by `sub`.
    #[serde(default)]
    pub identity_ids: Pairs,
}

impl Expecting for PoolPart {
    const EXPECTING: &'static str = "a pool configuration's path, or {\"template\", \"logical_id\", \"parameters\", \"physical_ids\", \"identity_ids\"}";
}

/// A `cedar_store` read from a template: `{"template", "logical_id", "jwks", "parameters",
/// "physical_ids"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StorePart {
    /// The template (else the suite-level one).
    pub template: Option<String>,
    /// The store's logical id.
    pub logical_id: String,
    /// The keys tokens are verified with, relative to the suite.
    pub jwks: Option<String>,
    #[serde(default)]
    pub parameters: Pairs,
    #[serde(default)]
    pub physical_ids: Pairs,
}

impl Expecting for StorePart {
    const EXPECTING: &'static str = "a store directory, or {\"template\", \"logical_id\", \"jwks\", \"parameters\", \"physical_ids\"}";
}

/// The suite's `token_verifier`: `{"jwks", "user_pool_id" | "issuer", "client_id"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenVerifierDef {
    pub jwks: String,
    pub user_pool_id: Option<String>,
    pub issuer: Option<String>,
    pub client_id: String,
}

impl TokenVerifierDef {
    /// `(jwks, user pool id or issuer, client id)`.
    pub(crate) fn parts(&self) -> (&str, &str, &str) {
        (
            &self.jwks,
            self.user_pool_id
                .as_deref()
                .or(self.issuer.as_deref())
                .unwrap_or(""),
            &self.client_id,
        )
    }
}

/// The suite's `apigw`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApigwDef {
    /// The API definition's path, or its logical id in `template`.
    pub api: Option<String>,
    pub template: Option<String>,
    #[serde(default)]
    pub physical_ids: Pairs,
    /// The account of the API's ARNs.
    pub account: Option<String>,
    /// The authorizer: exactly one of `groups`, `policy`, `function`, `output`.
    pub groups: Option<String>,
    pub policy: Option<String>,
    pub function: Option<FunctionDef>,
    pub output: Option<String>,
    pub token_verifier: Option<ApigwVerifierDef>,
    /// 401 or 403.
    pub invalid_token: Option<u16>,
}

/// `apigw.function`: `{"command" | "handler", "env", "timeout"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FunctionDef {
    pub command: Option<String>,
    pub handler: Option<String>,
    #[serde(default)]
    pub env: Pairs,
    pub timeout: Option<u64>,
}

/// `apigw.token_verifier`: `{"jwks", "user_pool_id", "client_id", "token_use"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApigwVerifierDef {
    pub jwks: String,
    pub user_pool_id: String,
    pub client_id: String,
    pub token_use: Option<String>,
}

/// What every kind of case may say.
macro_rules! case_struct {
    ($(#[$m:meta])* $name:ident $(<$lt:lifetime>)? { $($(#[$fm:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name $(<$lt>)? {
            /// Shown in reports.
            pub name: Option<String>,
            /// For the reader (a string: checked, not used).
            #[serde(rename = "description")]
            _description: Option<String>,
            $($(#[$fm])* pub $field: $ty,)*
        }
    };
}

case_struct!(
    /// An IAM case: a request against policies (its own, else the suite's).
    IamCase<'a> {
        #[serde(borrow)]
        request: Option<crate::input::RequestDef<'a>>,
        property: Option<PropertyDef>,
        expect: Option<String>,
        sid: Option<String>,
        expect_error: Option<String>,
        identity_of: Option<String>,
        resource_of: Option<String>,
        identity: Option<PolicyArg>,
        resource: Option<PolicyArg>,
        trust: Option<PolicyArg>,
        boundaries: Option<PolicyArg>,
        scps: Option<PolicyArg>,
        rcps: Option<PolicyArg>,
        session: Option<PolicyArg>,
    }
);

case_struct!(
    /// An identity-pool case: claims, a token or a guest through the suite's pool.
    PoolCase<'a> {
        #[serde(borrow)]
        request: Option<crate::input::RequestDef<'a>>,
        expect: Option<String>,
        sid: Option<String>,
        expect_error: Option<String>,
        claims: Option<Value>,
        token: Option<String>,
        guest: Option<bool>,
        custom_role_arn: Option<String>,
        basic_flow_role: Option<String>,
        role: Option<String>,
        now: Option<i64>,
    }
);

case_struct!(
    /// A Cedar case: a Verified Permissions request against a store.
    CedarCase {
        expect: Option<String>,
        expect_error: Option<String>,
        cedar_store: Option<PathOr<StorePart>>,
        avp_request: Value,
        identity_claims: Option<serde_json::Map<String, Value>>,
        access_claims: Option<serde_json::Map<String, Value>>,
        determining: Option<Vec<String>>,
        now: Option<i64>,
    }
);

case_struct!(
    /// An API Gateway case: an HTTP request through the suite's API.
    ApigwCase {
        http_request: crate::gateway::HttpRequestDef,
        now: Option<i64>,
        expect_status: Option<u16>,
        sid: Option<String>,
        cache_hit: Option<bool>,
        function_called: Option<bool>,
        context: Option<serde_json::Map<String, Value>>,
        reason: Option<String>,
    }
);

/// A property case's `property`: `{"action" | "not_action", "resource" | "not_resource", "where"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PropertyDef {
    pub action: Option<Value>,
    pub not_action: Option<Value>,
    pub resource: Option<Value>,
    pub not_resource: Option<Value>,
    #[serde(rename = "where")]
    pub condition: Option<Value>,
}

/// Whether an object states any policy, or names template resources for them.
macro_rules! has_policies {
    ($t:ty) => {
        impl $t {
            /// Whether it gives any policy (`identity`, …, `session`) or `identity_of`/`resource_of`.
            pub(crate) fn has_policies(&self) -> bool {
                self.identity.is_some()
                    || self.resource.is_some()
                    || self.trust.is_some()
                    || self.boundaries.is_some()
                    || self.scps.is_some()
                    || self.rcps.is_some()
                    || self.session.is_some()
                    || self.identity_of.is_some()
                    || self.resource_of.is_some()
            }
        }
    };
}
has_policies!(SuiteDef);
has_policies!(IamCase<'_>);

/// One case, decoded by its kind: an `http_request` makes it an API Gateway case, an `avp_request` a
/// Cedar case, `claims`/`token`/`guest` an identity-pool case; anything else is an IAM case.
#[derive(Debug)]
pub(crate) enum CaseDef<'a> {
    Iam(Box<IamCase<'a>>),
    Pool(Box<PoolCase<'a>>),
    Cedar(Box<CedarCase>),
    Apigw(Box<ApigwCase>),
}

impl<'a> CaseDef<'a> {
    /// Decodes the case at `node` (its strings borrowed from it where they can be): `Err((span,
    /// message))` names the kind it was read as.
    pub(crate) fn decode(node: &'a diag::json::Value) -> Result<Self, (diag::Span, String)> {
        let has = |k: &str| super::fields::member(Some(node), k).is_some();
        let (kind, r) = if has("http_request") {
            (
                "an API Gateway case",
                diag::de::from_value(node).map(|c| CaseDef::Apigw(Box::new(c))),
            )
        } else if has("avp_request") {
            (
                "a Cedar case",
                diag::de::from_value(node).map(|c| CaseDef::Cedar(Box::new(c))),
            )
        } else if has("claims") || has("token") || has("guest") {
            (
                "an identity-pool case",
                diag::de::from_value(node).map(|c| CaseDef::Pool(Box::new(c))),
            )
        } else {
            (
                "an IAM case",
                diag::de::from_value(node).map(|c| CaseDef::Iam(Box::new(c))),
            )
        };
        r.map_err(|e| {
            (
                e.span.unwrap_or(node.span),
                format!("{kind}: {}", e.message),
            )
        })
    }

    /// The case's `name`.
    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            CaseDef::Iam(c) => c.name.as_deref(),
            CaseDef::Pool(c) => c.name.as_deref(),
            CaseDef::Cedar(c) => c.name.as_deref(),
            CaseDef::Apigw(c) => c.name.as_deref(),
        }
    }
}
