//! The `pkce-harness` command; everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    pkce_harness::cli::main()
}
