//! The cache check: with a TTL above 0, the policy an authorizer returned for one request decides every
//! route for that cache key until the TTL ends. A policy that does not allow every route of the API is
//! the classic cached-authorizer bug when the function builds it from the `methodArn`.

use authz_core::{Context, Decision, Layer, Request};
use iam_eval::{Authorizer as IamAuthorizer, PolicySet};
use iam_policy::{Effect, PolicyDocument};

use crate::{Api, Route};

/// The verbs an `ANY` route stands for.
pub const VERBS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// A route and verb a policy does not allow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uncovered {
    /// The route as written (`ANY /{proxy+}`).
    pub route: String,
    /// The verb checked.
    pub verb: String,
    /// The sample `methodArn` checked (path parameters filled with `sample`).
    pub method_arn: String,
    /// What the policy said.
    pub decision: Decision,
}

/// A sample path for a route template: `{id}` → `sample`, `{proxy+}` → `sample/path`.
fn sample_path(route: &Route) -> String {
    route
        .path
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with("+}") {
                "sample/path"
            } else if s.starts_with('{') && s.ends_with('}') {
                "sample"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl Api {
    /// The API Gateway cache check: the routes a policy returned for one request does not allow, though the
    /// cache answers every route with it until the TTL ends.
    pub fn cache_coverage(
        &self,
        doc: &iam_policy::PolicyDocument,
    ) -> Option<iam_policy::Diagnostic> {
        let api = self;
        let ttl = api.authorizer.ttl;
        if ttl == 0 {
            return None;
        }
        let uncovered = match api.uncovered(std::slice::from_ref(doc)) {
            Ok(u) => u,
            // A policy that does not compile already has its own errors.
            Err(_) => return None,
        };
        if uncovered.is_empty() {
            return None;
        }
        // One entry per route and answer, its verbs together (an `ANY` route stands for seven).
        let mut grouped: Vec<(&str, authz_core::Decision, Vec<&str>, &str)> = Vec::new();
        for u in &uncovered {
            match grouped
                .iter_mut()
                .find(|(r, d, _, _)| *r == u.route && *d == u.decision)
            {
                Some((_, _, verbs, _)) => verbs.push(&u.verb),
                None => grouped.push((&u.route, u.decision, vec![&u.verb], &u.method_arn)),
            }
        }
        let routes: Vec<String> = grouped
            .iter()
            .map(|(route, decision, verbs, arn)| {
                format!("{route} [{}] (e.g. {arn}): {decision}", verbs.join(", "))
            })
            .collect();
        Some(
            iam_policy::Diagnostic::warning(
                diag::codes::APIGW_CACHE_COVERAGE,
                doc.span,
                format!(
                    "returned by the authorizer (TTL {ttl} s), this policy answers every route for the caller, but it does not allow: {}",
                    routes.join("; ")
                ),
            )
            .help("if the authorizer builds its policy from the methodArn, return one that covers every route, or set the TTL to 0"),
        )
    }

    /// The routes (each verb of an `ANY` route) that `policies` do not allow, judged on actions and
    /// resources alone: conditions are taken as met on `Allow` statements, and `Deny` statements with
    /// conditions are left out (they depend on the request, not on the route). Empty when every route is
    /// covered.
    pub fn uncovered(
        &self,
        policies: &[PolicyDocument],
    ) -> Result<Vec<Uncovered>, iam_eval::CompileError> {
        let docs = policies.iter().map(|d| {
            let mut d = d.clone();
            d.statements
                .retain(|s| s.effect.value == Effect::Allow || s.conditions.is_empty());
            for s in &mut d.statements {
                s.conditions.clear();
                s.has_condition_element = false;
            }
            d
        });
        let auth = IamAuthorizer::new(PolicySet::compile(Layer::Identity, docs)?);
        let ctx = Context::new();
        let mut out = Vec::new();
        for route in self.routes.iter().filter(|r| r.authorized) {
            let verbs: Vec<&str> = if route.method == "ANY" {
                VERBS.to_vec()
            } else {
                vec![route.method.as_str()]
            };
            let path = sample_path(route);
            for verb in verbs {
                let Ok(arn) = self.deployment.method_arn(verb, &path) else {
                    continue;
                };
                let d = auth
                    .evaluate(&Request::new("execute-api:Invoke", &arn).context(&ctx))
                    .decision;
                if d != Decision::Allow {
                    out.push(Uncovered {
                        route: format!("{} {}", route.method, route.path),
                        verb: verb.to_string(),
                        method_arn: arn,
                        decision: d,
                    });
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> PolicyDocument {
        iam_policy::parse(&iam_policy::Source::new("p.json", text)).unwrap()
    }

    #[test]
    fn routes_not_allowed_are_listed() {
        let api = Api::from_json(r#"{"region": "us-east-1", "account": "123456789012", "api_id": "a1", "stage": "prod",
            "routes": ["GET /pets/{id}", "ANY /admin/{proxy+}"],
            "authorizer": {"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"]}}"#)
        .unwrap();
        let pets_only = doc(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:*:*:a1/*/GET/pets/*", "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}}"#,
        );
        let u = api.uncovered(std::slice::from_ref(&pets_only)).unwrap();
        assert_eq!(u.len(), 7, "every verb of ANY /admin/{{proxy+}}: {u:?}");
        assert!(u.iter().all(|x| x.route == "ANY /admin/{proxy+}"));
        assert_eq!(
            u[0].method_arn,
            "arn:aws:execute-api:us-east-1:123456789012:a1/prod/GET/admin/sample/path"
        );
        let all = doc(
            r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:*:*:a1/*"}}"#,
        );
        assert!(
            api.uncovered(std::slice::from_ref(&all))
                .unwrap()
                .is_empty()
        );
        // An unconditional deny uncovers what it names; a conditional one is left to the request.
        let deny = |cond: &str| {
            doc(&format!(
                r#"{{"Version": "2012-10-17", "Statement": {{"Effect": "Deny", "Action": "execute-api:Invoke",
            "Resource": "arn:aws:execute-api:*:*:a1/*/DELETE/*"{cond}}}}}"#
            ))
        };
        assert_eq!(api.uncovered(&[all.clone(), deny("")]).unwrap().len(), 1);
        let conditional = deny(r#", "Condition": {"Bool": {"aws:SecureTransport": "false"}}"#);
        assert!(api.uncovered(&[all, conditional]).unwrap().is_empty());
    }
}
