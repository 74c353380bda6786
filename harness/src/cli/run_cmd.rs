use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use pkce_harness::server::ReferenceServer;

use super::http_args::{HttpArgs, positive_seconds};
use super::{Exit, load};
use pkce_harness::defect::Severity;
use pkce_harness::diagnostics::UnknownName;
use pkce_harness::engine::Event;
use pkce_harness::engine::preflight::ProblemKind;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::gate::Gate;
use pkce_harness::report::{
    Destination, ReportFormat, Sink, Style, TerminalSink, Verbosity, check_destinations, file_sink,
};
use pkce_harness::scenario::model::{Profile, Technique};
use pkce_harness::verdict::GateMark;

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Target file; without it, the embedded reference server is started and used.
    #[arg(long)]
    target: Option<PathBuf>,
    #[command(flatten)]
    library: super::LibraryArgs,
    /// rfc6749, rfc9700, oauth2.1 or fapi2.
    #[arg(long, default_value = "rfc9700")]
    profile: Profile,
    /// Fail the run on deviations of at least this severity (low, medium, high), whatever
    /// their level, and not on those below it; without it, on every failed MUST.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Only these checks: an id as printed (`*` matches anything; `...[public]` for one
    /// client), a requirement (`REQ-52`), a bug (`BUG-12`), a CVE (`CVE-2024-22258`), a
    /// severity (`high`, `medium`, `low`) or a level under the profile (`must`, `should`,
    /// `may`); repeatable, any of them.
    #[arg(long, value_name = "SELECTOR")]
    only: Vec<String>,
    /// Not these checks (same forms as --only); repeatable.
    #[arg(long, value_name = "SELECTOR")]
    exclude: Vec<String>,
    /// Only the checks that failed the gate or could not be judged in this JSON report.
    #[arg(long, value_name = "REPORT.json")]
    rerun_failed: Option<PathBuf>,
    /// Scenarios run at once (1 to 256).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,
    /// Seed of every random value (printed in every report); random by default.
    #[arg(long)]
    seed: Option<u64>,
    /// FORMAT=PATH, FORMAT one of json, junit, markdown, html, sarif, gitlab; repeatable. PATH `-` is
    /// standard output (the terminal lines then go to standard error).
    #[arg(long = "report", value_parser = parse_report)]
    reports: Vec<(ReportFormat, Destination)>,
    /// With the embedded server only: switch on a defect (repeatable), to see checks fail;
    /// `--defect list` prints them all.
    #[arg(long)]
    defect: Vec<String>,
    /// With the embedded server only: its confidential clients authenticate with
    /// private_key_jwt and client_secret_jwt instead of client secrets (the client-assertion
    /// checks run; the checks of how secrets travel are skipped). On by itself with a
    /// client-assertion defect.
    #[arg(long)]
    jwt_clients: bool,
    /// With the embedded server only: its FAPI 2.0 set-up (HTTPS, pushed authorization
    /// requests required, PKCE for every client, assertion clients); implied by --profile
    /// fapi2. On by itself with a defect that needs it.
    #[arg(long)]
    fapi2: bool,
    /// With the embedded server only: serve it over HTTPS (its compiled-in test certificate,
    /// trusted for this run), so every request goes through TLS.
    #[arg(long)]
    tls: bool,
    /// With the embedded server only: its mTLS set-up (RFC 8705; HTTPS, both confidential
    /// clients authenticated by self-signed TLS client certificates, their tokens bound to
    /// them). On by itself with an mTLS defect.
    #[arg(long)]
    mtls: bool,
    /// Known deviations of the target (fixtures/expectations format): listed ones do not fail
    /// the gate, unlisted and stale ones do.
    #[arg(long)]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    http: HttpArgs,
    /// Seconds one scenario may take.
    #[arg(long, default_value_t = 60.0)]
    scenario_timeout: f64,
    /// How race steps send their bursts: last-byte or h2-single-packet (default: HTTP/2 where
    /// the target speaks it, else last-byte).
    #[arg(long, value_parser = parse_technique)]
    race_technique: Option<Technique>,
    /// Print only the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Print every result with the exchanges it made.
    #[arg(short, long)]
    verbose: bool,
}

/// The terminal style for this process: colours on a terminal unless `NO_COLOR` is set, a live
/// progress line on a terminal unless under `CI`, plain lines otherwise.
fn terminal_style(quiet: bool, verbose: bool, on_stderr: bool) -> Style {
    use std::io::IsTerminal;
    let tty = if on_stderr {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    Style {
        color: tty && !super::env_set("NO_COLOR"),
        progress: tty && !super::env_set("CI"),
        verbosity: if quiet {
            Verbosity::Quiet
        } else if verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        },
    }
}

fn parse_technique(s: &str) -> Result<Technique, UnknownName> {
    let all = [Technique::LastByte, Technique::H2SinglePacket];
    all.into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| UnknownName::new("race technique", s, all.map(Technique::as_str)))
}

/// Why a `--report FORMAT=PATH` does not say where which report goes.
#[derive(Debug, thiserror::Error)]
pub(super) enum ReportSpecError {
    /// No `=`.
    #[error("expected FORMAT=PATH, got {0:?}")]
    NoFormat(String),
    /// Nothing after the `=`.
    #[error("no path in {0:?}: give a file, or - for standard output")]
    NoPath(String),
    /// A format there is none of.
    #[error(transparent)]
    Format(#[from] UnknownName),
}

pub(super) fn parse_report(s: &str) -> Result<(ReportFormat, Destination), ReportSpecError> {
    let (f, p) = s
        .split_once('=')
        .ok_or_else(|| ReportSpecError::NoFormat(s.to_owned()))?;
    if p.is_empty() {
        return Err(ReportSpecError::NoPath(s.to_owned()));
    }
    Ok((f.parse()?, Destination::parse(p)))
}

pub(super) async fn run(args: RunArgs) -> Exit {
    let mut resolved = None;
    let exit = run_resolving(args, &mut resolved).await;
    if let Some((target, opts)) = resolved {
        super::unregister(&target, opts.limits, &opts.tls).await;
    }
    exit
}

/// [`run`] up to its exit code; the target it resolved, once resolved, goes to `resolved`, so
/// that the clients it registered are deleted however the run ends.
async fn run_resolving(
    args: RunArgs,
    resolved: &mut Option<(Arc<engine::ResolvedTarget>, RunOptions)>,
) -> Exit {
    let defects = match super::defects(&args.defect) {
        Ok(Some(d)) => d,
        Ok(None) => return Exit::Ok,
        Err(exit) => return exit,
    };
    if let Err(e) = check_destinations(&args.reports) {
        eprintln!("error: {e}");
        return Exit::Usage;
    }
    let scenarios = match load(&args.library) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let mut only = args.only.clone();
    if let Some(path) = &args.rerun_failed {
        match failed_in(path) {
            Ok(ids) if ids.is_empty() => {
                eprintln!(
                    "nothing to run again: no check failed or could not be judged in {}",
                    path.display()
                );
                return Exit::Ok;
            }
            Ok(ids) => only.extend(ids),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Usage;
            }
        }
    }
    if let Err(e) = super::selection_matches(&scenarios, &only, &args.exclude, args.profile) {
        return e;
    }
    let baseline = match args
        .baseline
        .as_deref()
        .map(pkce_harness::baseline::load_baseline)
        .transpose()
    {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    if let Some(b) = &baseline
        && b.profile != args.profile
    {
        eprintln!(
            "error: the baseline was made under profile {}, this run is {}; pass --profile {}",
            b.profile.as_str(),
            args.profile.as_str(),
            b.profile.as_str()
        );
        return Exit::Usage;
    }
    let seed = args.seed.unwrap_or_else(super::random_seed);
    let loaded = args.http.load().and_then(|(limits, tls)| {
        let scenario_timeout = positive_seconds("--scenario-timeout", args.scenario_timeout)?;
        Ok((limits, tls, scenario_timeout))
    });
    let (limits, tls, scenario_timeout) = match loaded {
        Ok(l) => l,
        Err(e) => return e,
    };
    let mut opts = RunOptions {
        profile: args.profile,
        seed,
        jobs: usize::from(args.jobs),
        only,
        exclude: args.exclude.clone(),
        limits,
        scenario_timeout,
        tls,
        race_technique: args.race_technique,
        ..RunOptions::default()
    };
    if engine::planned(&scenarios, &opts).is_empty() {
        eprintln!("error: the selection (--only, --exclude) leaves no check to run");
        return Exit::Usage;
    }
    let (file, server) = match super::target_or_reference(
        args.target.as_deref(),
        defects,
        super::variant_of(
            args.jwt_clients,
            // The FAPI profile against the embedded server means its FAPI set-up.
            args.fapi2 || args.profile == Profile::Fapi2,
            args.mtls,
        ),
        args.tls,
    )
    .await
    {
        Ok(t) => t,
        Err(exit) => return exit,
    };
    if server.as_ref().is_some_and(ReferenceServer::is_tls) {
        // The embedded server's certificate is signed by the compiled-in test CA.
        opts.tls
            .ca_certs
            .push(pkce_harness::server::TEST_CA_PEM.as_bytes().to_vec());
    }
    // Only a file the user wrote has lines to point at (the embedded server's is made here).
    let target_lines = if args.target.is_some() {
        file.lines.clone()
    } else {
        Default::default()
    };
    let target = match engine::resolve(file, opts.limits, &opts.tls).await {
        Ok(t) => t,
        Err(e) => return super::resolve_failed(&e),
    };
    let target = Arc::new(target);
    *resolved = Some((Arc::clone(&target), opts.clone()));
    let to_stdout = args.reports.iter().any(|(_, d)| *d == Destination::Stdout);
    let terminal: Box<dyn std::io::Write + Send> = if to_stdout {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let mut sinks: Vec<Box<dyn Sink + Send>> = vec![Box::new(TerminalSink::with_style(
        terminal,
        terminal_style(args.quiet, args.verbose, to_stdout),
    ))];
    for (format, dest) in args.reports {
        sinks.push(file_sink(format, dest));
    }
    if server.is_none() {
        // Preflight: a setting that breaks every flow stops here, as one line per client,
        // instead of as a wall of scenario errors; the reports then hold the normal flows.
        let found = pkce_harness::engine::preflight::preflight(Arc::clone(&target), &opts).await;
        let stop = match super::check_cmd::show(&found, &mut std::io::stderr(), false) {
            None | Some(ProblemKind::Advice) => None,
            Some(ProblemKind::Policy) => {
                eprintln!(
                    "note: a declared policy above does not match what the normal flows saw; running the scenarios, and the checks that rely on it are errors"
                );
                None
            }
            Some(ProblemKind::MaybeDeviation) => {
                eprintln!(
                    "note: the normal flow above failed at the token endpoint with the settings looking right; running the scenarios, which judge it"
                );
                None
            }
            Some(ProblemKind::Login) => {
                let why = found
                    .checks
                    .iter()
                    .find_map(|c| c.problem.as_ref().map(|p| p.reason.clone()))
                    .unwrap_or_default();
                eprintln!(
                    "note: the login cannot be automated with these settings; running the checks that need no completed login, the others are errors (see `pkce-harness check --target`)"
                );
                opts.login_blocked = Some(why);
                None
            }
            Some(ProblemKind::Settings) => Some((
                "fix the target file (see `pkce-harness check --target`)",
                Exit::Usage,
            )),
            Some(ProblemKind::ServerFault) => Some((
                "the server failed during a normal flow, so no check could be judged",
                Exit::Unreachable,
            )),
            Some(ProblemKind::Unreachable) => {
                Some(("the target does not answer", Exit::Unreachable))
            }
        };
        if let Some((why, exit)) = stop {
            eprintln!("error: preflight failed: {why}");
            let done = Event::Done(Box::new(found.report));
            for s in sinks.iter_mut().skip(1) {
                if let Err(e) = s.event(&done) {
                    eprintln!("error: writing a report failed: {e}");
                }
            }
            return exit;
        }
    }
    let collected = std::sync::Mutex::new(Vec::new());
    let mut sink_error = None;
    let mut forward = |sinks: &mut Vec<Box<dyn Sink + Send>>, event: &Event| {
        for s in sinks.iter_mut() {
            if let Err(e) = s.event(event) {
                sink_error.get_or_insert(e.to_string());
            }
        }
    };
    // Every report shows what the gate decides: each result is marked (known, new, stale,
    // over or below the threshold) before any sink sees it, and under a baseline the final
    // report gains the listed deviations that did not run.
    let gate = Gate {
        baseline,
        fail_on: args.fail_on,
    };
    let target_file = args.target.as_ref().map(|p| p.display().to_string());
    let whole_library = opts.only.is_empty() && opts.exclude.is_empty();
    let planned = engine::planned(&scenarios, &opts);
    let selected = |id: &str| whole_library || planned.iter().any(|p| p == id);
    let mut on_event = |event: &Event| {
        let marked = match event {
            Event::Finished(r) => {
                let mut r = (**r).clone();
                gate.mark(&mut r);
                Event::Finished(Box::new(r))
            }
            Event::Done(report) => {
                let mut report = (**report).clone();
                report.target_file.clone_from(&target_file);
                report.target_lines.clone_from(&target_lines);
                gate.apply(&mut report, selected);
                Event::Done(Box::new(report))
            }
            _ => event.clone(),
        };
        if let (Event::Finished(r), Ok(mut c)) = (&marked, collected.lock()) {
            c.push((**r).clone());
        }
        forward(&mut sinks, &marked);
    };
    let started = std::time::SystemTime::now();
    let run = engine::run(&scenarios, Arc::clone(&target), &opts, &mut on_event);
    // Ctrl-C: stop the checks still running and write what finished, marked interrupted.
    let interrupted = tokio::select! {
        report = run => Err(report),
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    let report = match interrupted {
        Err(report) => report,
        Ok(()) => {
            let results = collected.into_inner().unwrap_or_default();
            let partial = engine::report(&target, &opts, results, started, true);
            eprintln!(
                "\ninterrupted: {} of the checks finished; the reports say so",
                partial.results.len()
            );
            forward(&mut sinks, &Event::Done(Box::new(partial)));
            if let Some(server) = server {
                server.stop().await;
            }
            return Exit::Interrupted;
        }
    };
    if let Some(server) = server {
        server.stop().await;
    }
    if let Some(e) = sink_error {
        eprintln!("error: writing a report failed: {e}");
        return Exit::Unreachable;
    }
    let mut report = report;
    report.target_file.clone_from(&target_file);
    report.target_lines = target_lines;
    gate.apply(&mut report, selected);
    print_gate(&report);
    match report.exit_status() {
        0 => Exit::Ok,
        1 => Exit::Failed,
        _ => Exit::Unreachable,
    }
}

/// What the baseline made of the run, on standard output: the counts, then each new deviation
/// and stale entry (the reports show the same marks).
fn print_gate(report: &pkce_harness::verdict::RunReport) {
    let Some(b) = &report.baseline else {
        return;
    };
    println!(
        "baseline {}: {} known deviations seen, {} new, {} stale",
        b.server, b.known, b.new, b.stale
    );
    for r in &report.results {
        match &r.gate {
            Some(GateMark::New) => {
                println!("  new   {} {}: {}", r.verdict.as_str(), r.id, r.reason);
            }
            Some(GateMark::Stale { listed, .. }) => println!(
                "  stale {}: listed as {}, now {} ({})",
                r.id,
                listed.as_str(),
                r.verdict.as_str(),
                r.reason
            ),
            _ => {}
        }
    }
}

/// The ids of the checks a JSON report says failed the gate or could not be judged.
fn failed_in(path: &std::path::Path) -> Result<Vec<String>, pkce_harness::diagnostics::LoadError> {
    Ok(super::read_report(path)?
        .results
        .iter()
        .filter(|r| {
            let s = r.standing();
            s.fails_gate() || s == pkce_harness::verdict::Standing::Error
        })
        .map(|r| r.id.clone())
        .collect())
}
