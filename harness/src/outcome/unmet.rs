//! What a judge found wrong: an expectation and what the server did instead.

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
    /// A redirect to the client with tokens and no code (an implicit or hybrid response).
    Tokens {
        /// Where the browser was sent, without query or fragment.
        target: String,
        /// Which tokens (`access_token`, `id_token`).
        issued: Vec<String>,
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
            Self::Tokens { target, issued } => write!(
                f,
                "a redirect to {target} with {} and no code",
                issued.join(" and ")
            ),
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
    /// A redirect to a client went somewhere other than the flow's own redirect URI (the one
    /// the request object signs), to a `redirect_uri` set beside it.
    SentElsewhere {
        /// The flow's redirect URI, without query.
        intended: String,
        /// What happened, and where.
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
    /// OpenID Connect Core §10.1.1: an assertion signed with the client's new key (the one its
    /// `jwks_uri` now serves) was refused while the old key's was taken.
    StaleClientKeys {
        /// How the request with the new key was answered.
        status: u16,
        /// Its OAuth `error`, if any.
        error: Option<String>,
    },
    /// OpenID Connect Discovery §3: a registration asking for RS256 ID Tokens was refused
    /// while the same one without it was taken.
    Rs256Refused {
        /// How the registration with RS256 was answered.
        status: u16,
        /// Its OAuth `error`, if any.
        error: Option<String>,
    },
    /// RFC 6749 §3.1.2: the query of a registered redirect URI was not kept when the response
    /// parameters were added.
    RedirectQueryLost {
        /// The registered query's pairs that did not come back.
        lost: Vec<String>,
        /// The client's own query it was sent with (the response parameters left out).
        got: String,
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
    /// The server showed pages where the request asked for none (`prompt=none`).
    PageShown {
        /// How many.
        pages: usize,
    },
    /// RFC 6749 §10.10: a code (or token) shorter than the minimum.
    CodeLength {
        /// What was sampled.
        of: crate::scenario::model::Issued,
        /// The shortest code's length.
        shortest: usize,
        /// The minimum.
        min: usize,
    },
    /// RFC 6749 §10.10: estimated code (or token) entropy below the minimum.
    Entropy {
        /// What was sampled.
        of: crate::scenario::model::Issued,
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
    /// A JWT-secured authorization response as a client must check it (JARM §2.4).
    Jarm {
        /// What was checked: `present`, `signature`, `iss`, `aud`, `exp`.
        check: String,
        /// What it should be.
        expected: String,
        /// What it was.
        got: String,
    },
    /// A client under test (client mode) did not do what a client must.
    Client {
        /// What was checked: `code_challenge`, `code_verifier`, `login`, `code`, `resource`.
        check: String,
        /// What it should have done.
        expected: String,
        /// What it did.
        got: String,
    },
    /// A server took a ClientHello that offered only TLS versions or cipher suites it must
    /// refuse.
    Tls {
        /// What the hello offered, in words.
        offered: String,
        /// Each origin that took it, and what it chose.
        took: Vec<String>,
    },
    /// A scope value of OpenID Connect Core §5.4 brought none of the claims it asks for.
    ScopeClaims {
        /// The scope value.
        scope: String,
        /// The claims it asks for.
        claims: Vec<String>,
    },
    /// An endpoint that must require TLS answered over plain http as it does over HTTPS.
    PlainHttp {
        /// Which endpoint, in words.
        endpoint: String,
        /// The plain-http URL asked, without its query.
        url: String,
        /// What both answers were.
        answer: String,
    },
    /// REQ-58 (REQ-61): one code (refresh token) redeemed more than once in a concurrent burst.
    Race {
        /// What was redeemed: `code` or `refresh token` (`code` in reports written before the
        /// refresh race existed).
        #[serde(default = "code")]
        raced: String,
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

/// What a race raced for in reports that do not say.
fn code() -> String {
    "code".to_owned()
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
            Self::SentElsewhere { intended, got } => write!(
                f,
                "the server sent the user agent elsewhere than the flow's redirect URI {intended} (the one the request object signs; RFC 9101 §6.3 has the server use it alone): {got}"
            ),
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
            Self::StaleClientKeys { status, error } => write!(
                f,
                "after the client's jwks_uri began serving a new key, a request authenticated with it was refused (HTTP {status}{}) while the old key was still taken: the server did not fetch the client's JWK Set again (OpenID Connect Core §10.1.1)",
                error.as_deref().map(|e| format!(", {e}")).unwrap_or_default()
            ),
            Self::Rs256Refused { status, error } => write!(
                f,
                "a registration with id_token_signed_response_alg RS256 was refused (HTTP {status}{}) while the same registration without it was taken: OpenID Connect Discovery §3 has every provider offer RS256 for ID Tokens",
                error.as_deref().map(|e| format!(", {e}")).unwrap_or_default()
            ),
            Self::RedirectQueryLost { lost, got } => write!(
                f,
                "the code came back without the registered redirect URI's query {} (RFC 6749 §3.1.2: it is kept when the response parameters are added); beside the response parameters the query was {got:?}",
                lost.join("&")
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
            Self::PageShown { pages } => write!(
                f,
                "the server showed {pages} page(s) though the request asked for none (prompt=none): a hidden silent request would wait on them"
            ),
            Self::CodeLength { of, shortest, min } => write!(
                f,
                "a{} {} of {shortest} characters is shorter than {min} (RFC 6749 §10.10)",
                if *of == crate::scenario::model::Issued::AccessToken { "n" } else { "" },
                of.noun()
            ),
            Self::Entropy {
                of,
                bits,
                varying,
                alphabet,
                codes,
                prefix,
                min_bits,
            } => write!(
                f,
                "estimated {bits:.0} bits per {noun} ({varying} varying characters over an alphabet of {alphabet}, the smallest usual one holding what {codes} {noun}s show, shared prefix {prefix}), below {min_bits} (RFC 6749 §10.10)",
                noun = of.noun()
            ),
            Self::IdToken {
                check,
                expected,
                got,
            } => write!(f, "ID Token {check}: expected {expected}, got {got}"),
            Self::Jarm {
                check,
                expected,
                got,
            } => write!(
                f,
                "JARM response {check}: expected {expected}, got {got} (JARM §2.4)"
            ),
            Self::Client {
                check,
                expected,
                got,
            } => write!(f, "{check}: expected {expected}, got {got}"),
            Self::Tls { offered, took } => write!(
                f,
                "a hello offering only {offered} was taken: {}",
                took.join("; ")
            ),
            Self::ScopeClaims { scope, claims } => write!(
                f,
                "the {scope} scope brought none of its claims ({}) at UserInfo or in the ID Token",
                claims.join(", ")
            ),
            Self::PlainHttp {
                endpoint,
                url,
                answer,
            } => write!(
                f,
                "the {endpoint} is served over plain http: {url} answered as over HTTPS ({answer})"
            ),
            Self::Race {
                raced,
                worst,
                count,
                at_most,
                note,
            } => write!(
                f,
                "one {raced} was redeemed {worst} times in a burst of {count} concurrent requests (at most {at_most} allowed); {note}"
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
            Self::SentElsewhere { intended, got } => {
                (format!("a redirect to {intended}"), got.to_string())
            }
            Self::State { sent, got } => (format!("{sent:?}"), format!("{got:?}")),
            Self::Iss { issuer, got } => (
                issuer.clone(),
                got.clone().unwrap_or_else(|| "no iss".to_owned()),
            ),
            Self::OnPage { unmet } => return unmet.expected_actual(),
            Self::CodeLength { shortest, min, .. } => (
                format!("at least {min} characters"),
                format!("{shortest} characters"),
            ),
            Self::Entropy { bits, min_bits, .. } => (
                format!("at least {min_bits} bits"),
                format!("about {bits:.0} bits"),
            ),
            Self::IdToken { expected, got, .. }
            | Self::Jarm { expected, got, .. }
            | Self::Client { expected, got, .. } => (expected.clone(), got.clone()),
            Self::PlainHttp { answer, .. } => (
                "no answer over plain http, or a redirect to https".to_owned(),
                answer.clone(),
            ),
            Self::Race { worst, at_most, .. } => (
                format!("at most {at_most} success per burst"),
                format!("{worst} successes"),
            ),
            _ => return None,
        })
    }
}
