//! `policy-check serve`: Verified Permissions, IAM's policy simulator and IAM Access Analyzer's
//! `ValidatePolicy` on localhost for the AWS SDKs, the AWS CLI and AWS's validators (the server is the
//! `policy-serve` crate; this only starts it).

use crate::Failure;
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
    /// A CloudFormation or SAM template holding Verified Permissions policy stores (with
    /// `--template-store`); re-read at every reload.
    #[arg(long, value_name = "FILE")]
    pub template: Option<std::path::PathBuf>,
    /// A policy store of `--template` by logical id, served as STORE_ID (default: the logical id):
    /// LOGICAL_ID[=STORE_ID] (repeatable).
    #[arg(
        long = "template-store",
        value_name = "LOGICAL_ID[=STORE_ID]",
        requires = "template"
    )]
    pub template_stores: Vec<String>,
    /// JWKS (file or URL) the template stores' Cognito identity sources verify tokens with.
    #[arg(long, requires = "template")]
    pub jwks: Option<String>,
    /// `--template`'s parameter values: CloudFormation's or cfn-policy-validator's parameters file.
    #[arg(long, value_name = "FILE", requires = "template")]
    pub parameters: Option<std::path::PathBuf>,
    /// One `--template` parameter value, NAME=VALUE (repeatable).
    #[arg(long = "parameter", value_name = "NAME=VALUE", requires = "template")]
    pub parameter: Vec<String>,
    /// A deployed resource's physical id for `--template`, LOGICAL_ID=VALUE (repeatable).
    #[arg(
        long = "physical-id",
        value_name = "LOGICAL_ID=VALUE",
        requires = "template"
    )]
    pub physical_id: Vec<String>,
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

fn account_id(s: &str) -> Result<String, Failure> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(Failure::from(format!("`{s}`: an account id is 12 digits")))
    }
}

/// The stores of `--template-store`, each read from the template at load and at every reload.
fn template_stores(a: &ServeArgs) -> Result<Vec<policy_serve::StoreSpec>, Failure> {
    let Some(t) = &a.template else {
        return Ok(Vec::new());
    };
    if a.template_stores.is_empty() {
        return Err("--template needs at least one --template-store LOGICAL_ID[=STORE_ID]".into());
    }
    let mut input =
        super::template::TemplateInput::with(a.parameter.clone(), a.physical_id.clone());
    input.parameters.clone_from(&a.parameters);
    input.template_account.clone_from(&a.account);
    if let Some(r) = a.regions.first() {
        input.region.clone_from(r);
    }
    // Read once now, so that a wrong logical id or template fails at start with its own message.
    let mut out = Vec::new();
    for s in &a.template_stores {
        let (logical, id) = match s.split_once('=') {
            Some((l, i)) => (l.to_string(), i.to_string()),
            None => (s.clone(), s.clone()),
        };
        let spec: policy_serve::StoreSpec = format!("{id}=.").parse()?;
        let (t, input, jwks) = (t.clone(), input.clone(), a.jwks.clone());
        let read = move || {
            super::template::store_files_from_template(&t, &logical, &input, jwks.as_deref())
                .map_err(|f| policy_serve::ServeError::Config {
                    at: format!("{} ({logical})", t.display()),
                    code: f.code.unwrap_or(diag::codes::SERVE_CONFIG),
                    message: f.message,
                })
        };
        read()?;
        out.push(policy_serve::StoreSpec::reading(
            spec.id,
            std::path::PathBuf::from("."),
            std::sync::Arc::new(read),
        ));
    }
    Ok(out)
}

pub(crate) fn run(a: &ServeArgs, _out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    let mut specs = a.stores.clone();
    specs.extend(template_stores(a)?);
    let n = specs.len();
    let mut server = policy_serve::Server::load(specs)?;
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
        n, a.listen
    );
    rt.block_on(policy_serve::run(a.listen, server))
        .map_err(|e| format!("{}: {e}", a.listen))?;
    Ok(0)
}
