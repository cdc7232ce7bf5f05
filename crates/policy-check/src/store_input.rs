//! Loading Cedar policy stores and running Verified Permissions request documents against them (tokens
//! given as files are read here; the bridge reads no files).

use std::path::Path;

use cedar_bridge::avp::{self, TokenClaims};
use cedar_bridge::{BridgeError, PolicyStore};
use serde_json::{Value, json};

use crate::input::json_text;

/// Resolves token fields given as file paths (relative to `base`).
pub fn resolve_tokens(req: &mut Value, base: &Path) {
    for k in ["identityToken", "accessToken"] {
        if let Some(Value::String(t)) = req.get(k) {
            let p = base.join(t);
            if t.len() < 1024
                && p.is_file()
                && let Ok(s) = std::fs::read_to_string(&p)
                && let Some(o) = req.as_object_mut()
            {
                o.insert(k.into(), Value::String(s.trim().to_string()));
            }
        }
    }
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
    let tokens = if claims.identity.is_some() || claims.access.is_some() {
        claims.clone()
    } else {
        {
            // The identity source's JWKS, when it names a file, is read next to the store.
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
            avp::verify_request_tokens(store, req, text.as_deref(), now)?
        }
    };
    let shared = req.get("entities").or(entities);
    if let Some(list) = req.get("requests") {
        let list = list
            .as_array()
            .ok_or_else(|| BridgeError::Request("`requests` must be an array".into()))?;
        if list.is_empty() || list.len() > 30 {
            return Err(BridgeError::Request(format!(
                "a batch holds 1 to 30 requests, this one {}",
                list.len()
            )));
        }
        let with_token = tokens.identity.is_some() || tokens.access.is_some();
        if with_token {
            if let Some(i) = list.iter().position(|r| r.get("principal").is_some()) {
                return Err(BridgeError::Request(format!(
                    "requests[{i}]: BatchIsAuthorizedWithToken takes the principal from the token; a request may not name one"
                )));
            }
        } else {
            // BatchIsAuthorized: either the principal or the resource is the same in every request.
            let same = |k: &str| {
                list.windows(2)
                    .all(|w| matches!(w, [a, b] if a.get(k) == b.get(k)))
            };
            if !same("principal") && !same("resource") {
                return Err(BridgeError::Request(
                    "BatchIsAuthorized: the requests must all have the same principal or all the same resource".into(),
                ));
            }
        }
        let mut results = Vec::new();
        let mut decisions = Vec::new();
        for r in list {
            let a = avp::decide(store, r, &tokens, shared)?;
            decisions.push(a.result.clone());
            let mut item = a.response().clone();
            if let Some(o) = item.as_object_mut() {
                o.remove("principal");
                o.insert("request".into(), r.clone());
            }
            results.push(item);
        }
        let mut out = json!({"results": results});
        if tokens.identity.is_some() || tokens.access.is_some() {
            let a = avp::decide(store, list.first().unwrap_or(&Value::Null), &tokens, shared)?;
            if let (Some(o), Some(p)) = (out.as_object_mut(), a.response().get("principal")) {
                o.insert("principal".into(), p.clone());
            }
        }
        return Ok((out, decisions));
    }
    let a = avp::decide(store, req, &tokens, shared)?;
    Ok((a.response(), vec![a.result]))
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
