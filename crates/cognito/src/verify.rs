//! Token verification in the documented order, stopping at the first failure.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use crate::{JwksSource, VerifyError};

/// Largest token accepted, in bytes. Cognito tokens are a few kilobytes.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// ID or access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenUse {
    /// `token_use: id`; client in `aud`.
    Id,
    /// `token_use: access`; client in `client_id`.
    Access,
}

impl TokenUse {
    /// `id` / `access`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenUse::Id => "id",
            TokenUse::Access => "access",
        }
    }
}

/// A token use that is neither `id` nor `access`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseTokenUseError {
    /// What was given.
    pub input: String,
}

impl std::fmt::Display for ParseTokenUseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "token use must be `id` or `access`, not `{}`",
            self.input
        )
    }
}

impl std::error::Error for ParseTokenUseError {}

impl std::str::FromStr for TokenUse {
    type Err = ParseTokenUseError;
    fn from_str(s: &str) -> Result<Self, ParseTokenUseError> {
        match s {
            "id" => Ok(TokenUse::Id),
            "access" => Ok(TokenUse::Access),
            o => Err(ParseTokenUseError {
                input: o.to_string(),
            }),
        }
    }
}

/// The two issuer forms of a user pool: `ORIGINAL` and `UPDATED`.
pub fn pool_issuers(region: &str, user_pool_id: &str) -> Vec<String> {
    vec![
        format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"),
        format!("https://issuer-cognito-idp.{region}.amazonaws.com/{user_pool_id}"),
    ]
}

/// The region of a pool id (`us-east-1_AbC` → `us-east-1`).
pub fn pool_region(user_pool_id: &str) -> Option<&str> {
    user_pool_id
        .split_once('_')
        .map(|(r, _)| r)
        .filter(|r| !r.is_empty())
}

/// What a verifier accepts.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Accepted issuers, compared byte for byte.
    pub issuers: Vec<String>,
    /// Accepted app client ids.
    pub client_ids: Vec<String>,
    /// Whether to check the client at all (Verified Permissions skips it when an identity source lists no
    /// client ids). Default `true`.
    pub check_client: bool,
    /// The expected token use.
    pub token_use: TokenUse,
    /// Clock leeway in seconds (default 0).
    pub leeway: i64,
    /// Accepted algorithms (default RS256 only).
    pub algorithms: Vec<Algorithm>,
    /// When set, `cognito:groups` must contain one of these.
    pub required_groups: Vec<String>,
    /// When set, `scope` must contain one of these.
    pub required_scopes: Vec<String>,
    /// Whose tokens: a Cognito user pool's (the default) or another OpenID Connect provider's.
    pub profile: Profile,
}

/// The rules a token follows besides the signature and the times.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Profile {
    /// A Cognito user pool: `token_use` must match; the client is `aud` (ID tokens) or `client_id`
    /// (access tokens), a string.
    #[default]
    Cognito,
    /// Another OpenID Connect provider: no `token_use`; the client (ID tokens) or the audience (access
    /// tokens) is in `aud`, a string or an array.
    Oidc,
}

impl VerifierConfig {
    /// A configuration for one user pool: both issuer forms of its Region.
    pub fn for_pool(user_pool_id: &str, client_id: &str, token_use: TokenUse) -> Self {
        let region = pool_region(user_pool_id).unwrap_or("us-east-1");
        Self {
            issuers: pool_issuers(region, user_pool_id),
            client_ids: vec![client_id.to_string()],
            check_client: true,
            token_use,
            leeway: 0,
            algorithms: vec![Algorithm::RS256],
            required_groups: Vec::new(),
            required_scopes: Vec::new(),
            profile: Profile::Cognito,
        }
    }

    /// A configuration for an OpenID Connect provider: tokens from exactly `issuer`, whose `aud` holds
    /// one of `audiences` (the client ids for ID tokens, the API audiences for access tokens; empty
    /// disables the check, as in Verified Permissions).
    pub fn for_oidc(issuer: &str, audiences: &[String], token_use: TokenUse) -> Self {
        Self {
            issuers: vec![issuer.to_string()],
            client_ids: audiences.to_vec(),
            check_client: !audiences.is_empty(),
            token_use,
            leeway: 0,
            algorithms: vec![Algorithm::RS256],
            required_groups: Vec::new(),
            required_scopes: Vec::new(),
            profile: Profile::Oidc,
        }
    }
}

/// What identity pools and the Cedar bridge read from a token: its claims and whether they were
/// verified. Implemented by [`VerifiedClaims`] (from [`Verifier`]) and [`GivenClaims`] (typed in by hand,
/// never verified), so that every output can say which it was.
pub trait Claims: std::fmt::Debug {
    /// All claims.
    fn claims(&self) -> &Map<String, Value>;
    /// ID or access.
    fn token_use(&self) -> TokenUse;
    /// Whether a [`Verifier`] checked the token these claims came from.
    fn verified(&self) -> bool;
    /// A string claim.
    fn str(&self, name: &str) -> Option<&str> {
        self.claims().get(name).and_then(Value::as_str)
    }
    /// `sub`.
    fn sub(&self) -> &str {
        self.str("sub").unwrap_or("")
    }
    /// `iss`.
    fn issuer(&self) -> &str {
        self.str("iss").unwrap_or("")
    }
    /// The app client (`aud` or `client_id`).
    fn client_id(&self) -> &str {
        match self.token_use() {
            TokenUse::Id => self.str("aud").unwrap_or(""),
            TokenUse::Access => self.str("client_id").unwrap_or(""),
        }
    }
    /// `exp`.
    fn exp(&self) -> i64 {
        self.claims()
            .get("exp")
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }
    /// `cognito:groups`.
    fn groups(&self) -> Vec<&str> {
        string_list(self.claims().get("cognito:groups"))
    }
    /// The user pool id from the issuer URL.
    fn user_pool_id(&self) -> &str {
        self.issuer().rsplit('/').next().unwrap_or("")
    }
}

/// Claims of a token that passed every check. Only [`Verifier`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    claims: Map<String, Value>,
    token_use: TokenUse,
}

impl Claims for VerifiedClaims {
    fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }
    fn token_use(&self) -> TokenUse {
        self.token_use
    }
    fn verified(&self) -> bool {
        true
    }
}

/// Claims typed in by hand (a test case's `claims`, `pool eval --claims`): **not verified**. For tests and
/// offline tooling that do not sign tokens; outputs made with them say so.
#[derive(Debug, Clone, PartialEq)]
pub struct GivenClaims {
    claims: Map<String, Value>,
    token_use: TokenUse,
}

impl GivenClaims {
    /// Takes claims as given: `token_use` (default `id`) must be `id` or `access`, and `sub` present.
    pub fn new(claims: Map<String, Value>) -> Result<Self, VerifyError> {
        let token_use = match claims.get("token_use").and_then(Value::as_str) {
            Some("access") => TokenUse::Access,
            Some("id") | None => TokenUse::Id,
            Some(o) => {
                return Err(VerifyError::InvalidTokenUse {
                    got: o.into(),
                    want: "id or access".into(),
                });
            }
        };
        if claims
            .get("sub")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(VerifyError::MissingClaim("sub".into()));
        }
        Ok(Self { claims, token_use })
    }
}

impl Claims for GivenClaims {
    fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }
    fn token_use(&self) -> TokenUse {
        self.token_use
    }
    fn verified(&self) -> bool {
        false
    }
}

/// A claim that is a JSON array of strings, or (as `cognito:roles` is described) a comma-separated string.
///
/// A string is split on commas and on white space alike, empty pieces dropped: every consumer (the API
/// Gateway group authorizer, the Cedar bridge, the verifier's required groups) reads a string
/// `cognito:groups` the same way, so one token never means different groups in different places.
pub fn string_list(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect(),
        _ => Vec::new(),
    }
}

/// Verifies Cognito user-pool tokens.
#[derive(Debug)]
pub struct Verifier {
    config: VerifierConfig,
    /// One key source per issuer (the same source may serve several issuers).
    jwks: Vec<(String, std::sync::Arc<JwksSource>)>,
}

fn decode_part(part: &str, what: &str) -> Result<Map<String, Value>, VerifyError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError::Malformed(format!("the {what} is not base64url")))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| VerifyError::Malformed(format!("the {what} is not UTF-8")))?;
    // Duplicate keys are refused at any depth: an attacker must not choose which of two `iss` a reader
    // sees.
    let mut de = serde_json::Deserializer::from_str(text);
    let v = match <Strict as serde::Deserialize>::deserialize(&mut de).and_then(|v| {
        de.end()?;
        Ok(v)
    }) {
        Ok(Strict(v)) => v,
        Err(e) => {
            return Err(VerifyError::Malformed(format!(
                "the {what} is not a JSON object: {e}"
            )));
        }
    };
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(VerifyError::Malformed(format!(
            "the {what} is not a JSON object"
        ))),
    }
}

/// A JSON value read with duplicate object keys refused, at any depth (serde_json keeps the last).
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::new();
        while let Some(Strict(x)) = seq.next_element()? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            let Strict(x) = map.next_value()?;
            if m.insert(k.clone(), x).is_some() {
                return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
            }
        }
        Ok(Value::Object(m))
    }
}

fn now_secs() -> i64 {
    authz_core::now_secs()
}

fn int_claim(m: &Map<String, Value>, name: &str) -> Result<Option<i64>, VerifyError> {
    match m.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| VerifyError::MissingClaim(name.into())),
        Some(_) => Err(VerifyError::MissingClaim(name.into())),
    }
}

impl Verifier {
    /// A verifier using `jwks` for every configured issuer.
    pub fn new(config: VerifierConfig, jwks: JwksSource) -> Self {
        crate::install_crypto_provider();
        let shared = std::sync::Arc::new(jwks);
        let jwks = config
            .issuers
            .iter()
            .map(|i| (i.clone(), shared.clone()))
            .collect();
        Self { config, jwks }
    }

    /// The configuration.
    pub fn config(&self) -> &VerifierConfig {
        &self.config
    }

    /// The key source of the first issuer (for inspection in tests).
    pub fn jwks(&self) -> Option<&JwksSource> {
        self.jwks.first().map(|(_, j)| &**j)
    }

    /// Verifies a token at the current time.
    pub fn verify(&self, token: &str) -> Result<VerifiedClaims, VerifyError> {
        self.verify_at(token, now_secs())
    }

    /// Verifies a token as of `now` (Unix seconds).
    pub fn verify_at(&self, token: &str, now: i64) -> Result<VerifiedClaims, VerifyError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge(token.len()));
        }
        // 1. Parse.
        let parts: Vec<&str> = token.split('.').collect();
        let [h, p, sig] = parts.as_slice() else {
            return Err(VerifyError::Malformed(format!(
                "a JWT has three dot-separated parts, this has {}",
                parts.len()
            )));
        };
        let header = decode_part(h, "header")?;
        let payload = decode_part(p, "payload")?;
        // RFC 7515 §4.1.11: a `crit` header names extensions the recipient must understand; this
        // verifier implements none, so such a token is refused.
        if header.get("crit").is_some() {
            return Err(VerifyError::Malformed(
                "the header's `crit` names extensions this verifier does not implement (RFC 7515 §4.1.11)"
                    .into(),
            ));
        }
        // 2. Header.
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        let algorithm = match alg {
            "RS256" => Algorithm::RS256,
            "RS384" => Algorithm::RS384,
            "RS512" => Algorithm::RS512,
            other => return Err(VerifyError::UnsupportedAlgorithm(other.into())),
        };
        if !self.config.algorithms.contains(&algorithm) {
            return Err(VerifyError::UnsupportedAlgorithm(alg.into()));
        }
        let kid = match header.get("kid") {
            Some(Value::String(k)) if !k.is_empty() => k.as_str(),
            _ => return Err(VerifyError::MissingKid),
        };
        // 3. Issuer selection.
        let iss = match payload.get("iss") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => return Err(VerifyError::InvalidIssuer(other.to_string())),
            None => return Err(VerifyError::InvalidIssuer("(absent)".into())),
        };
        let Some((_, source)) = self.jwks.iter().find(|(i, _)| i == iss) else {
            return Err(VerifyError::InvalidIssuer(iss.into()));
        };
        // 4–5. Key lookup and JWK checks.
        let jwk = source.key(kid)?;
        check_jwk(&jwk, kid, algorithm)?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| VerifyError::InvalidJwk(kid.into(), e.to_string()))?;
        // 6. Signature.
        let message_len = h.len() + 1 + p.len();
        let message = token.get(..message_len).unwrap_or("");
        match jsonwebtoken::crypto::verify(sig, message.as_bytes(), &key, algorithm) {
            Ok(true) => {}
            _ => return Err(VerifyError::InvalidSignature),
        }
        // 7. token_use (Cognito only: other providers do not set it).
        let want = self.config.token_use.as_str();
        match (
            self.config.profile,
            payload.get("token_use").and_then(Value::as_str),
        ) {
            (Profile::Oidc, _) => {}
            (Profile::Cognito, Some(t)) if t == want => {}
            (Profile::Cognito, got) => {
                return Err(VerifyError::InvalidTokenUse {
                    got: got.unwrap_or("(absent)").into(),
                    want: want.into(),
                });
            }
        }
        // 8. Client.
        if self.config.profile == Profile::Oidc {
            let aud: Vec<&str> = match payload.get("aud") {
                Some(Value::String(a)) => vec![a.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if aud.is_empty() {
                return Err(VerifyError::InvalidClient("(no `aud`)".into()));
            }
            if self.config.check_client
                && !aud
                    .iter()
                    .any(|a| self.config.client_ids.iter().any(|c| c == a))
            {
                return Err(VerifyError::InvalidClient(aud.join(", ")));
            }
        } else {
            let client_claim = match self.config.token_use {
                TokenUse::Id => "aud",
                TokenUse::Access => "client_id",
            };
            match payload.get(client_claim) {
                Some(Value::String(_)) if !self.config.check_client => {}
                Some(Value::String(c)) if self.config.client_ids.iter().any(|x| x == c) => {}
                Some(Value::String(c)) => return Err(VerifyError::InvalidClient(c.clone())),
                Some(other) => return Err(VerifyError::InvalidClient(other.to_string())),
                None => {
                    return Err(VerifyError::InvalidClient(format!("(no `{client_claim}`)")));
                }
            }
        }
        // 9. Time.
        let l = self.config.leeway;
        let exp =
            int_claim(&payload, "exp")?.ok_or_else(|| VerifyError::MissingClaim("exp".into()))?;
        if now >= exp.saturating_add(l) {
            return Err(VerifyError::Expired { exp, now });
        }
        if let Some(nbf) = int_claim(&payload, "nbf")?
            && now < nbf.saturating_sub(l)
        {
            return Err(VerifyError::NotYetValid { nbf, now });
        }
        if let Some(iat) = int_claim(&payload, "iat")?
            && iat > now.saturating_add(l)
        {
            return Err(VerifyError::IssuedInFuture { iat, now });
        }
        // 10. Required claims.
        if !matches!(payload.get("sub"), Some(Value::String(s)) if !s.is_empty()) {
            return Err(VerifyError::MissingClaim("sub".into()));
        }
        // 11. Groups and scopes.
        if !self.config.required_groups.is_empty() {
            let groups = string_list(payload.get("cognito:groups"));
            if !self
                .config
                .required_groups
                .iter()
                .any(|g| groups.contains(&g.as_str()))
            {
                return Err(VerifyError::MissingGroup(
                    self.config.required_groups.clone(),
                ));
            }
        }
        if !self.config.required_scopes.is_empty() {
            let scopes: Vec<&str> = payload
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split(' ')
                .collect();
            if !self
                .config
                .required_scopes
                .iter()
                .any(|s| scopes.contains(&s.as_str()))
            {
                return Err(VerifyError::MissingScope(
                    self.config.required_scopes.clone(),
                ));
            }
        }
        Ok(VerifiedClaims {
            claims: payload,
            token_use: self.config.token_use,
        })
    }
}

fn check_jwk(jwk: &Jwk, kid: &str, alg: Algorithm) -> Result<(), VerifyError> {
    let bad = |why: &str| VerifyError::InvalidJwk(kid.into(), why.into());
    match &jwk.algorithm {
        AlgorithmParameters::RSA(p) if !p.n.is_empty() && !p.e.is_empty() => {}
        AlgorithmParameters::RSA(_) => return Err(bad("missing n or e")),
        _ => return Err(bad("not an RSA key")),
    }
    if let Some(u) = &jwk.common.public_key_use
        && *u != PublicKeyUse::Signature
    {
        return Err(bad("`use` is not `sig`"));
    }
    if let Some(a) = &jwk.common.key_algorithm {
        let want = match alg {
            Algorithm::RS384 => KeyAlgorithm::RS384,
            Algorithm::RS512 => KeyAlgorithm::RS512,
            _ => KeyAlgorithm::RS256,
        };
        if *a != want {
            return Err(VerifyError::UnsupportedAlgorithm(format!(
                "{alg:?} (the JWK says {a:?})"
            )));
        }
    }
    Ok(())
}

/// A bounded cache of verified tokens, honouring `exp`. Tokens are keyed by their full text in a map with
/// a seeded hash (foldhash): a hit costs one hash and one comparison, not a cryptographic digest, and two
/// tokens can never share an entry.
#[derive(Debug)]
pub struct TokenCache {
    capacity: usize,
    map: Mutex<HashMap<Box<str>, std::sync::Arc<VerifiedClaims>, foldhash::fast::RandomState>>,
}

impl TokenCache {
    /// A cache holding at most `capacity` tokens.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            map: Mutex::new(HashMap::default()),
        }
    }

    /// Verifies through the cache: a hit skips the signature check while the token is unexpired.
    pub fn verify(
        &self,
        verifier: &Verifier,
        token: &str,
    ) -> Result<std::sync::Arc<VerifiedClaims>, VerifyError> {
        self.verify_at(verifier, token, now_secs())
    }

    /// [`TokenCache::verify`] as of `now`.
    pub fn verify_at(
        &self,
        verifier: &Verifier,
        token: &str,
        now: i64,
    ) -> Result<std::sync::Arc<VerifiedClaims>, VerifyError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge(token.len()));
        }
        if let Ok(map) = self.map.lock()
            && let Some(c) = map.get(token)
            && now < c.exp().saturating_add(verifier.config.leeway)
        {
            return Ok(c.clone());
        }
        let claims = std::sync::Arc::new(verifier.verify_at(token, now)?);
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= self.capacity {
                map.retain(|_, c| now < c.exp());
                if map.len() >= self.capacity {
                    // Evict the token that expires first.
                    if let Some(first) = map
                        .iter()
                        .min_by_key(|(_, c)| c.exp())
                        .map(|(k, _)| k.clone())
                    {
                        map.remove(&first);
                    }
                }
            }
            map.insert(token.into(), claims.clone());
        }
        Ok(claims)
    }

    /// Number of cached tokens.
    pub fn len(&self) -> usize {
        self.map.lock().map_or(0, |m| m.len())
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
