//! How a run goes: the options every part of the engine reads, apart from the engine's entry
//! points so the parts below them can read them too.

use std::time::Duration;

use super::http::{Limits, Tls};
use super::login::chromium;
use super::sessions::Sessions;
use crate::scenario::model::{Profile, Technique};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The profile verdicts are judged under.
    pub profile: Profile,
    /// The seed of every random value; printed so a run can be replayed.
    pub seed: u64,
    /// Scenarios run at once.
    pub jobs: usize,
    /// Selectors ([`crate::select::Selector`]: ids with `*`, `REQ-n`, `BUG-n`, `CVE-...`);
    /// empty runs all.
    pub only: Vec<String>,
    /// Selectors of checks not to run.
    pub exclude: Vec<String>,
    /// Per-request limits.
    pub limits: Limits,
    /// The longest one scenario may take.
    pub scenario_timeout: Duration,
    /// TLS verification.
    pub tls: Tls,
    /// Forces one burst technique on every race step.
    pub race_technique: Option<Technique>,
    /// Preflight showed the login cannot be automated (this says why): checks that need a
    /// completed login are `error` with this reason, the others run.
    pub login_blocked: Option<String>,
    /// The browser `login: browser` drives, started on the first login that needs it. Runs
    /// given clones of the same options (`check`'s preflight and the run after it) share it,
    /// so Chromium starts once; it stops when the last clone is dropped.
    pub browser: chromium::Shared,
    /// Where each job's browser session comes from: new ones (`run`), or kept from job to job
    /// (`fuzz`, see [`Sessions`]).
    pub sessions: Sessions,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            profile: Profile::default(),
            seed: 0,
            jobs: 8,
            only: Vec::new(),
            exclude: Vec::new(),
            limits: Limits::default(),
            scenario_timeout: Duration::from_secs(60),
            tls: Tls::default(),
            race_technique: None,
            login_blocked: None,
            browser: chromium::Shared::default(),
            sessions: Sessions::Fresh,
        }
    }
}
