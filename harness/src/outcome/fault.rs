//! What kept the harness from judging: the verdict is `error`, never a finding.

use serde::{Deserialize, Serialize};

use super::unmet::AuthEnding;

/// Why the login driver could not bring an authorization request back to the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "login", rename_all = "snake_case")]
pub enum LoginFault {
    /// A redirect without `Location`.
    #[error("{method} {url} answered {status} without a Location header")]
    NoLocation {
        /// Method of the request.
        method: String,
        /// Its URL, without query.
        url: String,
        /// The redirect status.
        status: u16,
    },
    /// A `Location` that is not a URL.
    #[error("{reason}")]
    BadLocation {
        /// Why.
        reason: String,
    },
    /// A redirect to the client whose parameters could not be read.
    #[error("redirect to {target} could not be read: {reason}")]
    UnreadableCallback {
        /// The client URL, without query.
        target: String,
        /// Why.
        reason: String,
    },
    /// A `form_post` response that could not be read.
    #[error("{reason}")]
    UnreadableFormPost {
        /// Why.
        reason: String,
    },
    /// A form whose action is not a URL.
    #[error("form on {page} has an unusable action {action:?}")]
    UnusableAction {
        /// The page, without query.
        page: String,
        /// The action attribute.
        action: Option<String>,
    },
    /// The same form came back again and again.
    #[error(
        "login stuck at {page} (HTTP {status}, title {title:?}): the same form came back after submitting it twice: check the configured fields; forms seen: {forms}"
    )]
    Stuck {
        /// The page, without query.
        page: String,
        /// Its status.
        status: u16,
        /// Its title.
        title: String,
        /// The forms on it.
        forms: String,
    },
    /// A scripted login's API call answered with a status it was not expected to.
    #[error("{step}: {method} {url} answered {status}, expected {expected}; it said {answer}")]
    StepStatus {
        /// Which step.
        step: String,
        /// Its method.
        method: String,
        /// Its URL, without query.
        url: String,
        /// The status.
        status: u16,
        /// What was expected.
        expected: String,
        /// The start of the body.
        answer: String,
    },
    /// A scripted login's template had no value, or its extractor found none.
    #[error("{step}: {reason}")]
    StepValue {
        /// Which step.
        step: String,
        /// Why.
        reason: String,
    },
    /// The scripted login's `resume` led to a page, not to the client.
    #[error(
        "the scripted login resumed the authorization, but {url} showed a page (HTTP {status}, title {title:?}) instead of sending the browser to the client: check the steps before resume"
    )]
    ResumedToPage {
        /// The page, without query.
        url: String,
        /// Its status.
        status: u16,
        /// Its title.
        title: String,
    },
    /// The browser could not be started or driven.
    #[error("the browser login failed: {reason}")]
    Browser {
        /// Why.
        reason: String,
    },
    /// The browser login got stuck on a page.
    #[error("the browser login is stuck at {url} (title {title:?}): {reason}")]
    BrowserStuck {
        /// The page, without query.
        url: String,
        /// Its title.
        title: String,
        /// What it was waiting for or could not do.
        reason: String,
    },
    /// No redirect to the client within the step limit.
    #[error(
        "login did not reach the client within {max_steps} requests; last request {method} {url}"
    )]
    NotReached {
        /// The limit.
        max_steps: usize,
        /// Method of the last request.
        method: String,
        /// Its URL, without query.
        url: String,
    },
}

impl LoginFault {
    /// Whether the server broke the flow (a redirect or a response that cannot be read), as
    /// opposed to a driver that could not get through the pages it was shown.
    pub fn is_server_side(&self) -> bool {
        match self {
            Self::NoLocation { .. }
            | Self::BadLocation { .. }
            | Self::UnreadableCallback { .. }
            | Self::UnreadableFormPost { .. } => true,
            Self::StepStatus { status, .. } => *status >= 500,
            Self::UnusableAction { .. }
            | Self::Stuck { .. }
            | Self::NotReached { .. }
            | Self::StepValue { .. }
            | Self::ResumedToPage { .. }
            | Self::Browser { .. }
            | Self::BrowserStuck { .. } => false,
        }
    }
}

/// Something that kept the harness from judging: the verdict is `error`, never a pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// A request got no usable response.
    #[error("{error}")]
    Http {
        /// What went wrong.
        error: crate::wire::HttpError,
    },
    /// The target file lacks what the step needs.
    #[error("{message}")]
    Config {
        /// What.
        message: String,
    },
    /// The server's answers did not give the step what it builds on (no code, no tokens, no
    /// page to check).
    #[error("{message}")]
    Precondition {
        /// What.
        message: String,
    },
    /// The server does not use the optional feature the check judges (an ID Token without the
    /// optional `at_hash`): nothing to judge, so the check is skipped with this reason, never
    /// passed.
    #[error("{message}")]
    OptionalAbsent {
        /// What is absent and why that is allowed.
        message: String,
    },
    /// The request only provokes the refusal whose details the check judges (`state` in an
    /// error response, say), and the server did not refuse it: those details were never
    /// observed, so the check is skipped with what came instead, never a finding of them.
    #[error(
        "the request meant to provoke an error response was not refused ({got}): nothing to judge here (the scenario that checks that value judges the acceptance)"
    )]
    NotProvoked {
        /// How the request ended instead.
        got: AuthEnding,
    },
    /// The server refused a request the later steps needed, the correct request succeeds,
    /// and another scenario judges that refusal: what this check is about was never reached.
    #[error("{why} (the server refused the request: {got})")]
    Unreached {
        /// Why, in the scenario's words.
        why: String,
        /// How the request ended.
        got: AuthEnding,
    },
    /// The login driver could not get through.
    #[error("{fault}")]
    Login {
        /// How (boxed: a login fault carries the most text of any fault).
        fault: Box<LoginFault>,
    },
    /// The server answered a request with a 5xx it was not expected to give: its own failure
    /// (overload, a locked database), not an answer to what the check asks. The engine runs the
    /// scenario again at lower concurrency; only a 5xx that persists is judged.
    #[error("the server failed: HTTP {status} to {request}")]
    ServerError {
        /// The status.
        status: u16,
        /// Method and URL, without query.
        request: String,
    },
    /// The server redirected back with `error=server_error` or `temporarily_unavailable`: the
    /// redirect form of a 5xx (RFC 6749 §4.1.2.1), its failure, not an answer to what the check
    /// asks. Run again like a 5xx; when it persists, the check cannot be judged.
    #[error(
        "the server failed: it redirected back with error={error} (RFC 6749 §4.1.2.1: the redirect form of a 5xx) to {request}"
    )]
    ServerErrorRedirect {
        /// `server_error` or `temporarily_unavailable`.
        error: String,
        /// Method and URL of the authorization request, without query.
        request: String,
    },
    /// The check needs a completed login, and preflight showed the login driver cannot do one
    /// on this server; the checks that need none still run.
    #[error("needs a completed login, which the login driver cannot do on this server: {why}")]
    NeedsLogin {
        /// What preflight saw.
        why: String,
    },
    /// A concurrent burst could not be sent.
    #[error("{message}")]
    Burst {
        /// What.
        message: String,
    },
    /// A refusal of something the harness held longer than the server said it lives (a code
    /// past its declared lifetime, a pushed request past its `expires_in`): the refusal may be
    /// the expiry, which says nothing about what the check judges. The harness was too slow
    /// (a slow login, a loaded machine), so it cannot judge; never a finding.
    #[error(
        "the {what} was used {age:.1} s after it was {}, past its lifetime ({lifetime} s, {}), so the refusal may be its expiry: the steps before took too long for this check to judge ({refusal})",
        what.issued(),
        what.source()
    )]
    Outlived {
        /// What expired.
        what: Lifetime,
        /// Its age when it was used, in seconds.
        age: f64,
        /// How long it lives, in seconds.
        lifetime: f64,
        /// The refusal it got, as the judge saw it.
        refusal: String,
    },
    /// The server's answer was cut at the body size cap, and what the step expects could not
    /// be read in what came: the harness cannot judge a body it did not read whole.
    #[error(
        "{request}: the answer was cut at the {cap}-byte cap (--max-body), so it could not be judged ({unmet})"
    )]
    CutBody {
        /// Method and URL, without query.
        request: String,
        /// The cap, in bytes.
        cap: usize,
        /// What the judge would have said of the part that came.
        unmet: String,
    },
    /// The scenario ran out of time.
    #[error("scenario did not finish within {seconds} s")]
    Timeout {
        /// The limit in seconds.
        seconds: f64,
    },
    /// The harness itself failed (a bug: please report it).
    #[error("harness fault: {message}")]
    Harness {
        /// What failed.
        message: String,
    },
}

/// Something the server issued with a lifetime the harness may overrun.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifetime {
    /// An authorization code (its lifetime as the target file declares it).
    Code,
    /// A pushed authorization request's `request_uri` (RFC 9126 §2.2 `expires_in`).
    RequestUri,
}

impl std::fmt::Display for Lifetime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Code => "code",
            Self::RequestUri => "request_uri",
        })
    }
}

impl Lifetime {
    fn issued(self) -> &'static str {
        match self {
            Self::Code => "issued",
            Self::RequestUri => "pushed",
        }
    }

    /// Where the lifetime comes from.
    fn source(self) -> &'static str {
        match self {
            Self::Code => "policy.code_lifetime_seconds",
            Self::RequestUri => "the PAR response's expires_in",
        }
    }
}

impl Fault {
    /// [`Fault::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
        }
    }
    /// [`Fault::Precondition`].
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::Precondition {
            message: message.into(),
        }
    }
    /// [`Fault::Harness`].
    pub fn harness(message: impl Into<String>) -> Self {
        Self::Harness {
            message: message.into(),
        }
    }
}

impl From<LoginFault> for Fault {
    fn from(fault: LoginFault) -> Self {
        Self::Login {
            fault: Box::new(fault),
        }
    }
}
