//! `methodArn` / `routeArn`: `arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/{VERB}/{path}`,
//! built from the actual request (never the route template), as API Gateway builds it for an authorizer.

use crate::ApigwError;

/// The longest `methodArn` API Gateway accepts; a longer one is answered with 414.
pub const MAX_METHOD_ARN_BYTES: usize = 1600;

/// The partition of a Region (`iam_policy::partition_of_region`).
pub fn partition(region: &str) -> &'static str {
    iam_policy::partition_of_region(region)
}

/// Where an API is deployed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Account id.
    pub account: String,
    /// API id.
    pub api_id: String,
    /// Stage (`$default` for an HTTP API's default stage).
    pub stage: String,
}

impl Deployment {
    /// The `methodArn` of a request: the real verb (upper-cased; never `ANY`) and the path as received
    /// without its query string and leading `/` (the root gives `…/GET/`). Errors: `apigw::uri-too-long`
    /// (414) past [`MAX_METHOD_ARN_BYTES`], `apigw::request` for a verb that is not a token.
    pub fn method_arn(&self, verb: &str, path: &str) -> Result<String, ApigwError> {
        if verb.is_empty()
            || verb.eq_ignore_ascii_case("ANY")
            || !verb.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return Err(ApigwError::request(format!(
                "`{}` is not an HTTP method a request can have",
                verb.to_ascii_uppercase()
            )));
        }
        let path = path.split(['?', '#']).next().unwrap_or("");
        let path = path.strip_prefix('/').unwrap_or(path);
        // Built by pushing into one buffer of the right size: this runs on every request.
        let part = partition(&self.region);
        let mut arn = String::with_capacity(
            26 + part.len()
                + self.region.len()
                + self.account.len()
                + self.api_id.len()
                + self.stage.len()
                + verb.len()
                + path.len(),
        );
        for piece in [
            "arn:",
            part,
            ":execute-api:",
            &self.region,
            ":",
            &self.account,
            ":",
            &self.api_id,
            "/",
            &self.stage,
            "/",
        ] {
            arn.push_str(piece);
        }
        arn.extend(verb.chars().map(|c| c.to_ascii_uppercase()));
        arn.push('/');
        arn.push_str(path);
        if arn.len() > MAX_METHOD_ARN_BYTES {
            return Err(ApigwError::UriTooLong(arn.len()));
        }
        Ok(arn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(region: &str) -> Deployment {
        Deployment {
            region: region.into(),
            account: "123456789012".into(),
            api_id: "a1b2c3".into(),
            stage: "prod".into(),
        }
    }

    #[test]
    fn method_arns_as_api_gateway_builds_them() {
        let d = dep("us-east-1");
        assert_eq!(
            d.method_arn("get", "/petstore/v2/pets?limit=3").unwrap(),
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/petstore/v2/pets"
        );
        assert_eq!(
            d.method_arn("GET", "/").unwrap(),
            "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/"
        );
        assert_eq!(
            dep("cn-north-1").method_arn("POST", "/x").unwrap(),
            "arn:aws-cn:execute-api:cn-north-1:123456789012:a1b2c3/prod/POST/x"
        );
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert!(
            d.method_arn("ANY", "/x").is_err(),
            "a request has a real verb"
        );
        let long = format!("/{}", "p".repeat(MAX_METHOD_ARN_BYTES));
        assert_eq!(
            d.method_arn("GET", &long).unwrap_err().status(),
            414,
            "past 1,600 bytes the client gets 414"
        );
        let fits = MAX_METHOD_ARN_BYTES - d.method_arn("GET", "/").unwrap().len();
        assert!(
            d.method_arn("GET", &format!("/{}", "p".repeat(fits)))
                .is_ok()
        );
        assert!(
            d.method_arn("GET", &format!("/{}", "p".repeat(fits + 1)))
                .is_err()
        );
    }
}
