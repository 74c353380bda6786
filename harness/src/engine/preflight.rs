//! Preflight: before a run, one normal flow per configured client, so a wrong secret, a login
//! form the driver cannot fill or an unregistered redirect URI shows up as one line with what
//! to change, not as dozens of scenario errors.

use std::sync::Arc;

use super::{ResolvedTarget, RunOptions, run};
use crate::scenario::model::ClientKind;
use crate::scenario::{Scenario, parse_scenario};
use crate::verdict::Verdict;

const NORMAL_FLOW: &str = "format: 1\ntitle: one normal authorization code flow with S256\nrequirements: [REQ-21]\nclients: [public, confidential, confidential2]\ncatches: [broken-s256]\nsteps:\n  - authorize: {}\n  - token: {}\n";

/// What preflight found for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCheck {
    /// The client.
    pub client: ClientKind,
    /// `None`: its normal flow completed (or it is not configured).
    pub problem: Option<Problem>,
}

/// A normal flow that did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The engine's reason, naming the step and what came back.
    pub reason: String,
    /// What to change in the target file, as far as the reason tells.
    pub hint: &'static str,
    /// Whose the problem likely is.
    pub kind: ProblemKind,
}

/// Whose a preflight problem likely is, which decides whether a run may go on. Ordered from
/// least to most blocking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// The settings look right and the server refused the token request: possibly the
    /// server's own deviation, which the scenarios will judge.
    MaybeDeviation,
    /// The target file's settings (login fields, secret, redirect URI): nothing can be judged.
    Settings,
    /// No answer: nothing can be judged.
    Unreachable,
}

/// Runs one normal flow per configured client.
pub async fn preflight(target: Arc<ResolvedTarget>, opts: &RunOptions) -> Vec<ClientCheck> {
    let scenario = Scenario {
        id: "preflight/normal-flow".into(),
        path: "(built in)".into(),
        file: match parse_scenario("(built in)", NORMAL_FLOW) {
            Ok(f) => f,
            Err(e) => unreachable!("the built-in preflight scenario parses: {e}"),
        },
    };
    let opts = RunOptions {
        only: Vec::new(),
        ..opts.clone()
    };
    let mut results = run(&[scenario], target, &opts, &mut |_| {}).await.results;
    results.sort_by_key(|r| r.client);
    results
        .into_iter()
        .map(|r| ClientCheck {
            client: r.client,
            problem: matches!(r.verdict, Verdict::Fail | Verdict::Error).then(|| Problem {
                hint: hint(&r.reason),
                kind: kind(&r.reason),
                reason: r.reason,
            }),
        })
        .collect()
}

/// Whether the reason is a request that got no answer.
fn unreachable(reason: &str) -> bool {
    reason.contains("no complete response") || reason.contains("error sending request")
}

fn kind(reason: &str) -> ProblemKind {
    if unreachable(reason) {
        ProblemKind::Unreachable
    } else if reason.starts_with("step 2 (token)") && !reason.contains("invalid_client") {
        ProblemKind::MaybeDeviation
    } else {
        ProblemKind::Settings
    }
}

/// The likeliest fix for a failed normal flow, read from its reason.
fn hint(reason: &str) -> &'static str {
    let r = reason.to_ascii_lowercase();
    if unreachable(reason) {
        "the endpoint did not answer: check issuer / endpoints and that the server is up"
    } else if r.contains("login did not reach") || r.contains("form") {
        "the login driver is stuck: check login.form.fields (input names and values) and login.form.select"
    } else if r.contains("redirect_uri") || r.contains("got a page") {
        "the server did not send the browser back: check that this client's redirect_uri is registered exactly as written"
    } else if r.contains("invalid_client") || r.contains("got 401") {
        "client authentication failed: check client_id, client_secret and auth_method (client_secret_basic or client_secret_post)"
    } else if r.starts_with("step 2 (token)") {
        "the token request was refused: if the settings are right, this is the server's deviation (see the reason)"
    } else {
        "see the reason; the same flow runs in every scenario, so fix this first"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_refused_token_request_with_good_settings_may_be_the_servers() {
        use super::{ProblemKind::*, kind};
        assert_eq!(
            kind("step 2 (token): expected HTTP 200, got 400 (error invalid_grant)"),
            MaybeDeviation
        );
        assert_eq!(
            kind("step 2 (token): expected HTTP 200, got 401 (error invalid_client)"),
            Settings
        );
        assert_eq!(
            kind("step 1 (authorize): login did not reach the client within 12 requests"),
            Settings
        );
        assert_eq!(
            kind("step 1 (authorize): GET http://h/authorize: error sending request: x"),
            Unreachable
        );
    }

    #[test]
    fn no_answer_outweighs_bad_settings_outweighs_a_possible_deviation() {
        use super::ProblemKind::*;
        assert_eq!(
            [Settings, Unreachable, MaybeDeviation].into_iter().max(),
            Some(Unreachable)
        );
        assert_eq!([MaybeDeviation, Settings].into_iter().max(), Some(Settings));
    }

    #[test]
    fn hints_follow_the_reason() {
        assert!(
            super::hint("step 2 (token): expected HTTP 200, got 401 (invalid_client)")
                .contains("client_secret")
        );
        assert!(
            super::hint("step 1 (authorize): login did not reach the client within 12 requests")
                .contains("login.form.fields")
        );
        assert!(
            super::hint("step 2 (token): POST http://h/token: no complete response within 10.0 s")
                .contains("server is up")
        );
    }
}
