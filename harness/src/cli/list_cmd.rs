use std::path::PathBuf;

use clap::Args;

use super::{Exit, load};

#[derive(Debug, Args)]
pub(super) struct ListArgs {
    #[command(flatten)]
    library: super::LibraryArgs,
    /// Print the coverage table (requirement -> scenarios, bug -> defects -> scenarios).
    #[arg(long)]
    coverage: bool,
    /// With --coverage: rewrite the generated part of this Markdown file in place.
    #[arg(long, requires = "coverage")]
    write: Option<PathBuf>,
}

pub(super) fn run(args: ListArgs) -> Exit {
    let scenarios = match load(&args.library) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if args.coverage {
        let Some(path) = args.write else {
            println!("{}", pkce_harness::coverage::markdown(&scenarios));
            return Exit::Ok;
        };
        let refreshed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                pkce_harness::coverage::refresh(&text, &scenarios)
                    .ok_or_else(|| format!("no coverage markers in {}", path.display()))
            });
        return match refreshed.and_then(|t| std::fs::write(&path, t).map_err(|e| e.to_string())) {
            Ok(()) => Exit::Ok,
            Err(e) => {
                eprintln!("error: {e}");
                Exit::Usage
            }
        };
    }
    for s in &scenarios {
        let reqs: Vec<String> = s
            .file
            .requirements
            .iter()
            .map(ToString::to_string)
            .collect();
        let clients: Vec<&str> = s.file.clients.iter().map(|c| c.as_str()).collect();
        let from = if s.is_built_in() {
            "built-in".to_owned()
        } else {
            s.path.display().to_string()
        };
        println!(
            "{:<52} {:<6} {:<24} [{}] {} ({from})",
            s.id,
            s.file.level.as_str(),
            clients.join(","),
            reqs.join(","),
            s.file.title
        );
    }
    let added = scenarios.iter().filter(|s| !s.is_built_in()).count();
    println!(
        "{} scenarios: {} built-in, {added} from the folders given",
        scenarios.len(),
        scenarios.len() - added
    );
    Exit::Ok
}
