//! Offline test tooling: an RSA key pair on disk, its JWKS, and Cognito-shaped tokens signed with it.

use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value, json};

use crate::TokenUse;

/// A test key or token that could not be made (key generation, PEM, signing, the key directory):
/// `token::mint`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MintError(pub String);

impl From<String> for MintError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<MintError> for String {
    fn from(e: MintError) -> String {
        e.0
    }
}

impl diag::Coded for MintError {
    fn code(&self) -> &'static str {
        diag::codes::TOKEN_MINT
    }
}

impl miette::Diagnostic for MintError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(diag::codes::TOKEN_MINT))
    }
}

/// A signing key with its `kid`.
pub struct SigningKey {
    kid: String,
    key: EncodingKey,
    jwks: Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

fn b64url(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl SigningKey {
    /// A fresh 2048-bit RSA key. `kid` is derived from the modulus.
    pub fn generate() -> Result<(Self, String), MintError> {
        crate::install_crypto_provider();
        let kp = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| "RSA key generation failed".to_string())?;
        let der = kp
            .as_der()
            .map_err(|_| "cannot encode the key".to_string())?;
        let pem_text = pem("PRIVATE KEY", der.as_ref());
        let key = Self::from_pem(&pem_text)?;
        Ok((key, pem_text))
    }

    /// Loads a PKCS#8 or PKCS#1 PEM private key.
    pub fn from_pem(pem_text: &str) -> Result<Self, MintError> {
        crate::install_crypto_provider();
        let key = EncodingKey::from_rsa_pem(pem_text.as_bytes())
            .map_err(|e| format!("invalid RSA private key: {e}"))?;
        let der = pem_der(pem_text)?;
        let kp = KeyPair::from_pkcs8(&der)
            .or_else(|_| KeyPair::from_der(&der))
            .map_err(|_| "invalid RSA private key".to_string())?;
        let comps: PublicKeyComponents<Vec<u8>> = kp.public_key().into();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &comps.n);
        let kid = b64url(digest.as_ref().get(..12).unwrap_or_default());
        let jwks = json!({"keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
            "n": b64url(&comps.n), "e": b64url(&comps.e)
        }]});
        Ok(Self { kid, key, jwks })
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWKS.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// Signs arbitrary header and claims objects with this key's RS256 signature, exactly as given (for
    /// crafting test tokens: a missing `kid`, an unusual header field).
    pub fn sign_raw(&self, header: &Value, claims: &Value) -> Result<String, MintError> {
        let h = b64url(
            serde_json::to_string(header)
                .map_err(|e| e.to_string())?
                .as_bytes(),
        );
        let p = b64url(
            serde_json::to_string(claims)
                .map_err(|e| e.to_string())?
                .as_bytes(),
        );
        let msg = format!("{h}.{p}");
        let sig = jsonwebtoken::crypto::sign(msg.as_bytes(), &self.key, Algorithm::RS256)
            .map_err(|e| e.to_string())?;
        Ok(format!("{msg}.{sig}"))
    }

    /// Signs `claims` (RS256) with this key's `kid` in the header.
    pub fn sign(&self, claims: &Map<String, Value>) -> Result<String, MintError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| MintError(format!("signing failed: {e}")))
    }
}

fn pem_der(pem_text: &str) -> Result<Vec<u8>, String> {
    let body: String = pem_text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|_| "invalid PEM".to_string())
}

/// A directory holding `private.pem` and `jwks.json`, created when absent.
#[derive(Debug)]
pub struct KeyDir {
    dir: PathBuf,
    key: SigningKey,
}

impl KeyDir {
    /// Loads the key in `dir`, or creates one (and `jwks.json`) there.
    pub fn open_or_create(dir: &Path) -> Result<Self, MintError> {
        let pem_path = dir.join("private.pem");
        let key = if pem_path.exists() {
            let text = std::fs::read_to_string(&pem_path)
                .map_err(|e| format!("cannot read `{}`: {e}", pem_path.display()))?;
            SigningKey::from_pem(&text)?
        } else {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
            let (key, pem_text) = SigningKey::generate()?;
            std::fs::write(&pem_path, pem_text)
                .map_err(|e| format!("cannot write `{}`: {e}", pem_path.display()))?;
            key
        };
        let jwks_path = dir.join("jwks.json");
        let text = serde_json::to_string_pretty(key.jwks()).map_err(|e| e.to_string())?;
        std::fs::write(&jwks_path, text)
            .map_err(|e| format!("cannot write `{}`: {e}", jwks_path.display()))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            key,
        })
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Path of `jwks.json`.
    pub fn jwks_path(&self) -> PathBuf {
        self.dir.join("jwks.json")
    }
}

/// What a minted token defaults to.
#[derive(Debug, Clone)]
pub struct MintOptions {
    /// ID or access.
    pub token_use: TokenUse,
    /// User pool id.
    pub user_pool_id: String,
    /// Region (defaults to the pool id's prefix).
    pub region: Option<String>,
    /// App client id.
    pub client_id: String,
    /// Issue time (Unix seconds).
    pub now: i64,
    /// Lifetime in seconds (Cognito's default is one hour).
    pub lifetime: i64,
}

impl MintOptions {
    /// Options for a token of `user_pool_id` and `client_id` issued at `now`, with the pool's Region
    /// and Cognito's default one-hour lifetime.
    pub fn new(user_pool_id: &str, client_id: &str, token_use: TokenUse, now: i64) -> Self {
        Self {
            token_use,
            user_pool_id: user_pool_id.into(),
            region: None,
            client_id: client_id.into(),
            now,
            lifetime: 3600,
        }
    }
}

/// Fills Cognito's default claims around `given` (given claims win) and signs.
pub fn mint(
    key: &SigningKey,
    given: &Map<String, Value>,
    o: &MintOptions,
) -> Result<String, MintError> {
    let region = o
        .region
        .clone()
        .or_else(|| crate::pool_region(&o.user_pool_id).map(str::to_string))
        .unwrap_or_else(|| "us-east-1".into());
    let mut c = Map::new();
    let jti = b64url(
        aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            format!("{}{:?}", o.now, given).as_bytes(),
        )
        .as_ref(),
    );
    c.insert("sub".into(), json!("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"));
    c.insert(
        "iss".into(),
        json!(format!(
            "https://cognito-idp.{region}.amazonaws.com/{}",
            o.user_pool_id
        )),
    );
    c.insert("token_use".into(), json!(o.token_use.as_str()));
    c.insert("auth_time".into(), json!(o.now));
    c.insert("iat".into(), json!(o.now));
    c.insert("exp".into(), json!(o.now.saturating_add(o.lifetime)));
    c.insert("jti".into(), json!(jti));
    c.insert("origin_jti".into(), json!(jti));
    match o.token_use {
        TokenUse::Id => {
            c.insert("aud".into(), json!(o.client_id));
            c.insert("cognito:username".into(), json!("test-user"));
        }
        TokenUse::Access => {
            c.insert("client_id".into(), json!(o.client_id));
            c.insert("username".into(), json!("test-user"));
            c.insert("scope".into(), json!("openid profile email"));
            c.insert("version".into(), json!(2));
        }
    }
    for (k, v) in given {
        c.insert(k.clone(), v.clone());
    }
    key.sign(&c)
}
