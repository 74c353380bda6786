//! `pkce-harness keygen`: a key pair for a `private_key_jwt` client. The private key goes to a
//! file only the user reads; the public JWK Set, to register with the server, to stdout.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;

use super::Exit;
use pkce_harness::diagnostics::UnknownName;
use pkce_harness::jose::{Algorithm, SigningKey};

#[derive(Debug, Args)]
pub(super) struct KeygenArgs {
    /// ES256 (P-256) or EdDSA (Ed25519). RSA keys are not generated here: bring one as PEM.
    #[arg(long, default_value = "ES256", value_parser = alg)]
    alg: Algorithm,
    /// Where to write the private key (PKCS#8 PEM, mode 0600); it must not exist yet. Name it
    /// in the target file as `private_key_file`, or pass its text as `${env:NAME}`.
    #[arg(long)]
    out: PathBuf,
}

fn alg(s: &str) -> Result<Algorithm, UnknownName> {
    match s {
        "ES256" => Ok(Algorithm::ES256),
        "EdDSA" => Ok(Algorithm::EdDSA),
        other => Err(UnknownName::new("key algorithm", other, ["ES256", "EdDSA"])),
    }
}

pub(super) fn run(args: KeygenArgs) -> Exit {
    let (key, pem) = match SigningKey::generate(args.alg) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Unreachable;
        }
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(&args.out)
        .and_then(|mut f| f.write_all(pem.as_bytes()));
    if let Err(e) = written {
        eprintln!("error: cannot write {}: {e}", args.out.display());
        return Exit::Usage;
    }
    let jwks = serde_json::json!({ "keys": [key.public_jwk()] });
    println!(
        "{}",
        serde_json::to_string_pretty(&jwks).unwrap_or_else(|_| jwks.to_string())
    );
    eprintln!(
        "wrote the private key to {}; register the JWK Set above (jwks) with the client",
        args.out.display()
    );
    Exit::Ok
}
