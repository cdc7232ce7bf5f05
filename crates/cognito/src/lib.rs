//! Amazon Cognito for policy-check: verify user-pool tokens, turn claims into the IAM request context of an
//! identity-pool session, choose the identity pool's role, check the role's trust policy and decide.
//!
//! - [`Verifier`] checks a token in the documented order (shape, `alg` pinned to RS256, `kid`, issuer,
//!   JWKS key, signature, `token_use`, client, `exp`/`nbf`/`iat` with a leeway of 0 by default, required
//!   claims, optional groups and scopes) and returns [`VerifiedClaims`], which only this crate can make
//!   from a token. [`TokenCache`] skips repeated signature checks for unexpired tokens.
//! - [`JwksSource`] is a JWKS from a file, or from the pool's well-known URL, fetched over HTTPS and
//!   refetched on an unknown `kid` at most once per 10 s.
//! - [`IdentityPool`] resolves roles (token- or rules-based), evaluates the trust policy for
//!   `sts:AssumeRoleWithWebIdentity` with the `cognito-identity.amazonaws.com:*` keys and decides a request
//!   with the role's policies through `iam-eval`.
//! - [`mint`] and [`KeyDir`] make Cognito-shaped tokens for offline tests.
//!
//! ```
//! use cognito::{JwksSource, MintOptions, SigningKey, TokenUse, Verifier, VerifierConfig, mint};
//!
//! let (key, _pem) = SigningKey::generate().unwrap();
//! let jwks = JwksSource::from_json(&key.jwks().to_string()).unwrap();
//! let now = 1_700_000_000;
//! let opts = MintOptions { token_use: TokenUse::Id, user_pool_id: "us-east-1_Example".into(), region: None,
//!                          client_id: "client123".into(), now, lifetime: 3600 };
//! let claims = serde_json::json!({"sub": "u-1", "cognito:groups": ["admins"]});
//! let token = mint(&key, claims.as_object().unwrap(), &opts).unwrap();
//!
//! let verifier = Verifier::new(VerifierConfig::for_pool("us-east-1_Example", "client123", TokenUse::Id), jwks);
//! let verified = verifier.verify_at(&token, now + 10).unwrap();
//! assert_eq!(verified.sub(), "u-1");
//! assert_eq!(verifier.verify_at(&token, now + 4000).unwrap_err().code(), "Expired");
//! ```
//!
//! Depends on authz-core, iam-policy and iam-eval for decisions; on jsonwebtoken (aws-lc-rs backend) for
//! signatures.
#![deny(missing_docs)]

mod error;
mod jwks;
mod mint;
mod pool;
mod verify;

pub use error::VerifyError;
pub use jwks::{DEFAULT_COOLDOWN, JwksSource, RemoteJwks};
pub use mint::{KeyDir, MintOptions, SigningKey, mint};
pub use pool::{
    Ambiguous, CognitoProvider, GUEST_SESSION_POLICY, GUEST_SESSION_POLICY_VERSION, IdentityPool,
    MappingType, MatchType, PoolConfig, PoolDecision, PoolError, PrincipalTags, RoleChoice,
    RoleConfig, RoleMapping, Rule, identity_id, is_session_key,
};
pub use verify::{
    MAX_TOKEN_BYTES, TokenCache, TokenUse, VerifiedClaims, Verifier, VerifierConfig, pool_issuers,
    pool_region, string_list,
};

/// Installs jsonwebtoken's aws-lc-rs crypto provider for the process (idempotent). Called by every
/// constructor here; call it at start-up if other code uses jsonwebtoken first.
pub fn install_crypto_provider() {
    // An Err means a provider is installed already, which is fine.
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}

/// A request made with identity-pool credentials (the IAM context of the identity is added to it).
#[derive(Debug, Clone, Default)]
pub struct PoolRequest {
    /// `service:Action`.
    pub action: String,
    /// Resource ARN.
    pub resource: String,
    /// Resource account, when the ARN has none.
    pub resource_account: Option<String>,
    /// Extra context keys (`aws:SourceIp`, service keys such as `dynamodb:LeadingKeys`).
    pub context: authz_core::Context,
    /// A label for a guest identity (its identity id is derived from it).
    pub guest_id: Option<String>,
}
