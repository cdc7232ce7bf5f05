//! The workspace's integration tests: one binary, one module per area.

mod adversarial;
mod cedar;
mod cli;
mod codes;
mod cognito;
mod corpus;
mod eval;
mod fuzz;
mod golden;
mod hostile;
mod layers;
mod roundtrip;
mod types;

use std::path::PathBuf;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
