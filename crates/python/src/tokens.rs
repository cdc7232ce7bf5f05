//! `TokenVerifier`: Cognito user-pool (or OpenID Connect) tokens verified as every policy-check consumer
//! verifies them (`cognito::Verifier`: signature, issuer, client, `token_use`, expiry, duplicate claims).

use cognito::{Claims, JwksSource, TokenUse, Verifier, VerifierConfig};
use diag::codes;
use pyo3::prelude::*;

use crate::errors::{At, argument, coded, error, token_error};

/// A verifier for one user pool and app client; `verify(token)` returns the claims or raises
/// `TokenError` with the refusal's code (`token::expired`, `token::signature`, …).
#[pyclass(frozen, module = "policy_check._native")]
pub struct TokenVerifier {
    inner: Verifier,
}

/// A JWKS: its JSON text, or an https URL fetched (and cached) when needed.
pub(crate) fn jwks_source(jwks: Option<&str>, jwks_url: Option<&str>) -> PyResult<JwksSource> {
    match (jwks, jwks_url) {
        (Some(text), None) => JwksSource::from_json(text).map_err(|e| coded(&e)),
        (None, Some(url)) => {
            cognito::check_jwks_url(url).map_err(|e| coded(&e))?;
            Ok(JwksSource::remote(url))
        }
        _ => Err(argument(
            "give exactly one of `jwks` (the key set's JSON) and `jwks_url` (https)",
        )),
    }
}

pub(crate) fn token_use(s: &str) -> PyResult<TokenUse> {
    s.parse().map_err(|e| argument(format!("token_use: {e}")))
}

#[pymethods]
impl TokenVerifier {
    /// `user_pool_id` (`us-east-1_Example`) or an OpenID Connect issuer (an https URL), the app
    /// `client_id`, `token_use` (`id` or `access`), and the keys: `jwks` (JSON text) or `jwks_url`.
    #[new]
    #[pyo3(signature = (user_pool_id, client_id, token_use="id", jwks=None, jwks_url=None))]
    fn new(
        user_pool_id: &str,
        client_id: &str,
        token_use: &str,
        jwks: Option<&str>,
        jwks_url: Option<&str>,
    ) -> PyResult<Self> {
        let tu = self::token_use(token_use)?;
        let config = if user_pool_id.starts_with("https://") {
            VerifierConfig::for_oidc(user_pool_id, &[client_id.to_string()], tu)
        } else {
            VerifierConfig::for_pool(user_pool_id, client_id, tu)
        };
        Ok(Self {
            inner: Verifier::new(config, jwks_source(jwks, jwks_url)?),
        })
    }

    /// The claims of a token that passes every check, as a dict; `now` (Unix seconds) for tests. The GIL
    /// is released while verifying.
    #[pyo3(signature = (token, now=None))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        token: &str,
        now: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = &self.inner;
        let claims = py
            .detach(|| match now {
                Some(t) => v.verify_at(token, t),
                None => v.verify(token),
            })
            .map_err(|e| token_error(&e))?;
        pythonize::pythonize(py, claims.claims())
            .map_err(|e| error(codes::PYTHON_RESULT, e.to_string(), &At::default()))
    }
}
