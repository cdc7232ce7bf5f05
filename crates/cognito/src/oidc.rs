//! OpenID Connect providers other than Cognito user pools: the discovery document that names a provider's
//! JWKS, and the verifier profile for its tokens ([`crate::VerifierConfig::for_oidc`]).
//!
//! Rules (OpenID Connect Discovery 1.0): the document lives at `<issuer>/.well-known/openid-configuration`
//! (§4); its `issuer` must be identical to the issuer it was fetched for (§4.3), and `jwks_uri` names the
//! keys (§3). OIDC tokens carry no `token_use`; the client is checked in `aud`, a string or an array
//! (Core §2). Verified Permissions checks ID tokens of an OIDC source against its `clientIds` and access
//! tokens' `aud` against its `audiences`.

use serde_json::Value;

use crate::{JwksSource, VerifyError};

/// The URL of an issuer's discovery document.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// What policy-check reads from a provider's discovery document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcDiscovery {
    /// `issuer`, identical to the issuer the document was fetched for.
    pub issuer: String,
    /// `jwks_uri`: where the provider's signing keys are.
    pub jwks_uri: String,
}

impl OidcDiscovery {
    /// Reads a discovery document fetched for `expected_issuer`. Errors (`token::jwks-unavailable`): not
    /// a JSON object, no `issuer` or `jwks_uri`, an `issuer` that differs from the expected one (a
    /// document served for another provider must not lend its keys), a `jwks_uri` that is not HTTPS.
    pub fn from_json(text: &str, expected_issuer: &str) -> Result<Self, VerifyError> {
        let bad = |why: String| VerifyError::Jwks(format!("discovery document: {why}"));
        let v: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let field = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("no `{k}` string")))
        };
        let issuer = field("issuer")?;
        if issuer != expected_issuer {
            return Err(bad(format!(
                "`issuer` is `{issuer}`, but the document was fetched for `{expected_issuer}`"
            )));
        }
        let jwks_uri = field("jwks_uri")?;
        if !jwks_uri.starts_with("https://") {
            return Err(bad(format!("`jwks_uri` `{jwks_uri}` is not an https URL")));
        }
        Ok(Self { issuer, jwks_uri })
    }

    /// The provider's keys, fetched from `jwks_uri` when first needed.
    pub fn jwks(&self) -> JwksSource {
        JwksSource::remote(self.jwks_uri.as_str())
    }

    /// Fetches and reads `issuer`'s discovery document over HTTPS (blocking, 1 MiB at most).
    pub fn fetch(issuer: &str) -> Result<Self, VerifyError> {
        let url = discovery_url(issuer);
        // The document names where the keys are: read over HTTPS only, as the keys are.
        let body = crate::jwks::https_get(&url, std::time::Duration::from_secs(5), false)?;
        Self::from_json(&body, issuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://auth.example.com";

    /// A discovery document names where the keys are: it is fetched over HTTPS only, as the keys are
    /// (refused before any connection is made).
    #[test]
    fn discovery_over_plain_http_is_refused() {
        let e = OidcDiscovery::fetch("http://auth.example.com").unwrap_err();
        assert!(e.to_string().contains("must be https://"), "{e}");
    }

    #[test]
    fn discovery_document_rules() {
        assert_eq!(
            discovery_url("https://auth.example.com/"),
            "https://auth.example.com/.well-known/openid-configuration"
        );
        let ok = r#"{"issuer": "https://auth.example.com", "jwks_uri": "https://auth.example.com/keys"}"#;
        assert_eq!(
            OidcDiscovery::from_json(ok, ISS).map(|d| d.jwks_uri),
            Ok("https://auth.example.com/keys".to_string())
        );
        for (doc, why) in [
            (
                r#"{"issuer": "https://evil.example.com", "jwks_uri": "https://evil.example.com/keys"}"#,
                "fetched for",
            ),
            (
                r#"{"issuer": "https://auth.example.com/", "jwks_uri": "https://a/keys"}"#,
                "fetched for",
            ),
            (
                r#"{"issuer": "https://auth.example.com", "jwks_uri": "http://auth.example.com/keys"}"#,
                "not an https",
            ),
            (r#"{"issuer": "https://auth.example.com"}"#, "no `jwks_uri`"),
            ("[]", "no `issuer`"),
            ("{", "discovery document"),
        ] {
            let e = OidcDiscovery::from_json(doc, ISS).unwrap_err();
            assert_eq!(e.code(), diag::codes::TOKEN_JWKS_UNAVAILABLE);
            assert!(e.to_string().contains(why), "{doc}: {e}");
        }
    }
}
