use clap::Args;

use super::{Exit, load};
use pkce_harness::defect::Defect;
use pkce_harness::engine::RunOptions;
use pkce_harness::scenario::model::Profile;
use pkce_harness::selftest::{Scope, selftest};

#[derive(Debug, Args)]
pub(super) struct SelftestArgs {
    #[command(flatten)]
    library: super::LibraryArgs,
    /// The profile.
    #[arg(long, default_value = "rfc9700")]
    profile: Profile,
    /// Defect servers run at once.
    #[arg(long, default_value_t = 6)]
    parallel: usize,
    /// Seed (fixed by default, so the matrix is reproducible).
    #[arg(long, default_value_t = 7636)]
    seed: u64,
    /// Runs each defect only against the scenarios that list it in `catches`: the same gaps in
    /// a fraction of the time, but "caught by" then counts only those.
    #[arg(long)]
    listed: bool,
}

pub(super) async fn run(args: SelftestArgs) -> Exit {
    let scenarios = match load(&args.library) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let opts = RunOptions {
        profile: args.profile,
        seed: args.seed,
        ..RunOptions::default()
    };
    let scope = if args.listed {
        Scope::Listed
    } else {
        Scope::Whole
    };
    let m = match selftest(&scenarios, &opts, args.parallel, scope).await {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Unreachable;
        }
    };
    println!(
        "kill matrix: {} scenarios x {} defects (profile {}, seed {})",
        scenarios.len(),
        Defect::ALL.len(),
        args.profile.as_str(),
        args.seed
    );
    println!(
        "clean reference server: {} passed, {} skipped of {}",
        m.clean.summary.passed, m.clean.summary.skipped, m.clean.summary.total
    );
    for (d, (hits, errors)) in &m.caught {
        let shown: Vec<&str> = hits.iter().map(String::as_str).take(4).collect();
        let more = hits.len().saturating_sub(shown.len());
        println!(
            "{:<30} caught by {:>2}: {}{}{}",
            d.name(),
            hits.len(),
            shown.join(", "),
            if more > 0 {
                format!(" (+{more})")
            } else {
                String::new()
            },
            if errors.is_empty() {
                String::new()
            } else {
                format!(" [{} errors]", errors.len())
            }
        );
    }
    if m.gaps.is_empty() {
        println!(
            "no gaps: every scenario passes clean and fails against what it catches; every defect is caught"
        );
        Exit::Ok
    } else {
        println!("{} gaps:", m.gaps.len());
        for g in &m.gaps {
            println!("  {g}");
        }
        Exit::Failed
    }
}
