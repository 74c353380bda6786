//! Report sinks: each turns the engine's [`Event`] stream into one output format. Adding a format
//! is one file here and one [`ReportFormat`] variant.

mod html;
mod json;
mod junit;
mod markdown;
mod terminal;

use std::io::Write;
use std::path::PathBuf;

pub use html::{HtmlSink, html_report};
pub use json::JsonSink;
pub use junit::{JunitSink, junit_xml};
pub use markdown::{MarkdownSink, markdown_summary};
pub use terminal::{Style, TerminalSink, Verbosity};

use crate::engine::Event;

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

/// A sink that writes a file when the run is done.
pub fn file_sink(format: ReportFormat, path: PathBuf) -> Box<dyn Sink + Send> {
    match format {
        ReportFormat::Json => Box::new(JsonSink::new(path)),
        ReportFormat::Junit => Box::new(JunitSink::new(path)),
        ReportFormat::Markdown => Box::new(MarkdownSink::new(path)),
        ReportFormat::Html => Box::new(HtmlSink::new(path)),
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
