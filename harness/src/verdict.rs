//! Verdicts and the evidence behind them: what the engine emits and every report reads.
//!
//! Everything here is already redacted: a secret never reaches these types in clear, so no
//! report format can leak one.

use serde::{Deserialize, Serialize};

use crate::scenario::model::{ClientKind, Level, Profile};

/// The verdict of one scenario run with one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every expectation held.
    Pass,
    /// A `must` expectation did not hold.
    Fail,
    /// A `should` expectation did not hold.
    Warn,
    /// A `may` expectation did not hold: for information.
    Info,
    /// Not run, for the reason given; never counts as a pass.
    Skip,
    /// The harness could not judge (network failure, unexpected page).
    Error,
}

impl Verdict {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Skip => "skip",
            Self::Error => "error",
        }
    }

    /// The verdict an unmet expectation of `level` gives.
    pub fn unmet(level: Level) -> Self {
        match level {
            Level::Must => Self::Fail,
            Level::Should => Self::Warn,
            Level::May => Self::Info,
        }
    }
}

/// One HTTP exchange, redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    /// Which step sent it (1-based) and what for.
    pub step: String,
    /// Request method.
    pub method: String,
    /// Request URL.
    pub url: String,
    /// Request headers that matter (Authorization, Cookie, Origin, Content-Type), redacted.
    pub request_headers: Vec<(String, String)>,
    /// Request body, redacted.
    pub request_body: Option<String>,
    /// Response status, if a response came.
    pub status: Option<u16>,
    /// Response headers, redacted.
    pub response_headers: Vec<(String, String)>,
    /// Response body, redacted and cut to a few KiB.
    pub response_body: Option<String>,
    /// What went wrong on the wire, if anything.
    pub error: Option<String>,
}

/// The result of one scenario with one client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// The scenario id, with `[client]` when it runs with several clients.
    pub id: String,
    /// The scenario's title.
    pub title: String,
    /// The specification folder the scenario lives in (`rfc7636`, ...).
    pub spec: String,
    /// Requirement ids checked.
    pub requirements: Vec<String>,
    /// The effective level under the profile.
    pub level: Level,
    /// The client it ran with.
    pub client: ClientKind,
    /// The profile the verdict was judged under.
    pub profile: Profile,
    /// The verdict.
    pub verdict: Verdict,
    /// One line: why.
    pub reason: String,
    /// Why, as data: the step and the unmet expectation (expected and observed) or the fault.
    /// Absent for a pass or a skip. Redacted like everything here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<crate::outcome::Cause>,
    /// Real-world bugs and CVEs this scenario guards against.
    pub guards: Vec<String>,
    /// The exchanges the verdict rests on.
    pub evidence: Vec<Exchange>,
    /// The pages and steps the login driver went through, and where it stopped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub login: Vec<String>,
    /// A screenshot (PNG, base64) of the page a browser login got stuck on, typed values
    /// cleared first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

/// Counts per verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Total results.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed `must`.
    pub failed: usize,
    /// Unmet `should`.
    pub warned: usize,
    /// Unmet `may`.
    pub info: usize,
    /// Skipped.
    pub skipped: usize,
    /// Harness errors.
    pub errors: usize,
}

impl Summary {
    /// Counts `results`.
    pub fn of(results: &[ScenarioResult]) -> Self {
        let mut s = Self {
            total: results.len(),
            ..Self::default()
        };
        for r in results {
            match r.verdict {
                Verdict::Pass => s.passed += 1,
                Verdict::Fail => s.failed += 1,
                Verdict::Warn => s.warned += 1,
                Verdict::Info => s.info += 1,
                Verdict::Skip => s.skipped += 1,
                Verdict::Error => s.errors += 1,
            }
        }
        s
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The version of the JSON report's shape.
pub const REPORT_VERSION: u32 = 1;

/// A whole run, as the JSON report writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    /// [`REPORT_VERSION`].
    pub version: u32,
    /// The harness version.
    pub harness: String,
    /// The target's name or issuer.
    pub target: String,
    /// The profile.
    pub profile: Profile,
    /// The seed that replays this run (`--seed`).
    pub seed: u64,
    /// TLS certificates were not verified (`--insecure`).
    pub insecure: bool,
    /// The run was stopped (Ctrl-C) before every check finished: the results are those that
    /// did, and the report is not a verdict on the target.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// Unexpected 5xx answers that made the engine run a scenario again at lower concurrency:
    /// the server's own failures, counted so a flaky server shows as one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub server_failures: usize,
    /// Counts.
    pub summary: Summary,
    /// Every result, sorted by id.
    pub results: Vec<ScenarioResult>,
}
