//! What a step expects of the server's answer.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::values::OneOrMany;

/// What an authorization request must lead to.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeExpect {
    /// How the request ends; a code by default.
    #[serde(default)]
    pub outcome: AuthOutcome,
    /// For an error redirect: acceptable `error` values.
    pub error: Option<OneOrMany<String>>,
    /// `state` is echoed byte for byte.
    #[serde(default)]
    pub state_echoed: bool,
    /// RFC 9207 `iss` is present and equals the metadata issuer.
    #[serde(default)]
    pub iss: bool,
    /// The response is JWT-secured (JARM §2) and holds as a client must check it (§2.4): signed
    /// (a key of the server's JWK Set, or the client secret for HMAC), `iss` the issuer, `aud`
    /// the client, `exp` not passed.
    #[serde(default)]
    pub jarm: bool,
    /// The error response follows RFC 6749 §4.1.2.1 (registered code, charset, no repeats).
    #[serde(default)]
    pub error_format: bool,
    /// The flow's code_challenge appears nowhere in the authorization response.
    #[serde(default)]
    pub challenge_not_reflected: bool,
    /// Every HTML page shown on the way (login, consent) carries these headers.
    #[serde(default)]
    pub page_headers: BTreeMap<String, HeaderMatch>,
    /// Every HTML page shown on the way forbids framing: `X-Frame-Options` or a
    /// `Content-Security-Policy` with `frame-ancestors` (RFC 9700 §4.16).
    #[serde(default)]
    pub pages_not_frameable: bool,
    /// No redirect on the way answers a POST with one of these statuses.
    #[serde(default)]
    pub post_redirect_not: Vec<u16>,
    /// A consent page is shown on the way (RFC 8252 §8.6).
    #[serde(default)]
    pub consent_shown: bool,
    /// No page is shown on the way: the request is answered with a redirect to the client
    /// (OpenID Connect Core §3.1.2.1 `prompt=none`). Needs a driver that walks the pages.
    #[serde(default)]
    pub no_page: bool,
    /// A redirect to a client goes to the flow's own redirect URI (the registered one, or the
    /// one the request object signs) and nowhere else: a code or an error sent to a
    /// `redirect_uri` set beside the request object fails the check before a refusal is
    /// weighed (RFC 9101 §6.3).
    #[serde(default)]
    pub to_flow_redirect_uri: bool,
    /// If the server refuses the request (error redirect or error page), the scenario passes
    /// here, for this reason: the attack the later steps try is stopped earlier.
    pub refusal_passes: Option<String>,
    /// The request only provokes the refusal whose details the other expectations judge: when
    /// the server does not refuse it, those details cannot be observed, and the check is
    /// skipped saying what came instead (never a finding of what was not seen).
    #[serde(default)]
    pub provocation: bool,
    /// If the server refuses the request (and the correct request succeeds), the scenario is
    /// skipped for this reason: what the later steps judge was never reached, and the refusal
    /// itself is another scenario's finding.
    pub refusal_skips: Option<String>,
}

impl Default for AuthorizeExpect {
    fn default() -> Self {
        Self {
            outcome: AuthOutcome::Code,
            error: None,
            state_echoed: false,
            iss: false,
            jarm: false,
            error_format: false,
            challenge_not_reflected: false,
            page_headers: BTreeMap::new(),
            pages_not_frameable: false,
            post_redirect_not: Vec::new(),
            consent_shown: false,
            no_page: false,
            to_flow_redirect_uri: false,
            refusal_passes: None,
            provocation: false,
            refusal_skips: None,
        }
    }
}

/// How an authorization request ends.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum AuthOutcome {
    /// Redirected to the client with a code.
    #[default]
    Code,
    /// Redirected to the client with an error (AE-redirect).
    ErrorRedirect,
    /// An error page, and no redirect to the client (AE-page; RFC 6749 §3.1.2.4).
    ErrorPage,
    /// Either kind of refusal; never a code.
    Refused,
}

/// What an HTTP response must show. Checks run strongest first: status, then error, then the
/// rest, and the first that fails is reported alone.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    /// Acceptable status codes.
    pub status: Option<OneOrMany<u16>>,
    /// Acceptable OAuth `error` values of a JSON error body.
    pub error: Option<OneOrMany<String>>,
    /// The error body follows RFC 6749 §5.2 (JSON, registered code, charset).
    #[serde(default)]
    pub error_format: bool,
    /// RFC 6749 §5.2: when the request authenticated the client with the `Authorization`
    /// header, the answer is 401 with a `WWW-Authenticate` challenge for the same scheme; when
    /// it did not, nothing more is required.
    #[serde(default)]
    pub auth_challenge: bool,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderMatch>,
    /// Response headers asked only of an answer that served the request (2xx): what a served
    /// response must carry where a refusal carries nothing to protect (RFC 6750 §2.3).
    #[serde(default)]
    pub served_headers: BTreeMap<String, HeaderMatch>,
    /// Fields of a JSON body.
    #[serde(default)]
    pub json: BTreeMap<String, JsonMatch>,
}

impl HttpExpect {
    /// Whether every status the expectation accepts is an error: the step expects a refusal.
    pub fn expects_refusal(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| !s.0.is_empty() && s.0.iter().all(|&c| c >= 400))
    }

    /// The security property of an expected refusal: what must not be in the answer (the
    /// `json` fields), without the refusal's form (status, error code, format, headers).
    pub fn property(&self) -> Self {
        Self {
            json: self.json.clone(),
            ..Self::default()
        }
    }

    /// A 200, nothing more: what RFC 7009 §2.2 answers a revocation.
    pub fn ok() -> Self {
        Self {
            status: Some(OneOrMany(vec![200])),
            ..Self::default()
        }
    }

    /// 200 with a string `access_token`: a successful token response. (`token_type` is left to
    /// the response-format scenario, so one missing field is one finding, not dozens.)
    pub fn token_success() -> Self {
        let mut json = BTreeMap::new();
        json.insert("access_token".to_owned(), JsonMatch::String);
        Self {
            status: Some(OneOrMany(vec![200])),
            json,
            ..Self::default()
        }
    }
}

/// A header check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeaderMatch {
    /// The header is present.
    Present,
    /// The header is absent.
    Absent,
    /// The value contains this, case-insensitively.
    Contains(String),
    /// Some value of the header contains one of these, case-insensitively.
    ContainsAny(Vec<String>),
}

/// A JSON field check.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JsonMatch {
    /// The field is present and not null.
    Present,
    /// The field is absent or null.
    Absent,
    /// The field is a non-empty string: a token of the wrong JSON type is no token.
    String,
    /// The field equals this value (templates allowed in strings).
    Equals(serde_json::Value),
    /// The field is an array that contains this value.
    Contains(serde_json::Value),
    /// The field is an array that does not contain this value.
    NotContains(serde_json::Value),
    /// The field is an array that contains one of these values.
    ContainsAny(Vec<serde_json::Value>),
    /// The field is absent (an optional list left out), or an array that contains one of these
    /// values.
    AbsentOrContainsAny(Vec<serde_json::Value>),
    /// The field is the `keys` of a JWK Set, every one public: no private member (`d`, `p`,
    /// `q`, `dp`, `dq`, `qi`, `oth`) and no symmetric key (`kty` `oct`, `k`).
    PublicKeys,
}
