use std::path::PathBuf;

use clap::Args;

use super::{Exit, load};

#[derive(Debug, Args)]
pub(super) struct ListArgs {
    /// Scenario folder (default: ./scenarios).
    #[arg(long)]
    scenarios: Option<PathBuf>,
}

pub(super) fn run(args: ListArgs) -> Exit {
    let scenarios = match load(args.scenarios) {
        Ok(s) => s,
        Err(e) => return e,
    };
    for s in &scenarios {
        let reqs: Vec<String> = s
            .file
            .requirements
            .iter()
            .map(ToString::to_string)
            .collect();
        let clients: Vec<&str> = s.file.clients.iter().map(|c| c.as_str()).collect();
        println!(
            "{:<52} {:<6} {:<24} [{}] {}",
            s.id,
            s.file.level.as_str(),
            clients.join(","),
            reqs.join(","),
            s.file.title
        );
    }
    println!("{} scenarios", scenarios.len());
    Exit::Ok
}
