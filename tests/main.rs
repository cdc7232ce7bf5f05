//! The workspace's integration tests: one binary, one module per area.

mod adversarial;
mod apigw;
mod cedar;
mod check;
mod cli;
mod codes;
mod cognito;
mod conformance;
mod corpus;
mod eval;
mod functions;
mod fuzz;
mod golden;
mod hostile;
mod layers;
mod lint;
mod roundtrip;
mod transcripts;
mod types;

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A verifier for the repository's TEST-ONLY key (`fixtures/keys`), pool `us-east-1_Example`, client
/// `exampleclient`.
pub fn test_verifier(token_use: ::cognito::TokenUse) -> ::cognito::Verifier {
    let jwks = std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap();
    ::cognito::Verifier::new(
        ::cognito::VerifierConfig::for_pool("us-east-1_Example", "exampleclient", token_use),
        ::cognito::JwksSource::from_json(&jwks).unwrap(),
    )
}
