//! What goes over the wire, as data: a request to send and the response that came back. No
//! I/O here: the engine sends requests, the judges in [`crate::checks`] read responses, and
//! neither needs the other to do so.

use url::Url;

/// An HTTP method a scenario may use. A closed set: a typo in a scenario file is a load error,
/// not a request the server answers with 405.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
    /// OPTIONS
    Options,
}

impl HttpMethod {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
            Self::Options => "OPTIONS",
        }
    }
}

impl std::fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Same scheme, host, port and path: a redirect to this URL reaches that redirect URI.
pub fn same_endpoint(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
        && a.path() == b.path()
}

/// The URL without query or fragment, for messages (the query may hold secrets).
pub fn without_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    without_userinfo(&u)
}

/// The URL without user name and password: a target URL may carry credentials in its userinfo,
/// and no message or report ever shows them.
pub fn without_userinfo(url: &Url) -> String {
    let mut u = url.clone();
    // Fails only for URLs that cannot have userinfo, which then have none to remove.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// Who sends a request: the user agent (the browser, with its cookies) or the client's own
/// back end, whose requests to the token, userinfo and introspection endpoints never carry the
/// browser's cookies. A server may refuse a back-channel call that carries a browser session;
/// sending one would make refusals prove nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Channel {
    /// The browser: the authorization request, login and consent pages.
    Front,
    /// The client's back end: discovery, token, userinfo, introspection.
    #[default]
    Back,
}

/// A TLS client certificate a back-channel request presents (RFC 8705: mutual-TLS client
/// authentication and certificate-bound tokens): the certificate (chain) and its private key as
/// PEM, named by the certificate's SHA-256 thumbprint (`x5t#S256`). `Debug` shows the
/// thumbprint only.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// The certificate, then any intermediates, PEM.
    pub cert_pem: String,
    key_pem: String,
    /// `x5t#S256`: base64url of the SHA-256 of the first certificate's DER.
    pub thumbprint: String,
}

impl ClientIdentity {
    /// An identity from its PEM texts and the thumbprint its loader worked out.
    pub fn new(cert_pem: String, key_pem: String, thumbprint: String) -> Self {
        Self {
            cert_pem,
            key_pem,
            thumbprint,
        }
    }

    /// The private key, PEM: only for the TLS stack.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientIdentity(x5t#S256={})", self.thumbprint)
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// Front or back channel; back by default.
    pub channel: Channel,
    /// GET, POST, ...
    pub method: HttpMethod,
    /// Where.
    pub url: Url,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Body>,
    /// The TLS client certificate to present (back channel only), if any.
    pub identity: Option<std::sync::Arc<ClientIdentity>>,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `application/x-www-form-urlencoded`.
    Form(String),
    /// `application/json` (scripted logins talk to JSON APIs).
    Json(serde_json::Value),
}

impl Request {
    /// A GET of `url`.
    pub fn get(url: Url) -> Self {
        Self {
            channel: Channel::Back,
            method: HttpMethod::Get,
            url,
            headers: Vec::new(),
            body: None,
            identity: None,
        }
    }
    /// A POST of a form body.
    pub fn post_form(url: Url, form: String) -> Self {
        Self {
            channel: Channel::Back,
            method: HttpMethod::Post,
            url,
            headers: Vec::new(),
            body: Some(Body::Form(form)),
            identity: None,
        }
    }
    /// The form body, if the body is a form.
    pub fn form(&self) -> Option<&str> {
        match &self.body {
            Some(Body::Form(f)) => Some(f),
            _ => None,
        }
    }
    /// The same request, sent by the browser (with its cookies).
    pub fn in_browser(self) -> Self {
        Self {
            channel: Channel::Front,
            ..self
        }
    }
}

/// A response as received (body decoded lossily as UTF-8).
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers with lower-case names, in order, repeats kept.
    pub headers: Vec<(String, String)>,
    /// The body, up to [`Limits::max_body`].
    pub body: String,
    /// Whether the body was cut.
    pub truncated: bool,
    /// Whether the body was not valid UTF-8 (and `body` holds replacement characters).
    pub invalid_utf8: bool,
}

impl Response {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Every value of a header.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The body as JSON, if it is JSON. Bytes that are not UTF-8 are not JSON (RFC 8259 §8.1),
    /// so a lossily decoded body never yields a value.
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.invalid_utf8 {
            return None;
        }
        serde_json::from_str(&self.body).ok()
    }
    /// The OAuth `error` member of a JSON body (RFC 6749 §5.2), if it has a string one.
    pub fn oauth_error(&self) -> Option<String> {
        self.json()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
    }
    /// Whether this is a redirect.
    pub fn is_redirect(&self) -> bool {
        (300..400).contains(&self.status)
    }
}

/// A request that got no usable response.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HttpError {
    /// The client could not be set up (a CA certificate that does not parse, a TLS setting).
    #[error("{reason}")]
    Setup {
        /// Why.
        reason: String,
    },
    /// Could not connect or send.
    #[error("{method} {url}: {reason}")]
    Send {
        /// Method.
        method: String,
        /// URL without query.
        url: String,
        /// Why.
        reason: String,
    },
    /// Not sent: the URL is on an origin the target file does not name (a redirect, a form
    /// action, a login step's URL or a value it extracted pointed there).
    #[error(
        "{method} {url}: not sent: {origin} is not an origin the target file names ({allowed}); add it to trusted_origins if it is the server's"
    )]
    ForeignOrigin {
        /// Method.
        method: String,
        /// URL without query.
        url: String,
        /// Its origin.
        origin: String,
        /// The origins the target file names.
        allowed: String,
    },
    /// No complete response within the limit.
    #[error("{method} {url}: no complete response within {seconds:.1} s")]
    Timeout {
        /// Method.
        method: String,
        /// URL without query.
        url: String,
        /// The limit.
        seconds: f64,
    },
}
