use clap::{Args, Subcommand};

use super::Exit;
use pkce_harness::pkce::{CodeChallenge, CodeVerifier, Method, verify};

#[derive(Debug, Args)]
pub(super) struct PkceArgs {
    #[command(subcommand)]
    command: PkceCommand,
}

#[derive(Debug, Subcommand)]
enum PkceCommand {
    /// Print a fresh verifier (OS CSPRNG) and its challenge.
    Generate {
        /// Verifier length in characters, 43..=128.
        #[arg(long, default_value_t = CodeVerifier::MIN_LEN)]
        length: usize,
        /// S256 or plain (case-sensitive).
        #[arg(long, default_value = "S256")]
        method: String,
    },
    /// Print the challenge of a verifier, alone on stdout.
    Challenge {
        /// The code_verifier.
        #[arg(long)]
        verifier: String,
        /// S256 or plain (case-sensitive).
        #[arg(long, default_value = "S256")]
        method: String,
    },
    /// Exit 0 if the verifier matches the challenge, 1 if not, 2 on invalid input.
    Verify {
        /// The code_verifier.
        #[arg(long)]
        verifier: String,
        /// The code_challenge.
        #[arg(long)]
        challenge: String,
        /// S256 or plain (case-sensitive).
        #[arg(long, default_value = "S256")]
        method: String,
    },
}

pub(super) fn run(args: PkceArgs) -> Exit {
    match execute(args.command) {
        Ok(exit) => exit,
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Usage
        }
    }
}

fn execute(command: PkceCommand) -> Result<Exit, pkce_harness::pkce::PkceError> {
    match command {
        PkceCommand::Generate { length, method } => {
            let method = Method::parse(&method)?;
            let verifier = CodeVerifier::generate_len(length)?;
            println!("code_verifier={}", verifier.expose_secret());
            println!(
                "code_challenge={}",
                CodeChallenge::derive(&verifier, method)
            );
            println!("code_challenge_method={method}");
            Ok(Exit::Ok)
        }
        PkceCommand::Challenge { verifier, method } => {
            let method = Method::parse(&method)?;
            let verifier = CodeVerifier::parse(&verifier)?;
            println!("{}", CodeChallenge::derive(&verifier, method));
            Ok(Exit::Ok)
        }
        PkceCommand::Verify {
            verifier,
            challenge,
            method,
        } => {
            let method = Method::parse(&method)?;
            let verifier = CodeVerifier::parse(&verifier)?;
            let challenge = CodeChallenge::parse(&challenge)?;
            if verify(&challenge, method, &verifier) {
                Ok(Exit::Ok)
            } else {
                eprintln!(
                    "mismatch: the {method} challenge of this verifier differs from the one given"
                );
                Ok(Exit::Failed)
            }
        }
    }
}
