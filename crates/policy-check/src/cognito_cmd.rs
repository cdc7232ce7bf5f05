//! `policy-check token …` and `policy-check pool eval`: Cognito tokens and identity pools.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use cognito::{
    IdentityPool, JwksSource, KeyDir, MintOptions, PoolDecision, PoolRequest, TokenUse,
    VerifiedClaims, Verifier, VerifierConfig,
};
use serde_json::{Map, Value, json};

use crate::Format;

/// `token` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create (if absent) an RSA key pair and DIR/jwks.json, and print a Cognito-shaped signed token.
    #[command(after_help = crate::EXIT_CODES)]
    Mint(MintArgs),
    /// Verify a token; print its claims (exit 0) or the failed check (exit 1).
    #[command(after_help = crate::EXIT_CODES)]
    Verify(VerifyArgs),
    /// Print a token's header and claims WITHOUT verifying it.
    #[command(after_help = crate::EXIT_CODES)]
    Decode {
        /// The token, or a file holding it.
        token: String,
    },
}

/// `token mint`.
#[derive(Debug, clap::Args)]
pub struct MintArgs {
    /// Directory for private.pem and jwks.json.
    #[arg(long)]
    pub key_dir: PathBuf,
    /// JSON file of claims; they override the defaults (so tests can mint expired or wrong tokens).
    #[arg(long)]
    pub claims: Option<PathBuf>,
    /// id or access.
    #[arg(long, default_value = "id")]
    pub token_use: String,
    /// User pool id.
    #[arg(long, default_value = "us-east-1_Example")]
    pub user_pool_id: String,
    /// Region (default: the pool id's prefix).
    #[arg(long)]
    pub region: Option<String>,
    /// App client id.
    #[arg(long, default_value = "exampleclient")]
    pub client_id: String,
    /// Issue time, Unix seconds (default: now).
    #[arg(long)]
    pub now: Option<i64>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub lifetime: i64,
}

/// `token verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// JWKS file or URL.
    #[arg(long)]
    pub jwks: String,
    /// User pool id.
    #[arg(long)]
    pub user_pool_id: String,
    /// Region (default: the pool id's prefix).
    #[arg(long)]
    pub region: Option<String>,
    /// Accepted app client id(s).
    #[arg(long, required = true)]
    pub client_id: Vec<String>,
    /// id or access.
    #[arg(long, default_value = "id")]
    pub token_use: String,
    /// Explicit issuers (replace the two default forms), e.g. for multi-Region pools.
    #[arg(long)]
    pub issuer: Vec<String>,
    /// Clock leeway, seconds.
    #[arg(long, default_value_t = 0)]
    pub leeway: i64,
    /// Verify as of this Unix time (default: now).
    #[arg(long)]
    pub now: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// The token, or a file holding it.
    pub token: String,
}

/// `pool eval`.
#[derive(Debug, clap::Args)]
pub struct PoolArgs {
    /// Identity-pool configuration (JSON).
    #[arg(long)]
    pub pool: PathBuf,
    /// A user-pool ID token (or a file holding it); needs --jwks, --user-pool-id, --client-id.
    #[arg(long, conflicts_with_all = ["claims", "guest"])]
    pub token: Option<String>,
    /// JWKS file or URL for --token.
    #[arg(long)]
    pub jwks: Option<String>,
    /// User pool id for --token.
    #[arg(long)]
    pub user_pool_id: Option<String>,
    /// App client id for --token.
    #[arg(long)]
    pub client_id: Option<String>,
    /// Verify as of this Unix time (default: now).
    #[arg(long)]
    pub now: Option<i64>,
    /// Unverified ID-token claims (JSON file), for tests that do not sign.
    #[arg(long, conflicts_with = "guest")]
    pub claims: Option<PathBuf>,
    /// An unauthenticated (guest) identity.
    #[arg(long)]
    pub guest: bool,
    /// Role requested with GetCredentialsForIdentity (enhanced flow).
    #[arg(long, conflicts_with = "basic_flow_role")]
    pub custom_role_arn: Option<String>,
    /// Basic (classic) flow: the client assumes this role with the pool's OpenID token.
    #[arg(long)]
    pub basic_flow_role: Option<String>,
    /// Request file (as for `eval`; `principal` is ignored: the role session is the principal).
    #[arg(long)]
    pub request: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

fn token_text(arg: &str) -> Result<String, String> {
    let p = Path::new(arg);
    if arg.len() < 4096 && p.is_file() {
        return std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("cannot read `{arg}`: {e}"));
    }
    Ok(arg.trim().to_string())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// A JWKS source from a file path or an http(s) URL.
pub fn jwks_source(arg: &str, base: &Path) -> Result<JwksSource, String> {
    if arg.starts_with("http://") || arg.starts_with("https://") {
        return Ok(JwksSource::remote(arg));
    }
    let path = base.join(arg);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read JWKS `{}`: {e}", path.display()))?;
    JwksSource::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse_use(s: &str) -> Result<TokenUse, String> {
    s.parse()
}

pub(crate) fn run_token(
    cmd: &TokenCommand,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, String> {
    match cmd {
        TokenCommand::Mint(a) => {
            let dir = KeyDir::open_or_create(&a.key_dir)?;
            let claims: Map<String, Value> = match &a.claims {
                Some(p) => {
                    let text = std::fs::read_to_string(p)
                        .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
                    match serde_json::from_str(&text)
                        .map_err(|e| format!("{}: {e}", p.display()))?
                    {
                        Value::Object(m) => m,
                        _ => return Err(format!("{}: claims must be a JSON object", p.display())),
                    }
                }
                None => Map::new(),
            };
            let o = MintOptions {
                token_use: parse_use(&a.token_use)?,
                user_pool_id: a.user_pool_id.clone(),
                region: a.region.clone(),
                client_id: a.client_id.clone(),
                now: a.now.unwrap_or_else(now),
                lifetime: a.lifetime,
            };
            let t = cognito::mint(dir.key(), &claims, &o)?;
            let _ = writeln!(out, "{t}");
            Ok(0)
        }
        TokenCommand::Verify(a) => {
            let t = token_text(&a.token)?;
            let mut cfg = VerifierConfig::for_pool(&a.user_pool_id, "", parse_use(&a.token_use)?);
            cfg.client_ids = a.client_id.clone();
            cfg.leeway = a.leeway;
            if let Some(r) = &a.region {
                cfg.issuers = cognito::pool_issuers(r, &a.user_pool_id);
            }
            if !a.issuer.is_empty() {
                cfg.issuers = a.issuer.clone();
            }
            let v = Verifier::new(cfg, jwks_source(&a.jwks, Path::new("."))?);
            match v.verify_at(&t, a.now.unwrap_or_else(now)) {
                Ok(c) => {
                    match a.format {
                        Format::Json => {
                            let _ = writeln!(
                                out,
                                "{}",
                                json!({"valid": true, "claims": c.claims(), "error": null})
                            );
                        }
                        Format::Human => {
                            let _ = writeln!(
                                out,
                                "valid {} token\n{}",
                                c.token_use().as_str(),
                                serde_json::to_string_pretty(c.claims()).unwrap_or_default()
                            );
                        }
                    }
                    Ok(0)
                }
                Err(e) => {
                    match a.format {
                        Format::Json => {
                            let _ = writeln!(
                                out,
                                "{}",
                                json!({"valid": false, "claims": null, "error": {"code": e.code(), "message": e.to_string()}})
                            );
                        }
                        Format::Human => {
                            let _ = writeln!(out, "invalid token: {} ({})", e, e.code());
                        }
                    }
                    Ok(1)
                }
            }
        }
        TokenCommand::Decode { token } => {
            let t = token_text(token)?;
            let parts: Vec<&str> = t.split('.').collect();
            if parts.len() != 3 {
                return Err(format!(
                    "a JWT has three dot-separated parts, this has {}",
                    parts.len()
                ));
            }
            let dec = |p: &str, what: &str| -> Result<Value, String> {
                let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .map_err(|_| format!("the {what} is not base64url"))?;
                serde_json::from_slice(&b).map_err(|e| format!("the {what} is not JSON: {e}"))
            };
            let v = json!({"verified": false, "warning": "NOT VERIFIED: signature, issuer, audience and expiry were not checked", "header": dec(parts.first().copied().unwrap_or(""), "header")?, "claims": dec(parts.get(1).copied().unwrap_or(""), "payload")?});
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            );
            Ok(0)
        }
    }
}

/// Claims for a pool evaluation: verified from a token, or given explicitly (unverified).
pub fn claims_from(
    token: Option<&str>,
    claims: Option<&Value>,
    verify: Option<(&str, &str, &str)>,
    base: &Path,
    at: Option<i64>,
) -> Result<Option<VerifiedClaims>, String> {
    if let Some(t) = token {
        let (jwks, pool, client) =
            verify.ok_or("a token needs a JWKS, a user pool id and a client id")?;
        let v = Verifier::new(
            VerifierConfig::for_pool(pool, client, TokenUse::Id),
            jwks_source(jwks, base)?,
        );
        return v
            .verify_at(t, at.unwrap_or_else(now))
            .map(Some)
            .map_err(|e| format!("token refused: {e} ({})", e.code()));
    }
    if let Some(c) = claims {
        let m = c.as_object().ok_or("claims must be a JSON object")?.clone();
        return VerifiedClaims::from_unverified_claims(m)
            .map(Some)
            .map_err(|e| format!("claims refused: {e}"));
    }
    Ok(None)
}

/// Turns a request JSON (as for `eval`) into a pool request.
pub fn pool_request(v: &Value, what: &str) -> Result<PoolRequest, String> {
    let r = crate::eval_cmd::request_from_json(v, what)?;
    Ok(PoolRequest {
        action: r.action,
        resource: r.resource,
        resource_account: r.resource_account,
        context: r.context,
        guest_id: None,
    })
}

pub(crate) fn run_pool(
    a: &PoolArgs,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, String> {
    let pool = IdentityPool::load(&a.pool)?;
    let claims_json = match &a.claims {
        Some(p) => Some(
            serde_json::from_str::<Value>(
                &std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?,
            )
            .map_err(|e| format!("{}: {e}", p.display()))?,
        ),
        None => None,
    };
    let token = a.token.as_deref().map(token_text).transpose()?;
    let verify = match (&a.jwks, &a.user_pool_id, &a.client_id) {
        (Some(j), Some(p), Some(c)) => Some((j.as_str(), p.as_str(), c.as_str())),
        _ => None,
    };
    if token.is_none() && claims_json.is_none() && !a.guest {
        return Err("give --token, --claims or --guest".into());
    }
    // A token Cognito would refuse is an error (exit 1), not a decision.
    let claims = claims_from(
        token.as_deref(),
        claims_json.as_ref(),
        verify,
        Path::new("."),
        a.now,
    )?;
    let requests = crate::eval_cmd::read_requests(&a.request)?;
    let mut any_deny = false;
    for (v, _) in &requests {
        let req = pool_request(v, &a.request.display().to_string())?;
        let d = match &a.basic_flow_role {
            Some(role) => pool.decide_basic(claims.as_ref(), role, &req),
            None => pool.decide(claims.as_ref(), a.custom_role_arn.as_deref(), &req),
        }
        .map_err(|e| e.to_string())?;
        any_deny |= d.decision.is_deny();
        match a.format {
            Format::Json => {
                let _ = writeln!(out, "{}", pool_decision_json(&req, &d));
            }
            Format::Human => {
                let _ = write!(out, "{}", pool_decision_text(&req, &d));
            }
        }
    }
    Ok(if any_deny { 2 } else { 0 })
}

/// The keys of a decision's context that the session owns (identity id, principal, tags, …), sorted.
fn session_context(d: &PoolDecision) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<(String, Vec<String>)> = d
        .context
        .iter()
        .filter(|(k, _)| cognito::is_session_key(k))
        .map(|(k, v)| (k.to_string(), v.values().to_vec()))
        .collect();
    v.sort();
    v
}

/// A pool decision as JSON: decision, role, reasons, the identity id and session context the request
/// was evaluated with, and the explanation.
pub fn pool_decision_json(req: &PoolRequest, d: &PoolDecision) -> Value {
    let session: serde_json::Map<String, Value> = session_context(d)
        .into_iter()
        .map(|(k, v)| {
            let val = if k == "cognito-identity.amazonaws.com:amr" {
                json!(v)
            } else {
                json!(v.first())
            };
            (k, val)
        })
        .collect();
    let statements: Vec<Value> = d
        .explanation
        .iter()
        .flat_map(|e| &e.statements)
        .map(|s| {
            json!({"statement": s.label, "sid": s.sid, "effect": s.effect.as_str(),
                   "applies": s.verdict == iam_eval::Verdict::Applies,
                   "reason": crate::eval_cmd::reason(s)})
        })
        .collect();
    json!({
        "request": {"action": req.action, "resource": req.resource},
        "decision": d.decision.as_str(),
        "role": d.role.as_ref().map(|r| &r.role_arn),
        "role_reason": d.role.as_ref().map(|r| &r.reason),
        "reason": d.reason,
        "identity_id": d.context.get("cognito-identity.amazonaws.com:sub").and_then(|v| v.values().first()),
        "session_context": session,
        "statements": statements,
        "missing_context": d.explanation.as_ref().map(|e| &e.missing_context),
    })
}

/// A pool decision for people, in the same words as `eval`.
pub fn pool_decision_text(req: &PoolRequest, d: &PoolDecision) -> String {
    let mut s = format!("{} on {}\n", req.action, req.resource);
    s.push_str(&format!("decision: {} — {}\n", d.decision, d.reason));
    if let Some(r) = &d.role {
        s.push_str(&format!("  role: {} ({})\n", r.role_arn, r.reason));
    }
    if let Some(id) = d
        .context
        .get("cognito-identity.amazonaws.com:sub")
        .and_then(|v| v.values().first())
    {
        s.push_str(&format!("  identity id: {id}\n"));
    }
    let session = session_context(d);
    if !session.is_empty() {
        s.push_str("  session context (derived; a request may not change it):\n");
        for (k, v) in session {
            s.push_str(&format!("    {k} = {}\n", v.join(", ")));
        }
    }
    if let Some(ex) = &d.explanation {
        s.push_str(&crate::eval_cmd::statements_text(ex));
    }
    s
}
