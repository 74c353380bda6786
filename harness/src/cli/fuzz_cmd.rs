use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::Exit;
use super::http_args::HttpArgs;
use pkce_harness::differential::{FuzzOptions, Progress, Surface, finding_id, fuzz};
use pkce_harness::engine::{self, Event, RunOptions};
use pkce_harness::report::{Destination, ReportFormat, check_destinations, file_sink};

#[derive(Debug, Args)]
pub(super) struct FuzzArgs {
    /// Target file; without it, the embedded reference server (with `--defect`s) is used.
    #[arg(long)]
    target: Option<PathBuf>,
    /// With the embedded server only: switch on a defect (repeatable).
    #[arg(long)]
    defect: Vec<String>,
    /// The surfaces: verifier, challenge, redirect, state (repeatable; all by default).
    #[arg(long = "surface", value_name = "NAME")]
    surfaces: Vec<Surface>,
    /// Judged cases per surface at most.
    #[arg(long, default_value_t = 1000)]
    budget: usize,
    /// Seconds per surface at most.
    #[arg(long, value_name = "S")]
    time: Option<f64>,
    /// Cases per second at most.
    #[arg(long)]
    rate: Option<f64>,
    /// Server requests one finding's shrinking may take.
    #[arg(long, default_value_t = 200)]
    shrink_budget: usize,
    /// Each case in a new browser session with a full login, instead of reusing the sessions
    /// earlier cases left logged in (slower; for a server whose sessions change what it does).
    #[arg(long)]
    fresh_sessions: bool,
    /// Cases run at once (1 to 64).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// Seed of the generated cases (printed; the same seed replays the same cases).
    #[arg(long)]
    seed: Option<u64>,
    /// Write each finding as a scenario file here, for `run` to gate on.
    #[arg(long, value_name = "DIR")]
    emit_scenarios: Option<PathBuf>,
    /// FORMAT=PATH, FORMAT one of json, junit, markdown, html, sarif, gitlab; repeatable.
    #[arg(long = "report", value_parser = super::run_cmd::parse_report)]
    reports: Vec<(ReportFormat, Destination)>,
    #[command(flatten)]
    http: HttpArgs,
}

/// Runs the differential fuzzer; exit 1 when it found a disagreement, 3 when a surface had to
/// stop because the server failed, 0 otherwise.
pub(super) async fn run(args: FuzzArgs) -> Exit {
    let defects = match super::defects(&args.defect) {
        Ok(Some(d)) => d,
        Ok(None) => return Exit::Ok,
        Err(exit) => return exit,
    };
    if let Err(e) = check_destinations(&args.reports) {
        eprintln!("error: {e}");
        return Exit::Usage;
    }
    let (limits, tls) = match args.http.load() {
        Ok(l) => l,
        Err(e) => return e,
    };
    let seed = args.seed.unwrap_or_else(super::random_seed);
    let run = RunOptions {
        seed,
        jobs: usize::from(args.jobs),
        limits,
        tls,
        ..RunOptions::default()
    };
    let (file, server) = match super::target_or_reference(
        args.target.as_deref(),
        defects,
        pkce_harness::defect::Variant::Secrets,
        false,
    )
    .await
    {
        Ok(t) => t,
        Err(exit) => return exit,
    };
    let target = match engine::resolve(file, run.limits, &run.tls).await {
        Ok(t) => Arc::new(t),
        Err(e) => return super::resolve_failed(&e),
    };
    let opts = FuzzOptions {
        surfaces: if args.surfaces.is_empty() {
            Surface::ALL.to_vec()
        } else {
            args.surfaces.clone()
        },
        budget: args.budget,
        time: args.time.map(std::time::Duration::from_secs_f64),
        rate: args.rate,
        shrink_budget: args.shrink_budget,
        fresh_sessions: args.fresh_sessions,
    };
    eprintln!(
        "pkce-harness fuzz: {} (seed {seed}, budget {} per surface)",
        target.name, args.budget
    );
    // On a terminal one line redrawn in place; in a log (a file, a pipe, CI) one plain line
    // per surface, when it is done.
    let live = super::live_on_stderr();
    let shown = |p: &Progress| {
        format!(
            "{}: {} cases, {} finding(s), {:.0} cases/s",
            p.surface.name(),
            p.cases,
            p.findings,
            p.rate
        )
    };
    let mut last: Option<Progress> = None;
    let outcome = fuzz(Arc::clone(&target), &run, &opts, &mut |p| {
        if live {
            eprint!("\r\x1b[2K{}", shown(p));
        } else if let Some(done) = last.as_ref().filter(|l| l.surface != p.surface) {
            eprintln!("{}", shown(done));
        }
        last = Some(p.clone());
    })
    .await;
    match last {
        Some(_) if live => eprintln!(),
        Some(done) => eprintln!("{}", shown(&done)),
        None => {}
    }
    super::unregister(&target, run.limits, &run.tls).await;
    if let Some(s) = server {
        s.stop().await;
    }
    for r in &outcome.report.results {
        println!(
            "{:<5} {}: {}",
            r.verdict.as_str().to_uppercase(),
            pkce_harness::report::terminal_line(&r.id),
            pkce_harness::report::terminal_line(&r.reason)
        );
    }
    if let Some(dir) = &args.emit_scenarios {
        for f in &outcome.findings {
            let name = finding_id(f).replace('/', "-");
            let path = dir.join(format!("{name}.yaml"));
            let written =
                std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, &f.scenario));
            match written {
                Ok(()) => println!("wrote {}", path.display()),
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    return Exit::Usage;
                }
            }
        }
    }
    let done = Event::Done(Box::new(outcome.report.clone()));
    for (format, dest) in args.reports.iter().cloned() {
        if let Err(e) = file_sink(format, dest).event(&done) {
            eprintln!("error: writing a report failed: {e}");
            return Exit::Unreachable;
        }
    }
    match outcome.report.exit_status() {
        0 => Exit::Ok,
        1 => Exit::Failed,
        _ => Exit::Unreachable,
    }
}
