use crate::verdict::RunReport;

/// The versioned JSON report of a run: everything, evidence included (redacted), in the types
/// it reads back into.
pub fn json_report(report: &RunReport) -> String {
    // A RunReport holds only strings, numbers and enums: serialising it cannot fail.
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}
