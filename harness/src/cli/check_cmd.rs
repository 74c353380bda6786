use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::Exit;
use super::http_args::HttpArgs;
use pkce_harness::engine::preflight::{Preflight, Problem, ProblemKind, preflight};
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::report::terminal_line as line;
use pkce_harness::wire::without_userinfo;

#[derive(Debug, Args)]
pub(super) struct CheckArgs {
    /// The target file to check.
    #[arg(long)]
    target: PathBuf,
    #[command(flatten)]
    http: HttpArgs,
    /// `json`: one document with the endpoints, every problem (whose, why, what to change,
    /// what the server answered) and each client's outcome; the exit status is the same.
    #[arg(long, value_enum, default_value_t)]
    format: super::OutputFormat,
}

/// Loads the target file, fetches discovery and runs one normal flow per configured client,
/// printing each problem with what to change. Exit 0: ready to run (every flow completes; what
/// may be the server's own deviation is printed as a warning, for the scenarios to judge); 2:
/// the file or a client's settings need a change; 3: the server is not reachable.
pub(super) async fn run(args: CheckArgs) -> Exit {
    let json = args.format == super::OutputFormat::Json;
    let say = |line: String| {
        if !json {
            println!("{line}");
        }
    };
    let file = match super::load_target_file(&args.target) {
        Ok(f) => f,
        Err(exit) => return exit,
    };
    say(format!("ok    target file {}", args.target.display()));
    let confidential = file.clients.as_ref().map(|c| &c.confidential);
    let confidential2 = file.clients.as_ref().and_then(|c| c.confidential2.as_ref());
    for (kind, client) in [
        ("confidential", confidential),
        ("confidential2", confidential2),
    ] {
        let Some(c) = client else { continue };
        let Some(key) = &c.signing_key else { continue };
        let alg = pkce_harness::jose::alg_name(key.alg());
        match key.public_jwk() {
            Some(jwk) => say(format!(
                "ok    {kind} client: {} with an {alg} key, kid {}; the server must have this public key registered for {}: {{\"keys\": [{jwk}]}}",
                c.auth_method.as_str(),
                key.kid().unwrap_or("-"),
                c.client_id.0
            )),
            None => say(format!(
                "ok    {kind} client: {} signed {alg} with its client_secret",
                c.auth_method.as_str()
            )),
        }
    }
    let (limits, tls) = match args.http.load() {
        Ok(l) => l,
        Err(e) => return e,
    };
    let opts = RunOptions {
        seed: 0,
        limits,
        tls,
        ..RunOptions::default()
    };
    let target = match engine::resolve(file, opts.limits, &opts.tls).await {
        Ok(t) => t,
        Err(e) => return super::resolve_failed(&e),
    };
    let endpoints = (
        without_userinfo(&target.authorization),
        without_userinfo(&target.token),
    );
    say(format!(
        "ok    endpoints: authorization {}, token {}",
        endpoints.0, endpoints.1
    ));
    let target = Arc::new(target);
    for c in &target.registered {
        say(format!(
            "ok    registered client {} (register: true)",
            c.client_id
        ));
    }
    let found = preflight(Arc::clone(&target), &opts).await;
    super::unregister(&target, opts.limits, &opts.tls).await;
    let flows_complete = found.checks.iter().all(|c| c.problem.is_none());
    let outcome = if json {
        worst(&found)
    } else {
        show(&found, &mut std::io::stdout(), true)
    };
    let exit = match outcome {
        None | Some(ProblemKind::Advice) => Exit::Ok,
        Some(ProblemKind::MaybeDeviation) if flows_complete => Exit::Ok,
        Some(ProblemKind::Unreachable | ProblemKind::ServerFault) => Exit::Unreachable,
        Some(
            ProblemKind::Settings
            | ProblemKind::Policy
            | ProblemKind::Login
            | ProblemKind::MaybeDeviation,
        ) => Exit::Usage,
    };
    if json {
        let _ = super::print_json(&as_json(&found, &endpoints, exit));
    }
    exit
}

/// The worst problem preflight found, the value [`show`] returns.
fn worst(found: &Preflight) -> Option<ProblemKind> {
    found
        .target
        .iter()
        .chain(found.checks.iter().filter_map(|c| c.problem.as_ref()))
        .map(|p| p.kind)
        .max()
}

/// `check --format json`: what [`show`] prints, as data.
fn as_json(found: &Preflight, endpoints: &(String, String), exit: Exit) -> serde_json::Value {
    let problem = |p: &Problem| {
        serde_json::json!({
            "kind": match p.kind {
                ProblemKind::Advice => "advice",
                ProblemKind::MaybeDeviation => "maybe_deviation",
                ProblemKind::Policy => "policy",
                ProblemKind::Login => "login",
                ProblemKind::Settings => "settings",
                ProblemKind::ServerFault => "server_fault",
                ProblemKind::Unreachable => "unreachable",
            },
            "blocking": !matches!(p.kind, ProblemKind::MaybeDeviation | ProblemKind::Advice),
            "reason": p.reason,
            "hint": p.hint,
            "answer": p.answer,
        })
    };
    serde_json::json!({
        "ready": exit == Exit::Ok,
        "exit_status": exit as u8,
        "endpoints": {"authorization": endpoints.0, "token": endpoints.1},
        "login_driver": found.driver,
        "target": found.target.iter().map(problem).collect::<Vec<_>>(),
        "clients": found.checks.iter().map(|c| serde_json::json!({
            "client": c.client.as_str(),
            "outcome": match (&c.problem, &c.skipped) {
                (Some(_), _) => "problem",
                (None, Some(_)) => "skipped",
                (None, None) => "completed",
            },
            "skipped": c.skipped,
            "problem": c.problem.as_ref().map(problem),
            "login": c.login,
        })).collect::<Vec<_>>(),
    })
}

/// Prints each client's outcome (the passes only when `all`) and returns the worst problem.
pub(super) fn show(
    found: &Preflight,
    out: &mut dyn std::io::Write,
    all: bool,
) -> Option<ProblemKind> {
    let problem = |out: &mut dyn std::io::Write, what: &str, p: &Problem| {
        let label = match p.kind {
            ProblemKind::MaybeDeviation | ProblemKind::Advice => "warn",
            _ => "FAIL",
        };
        let _ = writeln!(out, "{label}  {what}: {}", line(&p.reason));
        if let Some(a) = &p.answer {
            let _ = writeln!(out, "      the server answered {}", line(a));
        }
        let _ = writeln!(out, "      → {}", p.hint);
    };
    for p in &found.target {
        problem(out, "target", p);
    }
    let trail = |out: &mut dyn std::io::Write, steps: &[String]| {
        if !steps.is_empty() {
            let _ = writeln!(out, "      login ({} driver):", found.driver);
        }
        for step in steps {
            let _ = writeln!(out, "        {}", line(step));
        }
    };
    for check in &found.checks {
        let client = check.client.as_str();
        match (&check.problem, &check.skipped) {
            (Some(p), _) => {
                problem(out, &format!("{client} client"), p);
                trail(out, &check.login);
            }
            (None, Some(why)) if all => {
                let _ = writeln!(out, "skip  {client} client: {why}");
            }
            (None, None) if all => {
                let _ = writeln!(
                    out,
                    "ok    {client} client: one normal flow with S256 completed"
                );
                trail(out, &check.login);
            }
            _ => {}
        }
    }
    worst(found)
}
