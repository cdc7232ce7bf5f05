//! `policy-check`: see the `policy_check` library for the commands.

/// mimalloc: `serve` and the suite runner allocate per request and per case; measured on `serve`'s
/// loopback load, it answers more requests a second than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    policy_check::main_with_env()
}
