use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::http_args::{HttpArgs, positive_seconds};
use super::{Exit, load};
use pkce_harness::defect::Defect;
use pkce_harness::engine::preflight::ProblemKind;
use pkce_harness::engine::{self, RunOptions};
use pkce_harness::report::{ReportFormat, Sink, Style, TerminalSink, Verbosity, file_sink};
use pkce_harness::scenario::model::{Level, Profile, Technique};
use pkce_harness::server::{ReferenceServer, ServerConfig};
use pkce_harness::verdict::Verdict;

#[derive(Debug, Args)]
pub(super) struct RunArgs {
    /// Target file; without it, the embedded reference server is started and used.
    #[arg(long)]
    target: Option<PathBuf>,
    /// Scenario folder (default: ./scenarios).
    #[arg(long)]
    scenarios: Option<PathBuf>,
    /// rfc6749, rfc9700, oauth2.1 or fapi2.
    #[arg(long, default_value = "rfc9700")]
    profile: Profile,
    /// Only scenario ids matching this glob (`*` wildcard); repeatable.
    #[arg(long)]
    only: Vec<String>,
    /// Scenarios run at once (1 to 256).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    jobs: u16,
    /// Seed of every random value (printed in every report); random by default.
    #[arg(long)]
    seed: Option<u64>,
    /// FORMAT=PATH, FORMAT one of json, junit, markdown, html; repeatable.
    #[arg(long = "report", value_parser = parse_report)]
    reports: Vec<(ReportFormat, PathBuf)>,
    /// With the embedded server only: switch on a defect (repeatable), to see checks fail.
    #[arg(long)]
    defect: Vec<Defect>,
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
fn terminal_style(quiet: bool, verbose: bool) -> Style {
    use std::io::IsTerminal;
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let tty = std::io::stdout().is_terminal();
    Style {
        color: tty && !set("NO_COLOR"),
        progress: tty && !set("CI"),
        verbosity: if quiet {
            Verbosity::Quiet
        } else if verbose {
            Verbosity::Verbose
        } else {
            Verbosity::Normal
        },
    }
}

fn parse_technique(s: &str) -> Result<Technique, String> {
    [Technique::LastByte, Technique::H2SinglePacket]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| format!("expected last-byte or h2-single-packet, got {s:?}"))
}

fn parse_report(s: &str) -> Result<(ReportFormat, PathBuf), String> {
    let (f, p) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=PATH, got {s:?}"))?;
    Ok((f.parse()?, PathBuf::from(p)))
}

pub(super) async fn run(args: RunArgs) -> Exit {
    let scenarios = match load(args.scenarios) {
        Ok(s) => s,
        Err(e) => return e,
    };
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
    let seed = args.seed.unwrap_or_else(|| {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).map_or(0, |()| u64::from_be_bytes(b))
    });
    let loaded = args.http.load().and_then(|(limits, tls)| {
        let scenario_timeout = positive_seconds("--scenario-timeout", args.scenario_timeout)?;
        Ok((limits, tls, scenario_timeout))
    });
    let (limits, tls, scenario_timeout) = match loaded {
        Ok(l) => l,
        Err(e) => return e,
    };
    let opts = RunOptions {
        profile: args.profile,
        seed,
        jobs: usize::from(args.jobs),
        only: args.only,
        limits,
        scenario_timeout,
        tls,
        race_technique: args.race_technique,
    };
    let (file, server) = match (&args.target, args.defect.is_empty()) {
        (Some(path), true) => match super::load_target_file(path) {
            Ok(f) => (f, None),
            Err(exit) => return exit,
        },
        (Some(_), false) => {
            eprintln!(
                "error: --defect applies to the embedded reference server only; drop --target or --defect"
            );
            return Exit::Usage;
        }
        (None, _) => match ReferenceServer::start(ServerConfig {
            defects: args.defect.into_iter().collect(),
            ..ServerConfig::default()
        })
        .await
        {
            Ok(s) => (s.target_file(), Some(s)),
            Err(e) => {
                eprintln!("error: cannot start the reference server: {e}");
                return Exit::Unreachable;
            }
        },
    };
    let target = match engine::resolve(file, opts.limits, &opts.tls).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: target unreachable: {e}");
            return Exit::Unreachable;
        }
    };
    let target = Arc::new(target);
    if server.is_none() {
        // Preflight: a setting that breaks every flow stops here, as one line per client,
        // instead of as a wall of scenario errors.
        let checks = pkce_harness::engine::preflight::preflight(Arc::clone(&target), &opts).await;
        match super::check_cmd::show(&checks, &mut std::io::stderr(), false) {
            None => {}
            Some(ProblemKind::MaybeDeviation) => eprintln!(
                "note: the normal flow above failed at the token endpoint with the settings looking right; running the scenarios, which judge it"
            ),
            Some(ProblemKind::Settings) => {
                eprintln!(
                    "error: preflight failed: fix the target file (see `pkce-harness check --target`)"
                );
                return Exit::Usage;
            }
            Some(ProblemKind::Unreachable) => {
                eprintln!("error: preflight failed: the target does not answer");
                return Exit::Unreachable;
            }
        }
    }
    let mut sinks: Vec<Box<dyn Sink + Send>> = vec![Box::new(TerminalSink::with_style(
        std::io::stdout(),
        terminal_style(args.quiet, args.verbose),
    ))];
    for (format, path) in args.reports {
        sinks.push(file_sink(format, path));
    }
    let mut sink_error = None;
    let report = engine::run(&scenarios, target, &opts, &mut |event| {
        for s in &mut sinks {
            if let Err(e) = s.event(event) {
                sink_error.get_or_insert(e.to_string());
            }
        }
    })
    .await;
    if let Some(server) = server {
        server.stop().await;
    }
    if let Some(e) = sink_error {
        eprintln!("error: writing a report failed: {e}");
        return Exit::Unreachable;
    }
    if report.results.is_empty() {
        eprintln!("error: no scenario matched; nothing was checked");
        return Exit::Usage;
    }
    if let Some(b) = baseline {
        return gate_on_baseline(&b, &report);
    }
    if report
        .results
        .iter()
        .any(|r| r.verdict == Verdict::Fail && r.level == Level::Must)
    {
        Exit::Failed
    } else if report.results.iter().any(|r| r.verdict == Verdict::Error) {
        Exit::Unreachable
    } else {
        Exit::Ok
    }
}

/// The exit code under a baseline: 0 when every non-pass verdict is listed with the same verdict
/// and every listed deviation happened; 1 otherwise.
fn gate_on_baseline(
    b: &pkce_harness::baseline::Baseline,
    report: &pkce_harness::verdict::RunReport,
) -> Exit {
    if b.profile != report.profile {
        eprintln!(
            "error: the baseline was made under profile {}, this run is {}",
            b.profile.as_str(),
            report.profile.as_str()
        );
        return Exit::Usage;
    }
    let c = pkce_harness::baseline::compare(b, report);
    println!(
        "baseline {}: {} known deviations seen, {} new, {} stale",
        b.server,
        c.accepted.len(),
        c.new.len(),
        c.stale.len()
    );
    for (id, verdict, reason) in &c.new {
        println!("  new   {} {id}: {reason}", verdict.as_str());
    }
    for (id, expected, actual) in &c.stale {
        println!(
            "  stale {id}: listed as {}, now {}",
            expected.as_str(),
            actual.map_or("not run", |v| v.as_str())
        );
    }
    if c.holds() { Exit::Ok } else { Exit::Failed }
}
