//! Why a token was refused: one variant per check, each with a registered code.

use diag::codes;

/// A token that failed verification. The decision that depends on it is a deny.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Larger than [`crate::MAX_TOKEN_BYTES`].
    #[error("token is {0} bytes; the limit is {max}", max = crate::MAX_TOKEN_BYTES)]
    TooLarge(usize),
    /// Not three base64url parts with JSON objects in the first two.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// `alg` other than the allowed ones (`none`, `HS256`, …), or a JWK/header mismatch.
    #[error("unsupported algorithm `{0}`: only RS256 is accepted")]
    UnsupportedAlgorithm(String),
    /// No `kid` in the header.
    #[error("the token header has no `kid`")]
    MissingKid,
    /// `iss` is not one of the configured issuers.
    #[error("issuer `{0}` is not accepted")]
    InvalidIssuer(String),
    /// No key with this `kid`, even after a refetch.
    #[error("no key with kid `{0}` in the JWKS")]
    UnknownKid(String),
    /// The JWK is not an RSA signing key for RS256.
    #[error("the JWK for kid `{0}` is not usable: {1}")]
    InvalidJwk(String, String),
    /// The signature does not verify.
    #[error("invalid signature")]
    InvalidSignature,
    /// `token_use` is not the expected one.
    #[error("token_use is `{got}`, expected `{want}`")]
    InvalidTokenUse {
        /// Found.
        got: String,
        /// Expected.
        want: String,
    },
    /// `aud` / `client_id` not allowed.
    #[error("client `{0}` is not accepted")]
    InvalidClient(String),
    /// `exp` passed.
    #[error("token expired at {exp} (now {now})")]
    Expired {
        /// `exp`.
        exp: i64,
        /// Now.
        now: i64,
    },
    /// `nbf` in the future.
    #[error("token not valid before {nbf} (now {now})")]
    NotYetValid {
        /// `nbf`.
        nbf: i64,
        /// Now.
        now: i64,
    },
    /// `iat` in the future.
    #[error("token issued in the future at {iat} (now {now})")]
    IssuedInFuture {
        /// `iat`.
        iat: i64,
        /// Now.
        now: i64,
    },
    /// A required claim is absent or of the wrong type.
    #[error("claim `{0}` is missing or has the wrong type")]
    MissingClaim(String),
    /// None of the required groups.
    #[error("the user is in none of the required groups {0:?}")]
    MissingGroup(Vec<String>),
    /// None of the required scopes.
    #[error("the token has none of the required scopes {0:?}")]
    MissingScope(Vec<String>),
    /// The JWKS could not be read or fetched.
    #[error("JWKS unavailable: {0}")]
    Jwks(String),
}

impl VerifyError {
    /// The registered code (`token::expired`, …).
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::TooLarge(_) => codes::TOKEN_TOO_LARGE,
            VerifyError::Malformed(_) => codes::TOKEN_MALFORMED,
            VerifyError::UnsupportedAlgorithm(_) => codes::TOKEN_UNSUPPORTED_ALGORITHM,
            VerifyError::MissingKid => codes::TOKEN_MISSING_KID,
            VerifyError::InvalidIssuer(_) => codes::TOKEN_INVALID_ISSUER,
            VerifyError::UnknownKid(_) => codes::TOKEN_UNKNOWN_KID,
            VerifyError::InvalidJwk(..) => codes::TOKEN_INVALID_JWK,
            VerifyError::InvalidSignature => codes::TOKEN_INVALID_SIGNATURE,
            VerifyError::InvalidTokenUse { .. } => codes::TOKEN_INVALID_TOKEN_USE,
            VerifyError::InvalidClient(_) => codes::TOKEN_INVALID_CLIENT,
            VerifyError::Expired { .. } => codes::TOKEN_EXPIRED,
            VerifyError::NotYetValid { .. } => codes::TOKEN_NOT_YET_VALID,
            VerifyError::IssuedInFuture { .. } => codes::TOKEN_ISSUED_IN_FUTURE,
            VerifyError::MissingClaim(_) => codes::TOKEN_MISSING_CLAIM,
            VerifyError::MissingGroup(_) => codes::TOKEN_MISSING_GROUP,
            VerifyError::MissingScope(_) => codes::TOKEN_MISSING_SCOPE,
            VerifyError::Jwks(_) => codes::TOKEN_JWKS_UNAVAILABLE,
        }
    }
}

impl diag::Coded for VerifyError {
    fn code(&self) -> &'static str {
        VerifyError::code(self)
    }
}

impl miette::Diagnostic for VerifyError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(VerifyError::code(self)))
    }
}
