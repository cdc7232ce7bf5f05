//! `apigw-authorizer`: the Lambda function. Configuration from the environment (see the crate docs);
//! policies and the JWKS are read once, from the function's package directory.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = apigw_lambda::Config::from_env(|k| std::env::var(k).ok())?;
    let base = std::env::var("LAMBDA_TASK_ROOT").unwrap_or_else(|_| ".".into());
    let auth = Arc::new(config.load(std::path::Path::new(&base))?);
    let simple = config.simple;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let auth = auth.clone();
        async move {
            let now = authz_core::now_secs();
            apigw_lambda::handle(&auth, simple, &event.payload, now).map_err(Error::from)
        }
    }))
    .await
}
