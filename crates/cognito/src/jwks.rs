//! JWKS sources: a file or JSON given in configuration (offline, the default), or the pool's well-known
//! URL over HTTPS, cached in memory and refetched on an unknown `kid` at most once per cool-down.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};

use crate::VerifyError;

/// Default cool-down between fetches of one URL that did not yield a wanted `kid`.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(10);

/// Where keys come from.
#[derive(Debug)]
pub enum JwksSource {
    /// A fixed key set.
    Static(JwkSet),
    /// Fetched from a URL and cached.
    Remote(RemoteJwks),
}

/// A JWKS fetched over HTTPS.
#[derive(Debug)]
pub struct RemoteJwks {
    url: String,
    /// Plain HTTP to a loopback address allowed ([`JwksSource::remote_insecure_loopback_for_tests`]).
    insecure_loopback: bool,
    cooldown: Duration,
    timeout: Duration,
    state: Mutex<RemoteState>,
}

#[derive(Debug, Default)]
struct RemoteState {
    keys: Option<JwkSet>,
    last_miss: Option<Instant>,
}

impl JwksSource {
    /// Parses a JWKS document.
    pub fn from_json(text: &str) -> Result<Self, VerifyError> {
        let set: JwkSet = serde_json::from_str(text)
            .map_err(|e| VerifyError::Jwks(format!("invalid JWKS: {e}")))?;
        Ok(JwksSource::Static(set))
    }

    /// A JWKS at `url`, fetched on first use. Only `https://` URLs are fetched: keys served over plain
    /// HTTP could be swapped on the way, and a token signed with the swapped key would verify. Check a
    /// URL early with [`check_jwks_url`].
    pub fn remote(url: impl Into<String>) -> Self {
        JwksSource::Remote(RemoteJwks {
            url: url.into(),
            insecure_loopback: false,
            cooldown: DEFAULT_COOLDOWN,
            timeout: Duration::from_secs(5),
            state: Mutex::new(RemoteState::default()),
        })
    }

    /// TESTS ONLY: a JWKS that may also be fetched over plain `http://` from a loopback address
    /// (`127.0.0.1`, `[::1]`, `localhost`), for tests that serve keys locally. Never use it with keys
    /// that protect anything.
    pub fn remote_insecure_loopback_for_tests(url: impl Into<String>) -> Self {
        let mut s = Self::remote(url);
        if let JwksSource::Remote(r) = &mut s {
            r.insecure_loopback = true;
        }
        s
    }

    /// Sets the refetch cool-down and the HTTP timeout (remote sources only).
    #[must_use]
    pub fn with_limits(mut self, cooldown: Duration, timeout: Duration) -> Self {
        if let JwksSource::Remote(r) = &mut self {
            r.cooldown = cooldown;
            r.timeout = timeout;
        }
        self
    }

    /// The key with `kid`: from the cache, or after one (rate-limited) refetch.
    pub fn key(&self, kid: &str) -> Result<Jwk, VerifyError> {
        match self {
            JwksSource::Static(set) => set
                .find(kid)
                .cloned()
                .ok_or_else(|| VerifyError::UnknownKid(kid.into())),
            JwksSource::Remote(r) => r.key(kid),
        }
    }
}

/// Whether `url` may be fetched for keys: `https://` only. Callers that take a URL from configuration
/// call it when they read the configuration, so a plain-HTTP URL is refused at once, not at the first
/// token.
pub fn check_jwks_url(url: &str) -> Result<(), VerifyError> {
    check_url(url, false)
}

/// [`check_jwks_url`], also accepting plain `http://` to a loopback address when
/// `insecure_loopback_for_tests` is set (tests that serve keys locally).
pub fn check_jwks_url_with(
    url: &str,
    insecure_loopback_for_tests: bool,
) -> Result<(), VerifyError> {
    check_url(url, insecure_loopback_for_tests)
}

fn check_url(url: &str, insecure_loopback: bool) -> Result<(), VerifyError> {
    if url.starts_with("https://") {
        return Ok(());
    }
    if insecure_loopback && let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split('/').next().unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Ok(());
        }
    }
    Err(VerifyError::Jwks(format!(
        "refusing to fetch keys from `{url}`: a JWKS or discovery URL must be https:// (keys over plain HTTP can be replaced in transit)"
    )))
}

impl RemoteJwks {
    fn key(&self, kid: &str) -> Result<Jwk, VerifyError> {
        // Holding the lock across the fetch makes concurrent misses share one fetch.
        let mut st = self
            .state
            .lock()
            .map_err(|_| VerifyError::Jwks("JWKS cache lock poisoned".into()))?;
        if let Some(k) = st.keys.as_ref().and_then(|s| s.find(kid)) {
            return Ok(k.clone());
        }
        if let Some(t) = st.last_miss
            && t.elapsed() < self.cooldown
        {
            return Err(match st.keys {
                Some(_) => VerifyError::UnknownKid(kid.into()),
                None => VerifyError::Jwks(format!(
                    "the last fetch of {} failed; not retried for {:?}",
                    self.url, self.cooldown
                )),
            });
        }
        let set = match self.fetch() {
            Ok(s) => s,
            Err(e) => {
                st.last_miss = Some(Instant::now());
                return Err(e);
            }
        };
        let found = set.find(kid).cloned();
        st.keys = Some(set);
        if found.is_none() {
            // Only a fetch that did not yield the wanted kid starts the cool-down.
            st.last_miss = Some(Instant::now());
        }
        found.ok_or_else(|| VerifyError::UnknownKid(kid.into()))
    }

    fn fetch(&self) -> Result<JwkSet, VerifyError> {
        let body = https_get(&self.url, self.timeout, self.insecure_loopback)?;
        serde_json::from_str(&body)
            .map_err(|e| VerifyError::Jwks(format!("GET {}: invalid JWKS: {e}", self.url)))
    }
}

/// The one fetcher of key material (JWKS, OpenID discovery documents): `https://` only (or a loopback
/// `http://` when allowed, for tests), a time limit, at most 1 MiB.
pub(crate) fn https_get(
    url: &str,
    timeout: Duration,
    insecure_loopback: bool,
) -> Result<String, VerifyError> {
    check_url(url, insecure_loopback)?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build()
        .into();
    agent
        .get(url)
        .call()
        .and_then(|mut r| {
            r.body_mut()
                .with_config()
                .limit(1024 * 1024)
                .read_to_string()
        })
        .map_err(|e| VerifyError::Jwks(format!("GET {url}: {e}")))
}
