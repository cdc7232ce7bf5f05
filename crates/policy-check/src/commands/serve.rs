//! `policy-check serve`: Verified Permissions, IAM's policy simulator and IAM Access Analyzer's
//! `ValidatePolicy` on localhost for the AWS SDKs, the AWS CLI and AWS's validators (the server is the
//! `policy-serve` crate; this only starts it).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

/// `serve` arguments.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8180")]
    pub listen: SocketAddr,
    /// A policy store served under an id: ID=DIR (repeatable). Without one, Verified Permissions has no
    /// store to answer for; IAM and Access Analyzer are served all the same.
    #[arg(long = "store")]
    pub stores: Vec<policy_serve::StoreSpec>,
    /// Users and roles for SimulatePrincipalPolicy: {"principals": [{"arn", "policies", "boundary",
    /// "trust"}]}, paths relative to the file.
    #[arg(long)]
    pub iam: Option<std::path::PathBuf>,
    /// Check every request's SigV4 signature against this access key: ACCESS_KEY_ID:SECRET_ACCESS_KEY
    /// (repeatable; test keys, as this is a local server). Without it, signatures are not checked.
    #[arg(long = "credentials", value_name = "ID:SECRET")]
    pub credentials: Vec<String>,
    /// A Region the server stands for (repeatable; default us-east-1): signatures of Verified
    /// Permissions, Access Analyzer and STS may be scoped to it, and analyzers are created in the first.
    /// IAM's are scoped to us-east-1.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// The account the server stands for (STS GetCallerIdentity, analyzer ARNs, Verified Permissions'
    /// store ARNs).
    #[arg(long, default_value = "123456789012", value_parser = account_id)]
    pub account: String,
}

fn account_id(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!("`{s}`: an account id is 12 digits"))
    }
}

pub(crate) fn run(a: &ServeArgs, _out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, String> {
    let mut server = policy_serve::Server::load(a.stores.clone())?;
    if let Some(p) = &a.iam {
        server = server.with_iam(policy_serve::IamConfig::from_file(p)?);
    }
    if !a.credentials.is_empty() {
        let keys = a
            .credentials
            .iter()
            .map(|c| match c.split_once(':') {
                Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
                    Ok((id.to_string(), secret.to_string()))
                }
                _ => Err(
                    "--credentials takes ACCESS_KEY_ID:SECRET_ACCESS_KEY (both non-empty)"
                        .to_string(),
                ),
            })
            .collect::<Result<Vec<_>, _>>()?;
        server = server.with_credentials(keys);
    }
    server = server
        .with_regions(a.regions.clone())
        .with_account(a.account.clone());
    let server = Arc::new(server);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let _ = writeln!(
        err,
        "serving {} store(s) on http://{} (SIGHUP reloads, SIGINT/SIGTERM stops)",
        a.stores.len(),
        a.listen
    );
    rt.block_on(policy_serve::run(a.listen, server))
        .map_err(|e| format!("{}: {e}", a.listen))?;
    Ok(0)
}
