//! `policy-check`: see the `policy_check` library for the commands.
use clap::Parser as _;

fn main() -> std::process::ExitCode {
    policy_check::run(policy_check::Cli::parse())
}
