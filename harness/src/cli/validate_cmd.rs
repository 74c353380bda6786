use std::path::PathBuf;

use clap::Args;

use super::{Exit, load};
use pkce_harness::diagnostics::{MAX_FILE_BYTES, read_text};
use pkce_harness::scenario::parse_scenario;
use pkce_harness::target::parse_target;

#[derive(Debug, Args)]
pub(super) struct ValidateArgs {
    /// Scenario or target files; without any, the whole scenario library.
    files: Vec<PathBuf>,
    /// Read the files as target files.
    #[arg(long)]
    target: bool,
    #[command(flatten)]
    library: super::LibraryArgs,
}

pub(super) fn run(args: ValidateArgs) -> Exit {
    if args.files.is_empty() {
        return match load(&args.library) {
            Ok(s) => {
                println!("{} scenarios load", s.len());
                Exit::Ok
            }
            Err(e) => e,
        };
    }
    let mut bad = 0;
    for path in &args.files {
        let shown = path.display().to_string();
        let result = read_text(path, MAX_FILE_BYTES)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                if args.target {
                    parse_target(&shown, &text)
                        .map(|t| {
                            for w in t.warnings() {
                                eprintln!("warning: {shown}: {w}");
                            }
                        })
                        .map_err(|e| e.to_string())
                } else {
                    parse_scenario(&shown, &text)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
            });
        match result {
            Ok(()) => println!("ok    {shown}"),
            Err(e) => {
                bad += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if bad == 0 { Exit::Ok } else { Exit::Usage }
}
