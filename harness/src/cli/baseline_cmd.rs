use std::path::PathBuf;

use clap::Args;

use super::Exit;
use pkce_harness::baseline::draft;

#[derive(Debug, Args)]
pub(super) struct BaselineArgs {
    /// A JSON report (`run --report json=PATH`) to draft the baseline from.
    #[arg(long)]
    from: PathBuf,
    /// The server and version the deviations are confirmed on (default: the report's target).
    #[arg(long)]
    server: Option<String>,
    /// Write here instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

/// Drafts a baseline from a report: each non-pass, non-skip verdict with a TODO reason, so the
/// file gates nothing until each deviation is confirmed.
pub(super) fn run(args: BaselineArgs) -> Exit {
    let report = match super::read_report(&args.from) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let text = draft(&report, args.server.as_deref().unwrap_or(&report.target));
    let count = text.matches("\n  - id: ").count();
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("error: {}: {e}", path.display());
                return Exit::Usage;
            }
            eprintln!(
                "wrote {count} deviation(s) to {}; replace each TODO with what the server does",
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Exit::Ok
}
