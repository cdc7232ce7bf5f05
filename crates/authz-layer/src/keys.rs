//! Signing keys for a service on an async runtime: the JWKS is fetched with an async HTTPS client
//! (reqwest on rustls), never blocking the runtime; verified tokens are cached until they expire; an
//! unknown `kid` triggers one refetch, rate-limited by a cool-down and shared by concurrent requests;
//! while the JWKS endpoint fails, the last good key set keeps serving; with no key set at all, requests
//! fail closed (503).

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use cognito::{JwksSource, TokenCache, VerifiedClaims, Verifier, VerifierConfig, VerifyError};

/// Why a token could not be verified.
#[derive(Debug)]
pub enum KeyFailure {
    /// The token is invalid (signature, times, issuer, client, `token_use`, an unknown `kid`): 401.
    Invalid(VerifyError),
    /// No key can be had for it (the JWKS was never fetched, or is failing while the token names a key
    /// the last good set lacks): 503.
    Unavailable(String),
}

/// The verifying keys of one issuer.
pub struct Keys {
    config: VerifierConfig,
    url: Option<String>,
    /// Plain HTTP to a loopback address allowed ([`Keys::remote_insecure_loopback_for_tests`]).
    insecure_loopback: bool,
    client: reqwest::Client,
    cooldown: Duration,
    current: ArcSwapOption<Verifier>,
    tokens: TokenCache,
    fetch: tokio::sync::Mutex<FetchState>,
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<Instant>,
    last_error: Option<String>,
}

impl Keys {
    /// Keys fetched from `jwks_url` (for a user pool,
    /// `https://cognito-idp.{region}.amazonaws.com/{pool}/.well-known/jwks.json`) on first use. Defaults:
    /// 10 s cool-down between refetches, 5 s timeout, 10,000 cached tokens.
    ///
    /// Only `https://` URLs are fetched (keys over plain HTTP can be replaced in transit): any other URL
    /// makes every request 503 with the reason logged; check it first with [`cognito::check_jwks_url`].
    pub fn remote(jwks_url: &str, config: VerifierConfig) -> Self {
        Self::build(config, Some(jwks_url.to_string()), None)
    }

    /// TESTS ONLY: [`Keys::remote`] that also fetches over plain `http://` from a loopback address.
    pub fn remote_insecure_loopback_for_tests(jwks_url: &str, config: VerifierConfig) -> Self {
        let mut k = Self::remote(jwks_url, config);
        k.insecure_loopback = true;
        k
    }

    /// A fixed key set (a JWKS document), never refetched.
    pub fn fixed(jwks_json: &str, config: VerifierConfig) -> Result<Self, VerifyError> {
        let v = Verifier::new(config.clone(), JwksSource::from_json(jwks_json)?);
        Ok(Self::build(config, None, Some(v)))
    }

    fn build(config: VerifierConfig, url: Option<String>, v: Option<Verifier>) -> Self {
        Self {
            config,
            url,
            insecure_loopback: false,
            client: client(Duration::from_secs(5)),
            cooldown: Duration::from_secs(10),
            current: ArcSwapOption::new(v.map(Arc::new)),
            tokens: TokenCache::new(10_000),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
        }
    }

    /// Sets the refetch cool-down and the fetch timeout.
    #[must_use]
    pub fn with_limits(mut self, cooldown: Duration, timeout: Duration) -> Self {
        self.cooldown = cooldown;
        self.client = client(timeout);
        self
    }

    /// Verifies a token at `now` (Unix seconds).
    pub async fn verify(&self, token: &str, now: i64) -> Result<Arc<VerifiedClaims>, KeyFailure> {
        let current = self.current.load_full();
        if let Some(v) = &current {
            match self.tokens.verify_at(v, token, now) {
                Ok(c) => return Ok(c),
                Err(VerifyError::UnknownKid(_)) => {}
                Err(e) => return Err(KeyFailure::Invalid(e)),
            }
        }
        match self.refresh(current.as_ref()).await {
            Ok(true) => match self.current.load_full() {
                Some(v) => self
                    .tokens
                    .verify_at(&v, token, now)
                    .map_err(KeyFailure::Invalid),
                None => Err(KeyFailure::Unavailable("no key set".into())),
            },
            // Nothing new to try (cool-down): with keys, the token names a key the issuer does not
            // publish; without, none can be had.
            Ok(false) => match (&current, self.last_error().await) {
                (Some(_), None) => Err(KeyFailure::Invalid(VerifyError::UnknownKid(
                    "(not in the issuer's current key set)".into(),
                ))),
                (_, e) => Err(KeyFailure::Unavailable(
                    e.unwrap_or_else(|| "no key set".into()),
                )),
            },
            Err(e) => Err(KeyFailure::Unavailable(e)),
        }
    }

    async fn last_error(&self) -> Option<String> {
        self.fetch.lock().await.last_error.clone()
    }

    /// Fetches the key set unless the cool-down forbids it. `Ok(true)` when a newer set than `seen` is in
    /// place (fetched here, or by a concurrent request while this one waited).
    async fn refresh(&self, seen: Option<&Arc<Verifier>>) -> Result<bool, String> {
        let Some(url) = &self.url else {
            return Ok(false);
        };
        let mut st = self.fetch.lock().await;
        let now_current = self.current.load_full();
        let changed = match (seen, &now_current) {
            (Some(a), Some(b)) => !Arc::ptr_eq(a, b),
            (None, Some(_)) => true,
            _ => false,
        };
        if changed {
            return Ok(true);
        }
        if st.last_attempt.is_some_and(|t| t.elapsed() < self.cooldown) {
            return Ok(false);
        }
        st.last_attempt = Some(Instant::now());
        let fetched = async {
            cognito::check_jwks_url_with(url, self.insecure_loopback).map_err(|e| e.to_string())?;
            let resp = self
                .client
                .get(url)
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            if !resp.status().is_success() {
                return Err(format!("GET {url}: HTTP {}", resp.status()));
            }
            let text = resp.text().await.map_err(|e| format!("GET {url}: {e}"))?;
            if text.len() > 1024 * 1024 {
                return Err(format!("GET {url}: a JWKS over 1 MiB"));
            }
            JwksSource::from_json(&text).map_err(|e| format!("GET {url}: {e}"))
        }
        .await;
        match fetched {
            Ok(src) => {
                self.current
                    .store(Some(Arc::new(Verifier::new(self.config.clone(), src))));
                st.last_error = None;
                tracing::info!(target: "authz_layer", url = %url, "JWKS fetched");
                Ok(true)
            }
            Err(e) => {
                tracing::warn!(target: "authz_layer", error = %e, "JWKS fetch failed; the last good key set keeps serving");
                st.last_error = Some(e.clone());
                Err(e)
            }
        }
    }
}

fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .unwrap_or_default()
}
