use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::Exit;
use crate::engine::http::{Limits, Tls};
use crate::engine::preflight::preflight;
use crate::engine::{self, RunOptions};
use crate::target::load_target;

#[derive(Debug, Args)]
pub(super) struct CheckArgs {
    /// The target file to check.
    #[arg(long)]
    target: PathBuf,
    /// Trust this CA certificate (PEM) besides the system's and the bundled roots; repeatable.
    #[arg(long = "ca-cert")]
    ca_certs: Vec<PathBuf>,
    /// Do not verify TLS certificates.
    #[arg(long)]
    insecure: bool,
    /// Seconds one HTTP request may take.
    #[arg(long, default_value_t = 10.0)]
    request_timeout: f64,
}

/// Loads the target file, fetches discovery and runs one normal flow per configured client,
/// printing each problem with what to change. Exit 0: ready to run; 2: the file or a client's
/// settings need a change; 3: the server is not reachable.
pub(super) async fn run(args: CheckArgs) -> Exit {
    let file = match load_target(&args.target) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    println!("ok    target file {}", args.target.display());
    let mut ca_certs = Vec::new();
    for path in &args.ca_certs {
        match std::fs::read(path) {
            Ok(pem) => ca_certs.push(pem),
            Err(e) => {
                eprintln!("error: --ca-cert {}: {e}", path.display());
                return Exit::Usage;
            }
        }
    }
    if !(args.request_timeout.is_finite() && args.request_timeout > 0.0) {
        eprintln!("error: --request-timeout must be a positive number of seconds");
        return Exit::Usage;
    }
    let opts = RunOptions {
        seed: 0,
        limits: Limits {
            request_timeout: Duration::from_secs_f64(args.request_timeout),
            ..Limits::default()
        },
        tls: Tls {
            ca_certs,
            insecure: args.insecure,
        },
        ..RunOptions::default()
    };
    let target = match engine::resolve(file, opts.limits, &opts.tls).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!(
                "error: target unreachable: {e}\n      → check issuer (or endpoints) and that the server is up"
            );
            return Exit::Unreachable;
        }
    };
    println!(
        "ok    endpoints: authorization {}, token {}",
        target.authorization, target.token
    );
    let mut exit = Exit::Ok;
    for check in preflight(Arc::new(target), &opts).await {
        let client = check.client.as_str();
        match check.problem {
            None => println!("ok    {client} client: one normal flow with S256 completed"),
            Some(p) => {
                println!("FAIL  {client} client: {}\n      → {}", p.reason, p.hint);
                if p.unreachable {
                    exit = Exit::Unreachable;
                } else if exit == Exit::Ok {
                    exit = Exit::Usage;
                }
            }
        }
    }
    exit
}
