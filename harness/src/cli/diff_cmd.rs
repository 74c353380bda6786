use std::path::PathBuf;

use clap::Args;

use super::Exit;
use pkce_harness::diff::{Change, diff};

#[derive(Debug, Args)]
pub(super) struct DiffArgs {
    /// The earlier JSON report.
    old: PathBuf,
    /// The later JSON report.
    new: PathBuf,
}

/// Prints every check whose verdict differs, grouped; exit 1 when one regressed (a pass that
/// now deviates, or a deviation at a higher level), 0 otherwise.
pub(super) fn run(args: &DiffArgs) -> Exit {
    let (old, new) = match (super::read_report(&args.old), super::read_report(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    if old.target != new.target || old.profile != new.profile {
        eprintln!(
            "note: comparing {} ({}) with {} ({})",
            old.target,
            old.profile.as_str(),
            new.target,
            new.profile.as_str()
        );
    }
    let changes = diff(&old, &new);
    let mut regressed = 0;
    for (heading, pick) in [
        ("regressed", 0),
        ("fixed", 1),
        ("changed", 2),
        ("new", 3),
        ("gone", 4),
    ] {
        let lines: Vec<String> = changes
            .iter()
            .filter_map(|(id, c)| match (c, pick) {
                (Change::Regressed { old, new }, 0) => {
                    Some(format!("{id}: {} -> {}", old.as_str(), new.as_str()))
                }
                (Change::Fixed(old), 1) => Some(format!("{id}: {} -> pass", old.as_str())),
                (Change::Changed { old, new }, 2) => {
                    Some(format!("{id}: {} -> {}", old.as_str(), new.as_str()))
                }
                (Change::New(v), 3) => Some(format!("{id}: {}", v.as_str())),
                (Change::Gone(v), 4) => Some(format!("{id}: was {}", v.as_str())),
                _ => None,
            })
            .collect();
        if pick == 0 {
            regressed = lines.len();
        }
        if !lines.is_empty() {
            println!("{heading} ({}):", lines.len());
            for l in lines {
                println!("  {}", pkce_harness::report::terminal_line(&l));
            }
        }
    }
    let total = changes.len();
    println!(
        "{total} check(s) differ, {regressed} regressed ({} -> {})",
        args.old.display(),
        args.new.display()
    );
    if regressed > 0 {
        Exit::Failed
    } else {
        Exit::Ok
    }
}
