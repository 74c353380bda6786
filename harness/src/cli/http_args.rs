use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::Exit;
use pkce_harness::diagnostics::{MAX_FILE_BYTES, read_bounded};
use pkce_harness::engine::http::{Limits, Tls};

/// How the harness talks to a target: TLS trust and per-request limits (`run` and `check`).
#[derive(Debug, Args)]
pub(super) struct HttpArgs {
    /// Trust this CA certificate (PEM) besides the system's and the bundled roots; repeatable.
    #[arg(long = "ca-cert")]
    ca_certs: Vec<PathBuf>,
    /// Do not verify TLS certificates. Every report records it.
    #[arg(long)]
    insecure: bool,
    /// Seconds one HTTP request may take, connection to last byte.
    #[arg(long, default_value_t = 10.0)]
    request_timeout: f64,
    /// The most bytes of a response body read; the rest is dropped (1 byte to 1 GiB).
    #[arg(long, default_value_t = 1 << 20, value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    max_body: u64,
}

impl HttpArgs {
    /// The limits and TLS settings, with the CA files read; a bad value is a usage error.
    pub(super) fn load(&self) -> Result<(Limits, Tls), Exit> {
        let mut ca_certs = Vec::new();
        for path in &self.ca_certs {
            match read_bounded(path, MAX_FILE_BYTES) {
                Ok(pem) => ca_certs.push(pem),
                Err(e) => {
                    eprintln!("error: --ca-cert {e}");
                    return Err(Exit::Usage);
                }
            }
        }
        let request_timeout = positive_seconds("--request-timeout", self.request_timeout)?;
        let limits = Limits {
            request_timeout,
            max_body: usize::try_from(self.max_body).unwrap_or(usize::MAX),
        };
        let tls = Tls {
            ca_certs,
            insecure: self.insecure,
            identity: None,
        };
        Ok((limits, tls))
    }
}

/// The longest time limit a flag may set: a day. Longer is a typo, and `1e20` would not fit in a
/// `Duration` at all.
const MAX_SECONDS: f64 = 86_400.0;

/// A duration flag that must be a positive number of seconds, at most a day.
pub(super) fn positive_seconds(name: &str, v: f64) -> Result<Duration, Exit> {
    match Duration::try_from_secs_f64(v) {
        Ok(d) if v > 0.0 && v <= MAX_SECONDS => Ok(d),
        _ => {
            eprintln!(
                "error: {name} must be a number of seconds above 0 and at most {MAX_SECONDS}, got {v}"
            );
            Err(Exit::Usage)
        }
    }
}
