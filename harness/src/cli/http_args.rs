use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::Exit;
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
    /// The most bytes of a response body read; the rest is dropped.
    #[arg(long, default_value_t = 1 << 20)]
    max_body: usize,
}

impl HttpArgs {
    /// The limits and TLS settings, with the CA files read; a bad value is a usage error.
    pub(super) fn load(&self) -> Result<(Limits, Tls), Exit> {
        let mut ca_certs = Vec::new();
        for path in &self.ca_certs {
            match std::fs::read(path) {
                Ok(pem) => ca_certs.push(pem),
                Err(e) => {
                    eprintln!("error: --ca-cert {}: {e}", path.display());
                    return Err(Exit::Usage);
                }
            }
        }
        let request_timeout = positive_seconds("--request-timeout", self.request_timeout)?;
        let limits = Limits {
            request_timeout,
            max_body: self.max_body,
        };
        let tls = Tls {
            ca_certs,
            insecure: self.insecure,
        };
        Ok((limits, tls))
    }
}

/// A duration flag that must be a positive number of seconds.
pub(super) fn positive_seconds(name: &str, v: f64) -> Result<Duration, Exit> {
    if v.is_finite() && v > 0.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        eprintln!("error: {name} must be a positive number of seconds, got {v}");
        Err(Exit::Usage)
    }
}
