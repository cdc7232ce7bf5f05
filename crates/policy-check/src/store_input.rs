//! Loading Cedar policy stores and running Verified Permissions request documents against them (tokens
//! given as files are read here; the bridge reads no files).

use crate::Failure;
use std::path::Path;

use cedar_bridge::avp::{self, TokenClaims};
use cedar_bridge::{BridgeError, PolicyStore};
use serde_json::Value;

use crate::input::json_text;

/// Resolves token fields given as file paths (relative to `base`), by the one rule for tokens
/// (`input::token_text_at`): a file when there is one, a missing file an error, else the token inline.
pub fn resolve_tokens(req: &mut Value, base: &Path) -> Result<(), Failure> {
    for k in ["identityToken", "accessToken"] {
        if let Some(Value::String(t)) = req.get(k) {
            let text = crate::input::token_text_at(t, base).map_err(|e| e.at(&format!("`{k}`")))?;
            if let Some(o) = req.as_object_mut() {
                o.insert(k.into(), Value::String(text));
            }
        }
    }
    Ok(())
}

/// The token claims of a request: `claims` when given (tests), else the request's tokens verified with
/// the store's identity source (a JWKS named as a file is read next to the store).
pub fn request_tokens(
    store: &PolicyStore,
    store_dir: &Path,
    req: &Value,
    now: Option<i64>,
    claims: &TokenClaims,
) -> Result<TokenClaims, BridgeError> {
    if !claims.is_empty() {
        return Ok(claims.clone());
    }
    let jwks_file = store
        .identity_source()
        .and_then(|src| src.jwks.as_deref())
        .filter(|j| !(j.starts_with("http://") || j.starts_with("https://")));
    let text = match jwks_file {
        Some(j) => {
            let p = store_dir.join(j);
            Some(std::fs::read_to_string(&p).map_err(|e| {
                BridgeError::Config(format!("cannot read JWKS `{}`: {e}", p.display()))
            })?)
        }
        None => None,
    };
    avp::verify_request_tokens(store, req, text.as_deref(), now)
}

/// Decides every request of an AVP or cedar CLI request document; returns the AVP response and the
/// shared decisions.
pub fn run_request(
    store: &PolicyStore,
    store_dir: &Path,
    req: &Value,
    entities: Option<&Value>,
    now: Option<i64>,
    claims: &TokenClaims,
) -> Result<(Value, Vec<authz_core::Answer>), BridgeError> {
    let tokens = request_tokens(store, store_dir, req, now, claims)?;
    avp::run(store, req, &tokens, entities)
}

/// Reads a Cedar policy store directory (`*.cedar`, `schema.cedarschema` / `schema.json`,
/// `identity-source.json`, `links.json`) and builds the store.
pub fn load_store(dir: &Path) -> Result<cedar_bridge::PolicyStore, BridgeError> {
    let files = cedar_bridge::StoreFiles::from_dir(dir)?;
    for (name, text) in &files.others {
        if name.ends_with(".json") {
            // Located syntax errors and duplicate keys, before the store reads it.
            json_text(&dir.join(name).display().to_string(), text)
                .map_err(|f| BridgeError::Config(f.to_string()))?;
        }
    }
    cedar_bridge::PolicyStore::from_files(&files)
}
