//! The `pkce-harness` command. The command line lives here, in the binary, and only here: the
//! library knows nothing of arguments, terminals or exit codes.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
