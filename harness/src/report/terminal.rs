use std::collections::BTreeMap;
use std::io::Write;

use super::Sink;
use super::counted;
use crate::engine::Event;
use crate::verdict::{RunReport, Standing};

/// How much the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// The summary only.
    Quiet,
    /// A line per result (on a live terminal: per result that is not a pass, under a progress
    /// bar).
    #[default]
    Normal,
    /// Every result, and under each the exchanges it made.
    Verbose,
}

/// How the terminal output looks. The command line decides (is stdout a terminal, `CI`,
/// `NO_COLOR`, `-q`/`-v`); the sink only follows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// ANSI colours on the verdict tags.
    pub color: bool,
    /// A live progress line (done / total, failures so far), redrawn in place.
    pub progress: bool,
    /// How much to show.
    pub verbosity: Verbosity,
}

/// Line output: a header, the results as they arrive, and a summary grouped by specification
/// that names each failed `must` with its requirements.
pub struct TerminalSink<W: Write> {
    out: W,
    style: Style,
    total: usize,
    done: usize,
    failed: usize,
}

impl<W: Write> TerminalSink<W> {
    /// Plain lines to `out`; `quiet` prints only the summary.
    pub fn new(out: W, quiet: bool) -> Self {
        let verbosity = if quiet {
            Verbosity::Quiet
        } else {
            Verbosity::Normal
        };
        Self::with_style(
            out,
            Style {
                verbosity,
                ..Style::default()
            },
        )
    }

    /// Output to `out` in `style`.
    pub fn with_style(out: W, style: Style) -> Self {
        Self {
            out,
            style,
            total: 0,
            done: 0,
            failed: 0,
        }
    }

    fn tag(&self, v: Standing) -> String {
        let tag = format!("{:<5}", v.as_str().to_uppercase());
        if !self.style.color {
            return tag;
        }
        let code = match v {
            Standing::Pass => "32",
            Standing::Fail | Standing::Stale => "1;31",
            Standing::Warn => "33",
            Standing::Info => "34",
            Standing::Known | Standing::Below => "36",
            Standing::Skip => "2",
            Standing::Error => "1;35",
        };
        format!("\x1b[{code}m{tag}\x1b[0m")
    }

    fn clear_progress(&mut self) -> std::io::Result<()> {
        if self.style.progress {
            write!(self.out, "\r\x1b[2K")?;
        }
        Ok(())
    }

    fn draw_progress(&mut self) -> std::io::Result<()> {
        if !self.style.progress || self.style.verbosity == Verbosity::Quiet {
            return Ok(());
        }
        const WIDTH: usize = 30;
        let filled = (self.done * WIDTH).checked_div(self.total).unwrap_or(0);
        write!(
            self.out,
            "[{}{}] {}/{} done, {} failed",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            self.done,
            self.total,
            self.failed
        )?;
        self.out.flush()
    }

    fn result(&mut self, r: &crate::verdict::ScenarioResult) -> std::io::Result<()> {
        self.done += 1;
        let standing = r.standing();
        if standing.fails_gate() {
            self.failed += 1;
        }
        let shown = match self.style.verbosity {
            Verbosity::Quiet => false,
            Verbosity::Verbose => true,
            // Under a progress bar, passes are counted, not listed.
            Verbosity::Normal => !(self.style.progress && standing == Standing::Pass),
        };
        self.clear_progress()?;
        if shown {
            let tag = self.tag(standing);
            let reason = r.reason_shown();
            if reason.is_empty() {
                writeln!(self.out, "{tag} {}", line(&r.id))?;
            } else if matches!(standing, Standing::Skip | Standing::Pass | Standing::Error) {
                writeln!(self.out, "{tag} {}: {}", line(&r.id), line(&reason))?;
            } else {
                writeln!(
                    self.out,
                    "{tag} {} ({}): {}",
                    line(&r.id),
                    r.severity.as_str(),
                    line(&reason)
                )?;
            }
            if self.style.verbosity == Verbosity::Verbose {
                for e in &r.evidence {
                    let status = e.status.map_or_else(
                        || e.error.clone().unwrap_or_else(|| "no response".into()),
                        |s| s.to_string(),
                    );
                    writeln!(
                        self.out,
                        "      [{}] {} {} -> {}",
                        line(&e.step),
                        line(&e.method),
                        line(&e.url),
                        line(&status)
                    )?;
                }
            }
        }
        self.draw_progress()
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
                self.total = *total;
                writeln!(
                    self.out,
                    "pkce-harness: {} against {} (profile {}, seed {seed})",
                    counted(*total, "check"),
                    line(target),
                    profile.as_str()
                )?;
                if *insecure {
                    writeln!(
                        self.out,
                        "WARNING: TLS certificates are NOT verified (--insecure)"
                    )?;
                }
                self.draw_progress()
            }
            Event::Finished(r) => self.result(r),
            Event::Done(report) => {
                self.clear_progress()?;
                summary(&mut self.out, report)
            }
        }
    }
}

/// The counts of a run in one line: `165 passed, 0 failed, 0 warned, 0 info, 45 skipped, 0
/// errors`, as the terminal ends every run (`client` too).
pub fn counts(s: &crate::verdict::Summary) -> String {
    format!(
        "{} passed, {} failed, {} warned, {} info, {} skipped, {}",
        s.passed,
        s.failed,
        s.warned,
        s.info,
        s.skipped,
        counted(s.errors, "error")
    )
}

/// Text that may come from the server, made safe for a terminal: one result is one line, and no
/// escape sequence reaches the terminal. Control characters (C0, DEL, C1) and the Unicode
/// controls that reorder text are shown escaped (`\n`, `\u{1b}`), so a page title or an
/// `error_description` can neither forge a `PASS` line nor recolour the screen.
pub fn line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                out.push_str(&c.escape_unicode().to_string());
            }
            c => out.push(c),
        }
    }
    out
}

fn summary(out: &mut impl Write, report: &RunReport) -> std::io::Result<()> {
    if report.interrupted {
        writeln!(
            out,
            "\nINTERRUPTED: only the checks that finished are counted; this is not a verdict"
        )?;
    }
    if report.server_failures > 0 {
        writeln!(
            out,
            "\nthe server failed {} time(s) with an unexpected 5xx; those scenarios ran again at lower concurrency",
            report.server_failures
        )?;
    }
    let columns = super::columns(report);
    let mut by_spec: BTreeMap<&str, BTreeMap<Standing, usize>> = BTreeMap::new();
    for r in &report.results {
        *by_spec
            .entry(r.spec.as_str())
            .or_default()
            .entry(r.standing())
            .or_default() += 1;
    }
    // As wide as the longest specification's name, ten at least.
    let width = by_spec.keys().map(|s| s.len()).max().unwrap_or(0).max(10);
    write!(out, "\n{:<width$}", "spec")?;
    for c in &columns {
        write!(out, " {:>5}", c.as_str())?;
    }
    writeln!(out)?;
    for (spec, counts) in &by_spec {
        write!(out, "{spec:<width$}")?;
        for c in &columns {
            write!(out, " {:>5}", counts.get(c).copied().unwrap_or(0))?;
        }
        writeln!(out)?;
    }
    // Named in the summary, so `-q` still says what failed and what was only warned about.
    let failing = if report.baseline.is_some() || report.fail_on.is_some() {
        "failing the gate"
    } else {
        "failed MUST requirements"
    };
    for (heading, standings) in [
        (failing, &[Standing::Fail, Standing::Stale][..]),
        ("unmet SHOULD recommendations", &[Standing::Warn][..]),
        ("could not be judged (errors)", &[Standing::Error][..]),
    ] {
        let of: Vec<_> = report
            .results
            .iter()
            .filter(|r| standings.contains(&r.standing()))
            .collect();
        if of.is_empty() {
            continue;
        }
        writeln!(out, "\n{heading}:")?;
        for r in of {
            // An error has no severity: nothing about the server was judged.
            let severity = if r.standing() == Standing::Error {
                String::new()
            } else {
                format!(" ({})", r.severity.as_str())
            };
            writeln!(
                out,
                "  {}{severity} [{}]: {}",
                line(&r.id),
                r.requirements.join(", "),
                line(&r.reason_shown())
            )?;
        }
    }
    let s = &report.summary;
    let mut known = String::new();
    if report.baseline.is_some() {
        known.push_str(&format!(", {} known", s.known));
    }
    if let Some(t) = report.fail_on {
        known.push_str(&format!(", {} below --fail-on {}", s.below, t.as_str()));
    }
    writeln!(
        out,
        "\n{}{known} (profile {}, seed {}, {:.1} s)",
        counts(s),
        report.profile.as_str(),
        report.seed,
        report.duration_ms as f64 / 1000.0
    )
}

impl<W: Write> TerminalSink<W> {
    /// The writer back, for callers that print into memory.
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::line;

    #[test]
    fn server_text_stays_on_one_line_without_escapes() {
        assert_eq!(line("ok"), "ok");
        assert_eq!(
            line("x\r\nPASS rfc7636/forged\u{1b}[32m"),
            "x\\r\\nPASS rfc7636/forged\\u{1b}[32m"
        );
        assert_eq!(line("a\u{9b}b\u{202e}c"), "a\\u{9b}b\\u{202e}c");
        assert!(!line("é日本").contains('\\'));
    }
}
