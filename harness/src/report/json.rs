use std::path::PathBuf;

use super::{Sink, write_file};
use crate::engine::Event;

/// Writes the versioned [`crate::verdict::RunReport`] as JSON when the run is done.
pub struct JsonSink {
    path: PathBuf,
}

impl JsonSink {
    /// A sink writing to `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }
}

impl Sink for JsonSink {
    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        if let Event::Done(report) = event {
            let text =
                serde_json::to_string_pretty(report.as_ref()).map_err(std::io::Error::other)?;
            write_file(&self.path, text.as_bytes())?;
        }
        Ok(())
    }
}
