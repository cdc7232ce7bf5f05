//! Identity pools, Verified Permissions stores and the API Gateway group authorizer, answering with the
//! CLI's JSON shapes (`pool eval --format json`, Verified Permissions' response shapes, API Gateway's
//! authorizer output) as dicts.

use std::path::{Path, PathBuf};

use diag::codes;
use pyo3::prelude::*;
use serde_json::Value;

use crate::errors::{At, argument, coded, error, token_error};

fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, v)
        .map_err(|e| error(codes::PYTHON_RESULT, e.to_string(), &At::default()))
}

fn to_json(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    crate::convert::json(obj, what)
}

/// A file the CLI's loaders refused: their code when they give one (`pool::config`, `json::shape`, …),
/// else `python::config`.
fn file_error(path: &Path, f: policy_check::Failure) -> PyErr {
    error(
        f.code.unwrap_or(codes::PYTHON_CONFIG),
        f.message,
        &At {
            file: Some(path.display().to_string()),
            ..At::default()
        },
    )
}

/// An identity pool (`*.pool.json`), loaded once; `decide(request, id_token=…)` answers as `policy-check
/// pool eval --format json`.
#[pyclass(frozen, module = "policy_check._native")]
pub struct IdentityPool {
    pool: identity_pool::IdentityPool,
    verifier: Option<cognito::Verifier>,
}

#[pymethods]
impl IdentityPool {
    /// The pool configuration file; with `jwks`, `user_pool_id` and `client_id`, ID tokens given to
    /// `decide` are verified (without them only `claims=` or `guest=True` can be used).
    #[staticmethod]
    #[pyo3(signature = (path, jwks=None, user_pool_id=None, client_id=None))]
    fn from_file(
        path: PathBuf,
        jwks: Option<&str>,
        user_pool_id: Option<&str>,
        client_id: Option<&str>,
    ) -> PyResult<Self> {
        let pool = policy_check::input::load_pool(&path).map_err(|m| file_error(&path, m))?;
        let verifier = match (jwks, user_pool_id, client_id) {
            (Some(j), Some(p), Some(c)) => Some(cognito::Verifier::new(
                if p.starts_with("https://") {
                    cognito::VerifierConfig::for_oidc(p, &[c.to_string()], cognito::TokenUse::Id)
                } else {
                    cognito::VerifierConfig::for_pool(p, c, cognito::TokenUse::Id)
                },
                crate::tokens::jwks_source(Some(j), None)?,
            )),
            (None, None, None) => None,
            _ => {
                return Err(argument(
                    "give all of jwks, user_pool_id and client_id, or none",
                ));
            }
        };
        Ok(Self { pool, verifier })
    }

    /// Decides a request (a dict as `eval` reads) made with the credentials the pool gives for
    /// `id_token` (verified), `claims` (given by hand: the answer says `verified: False`) or a guest.
    #[pyo3(signature = (request, id_token=None, claims=None, guest=false, custom_role_arn=None, now=None))]
    #[allow(clippy::too_many_arguments)]
    fn decide<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        id_token: Option<&str>,
        claims: Option<&Bound<'py, PyAny>>,
        guest: bool,
        custom_role_arn: Option<&str>,
        now: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let v = to_json(request, "the request")?;
        let req = policy_check::input::pool_request(&v, "request").map_err(|f| {
            error(
                f.code.unwrap_or(codes::PYTHON_REQUEST),
                f.message,
                &At::default(),
            )
        })?;
        let given: Option<Box<dyn cognito::Claims>> = match (id_token, claims, guest) {
            (Some(t), None, false) => {
                let verifier = self
                    .verifier
                    .as_ref()
                    .ok_or_else(|| argument("this pool was loaded without jwks, user_pool_id and client_id: it cannot verify tokens"))?;
                let c = py
                    .detach(|| match now {
                        Some(n) => verifier.verify_at(t, n),
                        None => verifier.verify(t),
                    })
                    .map_err(|e| token_error(&e))?;
                Some(Box::new(c))
            }
            (None, Some(c), false) => {
                let m = match to_json(c, "claims")? {
                    Value::Object(m) => m,
                    _ => return Err(argument("claims must be a dict")),
                };
                Some(Box::new(
                    cognito::GivenClaims::new(m).map_err(|e| token_error(&e))?,
                ))
            }
            (None, None, true) => None,
            _ => {
                return Err(argument(
                    "give exactly one of id_token, claims and guest=True",
                ));
            }
        };
        let d = self
            .pool
            .decide(given.as_deref(), custom_role_arn, &req)
            .map_err(|e| coded(&e))?;
        to_py(py, &policy_check::report::pool_decision_json(&req, &d))
    }
}

/// A Verified Permissions policy store directory, loaded once; `is_authorized` and
/// `is_authorized_with_token` take and return Verified Permissions' request and response dicts (the
/// shapes boto3's `verifiedpermissions` client uses).
#[pyclass(frozen, module = "policy_check._native")]
pub struct PolicyStore {
    store: cedar_bridge::PolicyStore,
    dir: PathBuf,
}

impl PolicyStore {
    fn run<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        now: Option<i64>,
        claims: &cedar_bridge::avp::TokenClaims,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = to_json(request, "the request")?;
        let (store, dir) = (&self.store, &self.dir);
        let (answer, _) = py
            .detach(|| policy_check::input::run_request(store, dir, &req, None, now, claims))
            .map_err(|e| coded(&e))?;
        to_py(py, &answer)
    }
}

fn claims_map(
    obj: Option<&Bound<'_, PyAny>>,
    what: &str,
) -> PyResult<Option<serde_json::Map<String, Value>>> {
    match obj.map(|o| to_json(o, what)).transpose()? {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(argument(format!("{what} must be a dict"))),
    }
}

#[pymethods]
impl PolicyStore {
    /// A store directory (`*.cedar`, schema, `identity-source.json`), as `authorize --store` reads it.
    #[staticmethod]
    fn from_dir(path: PathBuf) -> PyResult<Self> {
        let store =
            policy_check::input::load_store(&path).map_err(|e| file_error(&path, e.into()))?;
        Ok(Self { store, dir: path })
    }

    /// `IsAuthorized`: the request dict as boto3 sends it (`principal`, `action`, `resource`,
    /// `context`, `entities`); the response dict (`decision`, `determiningPolicies`, `errors`).
    #[pyo3(signature = (request, now=None))]
    fn is_authorized<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        now: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.run(py, request, now, &Default::default())
    }

    /// `IsAuthorizedWithToken`: `identityToken` / `accessToken` verified against the store's identity
    /// source, mapped to the principal as Verified Permissions maps it. For tests without signed tokens,
    /// `identity_claims` / `access_claims` stand for them (unverified: the answer says so).
    #[pyo3(signature = (request, now=None, identity_claims=None, access_claims=None))]
    fn is_authorized_with_token<'py>(
        &self,
        py: Python<'py>,
        request: &Bound<'py, PyAny>,
        now: Option<i64>,
        identity_claims: Option<&Bound<'py, PyAny>>,
        access_claims: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let claims = cedar_bridge::avp::TokenClaims::given(
            claims_map(identity_claims, "identity_claims")?,
            claims_map(access_claims, "access_claims")?,
        );
        self.run(py, request, now, &claims)
    }
}

/// The group → policy authorizer of the seed (`apigw-authorizer`'s), with `handler(event, context)`
/// usable as a Lambda authorizer's handler.
#[pyclass(frozen, module = "policy_check._native")]
pub struct GroupAuthorizer {
    auth: apigw::GroupAuthorizer,
    simple: bool,
}

#[pymethods]
impl GroupAuthorizer {
    /// As the Lambda function's environment: the user pool and client, `token_use`, the JWKS (a file
    /// relative to `base`, or an https URL), the group store (a directory of `<group>.json` or a
    /// DynamoDB export), what an invalid token gets (401, or 403 with a deny-all policy), simple
    /// responses for HTTP API format 2.0.
    #[new]
    #[pyo3(signature = (user_pool_id, client_id, groups, jwks="jwks.json", token_use="access", invalid_token=401, simple=false, base=PathBuf::from(".")))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        user_pool_id: &str,
        client_id: &str,
        groups: &str,
        jwks: &str,
        token_use: &str,
        invalid_token: u16,
        simple: bool,
        base: PathBuf,
    ) -> PyResult<Self> {
        let config = apigw_lambda::Config {
            user_pool_id: user_pool_id.to_string(),
            client_id: client_id.to_string(),
            token_use: crate::tokens::token_use(token_use)?,
            jwks: jwks.to_string(),
            groups: groups.to_string(),
            invalid_token: match invalid_token {
                401 => apigw::InvalidToken::Unauthorized,
                403 => apigw::InvalidToken::Deny,
                other => {
                    return Err(argument(format!(
                        "invalid_token is 401 or 403, not {other}"
                    )));
                }
            },
            simple,
        };
        let auth = config
            .load(&base)
            .map_err(|e| file_error(&base, policy_check::Failure::coded(&e)))?;
        Ok(Self { auth, simple })
    }

    /// A Lambda authorizer handler: the event dict in, API Gateway's authorizer output out; an invalid
    /// token raises `Exception("Unauthorized")` (API Gateway's 401), a malformed event
    /// `PolicyCheckError`.
    #[pyo3(signature = (event, context=None, now=None))]
    fn handler<'py>(
        &self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
        now: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = context;
        let e = to_json(event, "the event")?;
        let now = now.unwrap_or_else(authz_core::now_secs);
        let (auth, simple) = (&self.auth, self.simple);
        match py.detach(|| apigw_lambda::handle(auth, simple, &e, now)) {
            Ok(v) => to_py(py, &v),
            Err(apigw_lambda::HandlerError::Unauthorized) => {
                Err(pyo3::exceptions::PyException::new_err("Unauthorized"))
            }
            Err(apigw_lambda::HandlerError::Failed(m)) => {
                Err(error(codes::APIGW_EVENT, m, &At::default()))
            }
        }
    }
}
