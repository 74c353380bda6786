use crate::verdict::RunReport;

/// The versioned JSON report of a run: everything, evidence included (redacted), in the types
/// it reads back into.
pub fn json_report(report: &RunReport) -> String {
    pretty(report)
}

/// Pretty JSON with a final newline, as every JSON report is written. What the reports hold
/// is strings, numbers, enums and JSON values: serialising it cannot fail.
pub(super) fn pretty(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
