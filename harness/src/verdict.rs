//! Verdicts and the evidence behind them: what the engine emits and every report reads.
//!
//! Everything here is already redacted: a secret never reaches these types in clear, so no
//! report format can leak one.

use std::collections::BTreeMap;

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

/// The layer of a check a verdict judges. A check that expects a refusal judges two things
/// apart: the security property (was the bad value accepted, a code or a token issued) and the
/// form of the refusal (redirect or page, status, error code). A refusal in another form is a
/// finding of its own, at the form's level and low severity, citing the form's requirement, so
/// JSON, SARIF, the baseline and `--fail-on` all see it as the lesser thing it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// What was let through (or not): the scenario's own level and severity.
    #[default]
    Property,
    /// How a refusal that did come was delivered.
    Form,
}

impl Layer {
    /// Whether this is the default layer (left out of JSON).
    pub fn is_property(&self) -> bool {
        *self == Self::Property
    }
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
    /// How severe it is when unmet: the worst defect the scenario catches.
    #[serde(default)]
    pub severity: crate::defect::Severity,
    /// Which layer of the check the verdict judges: the security property (the default), or
    /// only the form of a refusal that did come (see [`Layer`]).
    #[serde(default, skip_serializing_if = "Layer::is_property")]
    pub layer: Layer,
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
    /// How the run's gate (`--baseline`, `--fail-on`) sees this result; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateMark>,
    /// The check finds by chance (it races the server): its pass shows only that this run did
    /// not reproduce what it looks for, so a baseline entry it lists stays known.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub by_chance: bool,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
}

/// A result as the gate sees it: through a baseline (`--baseline`) or a severity threshold
/// (`--fail-on`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mark", rename_all = "snake_case")]
pub enum GateMark {
    /// Listed with this verdict: a known deviation, which does not fail the gate.
    Known {
        /// The baseline's reason.
        reason: String,
    },
    /// A deviation the baseline does not list: it fails the gate, whatever its level.
    New,
    /// Listed with another verdict, or listed and not run: the entry is stale and fails the
    /// gate until it is removed or corrected.
    Stale {
        /// The verdict the baseline lists.
        listed: Verdict,
        /// The baseline's reason.
        reason: String,
    },
    /// `--fail-on`: a deviation at or above the threshold, which fails the gate whatever its
    /// level.
    Over {
        /// The threshold.
        threshold: crate::defect::Severity,
    },
    /// `--fail-on`: a deviation below the threshold, which does not fail the gate.
    Below {
        /// The threshold.
        threshold: crate::defect::Severity,
    },
}

/// Where a result stands for the gate, the exit code and every report: its verdict, except
/// that a baseline turns a listed deviation into `Known` and a new or stale one into a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Standing {
    /// Passed.
    Pass,
    /// Fails the gate: a failed MUST, or under a baseline a new deviation.
    Fail,
    /// Fails the gate: a baseline entry that no longer matches.
    Stale,
    /// An unmet SHOULD.
    Warn,
    /// An unmet MAY.
    Info,
    /// A deviation the baseline lists.
    Known,
    /// Not run.
    Skip,
    /// Could not be judged.
    Error,
    /// A deviation below the `--fail-on` threshold.
    Below,
}

impl Standing {
    /// Every standing, most urgent first: the order reports list them in.
    pub const ALL: [Self; 9] = [
        Self::Fail,
        Self::Stale,
        Self::Error,
        Self::Warn,
        Self::Info,
        Self::Below,
        Self::Known,
        Self::Skip,
        Self::Pass,
    ];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Stale => "stale",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Known => "known",
            Self::Skip => "skip",
            Self::Error => "error",
            Self::Below => "below",
        }
    }

    /// Whether it fails the gate (exit 1).
    pub fn fails_gate(self) -> bool {
        matches!(self, Self::Fail | Self::Stale)
    }
}

impl ScenarioResult {
    /// A result with only its id, verdict and reason: a `must` for the public client under
    /// the default profile, with no evidence. For results made outside a scenario run (the
    /// fuzzer's summaries, the transport finding) and for tests; fill in what else applies.
    pub fn new(id: &str, verdict: Verdict, reason: &str) -> Self {
        Self {
            id: id.to_owned(),
            title: String::new(),
            spec: String::new(),
            requirements: Vec::new(),
            level: Level::Must,
            client: ClientKind::Public,
            profile: Profile::default(),
            verdict,
            severity: crate::defect::Severity::default(),
            layer: Layer::default(),
            reason: reason.to_owned(),
            cause: None,
            guards: Vec::new(),
            evidence: Vec::new(),
            login: Vec::new(),
            screenshot: None,
            gate: None,
            by_chance: false,
            duration_ms: 0,
        }
    }

    /// Where the result stands for the gate (see [`Standing`]).
    pub fn standing(&self) -> Standing {
        match (&self.gate, self.verdict) {
            (Some(GateMark::Known { .. }), _) => Standing::Known,
            (Some(GateMark::Stale { .. }), _) => Standing::Stale,
            (Some(GateMark::Over { .. }), _) => Standing::Fail,
            (Some(GateMark::Below { .. }), _) => Standing::Below,
            (Some(GateMark::New), Verdict::Pass | Verdict::Skip) | (None, Verdict::Pass) => {
                Standing::Pass
            }
            (Some(GateMark::New), _) => Standing::Fail,
            (None, Verdict::Fail) => Standing::Fail,
            (None, Verdict::Warn) => Standing::Warn,
            (None, Verdict::Info) => Standing::Info,
            (None, Verdict::Skip) => Standing::Skip,
            (None, Verdict::Error) => Standing::Error,
        }
    }

    /// The reason with what the baseline says, as every report shows it.
    pub fn reason_shown(&self) -> String {
        match &self.gate {
            Some(GateMark::Known { reason }) => {
                format!(
                    "known deviation ({}): {reason}; the harness saw: {}",
                    self.verdict.as_str(),
                    self.reason
                )
            }
            Some(GateMark::New) => {
                format!(
                    "new deviation ({}), not in the baseline: {}",
                    self.verdict.as_str(),
                    self.reason
                )
            }
            Some(GateMark::Stale { listed, reason }) => format!(
                "stale baseline entry: listed as {} ({reason}), now {}{}",
                listed.as_str(),
                self.verdict.as_str(),
                if self.reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", self.reason)
                }
            ),
            Some(GateMark::Over { threshold }) => format!(
                "{} at or above --fail-on {} (severity {}): {}",
                self.verdict.as_str(),
                threshold.as_str(),
                self.severity.as_str(),
                self.reason
            ),
            Some(GateMark::Below { threshold }) => format!(
                "{} below --fail-on {} (severity {}): {}",
                self.verdict.as_str(),
                threshold.as_str(),
                self.severity.as_str(),
                self.reason
            ),
            None => self.reason.clone(),
        }
    }

    /// `--fail-on threshold`: a deviation (fail, warn, info; or new under a baseline) fails the
    /// gate when its severity is at or above `threshold`, whatever its level, and does not
    /// otherwise. Known and stale baseline marks, skips and errors are left as they are.
    pub fn gate_on_severity(&mut self, threshold: crate::defect::Severity) {
        let deviation = matches!(self.verdict, Verdict::Fail | Verdict::Warn | Verdict::Info);
        let open = matches!(self.gate, None | Some(GateMark::New));
        if deviation && open {
            self.gate = Some(if self.severity >= threshold {
                GateMark::Over { threshold }
            } else {
                GateMark::Below { threshold }
            });
        }
    }
}

/// Counts per standing ([`ScenarioResult::standing`]): what the gate and every report count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Total results.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failing the gate: failed `must`, and under a baseline new deviations and stale entries.
    pub failed: usize,
    /// Unmet `should`.
    pub warned: usize,
    /// Unmet `may`.
    pub info: usize,
    /// Skipped.
    pub skipped: usize,
    /// Harness errors.
    pub errors: usize,
    /// Deviations the baseline lists.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub known: usize,
    /// Deviations below the `--fail-on` threshold.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub below: usize,
}

impl Summary {
    /// Counts `results`.
    pub fn of(results: &[ScenarioResult]) -> Self {
        let mut s = Self {
            total: results.len(),
            ..Self::default()
        };
        for r in results {
            match r.standing() {
                Standing::Pass => s.passed += 1,
                Standing::Fail | Standing::Stale => s.failed += 1,
                Standing::Warn => s.warned += 1,
                Standing::Info => s.info += 1,
                Standing::Skip => s.skipped += 1,
                Standing::Error => s.errors += 1,
                Standing::Known => s.known += 1,
                Standing::Below => s.below += 1,
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
    /// The issuer (or, without one, the authorization endpoint's origin): what was tested,
    /// whatever the target file calls it.
    #[serde(default)]
    pub issuer: String,
    /// When the run started, RFC 3339 UTC.
    #[serde(default)]
    pub started: String,
    /// How long it took, wall time, in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// The baseline the run was gated on (`run --baseline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineSummary>,
    /// The target file the run used, as given (none for the embedded server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_file: Option<String>,
    /// Where the target file sets up what checks exercise (`issuer`, `clients.public`, ...),
    /// by line: code-scanning reports point each finding there.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_lines: BTreeMap<String, u64>,
    /// The severity the run was gated on (`run --fail-on`): deviations below it do not fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<crate::defect::Severity>,
    /// Counts.
    pub summary: Summary,
    /// Every result, sorted by id.
    pub results: Vec<ScenarioResult>,
}

/// What a baseline made of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineSummary {
    /// The server the baseline was made for.
    pub server: String,
    /// Listed deviations seen as listed.
    pub known: usize,
    /// Deviations it does not list.
    pub new: usize,
    /// Entries that no longer match.
    pub stale: usize,
}

impl RunReport {
    /// The exit status a run reports: 1 when something fails the gate, 3 when nothing does but
    /// a check could not be judged, 0 otherwise. Every report shows the same standings.
    pub fn exit_status(&self) -> u8 {
        let standings = || self.results.iter().map(ScenarioResult::standing);
        if standings().any(Standing::fails_gate) {
            1
        } else if standings().any(|s| s == Standing::Error) {
            3
        } else {
            0
        }
    }
}

/// `t` as RFC 3339 in UTC, to the second (`2026-11-29T08:45:16Z`).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil, for the proleptic Gregorian calendar.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Reads what [`rfc3339`] writes (`2026-11-29T08:45:16Z`); `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<std::time::SystemTime> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (h, m, sec) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Howard Hinnant's days-from-civil, the inverse of the conversion above.
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + h * 3600 + m * 60 + sec).ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod time_tests {
    #[test]
    fn parse_reads_what_rfc3339_writes() {
        for secs in [0, 951_782_400, 1_764_405_916, 4_102_444_799] {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
            assert_eq!(super::parse_rfc3339(&super::rfc3339(t)), Some(t));
        }
        assert_eq!(super::parse_rfc3339("2026-13-01T00:00:00Z"), None);
        assert_eq!(super::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn rfc3339_of_known_instants() {
        let at = |s: u64| super::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_795_941_916), "2026-11-29T08:45:16Z");
    }
}
