//! How the reference server is set up: its options, its registered clients, the kind of login
//! page it shows, how much it remembers. Data only, read by every route and by the state.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::defect::Defect;
use crate::redact::Secret;
use crate::target::AuthMethod;

/// The test user's name and password on the login page.
pub const USERNAME: &str = "alice";

/// The test user's password.
pub const PASSWORD: &str = "wonderland";

/// The public client's redirect URI: a loopback literal (RFC 8252 §7.3); nothing listens there.
pub const PUBLIC_REDIRECT: &str = "http://127.0.0.1:8765/callback";

/// The confidential clients' redirect URI.
pub const CONFIDENTIAL_REDIRECT: &str = "https://client.example/cb";

/// How to run the reference server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The defects switched on.
    pub defects: BTreeSet<Defect>,
    /// How long a code lives.
    pub code_lifetime: Duration,
    /// How long an access token lives (its `expires_in`): an hour, twenty seconds in the mTLS
    /// set-up, whose run waits one out (the check that a token past it is refused).
    pub access_token_lifetime: Duration,
    /// With the `code-race-window` defect: the time between checking a code and consuming it.
    pub race_window: Duration,
    /// How long and how many records the server keeps.
    pub retention: Retention,
    /// Not a defect but a fixture: the token endpoint answers 500 ("database is locked") to a
    /// request that arrives while another is being served (each takes 20 ms), as small servers
    /// on an embedded database do under a harness's default concurrency.
    pub busy_under_load: bool,
    /// The kind of login page: a fixture for each login driver.
    pub login_page: LoginPage,
    /// The two confidential clients' secrets; random when `None`.
    pub secrets: Option<[Secret; 2]>,
    /// The confidential clients authenticate with assertions: `confidential` with
    /// `private_key_jwt` (a key pair made at start; the target file carries the private key),
    /// `confidential2` with `client_secret_jwt` (with `require_par`, the FAPI 2.0 set-up, a
    /// key of its own too).
    pub jwt_clients: bool,
    /// The FAPI 2.0 set-up: authorization requests must be pushed (RFC 9126; the metadata says
    /// `require_pushed_authorization_requests`), DPoP proofs at the token endpoint must carry
    /// the server's nonce, and the target file binds every flow with DPoP.
    pub require_par: bool,
    /// How long a pushed request_uri lives.
    pub request_uri_lifetime: Duration,
    /// Confidential clients must use PKCE too (FAPI 2.0, OAuth 2.1).
    pub pkce_required_confidential: bool,
    /// Not a defect but a fixture: how long the authorization endpoint takes to answer, as a
    /// busy server does (or as a harness on a busy machine is slow to get there).
    pub authorization_delay: Duration,
    /// Not a defect but a fixture: an origin every page loads a stylesheet, an image and a
    /// script from, and opens a popup to, as production login pages load a CDN's (and as a
    /// hostile page would reach elsewhere). A browser login must neither fetch them nor take
    /// them for the server's answer.
    pub foreign_assets: Option<String>,
    /// Not a defect but a fixture: a code_challenge without code_challenge_method is taken as
    /// S256, not as plain (RFC 7636 §4.3 says plain): a deviation from the default, but plain
    /// is never accepted, so nothing is let through.
    pub absent_method_s256: bool,
    /// Not a defect but a fixture: the userinfo endpoint answers 500 to a token it knows but
    /// has revoked, as a server whose resource fails on revoked tokens does (introspection
    /// still says `active: false`).
    pub revoked_userinfo_fails: bool,
    /// Not a defect but a fixture: a code redeemed a second time is refused with 403 and
    /// `access_denied`, not RFC 6749 §5.2's 400 `invalid_grant`: safe, in another form.
    pub replay_forbidden: bool,
    /// Client mode (`pkce-harness client`): the client under test, registered beside the
    /// set-up's. Its authorization requests are approved at once (a signed-in user who
    /// consents: the client, not the login, is judged), and every request that reaches the
    /// server is kept for its judges ([`super::ReferenceServer::take_seen`]).
    pub client_under_test: Option<RegisteredClient>,
    /// Client mode: the user denies every authorization request instead.
    pub user_denies: bool,
    /// DPoP proofs at the token endpoint must carry the server's nonce (RFC 9449 §8), as in
    /// the FAPI 2.0 set-up, without the rest of it.
    pub dpop_nonce: bool,
    /// Serve HTTPS (the compiled-in test certificate, see [`super::TEST_CA_PEM`]) instead of
    /// plain HTTP: the issuer is then `https://127.0.0.1:PORT`.
    pub tls: bool,
    /// The mTLS set-up (RFC 8705; implies `tls`): both confidential clients authenticate with
    /// self-signed client certificates (`self_signed_tls_client_auth`), and their tokens are
    /// bound to them.
    pub mtls_clients: bool,
}

impl ServerConfig {
    /// The set-up a defect shows in (see [`crate::defect::Variant`]), with `defects` on.
    pub fn for_variant(variant: crate::defect::Variant, defects: BTreeSet<Defect>) -> Self {
        use crate::defect::Variant;
        Self {
            defects,
            jwt_clients: matches!(variant, Variant::JwtClients | Variant::Fapi2),
            mtls_clients: variant == Variant::Mtls,
            // FAPI 2.0 §5.2.1: TLS-protected endpoints only.
            tls: matches!(variant, Variant::Mtls | Variant::Fapi2),
            require_par: variant == Variant::Fapi2,
            pkce_required_confidential: variant == Variant::Fapi2,
            access_token_lifetime: if variant == Variant::Mtls {
                Duration::from_secs(20)
            } else {
                Duration::from_secs(3600)
            },
            ..Self::default()
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            port: 0,
            defects: BTreeSet::new(),
            code_lifetime: Duration::from_millis(1500),
            access_token_lifetime: Duration::from_secs(3600),
            race_window: Duration::from_millis(1),
            retention: Retention::default(),
            busy_under_load: false,
            login_page: LoginPage::Form,
            secrets: None,
            jwt_clients: false,
            require_par: false,
            request_uri_lifetime: Duration::from_secs(2),
            pkce_required_confidential: false,
            authorization_delay: Duration::ZERO,
            foreign_assets: None,
            absent_method_s256: false,
            revoked_userinfo_fails: false,
            replay_forbidden: false,
            tls: false,
            mtls_clients: false,
            client_under_test: None,
            user_denies: false,
            dpop_nonce: false,
        }
    }
}

/// A registered client, as the server knows it.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    /// `client_id`.
    pub client_id: String,
    /// The secret, for confidential clients.
    pub secret: Option<Secret>,
    /// How it authenticates.
    pub auth_method: AuthMethod,
    /// The registered redirect URI the harness uses.
    pub redirect_uri: String,
    /// Further registered redirect URIs.
    pub more_redirect_uris: Vec<String>,
    /// For `private_key_jwt`: the public JWK the server checks assertions with.
    pub jwk: Option<serde_json::Value>,
    /// For `private_key_jwt`: the private key (PKCS#8 PEM), for the target file a user of this
    /// server writes.
    pub private_key: Option<Secret>,
    /// For mTLS (RFC 8705 §2.2): the `x5t#S256` of the registered certificate.
    pub tls_thumbprint: Option<String>,
    /// Where a registered client serves its JWK Set (OpenID Connect Registration §2): `jwk` is
    /// the key fetched from it, fetched again for a `kid` it does not have.
    pub jwks_uri: Option<String>,
    /// For a client registered with `subject_type: pairwise`: the sector (a host) its
    /// subjects are computed for (OpenID Connect Core §8.1).
    pub pairwise_sector: Option<String>,
    /// What its ID Tokens are signed with.
    pub id_token_alg: IdTokenAlg,
    /// Registered with `require_signed_request_object` (RFC 9101 §10.5): its authorization
    /// requests must come in signed request objects, plain parameters refused.
    pub require_signed_request_object: bool,
}

/// The algorithm a client's ID Tokens are signed with: the server's own choice (ES256) for the
/// clients it was started with, what a registered client asked for in
/// `id_token_signed_response_alg` (OpenID Connect Registration §2), RS256 when it asked for
/// nothing, as that section makes the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IdTokenAlg {
    /// With the server's generated P-256 key.
    #[default]
    Es256,
    /// With its compiled-in 2048-bit RSA key.
    Rs256,
}

/// How much the server remembers: every record expires `retention` after it was made, and no
/// table holds more than `capacity` (the oldest go first), so a long-running `serve-reference`
/// stays within bounded memory however many runs it serves.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// How long a record is kept.
    pub retention: Duration,
    /// The most records per table.
    pub capacity: usize,
}

impl Default for Retention {
    /// A minute and 2,000 records per table: a whole-library run makes a few hundred per table
    /// and uses each within seconds, so several runs fit, and a server that serves runs for
    /// days levels off (`cargo bench --bench memory`).
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(60),
            capacity: 2_000,
        }
    }
}

/// Which login page the reference server shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoginPage {
    /// An HTML form (the default).
    #[default]
    Form,
    /// A form rendered and posted by script.
    Script,
    /// A JSON API driven by a JavaScript application.
    Api,
    /// HTML forms with a select, a pre-checked box and an entity on the consent page.
    Chooser,
}

impl LoginPage {
    /// Every kind, as `serve-reference --login-page` names them.
    pub const ALL: [(&'static str, Self); 4] = [
        ("form", Self::Form),
        ("script", Self::Script),
        ("api", Self::Api),
        ("chooser", Self::Chooser),
    ];
}

impl LoginPage {
    /// The `login` section of a target file for this page: the driver that gets through it.
    pub fn target_login(self) -> &'static str {
        match self {
            Self::Form => "login:\n  form:\n    fields: {username: alice, password: wonderland}\n",
            Self::Chooser => {
                "login:\n  form:\n    fields: {username: alice, password: wonderland}\n    select: {css: \"#login, #consent\"}\n"
            }
            Self::Script => "login:\n  browser:\n    username: alice\n    password: wonderland\n",
            Self::Api => API_LOGIN,
        }
    }
}

/// The scripted login of [`LoginPage::Api`].
const API_LOGIN: &str = r#"login:
  steps:
    - request:
        name: sign in
        method: POST
        url: /app/api/session
        json: {username: alice, password: wonderland, tx: "{{query:tx}}"}
        expect_status: 200
        extract: {csrf: {json: /csrf}}
    - request:
        name: consent
        method: PUT
        url: "/app/api/clients/{{client_id}}/consent"
        headers: {X-CSRF-Token: "{{csrf}}"}
        json: {tx: "{{query:tx}}", approve: true}
        expect_status: 200
        extract: {ticket: {json: /ticket}}
    - resume:
        url: "{{query:return_to}}"
        params: {ticket: "{{ticket}}"}
"#;
