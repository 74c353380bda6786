//! Parsing of authorization responses (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207 `iss`).
//!
//! The harness never listens on a redirect URI: it reads the `Location` of the authorization
//! server's redirect (query or fragment response mode) or the auto-submitting form of the
//! `form_post` mode. The parser returns a typed outcome and reports, rather than hides, what the
//! checks must judge: repeated parameters, unregistered error codes, characters outside the
//! RFC 6749 charset, a response that is both a success and an error.
//!
//! A JWT-secured response (JARM: a single `response` parameter in any of the three places) is
//! read from its claims, unverified: reading is pure, and whether the signature, `iss`, `aud`
//! and `exp` hold is what the JARM checks judge, with the server's JWK Set the engine fetches.

use thiserror::Error;
use url::Url;

use crate::forms;
use crate::jose::Jws;
use crate::params::Params;
use crate::redact::Secret;

/// The longest `Location` value parsed.
pub const MAX_LOCATION: usize = 16 * 1024;
/// The most parameters a response may carry.
pub const MAX_PARAMS: usize = 100;

/// How the response reached the client (OAuth 2.0 Multiple Response Type Encoding Practices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// Parameters in the query of the redirect URI (the default for `code`).
    Query,
    /// Parameters in the fragment.
    Fragment,
    /// Parameters in an auto-submitting HTML form POSTed to the redirect URI.
    FormPost,
}

/// A parsed authorization response.
#[derive(Debug, Clone)]
pub struct AuthorizationResponse {
    /// Where the parameters were found.
    pub mode: ResponseMode,
    /// The URL the user agent is sent to, without the response parameters' fragment: compare it
    /// with the registered redirect URI.
    pub target: Url,
    /// The parameters as sent, repeats kept.
    pub params: Params,
    /// What the response means (for a JARM response, what its claims say).
    pub outcome: Outcome,
    /// What the checks must judge.
    pub findings: Vec<Finding>,
    /// The JWT of a JARM response (`response`), if it was one.
    pub jarm: Option<Jarm>,
}

/// A JWT-secured authorization response (JARM §2): the parameters travel as the claims of one
/// JWT in `response`.
#[derive(Debug, Clone)]
pub struct Jarm {
    /// The JWT as received: it carries the code, so it is a secret.
    pub token: Secret,
    /// Its claims as parameters (`code`, `state`, `error`, `iss`, `aud`, `exp`, ...): a string
    /// claim as it is, any other as its JSON text.
    pub claims: Params,
}

/// The meaning of an authorization response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// RFC 6749 §4.1.2.
    Success {
        /// The authorization code.
        code: Secret,
        /// `state`, as received.
        state: Option<String>,
        /// RFC 9207 `iss`.
        iss: Option<String>,
    },
    /// Tokens without a code: an access token or an ID Token on the front channel (the
    /// implicit grant, RFC 6749 §4.2.2; OpenID Connect's `id_token` and `id_token token`
    /// response types), which the code flow never returns.
    Tokens {
        /// The token parameters present (`access_token`, `id_token`).
        issued: Vec<String>,
        /// `state`, as received.
        state: Option<String>,
        /// RFC 9207 `iss`.
        iss: Option<String>,
    },
    /// RFC 6749 §4.1.2.1.
    Error {
        /// The error code.
        error: String,
        /// Human-readable text.
        error_description: Option<String>,
        /// A page about the error.
        error_uri: Option<String>,
        /// `state`, as received.
        state: Option<String>,
        /// RFC 9207 `iss`.
        iss: Option<String>,
    },
}

impl Outcome {
    /// `state` of either kind of response.
    pub fn state(&self) -> Option<&str> {
        match self {
            Self::Success { state, .. }
            | Self::Tokens { state, .. }
            | Self::Error { state, .. } => state.as_deref(),
        }
    }
    /// `iss` of either kind of response.
    pub fn iss(&self) -> Option<&str> {
        match self {
            Self::Success { iss, .. } | Self::Tokens { iss, .. } | Self::Error { iss, .. } => {
                iss.as_deref()
            }
        }
    }
}

/// How an authorization request ended, once the login driver is done with it.
#[derive(Debug)]
pub enum Ending {
    /// Back at a client, with an authorization response.
    Callback(Box<AuthorizationResponse>),
    /// The server showed a page that is not a login form (an error page), and sent nobody
    /// anywhere.
    Page {
        /// Its status.
        status: u16,
        /// Its title, if any.
        title: Option<String>,
        /// Its first heading, if any: what an error page says.
        heading: Option<String>,
        /// What else it says (see [`forms::Page::message`]).
        message: Option<String>,
        /// What it holds that the driver did not get past.
        holds: forms::PageKind,
    },
}

/// Something about a response that a check must judge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// RFC 6749 §3.1: a parameter sent more than once.
    RepeatedParameter(String),
    /// An `error` outside RFC 6749 §4.1.2.1 and the OpenID Connect Core §3.1.2.6 additions.
    UnregisteredErrorCode(String),
    /// RFC 6749 §4.1.2.1: a character outside the allowed set in `error`, `error_description`
    /// or `error_uri`.
    BadCharset {
        /// The parameter.
        param: String,
        /// Byte index of the first bad character.
        index: usize,
    },
    /// Both `code` and `error` are present; the response is treated as an error.
    BothCodeAndError,
    /// Response parameters appear in both the query and the fragment.
    QueryAndFragment,
}

/// Why a response could not be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CallbackError {
    /// The `Location` is longer than [`MAX_LOCATION`].
    #[error("Location header is {0} bytes long, more than the {MAX_LOCATION} parsed")]
    TooLong(usize),
    /// The `Location` is not a URL, even relative to the authorize URL.
    #[error("Location {location:?} is not a URL: {reason}")]
    BadUrl {
        /// The value, cut to 200 characters.
        location: String,
        /// The URL parser's reason.
        reason: String,
    },
    /// More than [`MAX_PARAMS`] parameters.
    #[error("the response carries {0} parameters, more than the {MAX_PARAMS} parsed")]
    TooManyParams(usize),
    /// Neither `code` nor `error`.
    #[error("the response has neither a code nor an error parameter")]
    NoCodeOrError,
    /// A `form_post` page without a POST form.
    #[error("the page has no POST form to read a form_post response from")]
    NoForm,
    /// A `response` parameter that is not a JWT with a JSON object of claims (JARM §2).
    #[error("the response parameter is not a JWT with a JSON object of claims (JARM §2): {0}")]
    BadJarm(String),
}

/// Resolves a `Location` value against the URL of the request it answered (RFC 9110 §10.2.2).
pub fn resolve_location(request_url: &Url, location: &str) -> Result<Url, CallbackError> {
    if location.len() > MAX_LOCATION {
        return Err(CallbackError::TooLong(location.len()));
    }
    request_url
        .join(location)
        .map_err(|e| CallbackError::BadUrl {
            location: without_parameters(location),
            reason: e.to_string(),
        })
}

/// The start of a `Location` for a message: up to its query or fragment (which may carry a
/// code or a token), at most 200 characters.
fn without_parameters(location: &str) -> String {
    let end = location.find(['?', '#']).unwrap_or(location.len());
    let mut shown: String = location[..end].chars().take(200).collect();
    if end < location.len() {
        shown.push_str("?…");
    }
    shown
}

/// Parses the `Location` of a redirect from the authorization endpoint.
pub fn parse_location(
    request_url: &Url,
    location: &str,
) -> Result<AuthorizationResponse, CallbackError> {
    let url = resolve_location(request_url, location)?;
    let query = url.query().map(Params::parse).unwrap_or_default();
    let fragment = url.fragment().map(Params::parse).unwrap_or_default();
    let carries = |p: &Params| {
        ["code", "error", "response", "access_token", "id_token"]
            .iter()
            .any(|n| p.get(n).is_some())
    };
    let mut findings = Vec::new();
    let (mode, params) = match (carries(&query), carries(&fragment)) {
        (true, true) => {
            findings.push(Finding::QueryAndFragment);
            (ResponseMode::Query, query)
        }
        (false, true) => (ResponseMode::Fragment, fragment),
        _ => (ResponseMode::Query, query),
    };
    let mut target = url;
    match mode {
        ResponseMode::Fragment => target.set_fragment(None),
        _ => {
            // Keep the client's own query parameters, drop the response's, so that the target
            // can be compared with the registered redirect URI and never carries the code.
            let own: Params = params
                .iter()
                .filter(|(n, _)| !RESPONSE_PARAMS.contains(n))
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect();
            target.set_query((!own.is_empty()).then(|| own.encode()).as_deref());
        }
    }
    build(mode, target, params, findings)
}

/// Parses a `form_post` response page served at `page_url`.
pub fn parse_form_post(page_url: &Url, body: &str) -> Result<AuthorizationResponse, CallbackError> {
    let page = forms::Page::parse(body, None);
    let form = page
        .forms
        .into_iter()
        .find(|f| f.method == "post")
        .ok_or(CallbackError::NoForm)?;
    let target = resolve_location(page_url, form.action.as_deref().unwrap_or(""))?;
    // Every control as the page holds it: a response parameter travels in a hidden input, and
    // whatever else the form carries is the server's to answer for (repeated, unknown).
    let params = form
        .controls
        .into_iter()
        .flat_map(|c| c.values.into_iter().map(move |v| (c.name.clone(), v)))
        .collect();
    build(ResponseMode::FormPost, target, params, Vec::new())
}

/// Parses a `form_post` response as the browser posted it: `body` is the form body sent to
/// `target`.
pub fn parse_posted(target: &Url, body: &str) -> Result<AuthorizationResponse, CallbackError> {
    let mut target = target.clone();
    target.set_fragment(None);
    build(
        ResponseMode::FormPost,
        target,
        Params::parse(body),
        Vec::new(),
    )
}

fn build(
    mode: ResponseMode,
    target: Url,
    params: Params,
    mut findings: Vec<Finding>,
) -> Result<AuthorizationResponse, CallbackError> {
    if params.len() > MAX_PARAMS {
        return Err(CallbackError::TooManyParams(params.len()));
    }
    findings.extend(
        params
            .repeated()
            .into_iter()
            .map(|n| Finding::RepeatedParameter(n.to_owned())),
    );
    let jarm = unpack_jarm(&params)?;
    let meaning = jarm.as_ref().map_or(&params, |j| &j.claims);
    let outcome = meaning_of(meaning, &mut findings)?;
    Ok(AuthorizationResponse {
        mode,
        target,
        params,
        outcome,
        findings,
        jarm,
    })
}

/// The JARM response among `params`: a `response` parameter where neither `code` nor `error`
/// is, read as a JWT (not verified).
fn unpack_jarm(params: &Params) -> Result<Option<Jarm>, CallbackError> {
    let (Some(token), None, None) = (
        params.get("response"),
        params.get("code"),
        params.get("error"),
    ) else {
        return Ok(None);
    };
    let jws = Jws::parse(token).map_err(|e| CallbackError::BadJarm(e.to_string()))?;
    if jws.claims.len() > MAX_PARAMS {
        return Err(CallbackError::TooManyParams(jws.claims.len()));
    }
    let claims = jws
        .claims
        .iter()
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (name.clone(), text)
        })
        .collect();
    Ok(Some(Jarm {
        token: Secret::new(token),
        claims,
    }))
}

/// What the response parameters (or a JARM response's claims) mean, and the format findings of
/// an error.
fn meaning_of(params: &Params, findings: &mut Vec<Finding>) -> Result<Outcome, CallbackError> {
    let get = |n: &str| params.get(n).map(str::to_owned);
    let outcome = match (params.get("code"), params.get("error")) {
        (_, Some(error)) => {
            if params.get("code").is_some() {
                findings.push(Finding::BothCodeAndError);
            }
            if !REGISTERED_ERRORS.contains(&error) {
                findings.push(Finding::UnregisteredErrorCode(error.to_owned()));
            }
            for (param, allow_space) in [
                ("error", true),
                ("error_description", true),
                ("error_uri", false),
            ] {
                if let Some(index) = params.get(param).and_then(|v| bad_charset(v, allow_space)) {
                    findings.push(Finding::BadCharset {
                        param: param.to_owned(),
                        index,
                    });
                }
            }
            Outcome::Error {
                error: error.to_owned(),
                error_description: get("error_description"),
                error_uri: get("error_uri"),
                state: get("state"),
                iss: get("iss"),
            }
        }
        (Some(code), None) => Outcome::Success {
            code: Secret::new(code),
            state: get("state"),
            iss: get("iss"),
        },
        (None, None) => {
            let issued: Vec<String> = FRONT_CHANNEL_TOKENS
                .iter()
                .filter(|t| params.get(t).is_some())
                .map(|t| (*t).to_owned())
                .collect();
            if issued.is_empty() {
                return Err(CallbackError::NoCodeOrError);
            }
            Outcome::Tokens {
                issued,
                state: get("state"),
                iss: get("iss"),
            }
        }
    };
    Ok(outcome)
}

/// The tokens an implicit or hybrid response carries (RFC 6749 §4.2.2; OpenID Connect Core
/// §3.2.2.5, §3.3.2.5).
const FRONT_CHANNEL_TOKENS: &[&str] = &["access_token", "id_token"];

/// The parameters an authorization response adds to the redirect URI.
const RESPONSE_PARAMS: &[&str] = &[
    "code",
    "access_token",
    "id_token",
    "token_type",
    "expires_in",
    "response",
    "state",
    "iss",
    "error",
    "error_description",
    "error_uri",
];

/// RFC 6749 §4.1.2.1, plus the codes OpenID Connect Core §3.1.2.6 registers for the same
/// endpoint (flagging those would be a false alarm on every OpenID provider).
pub const REGISTERED_ERRORS: &[&str] = &[
    "invalid_request",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
    "server_error",
    "temporarily_unavailable",
    "interaction_required",
    "login_required",
    "account_selection_required",
    "consent_required",
    "invalid_request_uri",
    "invalid_request_object",
    "request_not_supported",
    "request_uri_not_supported",
    "registration_not_supported",
];

/// The first byte outside `%x20-21 / %x23-5B / %x5D-7E` (`allow_space`) or
/// `%x21 / %x23-5B / %x5D-7E` (for `error_uri`), RFC 6749 §4.1.2.1 and §5.2.
pub fn bad_charset(value: &str, allow_space: bool) -> Option<usize> {
    value.bytes().position(|b| {
        let ok = matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E) || (allow_space && b == 0x20);
        !ok
    })
}

impl AuthorizationResponse {
    /// The parameters the response means: a JARM response's claims, else the parameters sent.
    pub fn meaning(&self) -> &Params {
        self.jarm.as_ref().map_or(&self.params, |j| &j.claims)
    }

    /// The response encoded again in its mode, for round-trip checks: parsing the result gives
    /// the same parameters.
    pub fn to_location(&self) -> String {
        let mut url = self.target.clone();
        match self.mode {
            ResponseMode::Query | ResponseMode::FormPost => {
                url.set_query(Some(&self.params.encode()))
            }
            ResponseMode::Fragment => url.set_fragment(Some(&self.params.encode())),
        }
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn authorize() -> Url {
        Url::parse("https://as.example/oauth/authorize?client_id=c").expect("static URL")
    }

    #[test]
    fn success_in_query_with_iss() {
        let r = parse_location(&authorize(), "https://client.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz&iss=https%3A%2F%2Fas.example")
            .expect("parses");
        assert_eq!(r.mode, ResponseMode::Query);
        assert_eq!(r.outcome.state(), Some("xyz"));
        assert_eq!(r.outcome.iss(), Some("https://as.example"));
        let Outcome::Success { code, .. } = &r.outcome else {
            panic!("expected success")
        };
        assert_eq!(code.expose(), "SplxlOBeZQQYbYS6WxSbIA");
        assert!(r.findings.is_empty());
        assert!(
            !format!("{r:?}").contains("SplxlOBeZQQYbYS6WxSbIA"),
            "Debug leaks the code"
        );
    }

    #[test]
    fn relative_location_and_fragment_mode() {
        let r = parse_location(&authorize(), "/cb#error=access_denied&state=s").expect("parses");
        assert_eq!(r.mode, ResponseMode::Fragment);
        assert_eq!(r.target.as_str(), "https://as.example/cb");
        assert!(matches!(r.outcome, Outcome::Error { ref error, .. } if error == "access_denied"));
    }

    /// An implicit response (RFC 6749 §4.2.2) is read as the tokens it carries, never as an
    /// unreadable callback: a server that answers a refused response type with them is judged.
    #[test]
    fn tokens_in_the_fragment_are_an_outcome_of_their_own() {
        let r = parse_location(
            &authorize(),
            "https://c.example/cb#access_token=2YotnFZFEjr1zCsicMWpAA&token_type=Bearer&state=s",
        )
        .expect("parses");
        assert_eq!(r.mode, ResponseMode::Fragment);
        assert_eq!(r.outcome.state(), Some("s"));
        assert!(
            matches!(&r.outcome, Outcome::Tokens { issued, .. } if issued == &["access_token"])
        );
        // A fragment with nothing of a response is still no response.
        assert!(matches!(
            parse_location(&authorize(), "https://c.example/cb#state=s"),
            Err(CallbackError::NoCodeOrError)
        ));
    }

    #[test]
    fn reports_what_checks_must_judge() {
        let r = parse_location(
            &authorize(),
            "https://c.example/cb?error=made_up&error_description=line%0Abreak%22&state=a&state=b&code=x",
        )
        .expect("parses");
        assert!(
            r.findings
                .contains(&Finding::RepeatedParameter("state".into()))
        );
        assert!(
            r.findings
                .contains(&Finding::UnregisteredErrorCode("made_up".into()))
        );
        assert!(r.findings.contains(&Finding::BadCharset {
            param: "error_description".into(),
            index: 4
        }));
        assert!(r.findings.contains(&Finding::BothCodeAndError));
    }

    #[test]
    fn form_post_page() {
        let page = Url::parse("https://as.example/authorize").expect("static URL");
        let body = r#"<form method="post" action="https://c.example/cb"><input type="hidden" name="code" value="abc"/><input type="hidden" name="state" value="s&amp;t"/></form>"#;
        let r = parse_form_post(&page, body).expect("parses");
        assert_eq!(r.mode, ResponseMode::FormPost);
        assert_eq!(r.outcome.state(), Some("s&t"));
        assert_eq!(r.target.as_str(), "https://c.example/cb");
    }

    #[test]
    fn jarm_response_read_from_its_claims() {
        let claims = serde_json::json!({
            "iss": "https://as.example", "aud": "c", "exp": 1_900_000_000,
            "code": "SplxlOBeZQQYbYS6WxSbIA", "state": "xyz",
        });
        let jwt = crate::jose::jws::unsigned(&claims);
        let r = parse_location(
            &authorize(),
            &format!("https://c.example/cb?response={jwt}&own=1"),
        )
        .expect("parses");
        assert_eq!(r.mode, ResponseMode::Query);
        assert_eq!(r.target.as_str(), "https://c.example/cb?own=1");
        assert_eq!(r.outcome.state(), Some("xyz"));
        assert_eq!(r.outcome.iss(), Some("https://as.example"));
        assert!(
            matches!(&r.outcome, Outcome::Success { code, .. } if code.expose() == "SplxlOBeZQQYbYS6WxSbIA")
        );
        let jarm = r.jarm.as_ref().expect("a JARM response");
        assert_eq!(jarm.claims.get("exp"), Some("1900000000"));
        assert_eq!(r.meaning().get("aud"), Some("c"));
        assert!(!format!("{r:?}").contains(&jwt), "Debug leaks the JWT");

        let error = crate::jose::jws::unsigned(
            &serde_json::json!({"error": "access_denied", "error_description": "line\nbreak"}),
        );
        let r = parse_posted(&authorize(), &format!("response={error}")).expect("parses");
        assert!(matches!(r.outcome, Outcome::Error { ref error, .. } if error == "access_denied"));
        assert!(r.findings.contains(&Finding::BadCharset {
            param: "error_description".into(),
            index: 4
        }));

        assert!(matches!(
            parse_location(&authorize(), "https://c.example/cb?response=not-a-jwt"),
            Err(CallbackError::BadJarm(_))
        ));
        let empty = crate::jose::jws::unsigned(&serde_json::json!({"iss": "x"}));
        assert_eq!(
            parse_location(
                &authorize(),
                &format!("https://c.example/cb?response={empty}")
            )
            .err(),
            Some(CallbackError::NoCodeOrError)
        );
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(
            parse_location(&authorize(), "https://c.example/cb?x=1").err(),
            Some(CallbackError::NoCodeOrError)
        );
        assert!(matches!(
            parse_location(&authorize(), "http://[::1").err(),
            Some(CallbackError::BadUrl { .. })
        ));
        let long = format!("https://c/?code={}", "a".repeat(MAX_LOCATION));
        assert!(matches!(
            parse_location(&authorize(), &long).err(),
            Some(CallbackError::TooLong(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_round_trips(loc in "\\PC{0,200}") {
            if let Ok(r) = parse_location(&authorize(), &loc) {
                let again = parse_location(&authorize(), &r.to_location()).expect("re-encoded response parses");
                proptest::prop_assert_eq!(&again.params, &r.params);
                proptest::prop_assert_eq!(&again.outcome, &r.outcome);
            }
        }
    }
}
