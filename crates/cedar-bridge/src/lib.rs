//! Cedar for policy-check: build the Cedar principal, its groups and attributes from Cognito (or OIDC)
//! tokens exactly as Amazon Verified Permissions does, speak Verified Permissions' JSON request and
//! response shapes, and authorize through an index that evaluates only the policies whose scope can
//! match.
//!
//! - [`PolicyStore`]: `*.cedar` policies (`@id` annotations become policy ids), templates and links, an
//!   optional schema (strict validation), an identity source.
//! - [`avp::decide`]: one `IsAuthorized` / `IsAuthorizedWithToken` request → the AVP response and the
//!   shared [`authz_core::Decision`] (a satisfied `forbid` is `ExplicitDeny`, no `permit` is
//!   `ImplicitDeny`).
//! - [`claims`]: the token → entity mapping: principal `Type::"<pool>|<sub>"`, groups as parents,
//!   ID-token claims as attributes in bracket and/or dot notation, access-token claims as
//!   `context.token`, JSON types mapped and (with a schema) coerced.
//!
//! ```
//! use cedar_bridge::{PolicyStore, avp, claims::IdentitySource};
//!
//! let policies = vec![("photos.cedar".to_string(), r#"
//!     @id("usa-view")
//!     permit(principal, action == Action::"view", resource)
//!     when { principal.custom.location == "USA" };"#.to_string())];
//! let source = IdentitySource::cognito("us-east-1_Example", "User", Some("UserGroup"));
//! let store = PolicyStore::from_parts(&policies, None, Some(source), Vec::new(), true).unwrap();
//!
//! let claims = serde_json::json!({"sub": "alice-sub", "custom:location": "USA", "cognito:groups": ["family"]});
//! let tokens = avp::TokenClaims::given(claims.as_object().cloned(), None);
//! let req = serde_json::json!({"action": {"actionType": "Action", "actionId": "view"},
//!                              "resource": {"entityType": "Photo", "entityId": "VacationPhoto94.jpg"}});
//! let answer = avp::decide(&store, &req, &tokens, None).unwrap();
//! assert_eq!(answer.response()["decision"], "ALLOW");
//! assert_eq!(answer.response()["determiningPolicies"][0]["policyId"], "usa-view");
//! assert_eq!(answer.response()["principal"]["entityId"], "us-east-1_Example|alice-sub");
//! ```
//!
//! Depends on authz-core, cognito (token verification and the `Claims` trait) and cedar-policy.
#![deny(missing_docs)]

pub mod avp;
pub mod claims;
mod store;

pub use store::{
    Link, PolicyStore, StoreFiles, attr_types_from_json, cli_policy_set, cli_policy_set_json,
    decision_of, has_guard as store_has_guard, schema_file, token_types_from_json,
    validate_cli_policies,
};

/// A Cedar parse error passed through with Cedar's own position: the file, the 1-based line and column of
/// its first label, and its message and help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CedarDiagnostic {
    /// The file's name.
    pub file: String,
    /// 1-based line of Cedar's first label.
    pub line: usize,
    /// 1-based column (in characters) of Cedar's first label.
    pub column: usize,
    /// Byte offset and length of Cedar's first label in the file.
    pub span: (usize, usize),
    /// What was being read (`invalid Cedar`, `invalid schema`).
    pub what: String,
    /// Cedar's message.
    pub message: String,
    /// Cedar's help, when it gives one.
    pub help: Option<String>,
}

impl std::fmt::Display for CedarDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.what, self.message
        )?;
        match &self.help {
            Some(h) => write!(f, " (help: {h})"),
            None => Ok(()),
        }
    }
}

/// Why a store, request or token could not be used: never a decision. Request errors carry the
/// Verified Permissions exception they are answered with ([`BridgeError::exception`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BridgeError {
    /// Store configuration.
    #[error("{0}")]
    Config(String),
    /// Invalid Cedar policy or schema.
    #[error("{0}")]
    Policy(String),
    /// Cedar's own diagnostic for a policy or schema file, located at Cedar's span.
    #[error("{0}")]
    Located(Box<CedarDiagnostic>),
    /// Strict validation against the schema failed.
    #[error("validation failed:\n  {}", .0.join("\n  "))]
    Validation(Vec<String>),
    /// A request that is not well-formed.
    #[error("{0}")]
    Request(String),
    /// Token claims that cannot be mapped.
    #[error("{0}")]
    Claims(String),
    /// A token that failed verification (its `token::` code is kept).
    #[error("token refused: {0} [{code}]", code = .0.code())]
    Token(cognito::VerifyError),
}

impl BridgeError {
    /// The Verified Permissions exception a request error is answered with: `ValidationException` for a
    /// malformed request and for a token that fails verification or mapping (AVP answers those with an
    /// error, never a `DENY`). `None` for a broken policy store, which is not a request error.
    pub fn exception(&self) -> Option<&'static str> {
        match self {
            BridgeError::Request(_) | BridgeError::Claims(_) | BridgeError::Token(_) => {
                Some("ValidationException")
            }
            BridgeError::Config(_)
            | BridgeError::Policy(_)
            | BridgeError::Located(_)
            | BridgeError::Validation(_) => None,
        }
    }

    /// The registered code of each kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            BridgeError::Config(_) => diag::codes::CEDAR_CONFIG,
            BridgeError::Policy(_) | BridgeError::Located(_) => diag::codes::CEDAR_POLICY,
            BridgeError::Validation(_) => diag::codes::CEDAR_VALIDATION,
            BridgeError::Request(_) => diag::codes::CEDAR_REQUEST,
            BridgeError::Claims(_) => diag::codes::CEDAR_CLAIMS,
            BridgeError::Token(e) => e.code(),
        }
    }

    /// The error in AWS's JSON 1.0 shape (`{"__type", "message"}`), for request errors.
    pub fn aws_json(&self) -> Option<serde_json::Value> {
        self.exception()
            .map(|t| serde_json::json!({"__type": t, "message": self.to_string()}))
    }
}

impl diag::Coded for BridgeError {
    fn code(&self) -> &'static str {
        BridgeError::code(self)
    }
    fn aws_code(&self) -> Option<&'static str> {
        self.exception()
    }
}

impl miette::Diagnostic for BridgeError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(BridgeError::code(self)))
    }
}
