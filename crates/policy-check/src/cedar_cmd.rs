//! `policy-check authorize`: Cedar policy stores with Verified Permissions' request shapes.

use std::io::Write;
use std::path::{Path, PathBuf};

use cedar_bridge::avp::{self, TokenClaims};
use cedar_bridge::{BridgeError, PolicyStore};
use serde_json::{Value, json};

use crate::Format;

/// `authorize` arguments.
#[derive(Debug, clap::Args)]
pub struct AuthorizeArgs {
    /// Policy store directory (*.cedar, optional schema.cedarschema / schema.json, links.json,
    /// identity-source.json).
    #[arg(long)]
    pub store: PathBuf,
    /// Request: IsAuthorized, IsAuthorizedWithToken, BatchIsAuthorized(WithToken), or a cedar CLI request.
    #[arg(long)]
    pub request: PathBuf,
    /// Entities (cedar CLI format or {"entityList": …}) for requests that carry none.
    #[arg(long)]
    pub entities: Option<PathBuf>,
    /// Verify tokens as of this Unix time (default: now).
    #[arg(long)]
    pub now: Option<i64>,
    /// Output format (json: the Verified Permissions response shape).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn read_json(p: &Path) -> Result<Value, String> {
    let text =
        std::fs::read_to_string(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
}

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
) -> Result<(Value, Vec<authz_core::Decision>), BridgeError> {
    let tokens = if claims.identity.is_some() || claims.access.is_some() {
        claims.clone()
    } else {
        avp::verify_request_tokens(store, req, store_dir, now)?
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
            decisions.push(a.decision);
            let mut item = a.response.clone();
            if let Some(o) = item.as_object_mut() {
                o.remove("principal");
                o.insert("request".into(), r.clone());
            }
            results.push(item);
        }
        let mut out = json!({"results": results});
        if tokens.identity.is_some() || tokens.access.is_some() {
            let a = avp::decide(store, list.first().unwrap_or(&Value::Null), &tokens, shared)?;
            if let (Some(o), Some(p)) = (out.as_object_mut(), a.response.get("principal")) {
                o.insert("principal".into(), p.clone());
            }
        }
        return Ok((out, decisions));
    }
    let a = avp::decide(store, req, &tokens, shared)?;
    Ok((a.response, vec![a.decision]))
}

pub(crate) fn run(
    a: &AuthorizeArgs,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, String> {
    let store = PolicyStore::load(&a.store).map_err(|e| e.to_string())?;
    let mut req = read_json(&a.request)?;
    resolve_tokens(&mut req, a.request.parent().unwrap_or(Path::new(".")));
    let entities = a.entities.as_deref().map(read_json).transpose()?;
    let (resp, decisions) = match run_request(
        &store,
        &a.store,
        &req,
        entities.as_ref(),
        a.now,
        &TokenClaims::default(),
    ) {
        Ok(x) => x,
        // A malformed request or a token that fails verification: Verified Permissions answers with an
        // exception, not a decision. Exit 1 with the exception; JSON output is AWS's error shape.
        Err(e) if e.exception().is_some() => {
            let name = e.exception().unwrap_or("ValidationException");
            if a.format == Format::Json {
                let v = e.aws_json().unwrap_or(Value::Null);
                let _ = writeln!(out, "{v}");
                return Ok(1);
            }
            return Err(format!("{name}: {e}"));
        }
        Err(e) => return Err(e.to_string()),
    };
    match a.format {
        Format::Json => {
            let _ = writeln!(out, "{resp}");
        }
        Format::Human => {
            let items: Vec<&Value> = match resp.get("results").and_then(Value::as_array) {
                Some(r) => r.iter().collect(),
                None => vec![&resp],
            };
            if let Some(p) = resp.get("principal") {
                let _ = writeln!(
                    out,
                    "principal: {}::\"{}\"",
                    p["entityType"].as_str().unwrap_or(""),
                    p["entityId"].as_str().unwrap_or("")
                );
            }
            for (item, d) in items.iter().zip(&decisions) {
                let pols: Vec<&str> = item["determiningPolicies"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|p| p["policyId"].as_str()).collect())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "decision: {} ({d}); determining policies: [{}]",
                    item["decision"].as_str().unwrap_or(""),
                    pols.join(", ")
                );
                for e in item["errors"].as_array().into_iter().flatten() {
                    let _ = writeln!(
                        out,
                        "  error: {}",
                        e["errorDescription"].as_str().unwrap_or("")
                    );
                }
            }
        }
    }
    Ok(if decisions.iter().any(|d| d.is_deny()) {
        2
    } else {
        0
    })
}
