use std::collections::BTreeMap;
use std::io::Write;

use super::Sink;
use crate::engine::Event;
use crate::scenario::model::Level;
use crate::verdict::{RunReport, Verdict};

/// Plain line output: a header, one line per result as it arrives (unless quiet), and a summary
/// grouped by specification that names each failed `must` with its requirements.
pub struct TerminalSink<W: Write> {
    out: W,
    quiet: bool,
}

impl<W: Write> TerminalSink<W> {
    /// Writes to `out`; `quiet` prints only the summary.
    pub fn new(out: W, quiet: bool) -> Self {
        Self { out, quiet }
    }
}

impl<W: Write> Sink for TerminalSink<W> {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        match event {
            Event::Started {
                total,
                target,
                seed,
                profile,
                insecure,
            } => {
                writeln!(
                    self.out,
                    "pkce-harness: {total} checks against {target} (profile {}, seed {seed})",
                    profile.as_str()
                )?;
                if *insecure {
                    writeln!(
                        self.out,
                        "WARNING: TLS certificates are NOT verified (--insecure)"
                    )?;
                }
                Ok(())
            }
            Event::Finished(r) if !self.quiet => {
                let tag = r.verdict.as_str().to_uppercase();
                if r.reason.is_empty() {
                    writeln!(self.out, "{tag:<5} {}", r.id)
                } else {
                    writeln!(self.out, "{tag:<5} {}: {}", r.id, r.reason)
                }
            }
            Event::Finished(_) => Ok(()),
            Event::Done(report) => summary(&mut self.out, report),
        }
    }
}

fn summary(out: &mut impl Write, report: &RunReport) -> std::io::Result<()> {
    let mut by_spec: BTreeMap<&str, [usize; 6]> = BTreeMap::new();
    for r in &report.results {
        let row = by_spec.entry(r.spec.as_str()).or_default();
        row[r.verdict as usize] += 1;
    }
    writeln!(
        out,
        "\n{:<10} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5}",
        "spec", "pass", "fail", "warn", "info", "skip", "error"
    )?;
    for (spec, c) in &by_spec {
        writeln!(
            out,
            "{spec:<10} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5}",
            c[0], c[1], c[2], c[3], c[4], c[5]
        )?;
    }
    let failed: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail && r.level == Level::Must)
        .collect();
    if !failed.is_empty() {
        writeln!(out, "\nfailed MUST requirements:")?;
        for r in failed {
            writeln!(
                out,
                "  {} [{}]: {}",
                r.id,
                r.requirements.join(", "),
                r.reason
            )?;
        }
    }
    let s = &report.summary;
    writeln!(
        out,
        "\n{} passed, {} failed, {} warned, {} info, {} skipped, {} errors (profile {}, seed {})",
        s.passed,
        s.failed,
        s.warned,
        s.info,
        s.skipped,
        s.errors,
        report.profile.as_str(),
        report.seed
    )
}

impl<W: Write> TerminalSink<W> {
    /// The writer back, for callers that print into memory.
    pub fn into_inner(self) -> W {
        self.out
    }
}
