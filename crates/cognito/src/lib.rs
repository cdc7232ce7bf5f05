//! Amazon Cognito user-pool tokens for policy-check: verify them, cache them, mint test tokens.
//!
//! - [`Verifier`] checks a token in the documented order (shape, `alg` pinned to RS256, `kid`, issuer,
//!   JWKS key, signature, `token_use`, client, `exp`/`nbf`/`iat` with a leeway of 0 by default, required
//!   claims, optional groups and scopes) and returns [`VerifiedClaims`], which only this crate can make
//!   from a token. [`TokenCache`] skips repeated signature checks for unexpired tokens.
//! - [`JwksSource`] is a JWKS from a file, or from the pool's well-known URL, fetched over HTTPS and
//!   refetched on an unknown `kid` at most once per 10 s.
//! - Identity pools (role choice, trust policies, decisions) live in the `identity-pool` crate, on top of
//!   this one: token verification knows nothing of IAM.
//! - Other OpenID Connect providers: [`VerifierConfig::for_oidc`] (no `token_use`; the client in `aud`,
//!   a string or an array) and [`OidcDiscovery`] (issuer → discovery document → JWKS).
//! - [`mint`] and [`KeyDir`] make Cognito-shaped tokens for offline tests.
//!
//! ```
//! use cognito::{Claims as _, JwksSource, MintOptions, SigningKey, TokenUse, Verifier, VerifierConfig, mint};
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
//! assert_eq!(verifier.verify_at(&token, now + 4000).unwrap_err().code(), "token::expired");
//! ```
//!
//! Depends on jsonwebtoken (aws-lc-rs backend) for signatures and ureq (rustls) for JWKS over HTTPS; not
//! on the IAM crates.
#![deny(missing_docs)]

mod error;
mod jwks;
mod mint;
pub mod oidc;
mod verify;

pub use error::VerifyError;
pub use jwks::{DEFAULT_COOLDOWN, JwksSource, RemoteJwks, check_jwks_url, check_jwks_url_with};
pub use mint::{KeyDir, MintError, MintOptions, SigningKey, mint};
pub use oidc::OidcDiscovery;
pub use verify::{
    Claims, GivenClaims, MAX_TOKEN_BYTES, ParseTokenUseError, Profile, TokenCache, TokenUse,
    VerifiedClaims, Verifier, VerifierConfig, pool_issuers, pool_region, string_list,
};

/// Installs jsonwebtoken's aws-lc-rs crypto provider for the process (idempotent). Called by every
/// constructor here; call it at start-up if other code uses jsonwebtoken first.
pub fn install_crypto_provider() {
    // An Err means a provider is installed already, which is fine.
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
}
