//! The `kindling` command: the engine on the command line (see `kindling::cli`).

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    kindling::cli::main()
}

// The page's module has no command line; this keeps `cargo clippy --all-targets` for wasm32
// building.
#[cfg(target_arch = "wasm32")]
fn main() {}
