//! The command line: clap types and one function per subcommand. Only this module knows about
//! terminals, exit codes and argument syntax; it turns options into library calls.

mod exit;
mod pkce_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use exit::Exit;

/// Conformance harness for the OAuth 2.0 authorization code grant with PKCE (RFC 7636).
#[derive(Debug, Parser)]
#[command(name = "pkce-harness", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The reference PKCE implementation: generate, derive and verify.
    Pkce(pkce_cmd::PkceArgs),
}

/// Parses the command line, runs the command and maps its outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Ok.into()
            };
        }
    };
    let exit = match cli.command {
        Command::Pkce(args) => pkce_cmd::run(args),
    };
    exit.into()
}
