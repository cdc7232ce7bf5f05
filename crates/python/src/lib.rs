//! `policy_check` for Python: the engines of the policy-check CLI as an extension module (PyO3, abi3 for
//! CPython ≥ 3.9), a thin binding with no rule of its own: IAM policies ([`iam::PolicySet`]), Cognito
//! tokens ([`tokens::TokenVerifier`]), identity pools, Verified Permissions stores and the API Gateway group
//! authorizer ([`engines`]). Every answer is the CLI's, from the same functions.
//!
//! Built with maturin (`crates/python/pyproject.toml`); the Python side (`python/policy_check`) adds the
//! `Decision` enum, the exception classes' docs and the type stubs. Example (Python):
//!
//! ```text
//! import policy_check as pc
//! ps = pc.PolicySet.from_files(identity=["policies/cognito-groups-dynamodb/row-level.json"])
//! a = ps.evaluate({"action": "dynamodb:GetItem", "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
//!                  "context": {"cognito-identity.amazonaws.com:sub": "us-east-1:abc", "dynamodb:LeadingKeys": ["us-east-1:abc"]}})
//! assert a.decision is pc.Decision.ALLOW
//! ```
//!
//! No panic crosses into Python (PyO3 turns one into `pyo3_runtime.PanicException`, which the Python side
//! re-raises as `PolicyCheckError` with code `python::panic`); the GIL is released while deciding; every
//! object is immutable and can be shared between threads.

use pyo3::prelude::*;

mod convert;
mod engines;
mod errors;
mod iam;
mod tokens;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add(
        "PolicyCheckError",
        py.get_type::<errors::PolicyCheckError>(),
    )?;
    m.add("TokenError", py.get_type::<errors::TokenError>())?;
    m.add_class::<iam::PolicySet>()?;
    m.add_class::<iam::Answer>()?;
    m.add_class::<tokens::TokenVerifier>()?;
    m.add_class::<engines::IdentityPool>()?;
    m.add_class::<engines::PolicyStore>()?;
    m.add_class::<engines::GroupAuthorizer>()?;
    m.add_function(wrap_pyfunction!(errors::panic_for_tests, m)?)?;
    Ok(())
}
