//! `pkce-harness client`: the client scenarios against an OAuth client (client mode), and
//! `pkce-harness reference-client`: the reference client itself, one login.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::Args;

use super::Exit;
use pkce_harness::client_defect::ClientDefect;
use pkce_harness::client_mode::{self, LoadedClient};
use pkce_harness::engine::Event;
use pkce_harness::report::{Destination, ReportFormat, check_destinations, file_sink};
use pkce_harness::scenario::client::ClientScenario;
use pkce_harness::verdict::{RunReport, ScenarioResult, Verdict};

#[derive(Debug, Args)]
pub(super) struct ClientArgs {
    /// The client file (its driver and registration). Without it, the built-in reference
    /// client (`reference-client`), with `--defect` switched on.
    #[arg(long, value_name = "FILE")]
    target: Option<PathBuf>,
    /// With the reference client only: switch on one of its defects (repeatable; `list` lists
    /// them).
    #[arg(long, value_name = "NAME")]
    defect: Vec<String>,
    /// Only the client scenarios whose id starts with this (repeatable).
    #[arg(long, value_name = "PREFIX")]
    only: Vec<String>,
    /// FORMAT=PATH, FORMAT one of json, junit, markdown, html, sarif, gitlab; repeatable (the
    /// formats of `run`).
    #[arg(long = "report", value_parser = super::run_cmd::parse_report)]
    reports: Vec<(ReportFormat, Destination)>,
    /// Known deviations of the client (the fixtures/expectations format, `server:` naming the
    /// client): listed ones do not fail the gate, unlisted and stale ones do.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Run the client kill matrix instead: the library against the reference client, clean
    /// and with each defect, through the `command` driver and as a web app through the `http`
    /// driver; exits 1 on any gap.
    #[arg(long, conflicts_with_all = ["target", "defect"])]
    selftest: bool,
}

#[derive(Debug, Args)]
pub(super) struct ReferenceClientArgs {
    /// Switch on one of the reference client's defects (repeatable).
    #[arg(long, value_name = "NAME")]
    defect: Vec<ClientDefectArg>,
    /// Serve as a web app (the `http` driver's protocol: `GET /login` starts a login, the
    /// redirect URI's address is where it listens) until stopped, instead of one login over
    /// the `command` driver's.
    #[arg(long)]
    serve: bool,
}

/// A client defect named on the command line.
#[derive(Debug, Clone)]
pub(super) struct ClientDefectArg(ClientDefect);

impl std::str::FromStr for ClientDefectArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self).map_err(|e| e.to_string())
    }
}

/// One login of the reference client, speaking the `command` driver's protocol, or the web
/// app the `http` driver drives (`--serve`).
pub(super) async fn reference_client(args: ReferenceClientArgs) -> Exit {
    let defects: BTreeSet<ClientDefect> = args.defect.into_iter().map(|d| d.0).collect();
    let ended = if args.serve {
        pkce_harness::reference_client::serve(&defects).await
    } else {
        pkce_harness::reference_client::login(&defects).await
    };
    match ended {
        Ok(()) => Exit::Ok,
        Err(e) => {
            eprintln!("{e}");
            if e.exit_status() == 1 {
                Exit::Failed
            } else {
                Exit::Usage
            }
        }
    }
}

fn library(only: &[String]) -> Result<Vec<ClientScenario>, Exit> {
    let all = pkce_harness::scenario::built_in_client().map_err(|errors| {
        for e in errors {
            eprintln!("error: {e}");
        }
        Exit::Usage
    })?;
    let picked: Vec<ClientScenario> = all
        .into_iter()
        .filter(|s| only.is_empty() || only.iter().any(|p| s.id.starts_with(p.as_str())))
        .collect();
    if picked.is_empty() {
        eprintln!("error: --only leaves no client scenario to run");
        return Err(Exit::Usage);
    }
    Ok(picked)
}

/// The reference client as a client file: this binary, `reference-client`, the defects.
fn reference(defects: &[String]) -> Result<LoadedClient, Exit> {
    if defects.iter().any(|d| d == "list") {
        for d in ClientDefect::ALL {
            println!("{d}");
        }
        return Err(Exit::Ok);
    }
    for d in defects {
        if let Err(e) = d.parse::<ClientDefect>() {
            eprintln!("error: {e}");
            return Err(Exit::Usage);
        }
    }
    let program = std::env::current_exe().map_err(|e| {
        eprintln!("error: cannot find this program to run as the reference client: {e}");
        Exit::Unreachable
    })?;
    let mut run = vec![program.display().to_string(), "reference-client".to_owned()];
    for d in defects {
        run.extend(["--defect".to_owned(), d.clone()]);
    }
    let text = serde_json::json!({
        "format": 1,
        "name": if defects.is_empty() { "reference client".to_owned() } else { format!("reference client with {}", defects.join(", ")) },
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "driver": {"command": {"run": run}},
    });
    let file =
        client_mode::parse_client_file("(reference client)", &text.to_string()).map_err(|e| {
            eprintln!("error: {e}");
            Exit::Usage
        })?;
    Ok(LoadedClient {
        file,
        dir: PathBuf::from("."),
    })
}

pub(super) async fn run(args: ClientArgs) -> Exit {
    let scenarios = match library(&args.only) {
        Ok(s) => s,
        Err(exit) => return exit,
    };
    if args.selftest {
        return selftest(&scenarios).await;
    }
    if let Err(e) = check_destinations(&args.reports) {
        eprintln!("error: {e}");
        return Exit::Usage;
    }
    let client = match &args.target {
        Some(path) => match client_mode::load_client_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Usage;
            }
        },
        None => match reference(&args.defect) {
            Ok(c) => c,
            Err(exit) => return exit,
        },
    };
    if args.target.is_some() && !args.defect.is_empty() {
        eprintln!(
            "error: --defect applies to the reference client only; drop --target or --defect"
        );
        return Exit::Usage;
    }
    println!(
        "pkce-harness: {} client checks against {}",
        scenarios.len(),
        client.file.name
    );
    let baseline = match args
        .baseline
        .as_deref()
        .map(pkce_harness::baseline::load_baseline)
    {
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
        None => None,
    };
    let mut report = client_mode::run(&scenarios, &client, &mut print_result).await;
    if let Some(b) = &baseline {
        let ids: Vec<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
        b.apply(&mut report, |id| ids.contains(&id));
    }
    summarize(&report, &args.reports)
}

/// One result on the terminal. What the client printed is in the reason and the trail: shown
/// escaped, like everything else that comes from outside.
fn print_result(r: &ScenarioResult) {
    use pkce_harness::report::terminal_line as safe;
    let tag = r.verdict.as_str().to_uppercase();
    if r.verdict == Verdict::Pass {
        println!("{tag:<5} {}", safe(&r.id));
    } else {
        println!("{tag:<5} {}: {}", safe(&r.id), safe(&r.reason));
        for line in r.login.iter().rev().take(3).rev() {
            println!("      {}", safe(line));
        }
    }
}

fn summarize(report: &RunReport, reports: &[(ReportFormat, Destination)]) -> Exit {
    println!(
        "\n{} ({:.1} s)",
        pkce_harness::report::counts(&report.summary),
        report.duration_ms as f64 / 1000.0
    );
    if let Some(b) = &report.baseline {
        println!(
            "baseline {}: {} known deviations seen, {} new, {} stale",
            b.server, b.known, b.new, b.stale
        );
        for r in report.results.iter().filter(|r| r.standing().fails_gate()) {
            println!("  {:<5} {}: {}", r.verdict.as_str(), r.id, r.reason);
        }
    }
    let done = Event::Done(Box::new(report.clone()));
    for (format, dest) in reports {
        if let Err(e) = file_sink(*format, dest.clone()).event(&done) {
            eprintln!("error: cannot write the {format:?} report: {e}");
            return Exit::Usage;
        }
    }
    match report.exit_status() {
        0 => Exit::Ok,
        1 => Exit::Failed,
        _ => Exit::Unreachable,
    }
}

async fn selftest(scenarios: &[ClientScenario]) -> Exit {
    let program = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot find this program to run as the reference client: {e}");
            return Exit::Unreachable;
        }
    };
    let gaps = client_mode::matrix(scenarios, program).await;
    println!(
        "client kill matrix: {} scenarios x {} reference-client defects, through the command and http drivers",
        scenarios.len(),
        ClientDefect::ALL.len()
    );
    if gaps.is_empty() {
        println!(
            "no gaps: every client check passes on the clean client and fails on the defects it lists; every defect is caught"
        );
        Exit::Ok
    } else {
        for g in &gaps {
            println!("GAP   {g}");
        }
        Exit::Failed
    }
}
