//! Target files: where the authorization server is, which clients to use, what it claims about
//! its own policy, and how to get past its login and consent pages.
//!
//! Secrets are written as `${env:NAME}` and read from the environment while the file loads, so a
//! target file can be committed. Unknown keys are errors, as in scenario files.

use serde::Deserialize;
use serde::de::{self, Deserializer};
use url::Url;

use crate::diagnostics::{LoadError, Node, at_node, parse_yaml, spans};
use crate::redact::Secret;
use crate::scenario::model::{ClientKind, FormatVersion, JarmMode};

mod login;
mod origins;
pub use login::*;
pub use origins::OriginPolicy;

/// A target file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// The format version; only `1` exists.
    pub format: FormatVersion,
    /// A name for reports.
    #[serde(default)]
    pub name: Option<String>,
    /// The issuer, exactly as the server spells it: metadata is fetched from its RFC 8414 /
    /// OpenID well-known URLs, and `issuer` and `iss` must equal it byte for byte.
    pub issuer: Option<ConfigString>,
    /// Where the metadata document is, when not at the RFC 8414 or OpenID well-known URL
    /// derived from the issuer.
    #[serde(default)]
    pub metadata_url: Option<ConfigUrl>,
    /// Endpoints given explicitly; each wins over discovery.
    #[serde(default)]
    pub endpoints: Endpoints,
    /// The clients; leave them out with `register: true`, and the harness registers its own.
    #[serde(default)]
    pub clients: Option<Clients>,
    /// Dynamic client registration (RFC 7591): the harness registers the clients it needs at
    /// the metadata's `registration_endpoint` before the run, each with the redirect URI
    /// `registration.redirect_uri`, and deletes them afterwards where the server lets it
    /// (RFC 7592). Instead of `clients`.
    #[serde(default)]
    pub register: bool,
    /// How `register: true` registers.
    #[serde(default)]
    pub registration: Registration,
    /// What the server claims about itself; checked on top of the specification minimums.
    #[serde(default)]
    pub policy: Policy,
    /// How to get past login and consent.
    pub login: LoginConfig,
    /// The `scope` to request; none by default (`openid` is added in OpenID flows).
    #[serde(default)]
    pub scope: Option<ConfigString>,
    /// OpenID Connect: whether flows are OpenID flows (ID Tokens checked), and how.
    #[serde(default)]
    pub openid: OpenIdConfig,
    /// Pushed authorization requests (RFC 9126): `required` (every request is pushed; the
    /// server refuses others), `used` (every request is pushed), `unused`; by default pushed
    /// when the metadata says `require_pushed_authorization_requests`.
    #[serde(default)]
    pub par: Option<ParUse>,
    /// DPoP (RFC 9449): every flow gets a key, its code is bound with `dpop_jkt`, and its token
    /// requests and resource calls carry proofs. Off by default (scenarios about DPoP use it
    /// wherever the metadata says the server takes proofs).
    #[serde(default)]
    pub dpop: bool,
    /// JWT-secured authorization requests (RFC 9101): every authorization request of a client
    /// with a signing key (`private_key_jwt`, `client_secret_jwt`) travels as a request object
    /// signed with it, on the front channel or pushed. Off by default (scenarios about request
    /// objects use them wherever the metadata says `request_parameter_supported`).
    #[serde(default)]
    pub request_object: bool,
    /// JWT-secured authorization responses (JARM): the `response_mode` every authorization
    /// request sends (`jwt`, `query.jwt`, `fragment.jwt`, `form_post.jwt`), so every check
    /// reads the code out of the signed response. None by default (scenarios about JARM use it
    /// wherever the metadata lists `jwt` among `response_modes_supported`).
    #[serde(default)]
    pub response_mode: Option<JarmMode>,
    /// The `aud` of client assertions: `issuer` or `token-endpoint`. By default the issuer
    /// under the `fapi2` profile (FAPI 2.0 requires it) and the token endpoint otherwise.
    #[serde(default)]
    pub assertion_audience: Option<AssertionAudience>,
    /// The client's own web host, for the checks where the server fetches from a client (OpenID
    /// Connect): the JWK Set of a registered `jwks_uri`, the list of a `sector_identifier_uri`,
    /// a request object by reference (`request_uri`). The harness serves them itself, during
    /// the run, only what a client publishes (public keys, URI lists, request objects). Off by
    /// default; those checks are skipped without it. `{}` listens on a loopback port, which a
    /// server on this machine reaches.
    #[serde(default)]
    pub client_host: Option<ClientHostConfig>,
    /// The addresses of the token endpoint's host, one per node of a cluster behind it
    /// (`[10.0.0.11, 10.0.0.12]`), for the races spread over them: a code or refresh token
    /// spent at one node must be spent at every other. By default every address the host
    /// resolves to; a cluster that DNS names by one address lists its nodes here.
    #[serde(default)]
    pub token_addresses: Vec<std::net::IpAddr>,
    /// Origins besides the issuer's, the metadata URL's and the explicit endpoints' that the
    /// harness may send to (`https://login.example.com`): an endpoint that discovery puts on
    /// another host, a login page of an external identity provider. None by default, so no
    /// metadata document, redirect, form or script sends credentials or passwords elsewhere.
    #[serde(default)]
    pub trusted_origins: Vec<ConfigUrl>,
    /// The value of every `${env:NAME}` the file uses whose name says it is secret (`SECRET`,
    /// `PASSWORD`, `TOKEN`, `KEY`, ... in it), wherever it is used. Values in secret fields are
    /// secrets whatever their variable is called; a `${env:PORT}` in a URL is not.
    #[serde(skip)]
    #[schemars(skip)]
    pub env_secrets: Vec<Secret>,
    /// Where the settings a check exercises are written (`issuer`, `endpoints`,
    /// `clients.public`, ...: the line of the value), so a finding in a code-scanning report
    /// points at the line that set it up. Empty for a file made in memory.
    #[serde(skip)]
    #[schemars(skip)]
    pub lines: std::collections::BTreeMap<String, u64>,
}

impl TargetFile {
    /// Every secret the file holds: client secrets and keys, the initial access token, every
    /// login value but the user name (a password field need not be called `password`), the password of any URL's
    /// userinfo, and the values of environment variables named as secrets.
    pub fn secrets(&self) -> Vec<String> {
        let clients = self
            .clients
            .iter()
            .flat_map(Clients::all)
            .flat_map(|c| {
                [
                    c.client_secret.as_ref().map(|s| s.0.expose()),
                    c.private_key.as_ref().map(|s| s.0.expose()),
                    c.tls_key.as_ref().map(|s| s.0.expose()),
                ]
            })
            .flatten();
        let passwords: Vec<String> = self
            .urls()
            .into_iter()
            .filter_map(|u| u.password().map(str::to_owned))
            .flat_map(|p| {
                // As written, and decoded (messages may show either).
                let decoded = percent_encoding::percent_decode_str(&p)
                    .decode_utf8_lossy()
                    .into_owned();
                [p, decoded]
            })
            .collect();
        let registration = self.registration.initial_access_token.as_ref();
        clients
            .chain(registration.map(|t| t.0.expose()))
            .chain(self.login.values())
            .chain(self.env_secrets.iter().map(Secret::expose))
            .map(str::to_owned)
            .chain(passwords)
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Every URL the file names for the server: the issuer, the metadata URL, the explicit
    /// endpoints and `trusted_origins`, in that order.
    pub fn urls(&self) -> Vec<Url> {
        let e = &self.endpoints;
        [self.issuer.as_ref().and_then(|i| Url::parse(&i.0).ok())]
            .into_iter()
            .chain([self.metadata_url.as_ref().map(|u| u.0.clone())])
            .chain(
                [
                    &e.authorization,
                    &e.token,
                    &e.userinfo,
                    &e.introspection,
                    &e.revocation,
                    &e.par,
                ]
                .into_iter()
                .map(|u| u.as_ref().map(|u| u.0.clone())),
            )
            .chain(self.trusted_origins.iter().map(|u| Some(u.0.clone())))
            .flatten()
            .collect()
    }

    /// Warnings about the file that do not stop a run: secrets so short that masking them in
    /// evidence also masks ordinary text, and that a server should not have accepted.
    pub fn warnings(&self) -> Vec<String> {
        self.secrets()
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter(|s| s.chars().count() < 8)
            .map(|s| {
                format!(
                    "a secret of {} characters ({}) is weak, and every occurrence of it in evidence is masked",
                    s.chars().count(),
                    crate::redact::fingerprint(&s)
                )
            })
            .collect()
    }
}

/// Whether an environment variable's name says its value is secret.
fn names_a_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    [
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PWD",
        "TOKEN",
        "KEY",
        "CREDENTIAL",
        "PIN",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// The values of the environment variables `text` names as `${env:NAME}` (unset ones are
/// refused by the loader before this matters).
fn env_values(text: &str) -> Vec<Secret> {
    text.split("${env:")
        .skip(1)
        .filter_map(|rest| rest.split_once('}'))
        .filter(|(name, _)| names_a_secret(name))
        .filter_map(|(name, _)| std::env::var(name).ok())
        .filter(|v| !v.is_empty())
        .map(Secret::new)
        .collect()
}

/// Explicit endpoints.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// The authorization endpoint.
    pub authorization: Option<ConfigUrl>,
    /// The token endpoint.
    pub token: Option<ConfigUrl>,
    /// The userinfo or protected resource endpoint.
    pub userinfo: Option<ConfigUrl>,
    /// The RFC 7662 introspection endpoint.
    pub introspection: Option<ConfigUrl>,
    /// The RFC 7009 revocation endpoint.
    pub revocation: Option<ConfigUrl>,
    /// The RFC 9126 pushed authorization request endpoint.
    pub par: Option<ConfigUrl>,
}

/// The clients the scenarios use.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clients {
    /// A public client (no secret).
    pub public: ClientConfig,
    /// A confidential client.
    pub confidential: ClientConfig,
    /// A second confidential client, for cross-client checks.
    pub confidential2: Option<ClientConfig>,
}

impl Clients {
    /// The client of a kind, if configured.
    pub fn get(&self, kind: ClientKind) -> Option<&ClientConfig> {
        match kind {
            ClientKind::Public => Some(&self.public),
            ClientKind::Confidential => Some(&self.confidential),
            ClientKind::Confidential2 => self.confidential2.as_ref(),
        }
    }

    /// Every configured client: public, confidential, then confidential2 if there is one.
    pub fn all(&self) -> impl Iterator<Item = &ClientConfig> {
        [Some(&self.public), Some(&self.confidential)]
            .into_iter()
            .chain([self.confidential2.as_ref()])
            .flatten()
    }
}

/// One client.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// `client_id`.
    pub client_id: ConfigString,
    /// `client_secret`, for confidential clients; write `${env:NAME}`.
    pub client_secret: Option<ConfigSecret>,
    /// How it authenticates at the token endpoint.
    #[serde(default)]
    pub auth_method: AuthMethod,
    /// Its registered redirect URI (the one the scenarios use).
    pub redirect_uri: RedirectUri,
    /// More redirect URIs are registered for it besides `redirect_uri` (RFC 6749 §3.1.2.3: the
    /// request must then name one).
    #[serde(default)]
    pub several_redirect_uris: bool,
    /// For `private_key_jwt`: the private key, PEM (PKCS#8 or PKCS#1) or a private JWK; write
    /// `${env:NAME}`. `pkce-harness keygen` makes one and prints the public JWKS to register.
    pub private_key: Option<ConfigSecret>,
    /// For `private_key_jwt`: a file holding the private key, relative to the target file.
    pub private_key_file: Option<std::path::PathBuf>,
    /// The JWS algorithm of client assertions (`ES256`, `PS256`, `RS256`, `EdDSA`, `HS256`...);
    /// by default the key's own (`ES256`, `EdDSA`, `RS256`; `HS256` for `client_secret_jwt`).
    pub signing_alg: Option<String>,
    /// The key client assertions are signed with, read while the file loads.
    #[serde(skip)]
    #[schemars(skip)]
    pub signing_key: Option<std::sync::Arc<crate::jose::SigningKey>>,
    /// For `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705): the client's TLS
    /// certificate, PEM (then any intermediates); write `${env:NAME}`.
    pub tls_certificate: Option<ConfigString>,
    /// The private key of `tls_certificate`, PEM; write `${env:NAME}`.
    pub tls_key: Option<ConfigSecret>,
    /// The certificate and key, read while the file loads.
    #[serde(skip)]
    #[schemars(skip)]
    pub tls_identity: Option<std::sync::Arc<crate::wire::ClientIdentity>>,
}

impl ClientConfig {
    /// A client the harness made itself (registered, RFC 7591): its id, method and redirect
    /// URI, nothing else set.
    pub fn made(client_id: String, auth_method: AuthMethod, redirect_uri: RedirectUri) -> Self {
        Self {
            client_id: ConfigString(client_id),
            client_secret: None,
            auth_method,
            redirect_uri,
            several_redirect_uris: false,
            private_key: None,
            private_key_file: None,
            signing_alg: None,
            signing_key: None,
            tls_certificate: None,
            tls_key: None,
            tls_identity: None,
        }
    }

    /// Its secret's octets, the HMAC key of what it signs or verifies with it (OpenID Connect
    /// Core §10.1); empty for a client without one.
    pub fn secret_bytes(&self) -> &[u8] {
        self.client_secret
            .as_ref()
            .map_or(&[][..], |s| s.0.expose().as_bytes())
    }

    /// Whether the client authenticates with a JWT assertion (RFC 7523).
    pub fn uses_assertion(&self) -> bool {
        matches!(
            self.auth_method,
            AuthMethod::PrivateKeyJwt | AuthMethod::ClientSecretJwt
        )
    }
}

/// Where the client host listens, and the URL the server is told.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientHostConfig {
    /// The address it listens on: `127.0.0.1:0` (a free loopback port) by default. Any other
    /// address publishes the documents to whoever reaches it.
    #[serde(default = "loopback_any_port")]
    pub listen: std::net::SocketAddr,
    /// The URL the server fetches from, where it reaches the host another way (a tunnel, a
    /// proxy with TLS): `http://` and the listening address by default.
    #[serde(default)]
    pub base_url: Option<ConfigUrl>,
}

fn loopback_any_port() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

/// How `register: true` registers the clients (RFC 7591).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// An initial access token, where the server accepts registrations only with one
    /// (RFC 7591 §3); write `${env:NAME}`.
    pub initial_access_token: Option<ConfigSecret>,
    /// The redirect URI registered for every client; `http://127.0.0.1:8765/callback` by
    /// default (the harness never listens there: it reads the redirect).
    pub redirect_uri: Option<RedirectUri>,
    /// How the two confidential clients authenticate: `client_secret_basic` and
    /// `client_secret_post` (secrets the server issues) by default, or `private_key_jwt` (a
    /// fresh key per run, its public half registered as `jwks`).
    #[serde(default)]
    pub confidential: RegisteredAuth,
}

/// How registered confidential clients authenticate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegisteredAuth {
    /// `client_secret_basic` and `client_secret_post`, with the secrets the server issues.
    #[default]
    ClientSecret,
    /// `private_key_jwt`, with an ES256 key the harness makes for the run.
    PrivateKeyJwt,
}

/// How a target uses pushed authorization requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParUse {
    /// The server requires them: every request is pushed, and plain ones must be refused.
    Required,
    /// Every request is pushed; the server also takes plain ones.
    Used,
    /// Requests go on the front channel (scenarios may still push).
    Unused,
}

/// What a client assertion names as its audience (`aud`). RFC 7523 §3 lets a server take its
/// token endpoint URL or its issuer; FAPI 2.0 (final) takes the issuer alone, against audience
/// injection, and some servers take only the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AssertionAudience {
    /// The issuer identifier, as a single string.
    Issuer,
    /// The token endpoint URL.
    TokenEndpoint,
}

/// OpenID Connect settings.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct OpenIdConfig {
    /// `true`: every flow is an OpenID flow (scope `openid`, a `nonce`, an ID Token expected);
    /// `false`: never; unset: when the metadata is an OpenID Provider's
    /// (`id_token_signing_alg_values_supported`, or `openid` in `scopes_supported`).
    pub enabled: Option<bool>,
    /// How far `iat` and `exp` may be off the harness's clock, in seconds (0 to 600).
    #[serde(deserialize_with = "crate::bounds::clock_skew")]
    #[schemars(range(max = 600))]
    pub clock_skew_seconds: u64,
}

impl Default for OpenIdConfig {
    fn default() -> Self {
        Self {
            enabled: None,
            clock_skew_seconds: 60,
        }
    }
}

/// RFC 7591 `token_endpoint_auth_method` values the harness speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// Public client: `client_id` in the body, no secret.
    #[default]
    None,
    /// HTTP Basic (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the body.
    ClientSecretPost,
    /// A JWT assertion signed with the client's private key (RFC 7523 §2.2, OpenID Connect
    /// Core §9).
    PrivateKeyJwt,
    /// A JWT assertion signed with HMAC over the client secret (OpenID Connect Core §9).
    ClientSecretJwt,
    /// Mutual TLS with a certificate from a PKI, matched by its subject (RFC 8705 §2.1).
    TlsClientAuth,
    /// Mutual TLS with a self-signed certificate, matched by its registered key (RFC 8705 §2.2).
    SelfSignedTlsClientAuth,
}

impl AuthMethod {
    /// The RFC 7591 name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
        }
    }

    /// Whether the client authenticates with its TLS certificate (RFC 8705 §2).
    pub fn is_mtls(self) -> bool {
        matches!(self, Self::TlsClientAuth | Self::SelfSignedTlsClientAuth)
    }
}

/// What the server claims. Defaults are the RFC 9700 position.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// PKCE is required for confidential clients too.
    pub pkce_required_confidential: bool,
    /// The `plain` method is accepted.
    pub plain_allowed: bool,
    /// Codes expire after this many seconds (RFC 6749 §4.1.2 recommends at most 600); above 0,
    /// at most 3600.
    #[serde(deserialize_with = "crate::bounds::code_lifetime")]
    #[schemars(range(max = 3600))]
    pub code_lifetime_seconds: f64,
    /// Refresh tokens are issued to the public client: the refresh-token checks run with it
    /// (skipped when false). `check` compares this with what the normal flow got.
    pub refresh_tokens_public: bool,
    /// Refresh tokens are issued to the confidential clients: the refresh-token checks run
    /// with them (skipped when false). `check` compares this with what the normal flows got.
    pub refresh_tokens_confidential: bool,
    /// How long the server may keep a client's JWK Set (fetched from its registered
    /// `jwks_uri`) before an unknown `kid` must make it fetch the set again, in seconds, at
    /// most 3600: 60 by default, the wait the OpenID Foundation's suite allows, since servers
    /// limit how often they fetch a client's URL. A rotated key refused within it is tried
    /// again once it is over (a wait off the scenario's clock).
    #[serde(deserialize_with = "crate::bounds::cache_seconds")]
    #[schemars(range(max = 3600))]
    pub client_jwks_cache_seconds: f64,
    /// A client that authenticates may push a redirect URI it did not register (RFC 9126 §2.4
    /// lets a server allow it): the check that a pushed unregistered redirect URI is refused
    /// then runs with the public client alone, which pushes unauthenticated.
    pub pushed_redirect_uris_unregistered: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            pkce_required_confidential: false,
            plain_allowed: false,
            code_lifetime_seconds: 600.0,
            refresh_tokens_public: false,
            refresh_tokens_confidential: false,
            client_jwks_cache_seconds: 60.0,
            pushed_redirect_uris_unregistered: false,
        }
    }
}

impl Policy {
    /// Whether refresh tokens are declared for this client, and the key that declares it, so
    /// a message about a missing (or unexpected) refresh token names what to change.
    pub fn refresh_tokens_for(&self, client: ClientKind) -> (bool, &'static str) {
        match client {
            ClientKind::Public => (self.refresh_tokens_public, "policy.refresh_tokens_public"),
            ClientKind::Confidential | ClientKind::Confidential2 => (
                self.refresh_tokens_confidential,
                "policy.refresh_tokens_confidential",
            ),
        }
    }
}

/// A string in which `${env:NAME}` is replaced from the environment while loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigString(pub String);

/// A [`ConfigString`] kept as a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSecret(pub Secret);

/// A [`ConfigString`] that must be an absolute `http` or `https` URL without fragment: an
/// endpoint (RFC 6749 §3.1, §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigUrl(pub Url);

/// A [`ConfigString`] that must be an absolute URL without fragment (RFC 6749 §3.1.2). Any
/// scheme: native apps register their own (RFC 8252 §7.1), and the harness never listens there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(pub Url);

/// Why a setting is not the absolute URL it must be; the URL is shown without its userinfo.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// Not a URL, or a relative one.
    #[error("{shown:?} is not an absolute URL: {source}")]
    NotAbsolute {
        /// The value, without userinfo.
        shown: String,
        /// What the URL parser said.
        source: url::ParseError,
    },
    /// A fragment, which a redirect URI must not have.
    #[error("{0:?} has a fragment; RFC 6749 §3.1.2 forbids one")]
    Fragment(String),
}

fn absolute_url(s: &str) -> Result<Url, UrlError> {
    let url = Url::parse(s).map_err(|source| UrlError::NotAbsolute {
        shown: shown(s),
        source,
    })?;
    if url.fragment().is_some() {
        return Err(UrlError::Fragment(shown(s)));
    }
    Ok(url)
}

/// A URL for a message: without its userinfo, which may hold a password.
fn shown(s: &str) -> String {
    match Url::parse(s) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => s.to_owned(),
    }
}

/// Why a `${...}` substitution could not be made. A value is never part of the message, only
/// the variable's name: the value may be a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolateError {
    /// `${` without its `}`.
    #[error("unclosed ${{ in {0:?}")]
    Unclosed(String),
    /// Something else than `${env:NAME}`.
    #[error("unknown substitution ${{{0}}}: only ${{env:NAME}} exists")]
    Unknown(String),
    /// The variable is not set.
    #[error("environment variable {0} is not set (used as ${{env:{0}}})")]
    Unset(String),
}

/// Every `${env:NAME}` outside a comment whose variable is not set, with its line and column
/// (1-based), so a user sets them all at once rather than learning one per run. One alone is
/// left to the loader, which points at its field.
fn unset_variables(text: &str) -> Vec<(String, u64, u64)> {
    let mut found = Vec::new();
    for (i, l) in crate::diagnostics::yaml_lines(text).enumerate() {
        let code = &l[..comment_start(l)];
        let mut from = 0;
        while let Some(at) = code[from..].find("${env:").map(|a| a + from) {
            let name_at = at + "${env:".len();
            let Some(end) = code[name_at..].find('}') else {
                break;
            };
            let name = &code[name_at..name_at + end];
            if std::env::var_os(name).is_none() {
                let column = code[..at].chars().count() + 1;
                found.push((name.to_owned(), i as u64 + 1, column as u64));
            }
            from = name_at + end;
        }
    }
    found
}

/// Where a YAML comment starts on `line` (its length when it has none): a `#` at the start or
/// after white space, outside quotes.
fn comment_start(line: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut before = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') if before.is_whitespace() => return i,
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        before = c;
    }
    line.len()
}

/// Replaces each `${env:NAME}` in `s` with the variable's value.
pub fn interpolate(s: &str) -> Result<String, InterpolateError> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| InterpolateError::Unclosed(s.to_owned()))?;
        let var = &after[..end];
        let name = var
            .strip_prefix("env:")
            .ok_or_else(|| InterpolateError::Unknown(var.to_owned()))?;
        let value = std::env::var(name).map_err(|_| InterpolateError::Unset(name.to_owned()))?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl<'de> Deserialize<'de> for ConfigString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        interpolate(&String::deserialize(d)?)
            .map(Self)
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for ConfigSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The error names the variable, never the value.
        interpolate(&String::deserialize(d)?)
            .map(|s| Self(Secret::new(s)))
            .map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for ConfigUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = interpolate(&String::deserialize(d)?).map_err(de::Error::custom)?;
        let url = absolute_url(&s).map_err(de::Error::custom)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(de::Error::custom(format!(
                "{:?} is not an http or https URL; endpoints are reached over HTTP",
                shown(&s)
            )));
        }
        Ok(Self(url))
    }
}

impl<'de> Deserialize<'de> for RedirectUri {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = interpolate(&String::deserialize(d)?).map_err(de::Error::custom)?;
        absolute_url(&s).map(Self).map_err(de::Error::custom)
    }
}

/// The nodes a target file's cross-field rules point at.
#[derive(Default, Deserialize)]
struct TargetSpans {
    issuer: Node,
    endpoints: Node,
    register: Node,
    #[serde(default)]
    clients: ClientSpans,
}

#[derive(Default, Deserialize)]
struct ClientSpans {
    public: Node,
    confidential: Node,
    confidential2: Node,
}

impl TargetSpans {
    /// The lines of the nodes that are there, by key path.
    fn lines(&self) -> std::collections::BTreeMap<String, u64> {
        [
            ("issuer", &self.issuer),
            ("endpoints", &self.endpoints),
            ("clients.public", &self.clients.public),
            ("clients.confidential", &self.clients.confidential),
            ("clients.confidential2", &self.clients.confidential2),
        ]
        .into_iter()
        .filter_map(|(key, node)| Some((key.to_owned(), node.as_ref()?.referenced.line())))
        .collect()
    }
}

/// The key fields of the confidential clients, which errors about their keys point at.
#[derive(Default, Deserialize)]
struct KeySpans {
    #[serde(default)]
    clients: ClientKeySpans,
}

#[derive(Default, Deserialize)]
struct ClientKeySpans {
    #[serde(default)]
    confidential: KeyFieldSpans,
    #[serde(default)]
    confidential2: KeyFieldSpans,
}

#[derive(Default, Deserialize)]
struct KeyFieldSpans {
    private_key: Node,
    private_key_file: Node,
    signing_alg: Node,
}

/// A confidential client's mapping and its key fields.
struct ClientSpan<'a> {
    node: &'a Node,
    keys: &'a KeyFieldSpans,
}

/// Parses a target file and checks what the types cannot.
pub fn parse_target(file: &str, text: &str) -> Result<TargetFile, LoadError> {
    let unset = unset_variables(text);
    if let [(_, line, column), _, ..] = unset[..] {
        let named: Vec<String> = unset
            .iter()
            .map(|(name, line, _)| format!("{name} (line {line})"))
            .collect();
        return Err(crate::diagnostics::located(
            file,
            text,
            line,
            column,
            format!(
                "{} environment variables the file uses as ${{env:NAME}} are not set: {}",
                unset.len(),
                named.join(", ")
            ),
        ));
    }
    let mut t: TargetFile = parse_yaml(file, text)?;
    t.env_secrets = env_values(text);
    let nodes: TargetSpans = spans(text);
    t.lines = nodes.lines();
    let fail = |node: &Node, message: &str| Err(at_node(file, text, node, message.to_owned()));
    if let Some(issuer) = &t.issuer {
        match Url::parse(&issuer.0) {
            Err(e) => {
                return fail(
                    &nodes.issuer,
                    &format!("issuer {:?} is not an absolute URL: {e}", shown(&issuer.0)),
                );
            }
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                return fail(
                    &nodes.issuer,
                    &format!("issuer {:?} is not an http or https URL", shown(&issuer.0)),
                );
            }
            Ok(_) => {}
        }
    }
    if t.issuer.is_none()
        && t.metadata_url.is_none()
        && (t.endpoints.authorization.is_none() || t.endpoints.token.is_none())
    {
        return fail(
            &nodes.endpoints,
            "give an issuer (for discovery), a metadata_url, or both endpoints.authorization and endpoints.token",
        );
    }
    let base = std::path::Path::new(file)
        .parent()
        .unwrap_or(std::path::Path::new(""));
    let clients = match (t.clients.as_mut(), t.register) {
        (None, false) => {
            return fail(
                &nodes.endpoints,
                "give clients (public and confidential), or register: true to have the harness register its own (RFC 7591)",
            );
        }
        (Some(_), true) => {
            return fail(
                &nodes.register,
                "register: true registers the clients itself: remove clients, or remove register",
            );
        }
        (None, true) => return Ok(t),
        (Some(c), false) => c,
    };
    let keys: KeySpans = spans(text);
    for (kind, c, span) in [
        (
            "confidential",
            Some(&mut clients.confidential),
            ClientSpan {
                node: &nodes.clients.confidential,
                keys: &keys.clients.confidential,
            },
        ),
        (
            "confidential2",
            clients.confidential2.as_mut(),
            ClientSpan {
                node: &nodes.clients.confidential2,
                keys: &keys.clients.confidential2,
            },
        ),
    ] {
        let Some(c) = c else { continue };
        if let Err((node, message)) = signing_key(c, kind, &span, base) {
            return fail(node, &message);
        }
    }
    if clients.public.auth_method != AuthMethod::None || clients.public.client_secret.is_some() {
        return fail(
            &nodes.clients.public,
            "clients.public is a public client: no client_secret, auth_method none",
        );
    }
    Ok(t)
}

/// Checks a confidential client's credentials for its method and reads its assertion key.
fn signing_key<'n>(
    c: &mut ClientConfig,
    kind: &str,
    span: &ClientSpan<'n>,
    base: &std::path::Path,
) -> Result<(), (&'n Node, String)> {
    let method = c.auth_method;
    let has_key = c.private_key.is_some() || c.private_key_file.is_some();
    if method.is_mtls() || c.tls_certificate.is_some() || c.tls_key.is_some() {
        return tls_identity(c, kind, span);
    }
    let needs = match method {
        AuthMethod::None => Some(
            "a confidential client: auth_method client_secret_basic, client_secret_post, client_secret_jwt (with client_secret), private_key_jwt (with private_key or private_key_file), tls_client_auth or self_signed_tls_client_auth (with tls_certificate and tls_key)",
        ),
        AuthMethod::PrivateKeyJwt if !has_key => {
            Some("private_key_jwt needs private_key (PEM or JWK; ${env:NAME}) or private_key_file")
        }
        AuthMethod::PrivateKeyJwt => None,
        _ if c.client_secret.is_none() => Some("needs client_secret for its auth_method"),
        _ if has_key => Some(
            "a private key is used only with auth_method private_key_jwt: remove it or change the method",
        ),
        _ => None,
    };
    if let Some(why) = needs {
        return Err((span.node, format!("clients.{kind}: {why}")));
    }
    let alg = match &c.signing_alg {
        Some(name) => Some(name.parse::<crate::jose::Algorithm>().map_err(|_| {
            (
                &span.keys.signing_alg,
                format!(
                    "signing_alg {name:?} is not a JWS algorithm: RS256, PS256, ES256, EdDSA, HS256 (client_secret_jwt) ..."
                ),
            )
        })?),
        None => None,
    };
    let key = match method {
        AuthMethod::ClientSecretJwt => {
            let secret = c.client_secret.as_ref().map(|s| s.0.expose()).unwrap_or("");
            crate::jose::SigningKey::hmac(secret.as_bytes(), alg)
                .map_err(|e| (&span.keys.signing_alg, format!("clients.{kind}: {e}")))?
        }
        AuthMethod::PrivateKeyJwt => {
            let (text, node) = match (&c.private_key, &c.private_key_file) {
                (Some(k), None) => (k.0.expose().to_owned(), &span.keys.private_key),
                (None, Some(path)) => {
                    let full = base.join(path);
                    let text = crate::diagnostics::read_text(&full, 64 * 1024).map_err(|e| {
                        (
                            &span.keys.private_key_file,
                            format!("private_key_file: {e}"),
                        )
                    })?;
                    (text, &span.keys.private_key_file)
                }
                _ => {
                    return Err((
                        &span.keys.private_key,
                        "give private_key or private_key_file, not both".into(),
                    ));
                }
            };
            crate::jose::SigningKey::parse(&text, alg)
                .map_err(|e| (node, format!("clients.{kind}: the private key: {e}")))?
        }
        _ => return Ok(()),
    };
    c.signing_key = Some(std::sync::Arc::new(key));
    Ok(())
}

/// Reads an mTLS client's certificate and key (RFC 8705), which only those methods use.
fn tls_identity<'n>(
    c: &mut ClientConfig,
    kind: &str,
    span: &ClientSpan<'n>,
) -> Result<(), (&'n Node, String)> {
    let (Some(cert), Some(key), true) = (&c.tls_certificate, &c.tls_key, c.auth_method.is_mtls())
    else {
        return Err((
            span.node,
            format!(
                "clients.{kind}: tls_client_auth and self_signed_tls_client_auth need tls_certificate and tls_key (PEM; ${{env:NAME}}), and only they use them"
            ),
        ));
    };
    let thumbprint = crate::jose::x5t_s256(&cert.0)
        .map_err(|e| (span.node, format!("clients.{kind}: tls_certificate: {e}")))?;
    crate::jose::pem_block(key.0.expose(), "PRIVATE KEY")
        .or_else(|_| crate::jose::pem_block(key.0.expose(), "EC PRIVATE KEY"))
        .or_else(|_| crate::jose::pem_block(key.0.expose(), "RSA PRIVATE KEY"))
        .map_err(|e| (span.node, format!("clients.{kind}: tls_key: {e}")))?;
    c.tls_identity = Some(std::sync::Arc::new(crate::wire::ClientIdentity::new(
        cert.0.clone(),
        key.0.expose().to_owned(),
        thumbprint,
    )));
    Ok(())
}

/// Reads and parses a target file.
pub fn load_target(path: &std::path::Path) -> Result<TargetFile, LoadError> {
    let text = crate::diagnostics::read_text(path, crate::diagnostics::MAX_FILE_BYTES)?;
    parse_target(&path.display().to_string(), &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"format: 1
issuer: https://as.example
clients:
  public: {client_id: spa, redirect_uri: "http://127.0.0.1:8765/callback"}
  confidential:
    client_id: web
    client_secret: "${env:PKCE_HARNESS_TEST_SECRET}"
    auth_method: client_secret_basic
    redirect_uri: "http://127.0.0.1:8765/callback"
login:
  form:
    fields: {username: alice, password: wonderland}
"#;

    /// Several unset variables are named together, each with its line; a commented-out one is
    /// not among them.
    #[test]
    fn every_unset_variable_is_named_at_once() {
        let text = GOOD
            .replace("PKCE_HARNESS_TEST_SECRET", "PKCE_HARNESS_UNSET_ONE")
            .replace(
                "fields: {username: alice, password: wonderland}",
                "fields: {username: alice, password: \"${env:PKCE_HARNESS_UNSET_TWO}\"} # not ${env:PKCE_HARNESS_UNSET_THREE}",
            );
        let e = parse_target("t.yaml", &text).expect_err("unset");
        let shown = e.to_string();
        assert!(
            shown.contains("2 environment variables")
                && shown.contains("PKCE_HARNESS_UNSET_ONE (line 7)")
                && shown.contains("PKCE_HARNESS_UNSET_TWO (line 12)")
                && !shown.contains("THREE"),
            "{shown}"
        );
        assert_eq!(comment_start("a: \"x # y\" # z"), 11);
        assert_eq!(comment_start("a: b#c"), 6);
    }

    /// Clients are named, or registered (`register: true`), never both and never neither; a
    /// registration-only file loads with the initial access token among its secrets.
    #[test]
    fn clients_or_registration() {
        let login = "login: {form: {fields: {username: alice, password: wonderland}}}\n";
        let none = format!("format: 1\nissuer: https://as.example\n{login}");
        let e = parse_target("t.yaml", &none)
            .expect_err("no clients")
            .to_string();
        assert!(
            e.contains("give clients") && e.contains("register: true"),
            "{e}"
        );
        let registering = format!(
            "format: 1\nissuer: https://as.example\nregister: true\nregistration: {{initial_access_token: iat-value-1234, confidential: private_key_jwt}}\n{login}"
        );
        let t = parse_target("t.yaml", &registering).expect("a registration-only file loads");
        assert!(t.clients.is_none() && t.register);
        assert_eq!(t.registration.confidential, RegisteredAuth::PrivateKeyJwt);
        assert!(
            t.secrets().contains(&"iat-value-1234".to_owned()),
            "{:?}",
            t.secrets()
        );
    }

    /// An mTLS client (RFC 8705) loads with its certificate's thumbprint and its key among the
    /// secrets; one without a certificate, or a certificate on a client of another method, is
    /// refused at the client's line.
    #[test]
    fn mtls_clients_bring_a_certificate_and_key() {
        let cert = include_str!("../engine/request/stranger/stranger.pem");
        let key = include_str!("../engine/request/stranger/stranger.key");
        let indent = |pem: &str| {
            pem.lines()
                .map(|l| format!("      {l}\n"))
                .collect::<String>()
        };
        let file = |method: &str, tls: &str| {
            format!(
                "format: 1\nissuer: https://as.example\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}}\n  confidential:\n    client_id: c\n    auth_method: {method}\n    redirect_uri: \"https://c.example/cb\"\n{tls}login: {{auto: {{}}}}\n"
            )
        };
        let tls = format!(
            "    tls_certificate: |\n{}    tls_key: |\n{}",
            indent(cert),
            indent(key)
        );
        let t = parse_target("t.yaml", &file("self_signed_tls_client_auth", &tls)).expect("loads");
        let c = &t.clients.as_ref().expect("clients").confidential;
        let identity = c.tls_identity.as_ref().expect("read while loading");
        assert_eq!(
            Some(identity.thumbprint.clone()),
            crate::jose::x5t_s256(cert).ok()
        );
        assert!(
            t.secrets().iter().any(|s| s.contains("PRIVATE KEY")),
            "the key is a secret"
        );
        let e = parse_target("t.yaml", &file("tls_client_auth", ""))
            .expect_err("no certificate")
            .to_string();
        assert!(
            e.contains("need tls_certificate and tls_key") && e.contains("t.yaml:6"),
            "{e}"
        );
        let e = parse_target("t.yaml", &file("client_secret_basic", &tls))
            .expect_err("wrong method")
            .to_string();
        assert!(e.contains("only they use them"), "{e}");
    }

    /// What is secret, precisely: passwords, client secrets, a URL's userinfo password and
    /// values of variables named as secrets; not the user name, not a value from the
    /// environment used in a plain field (a port, a name), so evidence stays readable.
    #[test]
    fn secrets_are_what_is_secret() {
        let path = std::env::var("PATH").expect("PATH is set");
        let text = GOOD
            .replace("PKCE_HARNESS_TEST_SECRET", "PATH")
            .replace("format: 1\n", "format: 1\nname: \"${env:HOME}\"\nendpoints: {token: \"http://svc:pa%24%24word@127.0.0.1:9/t\"}\n");
        let t = parse_target("t.yaml", &text).expect("valid target");
        let secrets = t.secrets();
        assert!(secrets.contains(&"wonderland".to_owned()), "{secrets:?}");
        assert!(
            secrets.contains(&path),
            "a client secret, whatever its variable"
        );
        assert!(secrets.contains(&"pa$$word".to_owned()), "{secrets:?}");
        assert!(
            !secrets.contains(&"alice".to_owned()),
            "the user name is shown"
        );
        if let Ok(home) = std::env::var("HOME") {
            assert!(
                !secrets.contains(&home),
                "a plain field's variable is shown"
            );
        }
        assert!(t.warnings().is_empty(), "{:?}", t.warnings());
        assert!(super::login::names_a_user("username") && super::login::names_a_user("Email"));
        assert!(!super::login::names_a_user("user_password"));
        assert!(names_a_secret("CLIENT_SECRET") && !names_a_secret("PORT"));
    }

    #[test]
    fn env_secrets_and_errors() {
        // PATH is set in every environment the tests run in; setting a variable would need
        // `unsafe` (edition 2024), which the crate forbids.
        let path = std::env::var("PATH").expect("PATH is set");
        let t = parse_target("t.yaml", &GOOD.replace("PKCE_HARNESS_TEST_SECRET", "PATH"))
            .expect("valid target");
        let secret = t
            .clients
            .as_ref()
            .expect("clients")
            .confidential
            .client_secret
            .as_ref()
            .expect("set");
        assert_eq!(secret.0.expose(), path);
        assert!(!format!("{t:?}").contains(&path));

        let e = parse_target(
            "t.yaml",
            &GOOD.replace("PKCE_HARNESS_TEST_SECRET", "PKCE_HARNESS_UNSET_VAR"),
        )
        .expect_err("unset");
        assert!(
            e.to_string().contains("t.yaml:7:")
                && e.to_string().contains("PKCE_HARNESS_UNSET_VAR is not set"),
            "{e}"
        );
        let e = parse_target(
            "t.yaml",
            &GOOD
                .replace("PKCE_HARNESS_TEST_SECRET", "PATH")
                .replace("auth_method:", "auth_metod:"),
        )
        .expect_err("typo");
        assert!(e.to_string().contains("t.yaml:8:"), "{e}");
    }

    /// A rule the types cannot state lands on the node it is about, with lines counted as the
    /// parser counts them: here a file with old Mac line ends (CR only), whose public client has a
    /// secret, is refused at line 4 column 11, where the client's mapping starts (a text search
    /// over `lines()` put it at line 1).
    #[test]
    fn cross_field_errors_point_at_their_node_whatever_the_line_ends() {
        let text = GOOD
            .replace("PKCE_HARNESS_TEST_SECRET", "PATH")
            .replace("{client_id: spa,", "{client_id: spa, client_secret: x,")
            .replace('\n', "\r");
        let e = parse_target("t.yaml", &text).expect_err("public client with a secret");
        let shown = e.to_string();
        assert!(
            shown.starts_with("t.yaml:4:11: clients.public is a public client"),
            "{shown}"
        );
        assert!(
            shown.contains("4 |   public: {client_id: spa, client_secret: x,"),
            "{shown}"
        );
        let text = GOOD
            .replace("PKCE_HARNESS_TEST_SECRET", "PATH")
            .replace("issuer: https://as.example", "issuer: \"not a url\"");
        let e = parse_target("t.yaml", &text).expect_err("bad issuer");
        assert!(
            e.to_string()
                .starts_with("t.yaml:2:9: issuer \"not a url\""),
            "{e}"
        );
    }
}
