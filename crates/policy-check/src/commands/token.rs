//! `policy-check token`: mint, verify and decode Cognito tokens.

use crate::Failure;
use cognito::Claims as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use cognito::{KeyDir, MintOptions, TokenUse, Verifier, VerifierConfig};
use serde_json::{Map, Value, json};

use crate::Format;
use crate::input::*;

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

pub(crate) fn parse_use(s: &str) -> Result<TokenUse, Failure> {
    s.parse().map_err(Failure::from)
}

pub(crate) fn run_token(
    cmd: &TokenCommand,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, Failure> {
    match cmd {
        TokenCommand::Mint(a) => {
            let dir = KeyDir::open_or_create(&a.key_dir)?;
            let claims: Map<String, Value> = match &a.claims {
                Some(p) => {
                    let text = std::fs::read_to_string(p)
                        .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
                    match serde_json::from_str(&text)
                        .map_err(|e| Failure::from(e).at(&format!("{}", p.display())))?
                    {
                        Value::Object(m) => m,
                        _ => {
                            return Err(Failure::from(format!(
                                "{}: claims must be a JSON object",
                                p.display()
                            )));
                        }
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
                                // Claims are the token's text: bidi overrides shown escaped.
                                diag::printable(
                                    &serde_json::to_string_pretty(c.claims()).unwrap_or_default()
                                )
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
                            let _ = writeln!(
                                out,
                                "invalid token: {} [{}]",
                                diag::printable(&e.to_string()),
                                e.code()
                            );
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
                return Err(Failure::from(format!(
                    "a JWT has three dot-separated parts, this has {}",
                    parts.len()
                )));
            }
            let dec = |p: &str, what: &str| -> Result<Value, Failure> {
                let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p)
                    .map_err(|_| format!("the {what} is not base64url"))?;
                serde_json::from_slice(&b)
                    .map_err(|e| format!("the {what} is not JSON: {e}"))
                    .map_err(Failure::from)
            };
            let v = json!({"verified": false, "warning": "NOT VERIFIED: signature, issuer, audience and expiry were not checked", "header": dec(parts.first().copied().unwrap_or(""), "header")?, "claims": dec(parts.get(1).copied().unwrap_or(""), "payload")?});
            let _ = writeln!(
                out,
                "{}",
                diag::printable(&serde_json::to_string_pretty(&v).unwrap_or_default())
            );
            Ok(0)
        }
    }
}
