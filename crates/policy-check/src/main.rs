//! `policy-check`: see the `policy_check` library for the commands.

fn main() -> std::process::ExitCode {
    policy_check::main_with_env()
}
