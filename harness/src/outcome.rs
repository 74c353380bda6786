//! Why a check did not pass, as data. A judge that finds the server wrong returns an [`Unmet`]
//! with what it expected and what it saw; anything that keeps the harness from judging is a
//! [`Fault`]. Both render as the one line users read ([`std::fmt::Display`]), and reports carry
//! the structure beside that line, so nothing downstream ever parses a message to decide.

use serde::{Deserialize, Serialize};

use crate::callback::Finding;
use crate::forms::PageKind;
use crate::scenario::model::{AuthOutcome, HeaderMatch};

/// A body as a message shows it: its start, and why it is not what it seems when it is not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyShown {
    /// The first 120 characters.
    pub start: String,
    /// The bytes were not UTF-8 (RFC 8259 §8.1: then it is not JSON).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub invalid_utf8: bool,
    /// The size cap cut the body at this many bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_at: Option<usize>,
}

impl std::fmt::Display for BodyShown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.invalid_utf8 {
            write!(
                f,
                "a body that is not UTF-8 (RFC 8259 §8.1), starting {:?}",
                self.start
            )
        } else if let Some(len) = self.cut_at {
            write!(
                f,
                "a body cut at the {len}-byte cap (--max-body), starting {:?}",
                self.start
            )
        } else {
            write!(f, "{:?}", self.start)
        }
    }
}

/// How an authorization request ended, as a message describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ending", rename_all = "snake_case")]
pub enum AuthEnding {
    /// A redirect to the client with a code.
    Code {
        /// Where the browser was sent, without query.
        target: String,
    },
    /// A redirect to the client with an error.
    Error {
        /// Where the browser was sent, without query.
        target: String,
        /// The `error` parameter.
        error: String,
        /// The start of `error_description`, if any.
        description: Option<String>,
    },
    /// A page that sent nobody anywhere.
    Page {
        /// Its status.
        status: u16,
        /// Its title.
        title: Option<String>,
        /// Its first heading, when it differs from the title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        heading: Option<String>,
        /// What else it says, bounded: the server's own words for why.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
        /// What it holds (a login form, another form, a script) that the driver did not get
        /// past.
        #[serde(default, skip_serializing_if = "PageKind::is_plain")]
        holds: PageKind,
    },
}

impl std::fmt::Display for AuthEnding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code { target } => write!(f, "a redirect to {target} with a code"),
            Self::Error {
                target,
                error,
                description,
            } => {
                write!(f, "a redirect to {target} with error={error}")?;
                match description {
                    Some(d) => write!(f, " ({d})"),
                    None => Ok(()),
                }
            }
            Self::Page {
                status,
                title,
                heading,
                message,
                holds,
            } => {
                write!(f, "a page (HTTP {status}")?;
                if let Some(t) = title {
                    write!(f, ", {t:?}")?;
                }
                if let Some(h) = heading {
                    write!(f, ", saying {h:?}")?;
                }
                if let Some(m) = message {
                    write!(f, ": {m:?}")?;
                }
                match holds {
                    PageKind::LoginForm => f.write_str(", with a login form")?,
                    PageKind::Form => f.write_str(", with a form")?,
                    PageKind::Script => f.write_str(", with script and no form")?,
                    PageKind::Plain => {}
                }
                f.write_str(")")
            }
        }
    }
}

/// An expectation of a scenario that the server did not meet: what was expected, what came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Unmet {
    /// The HTTP status.
    Status {
        /// Any of these.
        expected: Vec<u16>,
        /// What came.
        got: u16,
        /// The body's OAuth `error`, if it had one.
        error: Option<String>,
    },
    /// The OAuth `error` code (token endpoint body or authorization response).
    OAuthError {
        /// Any of these.
        expected: Vec<String>,
        /// What came.
        got: String,
    },
    /// An OAuth error was expected and the body is not a JSON error.
    NoErrorBody {
        /// Any of these.
        expected: Vec<String>,
        /// The response's Content-Type.
        content_type: Option<String>,
        /// The body.
        body: BodyShown,
    },
    /// A JSON body was expected.
    NotJson {
        /// The body.
        body: BodyShown,
    },
    /// A JSON field.
    JsonField {
        /// The field name.
        field: String,
        /// What it should be, in words ("= \"x\"", "a non-empty string").
        expected: String,
        /// Its value, absent or null as `None`.
        got: Option<serde_json::Value>,
    },
    /// A response header.
    Header {
        /// The header name.
        name: String,
        /// The expectation.
        expected: HeaderMatch,
        /// Every value it had.
        got: Vec<String>,
    },
    /// RFC 6749 §5.2: the error response's Content-Type.
    ErrorContentType {
        /// What came (empty when absent).
        got: String,
    },
    /// RFC 6749 §5.2: the error body is not JSON.
    ErrorNotJson {
        /// The body.
        body: BodyShown,
    },
    /// RFC 6749 §5.2: no string `error` member.
    ErrorMemberMissing,
    /// RFC 6749 §5.2: an error code the RFC does not define.
    ErrorUnregistered {
        /// The code.
        error: String,
        /// The codes the RFC defines.
        registered: Vec<String>,
    },
    /// RFC 6749 §5.2: the status an error code came with.
    ErrorStatus {
        /// The code.
        error: String,
        /// The status.
        got: u16,
        /// What the RFC allows.
        allowed: Vec<u16>,
    },
    /// RFC 6749 §5.2: a character outside the allowed set.
    ErrorCharset {
        /// `error_description` or `error_uri`.
        field: String,
        /// Byte index.
        index: usize,
        /// The byte, as a character.
        found: char,
    },
    /// How the authorization request ended.
    Authorization {
        /// The outcome the scenario expects.
        expected: AuthOutcome,
        /// What happened.
        got: AuthEnding,
    },
    /// `state` not echoed byte for byte.
    State {
        /// Sent.
        sent: Option<String>,
        /// Received.
        got: Option<String>,
    },
    /// RFC 9207 `iss`.
    Iss {
        /// The issuer.
        issuer: String,
        /// The `iss` received, if any.
        got: Option<String>,
    },
    /// The challenge came back in a response parameter.
    ChallengeReflected {
        /// The parameter.
        param: String,
    },
    /// A finding of the authorization response's format (RFC 6749 §4.1.2.1, §3.1).
    CallbackFormat {
        /// The finding.
        finding: Finding,
    },
    /// An expectation on a login or consent page.
    OnPage {
        /// What the page did not meet.
        unmet: Box<Unmet>,
    },
    /// RFC 9700 §4.16: a login or consent page can be framed.
    Frameable,
    /// RFC 9700 §4.12: a form POST answered with a redirect that re-posts.
    PostRedirect {
        /// The redirect status.
        status: u16,
    },
    /// The server approved a public client without showing a consent page.
    NoConsent,
    /// RFC 6749 §10.10: a code shorter than the minimum.
    CodeLength {
        /// The shortest code's length.
        shortest: usize,
        /// The minimum.
        min: usize,
    },
    /// RFC 6749 §10.10: estimated code entropy below the minimum.
    Entropy {
        /// Estimated bits.
        bits: f64,
        /// Characters that vary between codes.
        varying: usize,
        /// Distinct characters seen.
        alphabet: usize,
        /// Codes collected.
        codes: usize,
        /// Length of the prefix all codes share.
        prefix: usize,
        /// The minimum.
        min_bits: f64,
    },
    /// An ID Token as a relying party must validate it (OpenID Connect Core §3.1.3.7), or its
    /// `sub` where another response must repeat it.
    IdToken {
        /// What was checked: `present`, `signature`, `iss`, `aud`, `exp`, `nonce`, `at_hash`...
        check: String,
        /// What it should be.
        expected: String,
        /// What it was.
        got: String,
    },
    /// REQ-58: one code redeemed more than once in a concurrent burst.
    Race {
        /// The most successes in one burst.
        worst: usize,
        /// Requests per burst.
        count: usize,
        /// Successes allowed.
        at_most: usize,
        /// The measurements.
        note: String,
    },
}

fn or_list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn describe_header(m: &HeaderMatch) -> String {
    match m {
        HeaderMatch::Present => "present".into(),
        HeaderMatch::Absent => "absent".into(),
        HeaderMatch::Contains(s) => format!("to contain {s:?}"),
        HeaderMatch::ContainsAny(l) => format!("to contain one of {l:?}"),
    }
}

fn expected_outcome(o: AuthOutcome) -> &'static str {
    match o {
        AuthOutcome::Code => "a redirect to the client with a code",
        AuthOutcome::ErrorRedirect => "a redirect to the client with an error",
        AuthOutcome::ErrorPage => "an error page and no redirect",
        AuthOutcome::Refused => "a refusal (error redirect or error page)",
    }
}

impl std::fmt::Display for Unmet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status {
                expected,
                got,
                error,
            } => {
                write!(f, "expected HTTP {}, got {got}", or_list(expected))?;
                match error {
                    Some(e) => write!(f, " (error {e})"),
                    None => Ok(()),
                }
            }
            Self::OAuthError { expected, got } => {
                write!(f, "expected error {}, got error {got}", or_list(expected))
            }
            Self::NoErrorBody {
                expected,
                content_type,
                body,
            } => write!(
                f,
                "expected a JSON error body with error {}, got {} body {body}",
                or_list(expected),
                content_type.as_deref().unwrap_or("no content-type")
            ),
            Self::NotJson { body } => write!(f, "expected a JSON body, got {body}"),
            Self::JsonField {
                field,
                expected,
                got,
            } => {
                write!(f, "expected JSON field {field} {expected}, ")?;
                match got {
                    Some(v) => write!(f, "got {v}"),
                    None => f.write_str("it is absent"),
                }
            }
            Self::Header {
                name,
                expected,
                got,
            } => {
                write!(f, "expected header {name} {}, ", describe_header(expected))?;
                if got.is_empty() {
                    f.write_str("it is absent")
                } else {
                    write!(f, "got {:?}", got.join(", "))
                }
            }
            Self::ErrorContentType { got } => write!(
                f,
                "error response has Content-Type {got:?}, RFC 6749 §5.2 requires application/json"
            ),
            Self::ErrorNotJson { body } => write!(f, "error body is not JSON: {body}"),
            Self::ErrorMemberMissing => f.write_str("error body has no string \"error\" member"),
            Self::ErrorUnregistered { error, registered } => write!(
                f,
                "error code {error:?} is not one of RFC 6749 §5.2's: {}",
                registered.join(", ")
            ),
            Self::ErrorStatus {
                error,
                got,
                allowed,
            } => write!(
                f,
                "error {error} came with HTTP {got}, RFC 6749 §5.2 says {}",
                or_list(allowed)
            ),
            Self::ErrorCharset {
                field,
                index,
                found,
            } => write!(
                f,
                "{field} has a character outside RFC 6749 §5.2's set at byte {index}: {found:?}"
            ),
            Self::Authorization { expected, got } => {
                write!(f, "expected {}, got {got}", expected_outcome(*expected))
            }
            Self::State { sent, got } => write!(
                f,
                "state was not echoed exactly: sent {sent:?}, got {got:?}"
            ),
            Self::Iss {
                issuer,
                got: Some(iss),
            } => write!(
                f,
                "iss {iss:?} differs from the issuer {issuer:?} (RFC 9207 §2.4)"
            ),
            Self::Iss { got: None, .. } => f.write_str(
                "no iss parameter in the authorization response although the metadata announces RFC 9207 support",
            ),
            Self::ChallengeReflected { param } => write!(
                f,
                "the code_challenge is reflected in response parameter {param}"
            ),
            Self::CallbackFormat { finding } => match finding {
                Finding::RepeatedParameter(n) => {
                    write!(f, "the response repeats parameter {n} (RFC 6749 §3.1)")
                }
                Finding::UnregisteredErrorCode(e) => write!(
                    f,
                    "error code {e:?} is not registered for the authorization endpoint (RFC 6749 §4.1.2.1)"
                ),
                Finding::BadCharset { param, index } => write!(
                    f,
                    "{param} has a character outside RFC 6749 §4.1.2.1's set at byte {index}"
                ),
                Finding::BothCodeAndError => {
                    f.write_str("the response carries both code and error")
                }
                Finding::QueryAndFragment => {
                    f.write_str("response parameters appear in both query and fragment")
                }
            },
            Self::OnPage { unmet } => write!(f, "on a login/consent page: {unmet}"),
            Self::Frameable => f.write_str(
                "a login/consent page has neither X-Frame-Options nor a CSP frame-ancestors directive (RFC 9700 §4.16)",
            ),
            Self::PostRedirect { status } => write!(
                f,
                "a form POST was answered with a {status} redirect (RFC 9700 §4.12: 303, never 307)"
            ),
            Self::NoConsent => f.write_str(
                "no consent page was shown: the server approved the public client automatically",
            ),
            Self::CodeLength { shortest, min } => write!(
                f,
                "a code of {shortest} characters is shorter than {min} (RFC 6749 §10.10)"
            ),
            Self::Entropy {
                bits,
                varying,
                alphabet,
                codes,
                prefix,
                min_bits,
            } => write!(
                f,
                "estimated {bits:.0} bits per code ({varying} varying characters over an alphabet of {alphabet} seen in {codes} codes, shared prefix {prefix}), below {min_bits} (RFC 6749 §10.10)"
            ),
            Self::IdToken {
                check,
                expected,
                got,
            } => write!(f, "ID Token {check}: expected {expected}, got {got}"),
            Self::Race {
                worst,
                count,
                at_most,
                note,
            } => write!(
                f,
                "one code was redeemed {worst} times in a burst of {count} concurrent requests (at most {at_most} allowed); {note}"
            ),
        }
    }
}

impl Unmet {
    /// What was expected and what came, for formats that show them apart (JUnit). `None` when
    /// the line itself is all there is to say.
    pub fn expected_actual(&self) -> Option<(String, String)> {
        let absent = || "absent".to_owned();
        Some(match self {
            Self::Status { expected, got, .. } => {
                (format!("HTTP {}", or_list(expected)), format!("HTTP {got}"))
            }
            Self::OAuthError { expected, got } => (or_list(expected), got.clone()),
            Self::NoErrorBody { expected, body, .. } => (or_list(expected), body.to_string()),
            Self::JsonField {
                field,
                expected,
                got,
            } => (
                format!("{field} {expected}"),
                got.as_ref().map_or_else(absent, ToString::to_string),
            ),
            Self::Header {
                name,
                expected,
                got,
            } => (
                format!("{name} {}", describe_header(expected)),
                if got.is_empty() {
                    absent()
                } else {
                    got.join(", ")
                },
            ),
            Self::ErrorStatus {
                got,
                allowed,
                error,
                ..
            } => (
                format!("HTTP {} for {error}", or_list(allowed)),
                format!("HTTP {got}"),
            ),
            Self::Authorization { expected, got } => {
                (expected_outcome(*expected).to_owned(), got.to_string())
            }
            Self::State { sent, got } => (format!("{sent:?}"), format!("{got:?}")),
            Self::Iss { issuer, got } => (
                issuer.clone(),
                got.clone().unwrap_or_else(|| "no iss".to_owned()),
            ),
            Self::OnPage { unmet } => return unmet.expected_actual(),
            Self::CodeLength { shortest, min } => (
                format!("at least {min} characters"),
                format!("{shortest} characters"),
            ),
            Self::Entropy { bits, min_bits, .. } => (
                format!("at least {min_bits} bits"),
                format!("about {bits:.0} bits"),
            ),
            Self::IdToken { expected, got, .. } => (expected.clone(), got.clone()),
            Self::Race { worst, at_most, .. } => (
                format!("at most {at_most} success per burst"),
                format!("{worst} successes"),
            ),
            _ => return None,
        })
    }
}

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

impl Cause {
    /// Whether the scenario may be run again for this cause: the server failed (5xx), which
    /// may be load and not the behaviour under test.
    pub fn is_server_error(&self) -> bool {
        matches!(
            self.halt,
            Halt::Fault {
                fault: Fault::ServerError { .. } | Fault::ServerErrorRedirect { .. }
            }
        )
    }
}

impl From<LoginFault> for Fault {
    fn from(fault: LoginFault) -> Self {
        Self::Login {
            fault: Box::new(fault),
        }
    }
}

/// Why a scenario stopped before its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "halt", rename_all = "snake_case")]
pub enum Halt {
    /// An expectation did not hold: the verdict follows the scenario's level.
    Unmet {
        /// Which.
        unmet: Unmet,
    },
    /// The harness could not judge: the verdict is `error`.
    Fault {
        /// Why.
        fault: Fault,
    },
    /// The refusal the scenario expected came (nothing was let through), in another form than
    /// expected: a finding graded by the scenario's `form` (its own requirement, a lower level,
    /// low severity), never the bypass the scenario looks for. It does not stop the scenario:
    /// the steps after it still judge the property.
    Form {
        /// The form that was expected and what came.
        unmet: Unmet,
    },
}

impl std::fmt::Display for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unmet { unmet } => unmet.fmt(f),
            Self::Fault { fault } => fault.fmt(f),
            Self::Form { unmet } => write!(
                f,
                "refused as expected (nothing was let through), but in another form: {unmet}"
            ),
        }
    }
}

impl From<Unmet> for Halt {
    fn from(unmet: Unmet) -> Self {
        Self::Unmet { unmet }
    }
}

impl From<Fault> for Halt {
    fn from(fault: Fault) -> Self {
        Self::Fault { fault }
    }
}

impl From<LoginFault> for Halt {
    fn from(fault: LoginFault) -> Self {
        Fault::from(fault).into()
    }
}

/// The step a halt happened in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRef {
    /// 1-based position in the scenario.
    pub index: usize,
    /// The step's kind (`authorize`, `token`, ...).
    pub kind: String,
}

impl std::fmt::Display for StepRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.index, self.kind)
    }
}

/// The structured cause of a verdict that is not a pass: the halt and the step it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    /// The step, when the halt came from one (a time-out belongs to the whole scenario).
    pub step: Option<StepRef>,
    /// What happened.
    #[serde(flatten)]
    pub halt: Halt,
}

impl Cause {
    /// What was expected and what came, when the cause is an unmet expectation that has both.
    pub fn expected_actual(&self) -> Option<(String, String)> {
        match &self.halt {
            Halt::Unmet { unmet } | Halt::Form { unmet } => unmet.expected_actual(),
            Halt::Fault { .. } => None,
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.step {
            Some(step) => write!(f, "step {step}: {}", self.halt),
            None => self.halt.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_reads_as_one_line_with_its_step() {
        let cause = Cause {
            step: Some(StepRef {
                index: 2,
                kind: "token".into(),
            }),
            halt: Unmet::Status {
                expected: vec![400],
                got: 200,
                error: None,
            }
            .into(),
        };
        assert_eq!(
            cause.to_string(),
            "step 2 (token): expected HTTP 400, got 200"
        );
        assert_eq!(
            Unmet::Status {
                expected: vec![400, 401],
                got: 500,
                error: Some("server_error".into())
            }
            .to_string(),
            "expected HTTP 400 or 401, got 500 (error server_error)"
        );
    }

    #[test]
    fn causes_round_trip_through_json() {
        let cause = Cause {
            step: None,
            halt: Unmet::OnPage {
                unmet: Box::new(Unmet::Header {
                    name: "cache-control".into(),
                    expected: HeaderMatch::Contains("no-store".into()),
                    got: vec![],
                }),
            }
            .into(),
        };
        let json = serde_json::to_value(&cause).expect("serialises");
        assert_eq!(json["halt"], "unmet");
        assert_eq!(json["unmet"]["kind"], "on_page");
        assert_eq!(json["unmet"]["unmet"]["kind"], "header");
        let back: Cause = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, cause);
        let fault = Cause {
            step: None,
            halt: Fault::Timeout { seconds: 60.0 }.into(),
        };
        let back: Cause =
            serde_json::from_value(serde_json::to_value(&fault).expect("ser")).expect("de");
        assert_eq!(back.to_string(), "scenario did not finish within 60 s");
        let half = Fault::Timeout { seconds: 0.5 };
        assert_eq!(half.to_string(), "scenario did not finish within 0.5 s");
    }

    #[test]
    fn expected_and_actual_for_junit() {
        let u = Unmet::OnPage {
            unmet: Box::new(Unmet::Status {
                expected: vec![200],
                got: 500,
                error: None,
            }),
        };
        assert_eq!(
            u.expected_actual(),
            Some(("HTTP 200".to_owned(), "HTTP 500".to_owned()))
        );
        assert_eq!(Unmet::Frameable.expected_actual(), None);
    }
}
