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
    /// `json`: one document with each file, whether it loads, and the error (file, line and
    /// column in its text) or the warnings.
    #[arg(long, value_enum, default_value_t)]
    format: super::OutputFormat,
}

pub(super) fn run(args: ValidateArgs) -> Exit {
    let json = args.format == super::OutputFormat::Json;
    if args.files.is_empty() {
        return match load(&args.library) {
            Ok(s) if json => {
                super::print_json(&serde_json::json!({"ok": true, "scenarios": s.len()}))
            }
            Ok(s) => {
                println!("{} scenarios load", s.len());
                Exit::Ok
            }
            Err(e) if json => {
                let _ = super::print_json(
                    &serde_json::json!({"ok": false, "error": "the scenario library does not load (the errors are on stderr)"}),
                );
                e
            }
            Err(e) => e,
        };
    }
    let mut bad = 0;
    let mut files = Vec::new();
    for path in &args.files {
        let shown = path.display().to_string();
        let result = read_text(path, MAX_FILE_BYTES)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                if args.target {
                    parse_target(&shown, &text)
                        .map(|t| {
                            let warnings: Vec<String> =
                                t.warnings().iter().map(ToString::to_string).collect();
                            for w in &warnings {
                                eprintln!("warning: {shown}: {w}");
                            }
                            warnings
                        })
                        .map_err(|e| e.to_string())
                } else {
                    parse_scenario(&shown, &text)
                        .map(|_| Vec::new())
                        .map_err(|e| e.to_string())
                }
            });
        match &result {
            Ok(_) if !json => println!("ok    {shown}"),
            Ok(_) => {}
            Err(e) => {
                bad += 1;
                eprintln!("error: {e}");
            }
        }
        files.push(match result {
            Ok(warnings) => serde_json::json!({"file": shown, "ok": true, "warnings": warnings}),
            Err(error) => serde_json::json!({"file": shown, "ok": false, "error": error}),
        });
    }
    if json {
        let _ = super::print_json(&serde_json::json!({"ok": bad == 0, "files": files}));
    }
    if bad == 0 { Exit::Ok } else { Exit::Usage }
}
