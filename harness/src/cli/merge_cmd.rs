use std::path::PathBuf;

use clap::Args;

use super::Exit;
use pkce_harness::report::{Destination, ReportFormat, combined_exit_status, combined_renderer};

#[derive(Debug, Args)]
pub(super) struct MergeArgs {
    /// JSON reports (`run --report json=PATH`), one per target: a CI matrix's jobs.
    #[arg(required = true, value_name = "REPORT.json")]
    reports: Vec<PathBuf>,
    /// FORMAT=PATH, FORMAT one of json, junit, markdown, sarif, gitlab; repeatable. PATH `-`
    /// is standard output.
    #[arg(long = "report", value_parser = super::run_cmd::parse_report)]
    outputs: Vec<(ReportFormat, Destination)>,
}

/// Reads the reports, prints one line per target and the combined gate, and writes the
/// combined reports. Exit: 1 when a target fails its gate, else 3 when a check of any target
/// could not be judged, else 0; 2 for a report that does not load.
pub(super) fn run(args: &MergeArgs) -> Exit {
    let mut reports = Vec::new();
    for path in &args.reports {
        match super::read_report(path) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Usage;
            }
        }
    }
    let to_stdout = args.outputs.iter().any(|(_, d)| *d == Destination::Stdout);
    let say = |line: String| {
        if to_stdout {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    for r in &reports {
        say(format!(
            "{:<40} {} passed, {} failed, {} errors: exit {}",
            r.target,
            r.summary.passed,
            r.summary.failed,
            r.summary.errors,
            r.exit_status()
        ));
    }
    let status = combined_exit_status(&reports);
    say(format!("{} targets: exit {status}", reports.len()));
    let written = write_combined(&args.outputs, &reports);
    if written != Exit::Ok {
        return written;
    }
    match status {
        0 => Exit::Ok,
        1 => Exit::Failed,
        _ => Exit::Unreachable,
    }
}

/// Writes each combined report `outputs` asks for; the exit status of the first that fails.
pub(super) fn write_combined(
    outputs: &[(ReportFormat, Destination)],
    reports: &[pkce_harness::verdict::RunReport],
) -> Exit {
    for (format, dest) in outputs {
        let Some(render) = combined_renderer(*format) else {
            eprintln!("error: the HTML report has no merged form; open each target's report");
            return Exit::Usage;
        };
        let text = render(reports);
        let written = match dest {
            Destination::Stdout => super::to_stdout(&text),
            Destination::File(path) => match std::fs::write(path, text) {
                Ok(()) => Exit::Ok,
                Err(e) => {
                    eprintln!("error: writing {}: {e}", path.display());
                    Exit::Unreachable
                }
            },
        };
        if written != Exit::Ok {
            return written;
        }
    }
    Exit::Ok
}
