//! What one scenario run holds: the resolved target, its own HTTP client and cookie jar, a
//! seeded random stream, the flows and tokens its steps pass along, and the evidence.

use std::collections::HashMap;
use std::sync::Arc;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use url::Url;

use super::http::{HttpClient, HttpError, Request, Response};
use crate::pkce::{CodeVerifier, PkceError};
use crate::redact::{Redactor, Secret};
use crate::scenario::model::{AuthSpec, ClientKind, Technique};
use crate::target::{
    ClientConfig, Clients, Endpoints, LoginConfig, OriginPolicy, Policy, TargetFile,
};
use crate::verdict::Exchange;
use crate::wire::{Body, without_query, without_userinfo};

/// Why a target's endpoints could not be known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResolveError {
    /// No HTTP client could be built (a CA certificate that does not parse).
    #[error(transparent)]
    Client(#[from] HttpError),
    /// Discovery found no usable metadata document at any well-known URL.
    #[error("no metadata for issuer {issuer}: {}", tried.join("; "))]
    NoMetadata {
        /// The issuer.
        issuer: String,
        /// What each well-known URL gave.
        tried: Vec<String>,
        /// Whether any of them got an HTTP answer: the server is up, and the file must say
        /// where its metadata is (`metadata_url`) or its endpoints.
        answered: bool,
    },
    /// The metadata puts an endpoint on an origin the target file does not name: the run stops
    /// before anything is sent, since a metadata document must not decide where credentials,
    /// passwords or requests go.
    #[error(
        "the metadata puts {key} at {endpoint}, an origin the target file does not name ({allowed}); nothing is sent there unless the file {hint}trusts its origin (trusted_origins)"
    )]
    ForeignOrigin {
        /// The metadata field (`authorization_endpoint`, `jwks_uri`, ...).
        key: &'static str,
        /// Where the metadata puts it.
        endpoint: String,
        /// The origins the target file names.
        allowed: String,
        /// The explicit endpoint that would allow it too, as a clause (`names it (endpoints.token) or `).
        hint: String,
    },
    /// `register: true`, and a client could not be registered (RFC 7591).
    #[error("registering the {client} client: {why}")]
    Registration {
        /// Which client (`public`, `confidential`, `confidential2`, or `any`).
        client: &'static str,
        /// What went wrong, in the server's words where it gave some.
        why: String,
    },
    /// The target file names no clients and none were registered.
    #[error("the target has no clients: name them (clients) or set register: true")]
    NoClients,
    /// Neither the target file nor the metadata names an endpoint the harness needs.
    #[error(
        "no {endpoint} endpoint: set endpoints.{field} or an issuer whose metadata has {field}_endpoint"
    )]
    MissingEndpoint {
        /// "authorization" or "token", in words.
        endpoint: &'static str,
        /// The target file's field.
        field: &'static str,
    },
}

/// A client the run registered (RFC 7591), and how to delete it afterwards (RFC 7592).
#[derive(Debug, Clone)]
pub struct Registered {
    /// Its `client_id`.
    pub client_id: String,
    /// Its `registration_client_uri`, if the server gave one.
    pub uri: Option<Url>,
    /// Its `registration_access_token`, if the server gave one.
    pub token: Option<Secret>,
}

/// A target with its endpoints known (explicit, or discovered).
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    /// A name for reports.
    pub name: String,
    /// The issuer as configured, byte for byte.
    pub issuer: Option<String>,
    /// Where the metadata was found.
    pub metadata_url: Option<Url>,
    /// The metadata document, if discovery succeeded.
    pub metadata: Option<serde_json::Value>,
    /// The authorization endpoint.
    pub authorization: Url,
    /// The token endpoint.
    pub token: Url,
    /// Userinfo or protected resource.
    pub userinfo: Option<Url>,
    /// RFC 7662 introspection.
    pub introspection: Option<Url>,
    /// RFC 7009 revocation.
    pub revocation: Option<Url>,
    /// RFC 9126 pushed authorization requests.
    pub par: Option<Url>,
    /// The server requires pushed authorization requests.
    pub par_required: bool,
    /// Authorization requests are pushed unless a scenario says otherwise.
    pub push: bool,
    /// Every flow is DPoP-bound unless a scenario says otherwise.
    pub dpop: bool,
    /// Every authorization request of a client with a key travels as a signed request object
    /// (RFC 9101) unless a scenario says otherwise.
    pub request_object: bool,
    /// The JWT-secured response mode (JARM) every authorization request asks for unless a
    /// scenario says otherwise.
    pub response_mode: Option<crate::scenario::model::JarmMode>,
    /// The `aud` of client assertions the target file sets, if it does.
    pub assertion_audience: Option<crate::target::AssertionAudience>,
    /// The clients.
    pub clients: Clients,
    /// The clients the run registered (`register: true`), to delete afterwards.
    pub registered: Vec<Registered>,
    /// The dynamic client registration endpoint (RFC 7591), from the metadata.
    pub registration: Option<Url>,
    /// RFC 8705 §5 `mtls_endpoint_aliases`: where an mTLS client sends what it would send to
    /// each endpoint (the endpoint, then its alias).
    pub mtls_aliases: Vec<(Url, Url)>,
    /// The initial access token registrations carry, if the target file gives one.
    pub initial_access_token: Option<Secret>,
    /// The declared policy.
    pub policy: Policy,
    /// The login driver.
    pub login: LoginConfig,
    /// Scope to request.
    pub scope: Option<String>,
    /// Masks every secret of the target file ([`TargetFile::secrets`]) and the clients' HTTP
    /// Basic credentials; each scenario's redactor starts as a copy, so the encodings are worked
    /// out once per run rather than once per scenario (the fuzzer runs thousands).
    pub redactor: Redactor,
    /// Flows are OpenID Connect flows: `openid` in the scope, a `nonce`, an ID Token.
    pub openid: bool,
    /// How far ID Token times may be off, in seconds.
    pub clock_skew: u64,
    /// The provider's JWK Set, fetched from `jwks_uri` once per run.
    pub jwks: Arc<tokio::sync::OnceCell<serde_json::Value>>,
    /// The only origins requests go to.
    pub origins: OriginPolicy,
    /// The client's own web host, where the target file turns it on: what the server fetches
    /// from a client (a `jwks_uri`, a `sector_identifier_uri`, a `request_uri`).
    pub client_host: Option<Arc<super::client_host::ClientHost>>,
    /// The token host's addresses, a cluster's nodes: the target file's `token_addresses`,
    /// else every address the host resolves to.
    pub token_addresses: Vec<std::net::IpAddr>,
}

/// RFC 8705 §5: the metadata's `mtls_endpoint_aliases`, each endpoint with its alias, every
/// alias on an origin the target file names (a metadata document must not move where a client
/// certificate handshake, and what follows it, goes).
fn mtls_aliases(
    metadata: Option<&serde_json::Value>,
    origins: &OriginPolicy,
) -> Result<Vec<(Url, Url)>, ResolveError> {
    let Some(aliases) = metadata
        .and_then(|m| m.get("mtls_endpoint_aliases"))
        .and_then(serde_json::Value::as_object)
    else {
        return Ok(Vec::new());
    };
    let url_of = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_str)
            .and_then(|s| Url::parse(s).ok())
    };
    let mut out = Vec::new();
    for (key, alias) in aliases {
        let (Some(endpoint), Some(alias)) = (
            url_of(metadata.and_then(|m| m.get(key.as_str()))),
            url_of(Some(alias)),
        ) else {
            continue;
        };
        if !origins.allows(&alias) {
            return Err(ResolveError::ForeignOrigin {
                key: "mtls_endpoint_aliases",
                endpoint: without_query(&alias),
                allowed: origins.describe(),
                hint: String::new(),
            });
        }
        out.push((endpoint, alias));
    }
    Ok(out)
}

/// The target file's secrets and the clients' HTTP Basic credentials, learned.
fn target_redactor(file: &TargetFile) -> Redactor {
    let mut redactor = Redactor::new(file.secrets());
    for c in file.clients.iter().flat_map(Clients::all) {
        if let Some(secret) = &c.client_secret {
            redactor.learn_credentials(&c.client_id.0, secret.0.expose());
        }
    }
    redactor
}

impl ResolvedTarget {
    /// Where a request an mTLS client would send to `url` goes: its alias (RFC 8705 §5), if the
    /// metadata names one.
    pub fn mtls_url(&self, url: &Url) -> Option<&Url> {
        self.mtls_aliases
            .iter()
            .find(|(endpoint, _)| endpoint == url)
            .map(|(_, alias)| alias)
    }

    /// Builds from a target file and, if fetched, its metadata. Explicit endpoints win.
    pub fn new(
        file: TargetFile,
        metadata_url: Option<Url>,
        metadata: Option<serde_json::Value>,
    ) -> Result<Self, ResolveError> {
        let redactor = target_redactor(&file);
        let origins = OriginPolicy::of(&file);
        let from_meta = |field: &str| -> Option<Url> {
            metadata
                .as_ref()
                .and_then(|m| m.get(field))
                .and_then(|v| v.as_str())
                .and_then(|s| Url::parse(s).ok())
        };
        let Endpoints {
            authorization,
            token,
            userinfo,
            introspection,
            revocation,
            par,
        } = file.endpoints;
        let pick = |explicit: Option<crate::target::ConfigUrl>, field: &str| {
            explicit.map(|u| u.0).or_else(|| from_meta(field))
        };
        // Requests (with client secrets, passwords, codes, tokens) go only where the user sent
        // them: an origin the target file names. A metadata document cannot move them.
        for (key, explicit, field) in [
            (
                "authorization_endpoint",
                authorization.is_some(),
                Some("authorization"),
            ),
            ("token_endpoint", token.is_some(), Some("token")),
            (
                "pushed_authorization_request_endpoint",
                par.is_some(),
                Some("par"),
            ),
            (
                "introspection_endpoint",
                introspection.is_some(),
                Some("introspection"),
            ),
            (
                "revocation_endpoint",
                revocation.is_some(),
                Some("revocation"),
            ),
            ("userinfo_endpoint", userinfo.is_some(), Some("userinfo")),
            ("jwks_uri", false, None),
            ("registration_endpoint", false, None),
        ] {
            let Some(url) = from_meta(key).filter(|_| !explicit) else {
                continue;
            };
            if !origins.allows(&url) {
                return Err(ResolveError::ForeignOrigin {
                    key,
                    endpoint: without_query(&url),
                    allowed: origins.describe(),
                    hint: field
                        .map_or_else(String::new, |f| format!("names it (endpoints.{f}) or ")),
                });
            }
        }
        let authorization =
            pick(authorization, "authorization_endpoint").ok_or(ResolveError::MissingEndpoint {
                endpoint: "authorization",
                field: "authorization",
            })?;
        let token = pick(token, "token_endpoint").ok_or(ResolveError::MissingEndpoint {
            endpoint: "token",
            field: "token",
        })?;
        let issuer = file.issuer.map(|i| i.0);
        let meta = |field: &str| metadata.as_ref().and_then(|m| m.get(field));
        let openid = file.openid.enabled.unwrap_or_else(|| {
            meta("id_token_signing_alg_values_supported").is_some()
                || meta("scopes_supported")
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| a.iter().any(|s| s == "openid"))
        });
        let par_required = match file.par {
            Some(crate::target::ParUse::Required) => true,
            Some(_) => false,
            None => {
                meta("require_pushed_authorization_requests").and_then(|v| v.as_bool())
                    == Some(true)
            }
        };
        let push = par_required || file.par == Some(crate::target::ParUse::Used);
        let mut scope = file.scope.map(|s| s.0);
        if openid
            && !scope
                .as_deref()
                .is_some_and(|s| s.split(' ').any(|w| w == "openid"))
        {
            // OpenID Connect Core §3.1.2.1: without `openid` the request is plain OAuth.
            scope = Some(match scope {
                Some(s) if !s.is_empty() => format!("openid {s}"),
                _ => "openid".to_owned(),
            });
        }
        let registration = from_meta("registration_endpoint");
        let mtls_aliases = mtls_aliases(metadata.as_ref(), &origins)?;
        let client_host = file.client_host.as_ref().map(|h| {
            Arc::new(super::client_host::ClientHost::new(
                h.listen,
                h.base_url.as_ref().map(|u| u.0.clone()),
            ))
        });
        Ok(Self {
            client_host,
            token_addresses: file.token_addresses.clone(),
            name: file
                .name
                .or_else(|| {
                    let i = issuer.as_deref()?;
                    Some(Url::parse(i).map_or_else(|_| i.to_owned(), |u| without_userinfo(&u)))
                })
                .unwrap_or_else(|| without_userinfo(&authorization)),
            issuer,
            metadata_url,
            userinfo: pick(userinfo, "userinfo_endpoint"),
            introspection: pick(introspection, "introspection_endpoint"),
            revocation: pick(revocation, "revocation_endpoint"),
            par: pick(par, "pushed_authorization_request_endpoint"),
            par_required,
            push,
            dpop: file.dpop,
            request_object: file.request_object,
            response_mode: file.response_mode,
            assertion_audience: file.assertion_audience,
            metadata,
            authorization,
            token,
            clients: file.clients.ok_or(ResolveError::NoClients)?,
            registered: Vec::new(),
            registration,
            mtls_aliases,
            initial_access_token: file.registration.initial_access_token.map(|t| t.0),
            policy: file.policy,
            login: file.login,
            scope,
            redactor,
            openid,
            clock_skew: file.openid.clock_skew_seconds,
            jwks: Arc::default(),
            origins,
        })
    }

    /// The configured client of a kind.
    pub fn client(&self, kind: ClientKind) -> Option<&ClientConfig> {
        self.clients.get(kind)
    }

    /// The provider's `jwks_uri`, from the metadata.
    pub fn jwks_uri(&self) -> Option<Url> {
        self.metadata
            .as_ref()
            .and_then(|m| m.get("jwks_uri"))
            .and_then(|v| v.as_str())
            .and_then(|s| Url::parse(s).ok())
    }

    /// The ID Token signing algorithms the metadata advertises, if it lists them.
    pub fn id_token_algs(&self) -> Option<Vec<String>> {
        let list = self
            .metadata
            .as_ref()?
            .get("id_token_signing_alg_values_supported")?
            .as_array()?;
        Some(
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        )
    }

    /// Whether the metadata announces RFC 9207 `iss`.
    pub fn announces_iss(&self) -> bool {
        self.metadata_says("authorization_response_iss_parameter_supported")
    }

    /// Whether the metadata member `name` is `true`.
    pub fn metadata_says(&self, name: &str) -> bool {
        self.metadata
            .as_ref()
            .and_then(|m| m.get(name))
            .and_then(serde_json::Value::as_bool)
            == Some(true)
    }
}

/// A pushed authorization request (RFC 9126): its `request_uri`, when it was pushed and how
/// long the server said it lives.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The `request_uri` the PAR endpoint returned.
    pub uri: String,
    /// Just before the push was sent: the server's clock for it starts later, so an age
    /// measured from here is never shorter than the request_uri's own.
    pub at: std::time::Instant,
    /// Its `expires_in` (RFC 9126 §2.2 makes it required), in seconds.
    pub lifetime: Option<f64>,
}

/// How close to the end of its lifetime a refused value counts as outlived: the harness sees
/// a value some time after the server made it (a redirect through a busy browser), so its own
/// measure of the age may fall short by about this much.
pub const LIFETIME_MARGIN: f64 = 0.5;

/// `age` and `lifetime`, if a value of that age may have expired.
pub fn outlived(age: f64, lifetime: f64) -> Option<(f64, f64)> {
    (age + LIFETIME_MARGIN > lifetime).then_some((age, lifetime))
}

impl Pushed {
    /// Its age and lifetime, if it may have expired by now: a refusal of it then may be its
    /// expiry.
    pub fn outlived(&self) -> Option<(f64, f64)> {
        outlived(self.at.elapsed().as_secs_f64(), self.lifetime?)
    }
}

/// A flow started by an `authorize` step.
#[derive(Debug, Clone, Default)]
pub struct Flow {
    /// The client.
    pub client: Option<ClientKind>,
    /// Where the client host serves the flow's request object, sent by reference.
    pub hosted_request: Option<Url>,
    /// The verifier text (generated, or given by the scenario).
    pub verifier: Option<String>,
    /// The challenge sent, if any.
    pub challenge: Option<String>,
    /// `state` sent.
    pub state: Option<String>,
    /// `redirect_uri` sent, if any.
    pub redirect_uri: Option<String>,
    /// The code received.
    pub code: Option<Secret>,
    /// The OpenID Connect `nonce` sent, if any.
    pub nonce: Option<String>,
    /// Its pushed request, if it was pushed.
    pub pushed: Option<Pushed>,
    /// Its DPoP key (RFC 9449), and whether the code is bound to it (`dpop_jkt` sent).
    pub dpop_key: Option<Arc<crate::jose::SigningKey>>,
    /// `dpop_jkt` was sent.
    pub dpop_jkt: bool,
    /// When the code came back.
    pub issued_at: Option<std::time::Instant>,
}

/// Tokens saved by a `token` or `refresh` step.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The client they were issued to.
    pub client: ClientKind,
    /// The access token.
    pub access: Option<Secret>,
    /// The refresh token.
    pub refresh: Option<Secret>,
    /// The ID Token.
    pub id_token: Option<Secret>,
    /// The flow whose code they came from (its nonce and code), for the ID Token checks.
    pub flow: Option<Flow>,
    /// The DPoP key they are bound to.
    pub dpop_key: Option<Arc<crate::jose::SigningKey>>,
    /// `token_type` of the response.
    pub token_type: Option<String>,
    /// When the response came and the `expires_in` it declared, if it declared one.
    pub lifetime: Option<(std::time::Instant, f64)>,
}

/// One scenario run's state.
pub struct Ctx {
    /// The target.
    pub target: Arc<ResolvedTarget>,
    /// HTTP with this run's cookie jar.
    pub http: HttpClient,
    /// The scenario's client kind.
    pub client: ClientKind,
    /// Flows by name.
    pub flows: HashMap<String, Flow>,
    /// Tokens by name.
    pub tokens: HashMap<String, Tokens>,
    /// The label of the step being run, for evidence.
    pub step: String,
    /// Exchanges so far, redacted.
    pub evidence: Vec<Exchange>,
    /// Measurements worth keeping in the verdict's reason even when it passes.
    pub notes: Vec<String>,
    /// The burst technique every race step uses (`run --race-technique`); `None`: each step's
    /// own choice.
    pub race_technique: Option<Technique>,
    /// Judge an unexpected 5xx as the server's answer (the last try of a scenario) instead of
    /// reporting it as a server failure to be retried.
    pub judge_server_errors: bool,
    /// Preflight showed the login cannot be automated; why.
    pub login_blocked: Option<String>,
    /// The pages and steps the login driver went through, in order.
    pub login_trail: Vec<String>,
    /// The run's browser, for `login: browser`.
    pub browser: super::login::chromium::Shared,
    /// The job's browser session (a browser context), once a browser login opened it.
    pub browser_session: Option<Arc<super::login::chromium::Session>>,
    /// Time spent queued for a browser tab, left out of the scenario's time limit.
    pub queued: super::time_limit::Queued,
    /// A screenshot (PNG, base64) of the page a browser login got stuck on.
    pub screenshot: Option<String>,
    /// The last correct client assertion sent, for a step that replays it.
    pub last_assertion: Option<String>,
    /// The last flawed client assertion sent and the authentication that flawed it: a request
    /// the DPoP nonce dance sends again gets the same flaw with a fresh `jti`, so a server that
    /// took the flaw and then asked for a nonce is not refusing a mere replay.
    pub last_flawed_assertion: Option<(String, AuthSpec)>,
    /// The longest `expires_in` a PAR response gave, in seconds.
    pub request_uri_lifetime: Option<f64>,
    /// A `sleep` waited past that lifetime: a later refusal of an old `request_uri` is what
    /// the scenario provoked, not the harness being slow.
    pub waited_out_request_uri: bool,
    /// An authorization response must carry `iss` (RFC 9207): the metadata announces it, or
    /// the profile requires it (fapi2). Without, an absent `iss` is not judged; a present one
    /// always is.
    pub iss_required: bool,
    /// Client assertions are made out to the issuer alone, not the token endpoint: the target
    /// file says so, or the profile is FAPI 2.0 (final), which requires it against audience
    /// injection (RFC 7523 §3 allows either).
    pub assertion_to_issuer: bool,
    /// How long a code lives, in seconds: the declared lifetime, and under FAPI 2.0 (final) at
    /// most 60 s, the profile's cap, whatever the target declares; a check waits this out.
    pub code_lifetime: f64,
    /// Clients the scenario registered itself (the `register` step), beside the target's: a
    /// request of theirs the DPoP nonce dance sends again is authenticated afresh as theirs.
    pub made_clients: Vec<ClientConfig>,
    /// The last DPoP proof sent, for a step that replays it.
    pub last_proof: Option<String>,
    /// The `DPoP-Nonce` each endpoint gave (RFC 9449 §8), by `htu`.
    pub dpop_nonces: HashMap<String, String>,
    /// A refusal a step expected that came in another form (see
    /// [`crate::outcome::Halt::Form`]): kept while the later steps judge the property, and the
    /// scenario's finding if nothing worse comes.
    pub form: Option<crate::outcome::Unmet>,
    /// The session came from the run's kept ones ([`super::Sessions::Kept`]) and no
    /// authorization request has run in it yet: the first one keeps it (logged in) instead of
    /// starting a new one.
    pub kept_session: bool,
    rng: ChaCha20Rng,
    redactor: Redactor,
}

impl Ctx {
    /// A fresh context whose random stream depends only on the run seed and `stream_id`, so a
    /// scenario draws the same values whatever else runs beside it.
    pub fn new(
        target: Arc<ResolvedTarget>,
        http: HttpClient,
        client: ClientKind,
        seed: u64,
        stream_id: &str,
    ) -> Self {
        let mut h = Sha256::new();
        h.update(seed.to_be_bytes());
        h.update(stream_id.as_bytes());
        let rng = ChaCha20Rng::from_seed(h.finalize().into());
        let redactor = target.redactor.clone();
        let code_lifetime = target.policy.code_lifetime_seconds;
        Self {
            target,
            http,
            client,
            flows: HashMap::new(),
            tokens: HashMap::new(),
            step: String::new(),
            evidence: Vec::new(),
            notes: Vec::new(),
            race_technique: None,
            judge_server_errors: false,
            login_blocked: None,
            login_trail: Vec::new(),
            browser: super::login::chromium::Shared::default(),
            browser_session: None,
            queued: super::time_limit::Queued::default(),
            screenshot: None,
            last_assertion: None,
            last_flawed_assertion: None,
            request_uri_lifetime: None,
            waited_out_request_uri: false,
            iss_required: false,
            assertion_to_issuer: false,
            code_lifetime,
            made_clients: Vec::new(),
            last_proof: None,
            dpop_nonces: HashMap::new(),
            form: None,
            kept_session: false,
            rng,
            redactor,
        }
    }

    /// A verifier of `len` characters from the seeded ChaCha20 stream.
    pub fn verifier(&mut self, len: usize) -> Result<CodeVerifier, PkceError> {
        let rng = &mut self.rng;
        let v = CodeVerifier::from_random(len, |buf| {
            rng.fill_bytes(buf);
            Ok(())
        })?;
        self.redactor.learn(v.expose_secret());
        Ok(v)
    }

    /// A value that must be unique across runs, not only within one (a `nonce`, an assertion's
    /// `jti`): from the OS, not the seeded stream, because a replayed run (same seed) must not
    /// send them again; a server that remembers them rightly refuses a repeat (RFC 7523 §3
    /// item 7, OpenID Connect Core §15.5.2). No check depends on their value.
    pub fn unique_value() -> Result<String, getrandom::Error> {
        let mut raw = [0u8; 18];
        getrandom::fill(&mut raw)?;
        Ok(crate::jose::b64(raw))
    }

    /// Seconds since the Unix epoch by the system clock: what a JWT's `iat`, `nbf` and `exp`
    /// count in.
    pub fn unix_now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    /// A fresh `jti` ([`Self::unique_value`]) and the time to sign at ([`Self::unix_now`]):
    /// what every JWT the harness signs (assertions, DPoP proofs, request objects) starts from.
    pub fn jti_and_now() -> Result<(String, u64), crate::outcome::Fault> {
        let jti = Self::unique_value()
            .map_err(|e| crate::outcome::Fault::harness(format!("no entropy for a jti: {e}")))?;
        Ok((jti, Self::unix_now()))
    }

    /// A random URL-safe string of `len` characters (state values).
    pub fn random_string(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..len)
            .map(|_| char::from(ALPHABET[(self.rng.next_u32() % 64) as usize]))
            .collect()
    }

    /// Remembers a value to mask wherever it appears in evidence.
    pub fn secret(&mut self, value: &str) {
        self.redactor.learn(value);
    }

    /// Remembers a verifier a scenario sends. A generated one is already a secret; one the
    /// scenario file spells out (`verifier: "a"`, to test the grammar) is public, and is masked
    /// only from 8 characters on: a value the evidence reader cannot tell from a real verifier
    /// is masked like one, while masking a one-letter test value would garble every message.
    pub fn test_value(&mut self, value: &str) {
        if value.chars().count() >= 8 {
            self.redactor.learn(value);
        }
    }

    /// Masks every known secret in `text`.
    pub fn redact(&self, text: &str) -> String {
        self.redactor.text(text)
    }

    /// The redactor, for structured values (a verdict's cause).
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Sends `req` and records the exchange, redacted: only to an origin of the target's
    /// [`OriginPolicy`], whoever chose the URL. Secrets in the response (tokens, codes)
    /// are learned before it is recorded.
    pub async fn send(&mut self, req: Request) -> Result<Response, HttpError> {
        let allowed = self.target.origins.allows(&req.url);
        self.send_recorded(req, allowed).await
    }

    /// Sends `req`, whose URL is HTTPS and on an origin the policy allows, to that URL's
    /// plain-http twin instead: the same host over http ([`plain_twin`]), which no target file
    /// names. Only the `plain_http` step asks, with a request that carries nothing secret.
    pub async fn send_plain_twin(&mut self, mut req: Request) -> Result<Response, HttpError> {
        let allowed = self.target.origins.allows(&req.url);
        let twin = plain_twin(&req.url);
        let allowed = allowed && twin.is_some();
        if let Some(twin) = twin {
            req.url = twin;
        }
        self.send_recorded(req, allowed).await
    }

    /// Sends `req` where `allowed`, else refuses it as leaving the origin policy; learns the
    /// secrets the answer hands out and records the exchange either way.
    async fn send_recorded(&mut self, req: Request, allowed: bool) -> Result<Response, HttpError> {
        let result = if allowed {
            self.http.send(&req).await
        } else {
            Err(HttpError::ForeignOrigin {
                method: req.method.to_string(),
                url: without_query(&req.url),
                origin: req.url.origin().ascii_serialization(),
                allowed: self.target.origins.describe(),
            })
        };
        let observed = match &result {
            Ok(resp) => {
                self.learn(resp);
                Observed::Response(resp)
            }
            Err(e) => Observed::Error(e),
        };
        let exchange = self.record(&req, observed);
        self.evidence.push(exchange);
        result
    }

    /// Records an exchange the browser made (a document the browser driver loaded): the
    /// response as the browser received it, learned from and redacted like one sent here.
    pub fn record_seen(&mut self, req: &Request, resp: &Response) {
        self.learn(resp);
        let exchange = self.record(req, Observed::Response(resp));
        self.evidence.push(exchange);
    }

    /// Learns the secrets a response hands out (tokens, codes, cookies) before it is recorded.
    fn learn(&mut self, resp: &Response) {
        let cookies: Vec<&str> = resp.header_all("set-cookie").collect();
        self.redactor.learn_from_response(
            &resp.body,
            resp.json().as_ref(),
            resp.header("location"),
            &cookies,
        );
    }

    /// Records a burst of identical requests the race sent on its own connections: the request
    /// once, the lowest status seen and a summary in place of a body.
    pub fn record_burst(&mut self, req: &Request, status: Option<u16>, summary: &str) {
        let exchange = self.record(req, Observed::Burst { status, summary });
        self.evidence.push(exchange);
    }

    fn record(&self, req: &Request, observed: Observed<'_>) -> Exchange {
        const SHOWN_BODY: usize = 4096;
        let r = &self.redactor;
        let mut ex = Exchange {
            step: self.step.clone(),
            method: req.method.to_string(),
            url: r.url(&req.url),
            request_headers: req
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), r.header(k, v)))
                .collect(),
            request_body: req.body.as_ref().map(|b| match b {
                Body::Form(f) => r.form(f),
                Body::Json(v) => {
                    let mut v = v.clone();
                    r.json(&mut v);
                    v.to_string()
                }
            }),
            status: None,
            response_headers: Vec::new(),
            response_body: None,
            error: None,
        };
        match observed {
            Observed::Response(resp) => {
                ex.status = Some(resp.status);
                ex.response_headers = resp
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), r.header(k, v)))
                    .collect();
                // Only what can be shown is masked: the shown part and enough beyond it that a
                // secret straddling the cut is masked whole before the cut.
                let window = SHOWN_BODY + r.longest();
                let mut body = match resp.json() {
                    Some(mut v) => {
                        r.json(&mut v);
                        v.to_string()
                    }
                    None => r.text(prefix(&resp.body, window)),
                };
                if body.len() > SHOWN_BODY || resp.body.len() > window {
                    body = format!("{}…[cut]", prefix(&body, SHOWN_BODY));
                }
                ex.response_body = (!body.is_empty()).then_some(body);
            }
            Observed::Error(e) => ex.error = Some(r.text(&e.to_string())),
            Observed::Burst { status, summary } => {
                ex.method = format!("{} (burst)", req.method);
                ex.status = status;
                ex.response_body = Some(r.text(summary));
            }
        }
        ex
    }
}

/// The first `max` bytes of `s`, on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let cut = (0..=max.min(s.len()))
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    &s[..cut]
}

/// What came back for a recorded request.
enum Observed<'a> {
    /// A response.
    Response(&'a Response),
    /// No usable response.
    Error(&'a HttpError),
    /// A burst, summarised.
    Burst {
        status: Option<u16>,
        summary: &'a str,
    },
}

/// Fetches RFC 8414 metadata for `issuer`: `/.well-known/oauth-authorization-server` first (with
/// the issuer's path after it, RFC 8414 §3.1), then `/.well-known/openid-configuration`.
pub fn metadata_urls(issuer: &str) -> Vec<Url> {
    let Ok(u) = Url::parse(issuer) else {
        return Vec::new();
    };
    let path = u.path().trim_end_matches('/');
    let origin = u.origin().ascii_serialization();
    Url::parse(&format!(
        "{origin}/.well-known/oauth-authorization-server{path}"
    ))
    .ok()
    .into_iter()
    .chain(openid_configuration_url(issuer))
    .collect()
}

/// Where an OpenID Provider's configuration is (OpenID Connect Discovery §4): the issuer with
/// `/.well-known/openid-configuration` appended.
pub fn openid_configuration_url(issuer: &str) -> Option<Url> {
    Url::parse(&format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    ))
    .ok()
}

/// Makes `req` a GET of `url` in a context, for discovery.
pub async fn fetch_metadata(
    http: &HttpClient,
    issuer: &str,
    urls: Vec<Url>,
) -> Result<(Url, serde_json::Value), ResolveError> {
    let mut tried = Vec::new();
    let mut answered = false;
    for url in urls {
        let sent = http.send(&Request::get(url.clone())).await;
        answered |= sent.is_ok();
        match sent {
            Ok(r) if r.status == 200 => match r.json() {
                Some(v @ serde_json::Value::Object(_)) => return Ok((url, v)),
                _ => tried.push(format!(
                    "{}: 200 but not a JSON object",
                    without_query(&url)
                )),
            },
            Ok(r) => tried.push(format!("{}: HTTP {}", without_query(&url), r.status)),
            Err(e) => tried.push(e.to_string()),
        }
    }
    Err(ResolveError::NoMetadata {
        issuer: Url::parse(issuer).map_or_else(|_| issuer.to_owned(), |u| without_userinfo(&u)),
        tried,
        answered,
    })
}

/// The plain-http twin of an HTTPS URL: the same host, path and query over http, on port 80
/// where the HTTPS port is the default, else on the same port (a server that tells TLS from
/// plain HTTP by the first byte serves both there). `None` for a URL that is not HTTPS.
pub fn plain_twin(url: &Url) -> Option<Url> {
    if url.scheme() != "https" {
        return None;
    }
    let port = url.port();
    let mut twin = url.clone();
    twin.set_scheme("http").ok()?;
    twin.set_port(port).ok()?;
    Some(twin)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8705 §5: an mTLS client's token request goes to the token endpoint's alias; an alias
    /// on an origin the target file does not name stops resolution before anything is sent.
    #[test]
    fn mtls_aliases_map_endpoints_and_stay_on_named_origins() {
        let file = || {
            crate::target::parse_target(
                "t.yaml",
                "format: 1\nissuer: https://as.example\nclients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}\n  confidential: {client_id: c, client_secret: s3cr3t-value, auth_method: client_secret_basic, redirect_uri: \"https://c.example/cb\"}\nlogin: {auto: {}}\n",
            )
            .expect("valid")
        };
        let metadata = |alias: &str| {
            serde_json::json!({
                "issuer": "https://as.example",
                "authorization_endpoint": "https://as.example/authorize",
                "token_endpoint": "https://as.example/token",
                "mtls_endpoint_aliases": {"token_endpoint": alias},
            })
        };
        let t = ResolvedTarget::new(
            file(),
            None,
            Some(metadata("https://as.example/mtls/token")),
        )
        .expect("resolves");
        let token = Url::parse("https://as.example/token").expect("url");
        assert_eq!(
            t.mtls_url(&token).map(Url::as_str),
            Some("https://as.example/mtls/token")
        );
        assert!(t.mtls_url(&t.authorization).is_none());
        let e = ResolvedTarget::new(file(), None, Some(metadata("https://evil.example/token")))
            .expect_err("another origin");
        assert!(e.to_string().contains("mtls_endpoint_aliases"), "{e}");
    }
}
