//! Amazon Cognito identity pools for policy-check, on top of verified tokens (`cognito`) and the IAM
//! evaluator (`iam-eval`): only configured providers get in, the role is chosen as Cognito chooses it
//! (token- or rules-based mappings, `CustomRoleArn`, ambiguous resolution, the basic flow), the role's
//! trust policy is evaluated for `sts:AssumeRoleWithWebIdentity` with the `cognito-identity.amazonaws.com:*`
//! keys, and the request is decided with the role's policies and the session's own IAM context, which a
//! request cannot override. The crate reads no files: policies named by path come through a callback.
//! Every role's engines (its trust policy as the resource side of the assumption, its permissions with
//! its boundary, and the guest scope-down) are compiled once at load; `decide` explains the evaluation
//! that decided, `decide_fast` gives the same decision, role, reason and deciding statement without
//! building the explanation.
//!
//! ```
//! use identity_pool::{IdentityPool, PoolConfig, PoolRequest};
//!
//! let config: PoolConfig = serde_json::from_value(serde_json::json!({
//!     "identity_pool_id": "us-east-1:pool", "account": "123456789012",
//!     "authenticated_role": "arn:aws:iam::123456789012:role/Auth",
//!     "cognito_identity_providers": [{"provider_name": "cognito-idp.us-east-1.amazonaws.com/us-east-1_Example", "client_id": "app"}],
//!     "roles": {"arn:aws:iam::123456789012:role/Auth": {
//!         "trust": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
//!             "Principal": {"Federated": "cognito-identity.amazonaws.com"},
//!             "Action": "sts:AssumeRoleWithWebIdentity",
//!             "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool"}}}]},
//!         "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
//!             "Resource": "arn:aws:s3:::photos/${cognito-identity.amazonaws.com:sub}/*"}]}]}}
//! })).unwrap();
//! let pool = IdentityPool::from_config(config, &identity_pool::no_files).unwrap();
//! // Claims typed in by hand (not verified): decisions made with them say so.
//! let claims = cognito::GivenClaims::new(serde_json::json!({
//!     "sub": "u-1", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
//!     "aud": "app", "token_use": "id"}).as_object().unwrap().clone()).unwrap();
//! let id = pool.identity_id(&claims);
//! let req = PoolRequest { action: "s3:GetObject".into(),
//!     resource: format!("arn:aws:s3:::photos/{id}/1.jpg"), ..Default::default() };
//! let d = pool.decide(Some(&claims), None, &req).unwrap();
//! assert_eq!(d.decision, authz_core::Decision::Allow, "{}", d.reason);
//! assert_eq!(d.claims_verified, Some(false));
//! let fast = pool.decide_fast(Some(&claims), None, &req).unwrap();
//! assert_eq!((fast.decision, fast.reason), (d.decision, d.reason));
//! assert!(fast.explanation.is_none());
//! ```
#![deny(missing_docs)]

pub mod lint;
mod pool;

pub use pool::{
    Ambiguous, CognitoProvider, GUEST_SESSION_POLICY, GUEST_SESSION_POLICY_VERSION, IdentityPool,
    MappingType, MatchType, NoRole, PolicyFiles, PoolConfig, PoolDecision, PoolError,
    PrincipalTags, RoleChoice, RoleConfig, RoleMapping, Rule, identity_id, is_session_key,
    no_files,
};

/// A request made with identity-pool credentials (the IAM context of the identity is added to it).
#[derive(Debug, Clone, Default)]
pub struct PoolRequest {
    /// `service:Action`.
    pub action: String,
    /// Resource ARN.
    pub resource: String,
    /// Resource account, when the ARN has none.
    pub resource_account: Option<String>,
    /// Extra context keys (`aws:SourceIp`, service keys such as `dynamodb:LeadingKeys`).
    pub context: authz_core::Context,
    /// A label for a guest identity (its identity id is derived from it).
    pub guest_id: Option<String>,
}
