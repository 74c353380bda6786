use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::Exit;
use crate::engine::http::{Limits, Tls};
use crate::engine::preflight::{ClientCheck, ProblemKind, preflight};
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
    let checks = preflight(Arc::new(target), &opts).await;
    match show(&checks, &mut std::io::stdout(), true) {
        None => Exit::Ok,
        Some(ProblemKind::Unreachable) => Exit::Unreachable,
        Some(_) => Exit::Usage,
    }
}

/// Prints each client's outcome (the passes only when `all`) and returns the worst problem.
pub(super) fn show(
    checks: &[ClientCheck],
    out: &mut dyn std::io::Write,
    all: bool,
) -> Option<ProblemKind> {
    let mut worst = None;
    for check in checks {
        let client = check.client.as_str();
        let _ = match &check.problem {
            None if all => writeln!(
                out,
                "ok    {client} client: one normal flow with S256 completed"
            ),
            None => Ok(()),
            Some(p) => writeln!(
                out,
                "FAIL  {client} client: {}\n      → {}",
                p.reason, p.hint
            ),
        };
        let rank = |k: Option<ProblemKind>| match k {
            None => 0,
            Some(ProblemKind::MaybeDeviation) => 1,
            Some(ProblemKind::Settings) => 2,
            Some(ProblemKind::Unreachable) => 3,
        };
        let kind = check.problem.as_ref().map(|p| p.kind);
        if rank(kind) > rank(worst) {
            worst = kind;
        }
    }
    worst
}
