//! The gateway's decision on an authorizer's policy: the IAM engine with action `execute-api:Invoke`,
//! resource = `methodArn`, and the request context API Gateway provides; the status and body the client
//! sees.

use authz_core::{Answer, Context, Decision, Layer, Request};
use iam_eval::{Authorizer as IamAuthorizer, PolicySet};
use iam_policy::PolicyDocument;

/// The request context an authorizer policy's conditions can test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayContext {
    /// `aws:SourceIp`: the caller's address.
    pub source_ip: String,
    /// The request time (Unix seconds): `aws:EpochTime` and `aws:CurrentTime`.
    pub now: i64,
    /// `aws:SecureTransport` (`true` for HTTPS, which API Gateway always uses).
    pub secure_transport: bool,
}

impl GatewayContext {
    /// The IAM context keys.
    pub fn iam_context(&self) -> Context {
        iam_context(&self.source_ip, self.now, self.secure_transport, Needs::ALL)
    }

    /// The IAM context keys in `needs` only: what a policy that names no other key needs.
    pub fn iam_context_for(&self, needs: Needs) -> Context {
        iam_context(&self.source_ip, self.now, self.secure_transport, needs)
    }
}

/// Which of the gateway's context keys a policy's text mentions. A key a policy never names cannot change
/// its decision, so the request path builds only these (the context is the costliest part of a cached
/// request otherwise). Found by a case-insensitive search of the printed policy: any mention counts
/// (condition keys, `…IfExists`, `Null`, `${aws:SourceIp}` variables), so nothing a policy reads is left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub(crate) source_ip: bool,
    pub(crate) epoch_time: bool,
    pub(crate) current_time: bool,
    pub(crate) secure_transport: bool,
}

impl std::ops::BitOr for Needs {
    type Output = Needs;
    fn bitor(self, o: Needs) -> Needs {
        Needs {
            source_ip: self.source_ip || o.source_ip,
            epoch_time: self.epoch_time || o.epoch_time,
            current_time: self.current_time || o.current_time,
            secure_transport: self.secure_transport || o.secure_transport,
        }
    }
}

impl Needs {
    /// Every key.
    pub const ALL: Needs = Needs {
        source_ip: true,
        epoch_time: true,
        current_time: true,
        secure_transport: true,
    };

    /// The keys a policy's text mentions (any case).
    pub fn of_text(text: &str) -> Needs {
        let lower = text.to_ascii_lowercase();
        Needs {
            source_ip: lower.contains("aws:sourceip"),
            epoch_time: lower.contains("aws:epochtime"),
            current_time: lower.contains("aws:currenttime"),
            secure_transport: lower.contains("aws:securetransport"),
        }
    }
}

/// The context API Gateway gives a policy, limited to the keys in `needs`.
pub(crate) fn iam_context(source_ip: &str, now: i64, secure: bool, needs: Needs) -> Context {
    let mut c = Context::new();
    if needs.source_ip {
        c.insert("aws:SourceIp", source_ip);
    }
    if needs.epoch_time {
        c.insert("aws:EpochTime", now.to_string());
    }
    if needs.current_time {
        c.insert("aws:CurrentTime", rfc3339(now));
    }
    if needs.secure_transport {
        c.insert("aws:SecureTransport", if secure { "true" } else { "false" });
    }
    c
}

/// `YYYY-MM-DDThh:mm:ssZ` for Unix seconds (civil-from-days; no leap seconds, as in IAM).
fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// AWS's default response bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// 401 `{"message":"Unauthorized"}`.
    Unauthorized,
    /// 403 for an explicit deny in the authorizer's policy.
    ExplicitDeny,
    /// 403 when the authorizer's policy allows nothing that matches.
    ImplicitDeny,
    /// 500 `{"message": null}` for a failed authorizer or an invalid output.
    AuthorizerError,
    /// 403 `{"message":"Missing Authentication Token"}`: no route for the method and path.
    MissingAuthenticationToken,
    /// 414.
    UriTooLong,
    /// HTTP APIs: 404 `{"message":"Not Found"}` when no route matches.
    NotFound,
    /// HTTP APIs: 403 `{"message":"Forbidden"}` when the authorizer denies (its policy or
    /// `isAuthorized: false`).
    Forbidden,
    /// HTTP APIs: 500 `{"message":"Internal Server Error"}` when the authorizer fails or answers
    /// something invalid.
    InternalServerError,
}

impl Body {
    /// The status.
    pub fn status(self) -> u16 {
        match self {
            Body::Unauthorized => 401,
            Body::ExplicitDeny
            | Body::ImplicitDeny
            | Body::MissingAuthenticationToken
            | Body::Forbidden => 403,
            Body::NotFound => 404,
            Body::AuthorizerError | Body::InternalServerError => 500,
            Body::UriTooLong => 414,
        }
    }

    /// The status and body.
    pub fn response(self) -> (u16, String) {
        let m = |s: &str| format!(r#"{{"message":"{s}"}}"#);
        let body = match self {
            Body::Unauthorized => m("Unauthorized"),
            Body::ExplicitDeny => {
                m("User is not authorized to access this resource with an explicit deny")
            }
            Body::ImplicitDeny => m("User is not authorized to access this resource"),
            Body::AuthorizerError => r#"{"message":null}"#.to_string(),
            Body::MissingAuthenticationToken => m("Missing Authentication Token"),
            Body::UriTooLong => m("Request-URI Too Long"),
            Body::NotFound => m("Not Found"),
            Body::Forbidden => m("Forbidden"),
            Body::InternalServerError => m("Internal Server Error"),
        };
        (self.status(), body)
    }

    /// The body an HTTP API answers where a REST API answers `self`: HTTP APIs have no route-less 403,
    /// no policy messages and no `{"message": null}` (API Gateway developer guide, "Working with AWS
    /// Lambda authorizers for HTTP APIs" and the HTTP API error responses: 404 `Not Found`, 401
    /// `Unauthorized`, 403 `Forbidden`, 500 `Internal Server Error`).
    pub fn for_http_api(self) -> Body {
        match self {
            Body::MissingAuthenticationToken => Body::NotFound,
            Body::ExplicitDeny | Body::ImplicitDeny => Body::Forbidden,
            Body::AuthorizerError => Body::InternalServerError,
            other => other,
        }
    }
}

/// Decides `methodArn` under an authorizer's policies (one per group, or the one returned): the IAM
/// engine's answer, with the deciding statement by name. Compiling is the caller's to cache.
pub fn decide_policy(
    policies: &[PolicyDocument],
    method_arn: &str,
    ctx: &GatewayContext,
) -> Result<Answer, iam_eval::CompileError> {
    let set = PolicySet::compile(Layer::Identity, policies.iter().cloned())?;
    let auth = IamAuthorizer::new(set);
    let context = ctx.iam_context();
    let req = Request::new("execute-api:Invoke", method_arn).context(&context);
    Ok(auth.answer(&req))
}

/// The body for a decision of the authorizer's policy.
pub(crate) fn body_for(decision: Decision) -> Option<Body> {
    match decision {
        Decision::Allow => None,
        Decision::ExplicitDeny => Some(Body::ExplicitDeny),
        Decision::ImplicitDeny => Some(Body::ImplicitDeny),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_time_is_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn policies_decide_on_the_method_arn_with_the_gateway_context() {
        let doc = iam_policy::parse(&iam_policy::Source::new(
            "p.json",
            r#"{"Version": "2012-10-17", "Statement": [
                {"Sid": "Pets", "Effect": "Allow", "Action": "execute-api:Invoke",
                 "Resource": "arn:aws:execute-api:*:*:*/*/GET/pets/*",
                 "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"},
                               "DateLessThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}},
                {"Sid": "NoDelete", "Effect": "Deny", "Action": "execute-api:*",
                 "Resource": "arn:aws:execute-api:*:*:*/*/DELETE/*"}]}"#,
        ))
        .unwrap();
        let ctx = |ip: &str, now: i64| GatewayContext {
            source_ip: ip.into(),
            now,
            secure_transport: true,
        };
        let arn = |verb: &str, path: &str| {
            format!("arn:aws:execute-api:us-east-1:123456789012:api/prod/{verb}/{path}")
        };
        let d = |a: String, c: GatewayContext| {
            let answer = decide_policy(std::slice::from_ref(&doc), &a, &c).unwrap();
            (answer.decision, answer.sid().map(str::to_string))
        };
        let now = 1_700_000_000;
        assert_eq!(
            d(arn("GET", "pets/1/toys"), ctx("192.0.2.9", now)),
            (Decision::Allow, Some("Pets".into())),
            "`*` spans `/`"
        );
        assert_eq!(
            d(arn("GET", "pets/1"), ctx("203.0.113.1", now)).0,
            Decision::ImplicitDeny
        );
        assert_eq!(
            d(arn("GET", "pets/1"), ctx("192.0.2.9", 1_704_067_200)).0,
            Decision::ImplicitDeny,
            "aws:CurrentTime is tested"
        );
        assert_eq!(
            d(arn("get", "pets/1"), ctx("192.0.2.9", now)).0,
            Decision::ImplicitDeny,
            "case-sensitive"
        );
        assert_eq!(
            d(arn("DELETE", "pets/1"), ctx("192.0.2.9", now)),
            (Decision::ExplicitDeny, Some("NoDelete".into()))
        );
        assert_eq!(
            body_for(Decision::ExplicitDeny).map(|b| b.response().0),
            Some(403)
        );
    }
}
