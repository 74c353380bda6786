//! Reports: the terminal sink follows the engine's [`Event`] stream live; every file format is a
//! function of the finished [`RunReport`], written by one [`file_sink`]. Adding a format is one
//! file here (its render function) and one [`ReportFormat`] variant.

mod html;
mod json;
mod junit;
mod markdown;
mod terminal;

use std::io::Write;
use std::path::PathBuf;

pub use html::html_report;
pub use json::json_report;
pub use junit::junit_xml;
pub use markdown::markdown_summary;
pub use terminal::{Style, TerminalSink, Verbosity};

use crate::engine::Event;
use crate::verdict::RunReport;

/// A consumer of engine events.
pub trait Sink {
    /// Called for every event, in order.
    fn event(&mut self, event: &Event) -> std::io::Result<()>;
}

/// A file report format, as in `--report json=PATH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// The versioned JSON report.
    Json,
    /// JUnit XML for CI systems.
    Junit,
    /// A Markdown summary for a CI job page.
    Markdown,
    /// A single-file HTML report with the evidence.
    Html,
}

impl std::str::FromStr for ReportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(Self::Json),
            "junit" => Ok(Self::Junit),
            "markdown" => Ok(Self::Markdown),
            "html" => Ok(Self::Html),
            other => Err(format!(
                "unknown report format {other:?}: expected json, junit, markdown or html"
            )),
        }
    }
}

/// A sink that writes one file in `format` when the run is done.
pub fn file_sink(format: ReportFormat, path: PathBuf) -> Box<dyn Sink + Send> {
    let render = match format {
        ReportFormat::Json => json_report,
        ReportFormat::Junit => junit_xml,
        ReportFormat::Markdown => markdown_summary,
        ReportFormat::Html => html_report,
    };
    Box::new(FileSink { path, render })
}

/// Every file format is a function of the finished run; only the terminal follows the run live.
struct FileSink {
    path: PathBuf,
    render: fn(&RunReport) -> String,
}

impl Sink for FileSink {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let Event::Done(report) = event {
            write_file(&self.path, (self.render)(report).as_bytes())?;
        }
        Ok(())
    }
}

/// Writes `contents` to `path`, creating its folder.
fn write_file(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::File::create(path)?;
    f.write_all(contents)?;
    f.flush()
}
