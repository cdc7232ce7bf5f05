//! `policy-check pool eval`: decide requests made with identity-pool credentials.

use crate::Failure;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Format;
use crate::input::*;
use crate::report::*;

/// `pool eval`.
#[derive(Debug, clap::Args)]
pub struct PoolArgs {
    /// Identity-pool configuration (JSON).
    #[arg(
        long,
        required_unless_present = "template",
        conflicts_with = "template"
    )]
    pub pool: Option<PathBuf>,
    /// A CloudFormation or SAM template holding the identity pool (with `--identity-pool`): its
    /// providers, guest and classic-flow settings, role attachment (roles and role mappings) and the
    /// roles' policies, all from the template.
    #[arg(long, value_name = "TEMPLATE", requires = "identity_pool")]
    pub template: Option<PathBuf>,
    /// The identity pool's logical id in `--template`.
    #[arg(long, value_name = "LOGICAL_ID", requires = "template")]
    pub identity_pool: Option<String>,
    /// What `--template` is resolved with.
    #[command(flatten)]
    pub template_input: super::template::TemplateInput,
    /// An ID token (or a file holding it); needs --jwks, --client-id, and --user-pool-id (Cognito) or
    /// --issuer (another OpenID Connect provider).
    #[arg(long, conflicts_with_all = ["claims", "guest"])]
    pub token: Option<String>,
    /// JWKS file or URL for --token.
    #[arg(long)]
    pub jwks: Option<String>,
    /// User pool id for --token.
    #[arg(long, conflicts_with = "issuer")]
    pub user_pool_id: Option<String>,
    /// OpenID Connect issuer for --token (an `https://` URL, compared exactly with `iss`); the client id
    /// is then checked in `aud`.
    #[arg(long)]
    pub issuer: Option<String>,
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

pub(crate) fn run_pool(
    a: &PoolArgs,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, Failure> {
    let pool = match (&a.pool, &a.template, &a.identity_pool) {
        (Some(p), _, _) => crate::input::load_pool(p)?,
        (None, Some(t), Some(id)) => {
            super::template::pool_from_template(t, id, &a.template_input, Default::default())?
        }
        _ => return Err("give --pool CONFIG, or --template and --identity-pool".into()),
    };
    let claims_json = match &a.claims {
        Some(p) => Some(crate::input::read_json(p)?),
        None => None,
    };
    let token = a.token.as_deref().map(token_text).transpose()?;
    let verify = match (
        &a.jwks,
        a.user_pool_id.as_ref().or(a.issuer.as_ref()),
        &a.client_id,
    ) {
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
    let requests = crate::input::read_requests(&a.request)?;
    let mut any_deny = false;
    for r in requests {
        let req = crate::input::to_pool_request(r);
        let d = match &a.basic_flow_role {
            Some(role) => pool.decide_basic(claims.as_deref(), role, &req),
            None => pool.decide(claims.as_deref(), a.custom_role_arn.as_deref(), &req),
        }?;
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
