use super::claims::Released;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::config::{LoginPage, RegisteredClient, Retention};
use crate::defect::Defect;
use crate::jose::{Algorithm, SigningKey};
use crate::params::Params;
use crate::pkce::{CodeChallenge, Method};

/// Shared state of one server instance.
/// Client mode: the user's answer to every authorization request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Consent {
    /// Signed in, consents: a code is issued.
    Approve,
    /// Denies: `access_denied`.
    Deny,
}

pub(super) struct App {
    pub issuer: String,
    pub clients: Vec<RegisteredClient>,
    pub defects: BTreeSet<Defect>,
    pub code_lifetime: Duration,
    /// See [`super::ServerConfig::access_token_lifetime`].
    pub access_token_lifetime: Duration,
    pub race_window: Duration,
    /// With `busy_under_load`: token requests being served now; a second one at the same time
    /// is answered 500, as a server on an embedded database that locks would.
    pub busy: Option<std::sync::atomic::AtomicUsize>,
    /// The kind of login page shown.
    pub login_page: LoginPage,
    /// The ID Token signing key (and a stranger's, for a defect).
    pub keys: Keys,
    /// How long a pushed request_uri lives.
    pub request_uri_lifetime: Duration,
    /// Authorization requests must be pushed (RFC 9126 §4).
    pub require_par: bool,
    /// Access tokens are JWTs (RFC 9068), signed with the ID Token key: in the assertion-client
    /// set-up, so the checks of how a resource verifies them have one to strip; elsewhere they
    /// are opaque.
    pub jwt_access_tokens: bool,
    /// Confidential clients must send a code_challenge too.
    pub pkce_required_confidential: bool,
    /// How long the authorization endpoint takes to answer.
    pub authorization_delay: Duration,
    /// See [`super::ServerConfig::absent_method_s256`].
    pub absent_method_s256: bool,
    /// See [`super::ServerConfig::revoked_userinfo_fails`].
    pub revoked_userinfo_fails: bool,
    /// See [`super::ServerConfig::replay_forbidden`].
    pub replay_forbidden: bool,
    /// An origin every page loads assets from.
    pub foreign_assets: Option<String>,
    /// The DPoP nonce token requests' proofs carry (RFC 9449 §8).
    pub dpop_nonce: String,
    /// Whether token requests' proofs must carry it (the FAPI 2.0 set-up).
    pub dpop_nonce_required: bool,
    /// Client mode: what the user answers every authorization request with, at once.
    pub auto_consent: Option<Consent>,
    /// Client mode: every request that reached the server, in order.
    pub seen: Option<Mutex<Vec<crate::seen::Seen>>>,
    store: Mutex<Store>,
}

/// A table whose entries expire: by age, and by count (oldest first).
pub(super) struct Expiring<V> {
    map: HashMap<String, (Instant, V)>,
    order: VecDeque<(Instant, String)>,
    limits: Retention,
}

impl<V> Expiring<V> {
    fn new(limits: Retention) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            limits,
        }
    }

    fn prune(&mut self, now: Instant) {
        while let Some((made, key)) = self.order.front() {
            let old = now.saturating_duration_since(*made) > self.limits.retention;
            if !old
                && self.map.len() <= self.limits.capacity
                && self.order.len() <= 2 * self.limits.capacity
            {
                break;
            }
            // The queue may name a key that was removed or made again; only the entry made at
            // this instant goes.
            if self.map.get(key).is_some_and(|(t, _)| t == made) {
                self.map.remove(key);
            }
            self.order.pop_front();
        }
    }

    pub fn insert(&mut self, key: String, value: V) {
        let now = Instant::now();
        self.order.push_back((now, key.clone()));
        self.map.insert(key, (now, value));
        self.prune(now);
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.map.get_mut(key).map(|(_, v)| v)
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.map.remove(key).map(|(_, v)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.keys()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.map.values_mut().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }
}

impl<V: Default> Expiring<V> {
    /// The entry for `key`, made (and timed) now if absent.
    pub fn entry_or_default(&mut self, key: String) -> &mut V {
        if !self.map.contains_key(&key) {
            self.insert(key.clone(), V::default());
        }
        let (_, v) = self
            .map
            .entry(key)
            .or_insert_with(|| (Instant::now(), V::default()));
        v
    }
}

/// A list that keeps its recent items: none older than the retention, at most `capacity`.
pub(super) struct Recent<T> {
    items: VecDeque<(Instant, T)>,
    limits: Retention,
}

impl<T> Recent<T> {
    fn new(limits: Retention) -> Self {
        Self {
            items: VecDeque::new(),
            limits,
        }
    }

    pub fn push(&mut self, item: T) {
        let now = Instant::now();
        while self
            .items
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) > self.limits.retention)
            || self.items.len() >= self.limits.capacity.max(1)
        {
            self.items.pop_front();
        }
        self.items.push_back((now, item));
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, v)| v)
    }

    pub fn take(&mut self) -> Vec<T> {
        self.items.drain(..).map(|(_, v)| v).collect()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

pub(super) struct Store {
    /// Authorization requests waiting for login and consent, by transaction id.
    pub pending: Expiring<Pending>,
    /// Browser sessions, by cookie value.
    pub sessions: Expiring<Session>,
    pub codes: Expiring<CodeRecord>,
    pub access_tokens: Expiring<TokenRecord>,
    pub refresh_tokens: Expiring<RefreshRecord>,
    /// For the `weak-codes` defect.
    pub counter: u64,
    /// The `code_verifier`s received lately, so tests can search reports for them.
    pub verifiers: Recent<String>,
    /// When each POST to the token endpoint reached its handler (the whole request read), so
    /// the race benchmark can measure how close together a burst arrives.
    pub arrivals: Recent<Instant>,
    /// Client assertions seen, by client and `jti` (RFC 7523 §3 item 7).
    pub assertions: Expiring<()>,
    /// For the `nonce-not-bound` defect: the latest nonce any authorization request sent.
    pub last_nonce: Option<String>,
    /// Pushed authorization requests, by request_uri.
    pub pushed: Expiring<Pushed>,
    /// DPoP proofs seen, by key thumbprint and `jti` (RFC 9449 §11.1).
    pub dpop_proofs: Expiring<()>,
    /// Dynamically registered clients, by client_id (RFC 7591).
    pub registered: Expiring<Registration>,
}

/// A dynamically registered client and the token that manages it (RFC 7592).
pub(super) struct Registration {
    pub client: RegisteredClient,
    pub access_token: String,
}

impl Store {
    fn new(limits: Retention) -> Self {
        Self {
            pending: Expiring::new(limits),
            sessions: Expiring::new(limits),
            codes: Expiring::new(limits),
            access_tokens: Expiring::new(limits),
            refresh_tokens: Expiring::new(limits),
            counter: 0,
            verifiers: Recent::new(limits),
            arrivals: Recent::new(limits),
            assertions: Expiring::new(limits),
            last_nonce: None,
            pushed: Expiring::new(limits),
            dpop_proofs: Expiring::new(limits),
            registered: Expiring::new(limits),
        }
    }

    /// Records held, over every table: what a long run must not grow.
    pub fn records(&self) -> usize {
        self.pending.len()
            + self.sessions.len()
            + self.codes.len()
            + self.access_tokens.len()
            + self.refresh_tokens.len()
            + self.verifiers.len()
            + self.arrivals.len()
            + self.assertions.len()
            + self.pushed.len()
            + self.dpop_proofs.len()
            + self.registered.len()
    }
}

/// What an authorization response carries: a code, or, with the `front-channel-tokens`
/// defect, tokens in the fragment (the implicit and hybrid response types FAPI 2.0 forbids).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum FrontResponse {
    /// `response_type=code`: a code in the query.
    #[default]
    Code,
    /// `response_type=token`: an access token in the fragment, no code.
    Token,
    /// `response_type=code id_token`: a code and an ID Token in the fragment.
    CodeIdToken,
}

pub(super) struct Pending {
    pub client_id: String,
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    pub state: Option<String>,
    pub challenge: Option<(CodeChallenge, Method)>,
    pub csrf: String,
    pub session: String,
    /// With the `api` login page: the ticket the consent call answered.
    pub ticket: Option<String>,
    /// An OpenID request (`openid` in the scope): the code gets an ID Token.
    pub openid: bool,
    /// The claims its scope asks for (OpenID Connect Core §5.4).
    pub claims: Released,
    /// What its response carries.
    pub front: FrontResponse,
    /// Its `nonce`.
    pub nonce: Option<String>,
    /// The `request_uri` of the pushed request it came from (RFC 9126), spent when the code is
    /// issued: a reload of the authorization URL before then is served again (§4 MAY).
    pub request_uri: Option<String>,
    /// `dpop_jkt`: the DPoP key the code is bound to (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
    /// The response goes back as a signed JWT (JARM `response_mode=jwt`).
    pub jwt_response: bool,
    /// The session must have signed in after this (`prompt=login`: the request's time;
    /// `max_age`: that many seconds before it), or the login page is shown again.
    pub login_since: Option<std::time::SystemTime>,
}

#[derive(Default)]
pub(super) struct Session {
    pub user: Option<String>,
    pub approved: HashSet<String>,
    /// When the user last signed in: the ID Token's `auth_time` (OpenID Connect Core §2).
    pub signed_in_at: Option<std::time::SystemTime>,
}

impl Session {
    /// The test user signs in now.
    pub fn sign_in(&mut self) {
        self.user = Some(super::USERNAME.to_owned());
        self.signed_in_at = Some(std::time::SystemTime::now());
    }

    /// Whether a user is signed in, and signed in after `since` where the request asks for a
    /// fresh login (`prompt=login`, `max_age`).
    pub fn signed_in_since(&self, since: Option<std::time::SystemTime>) -> bool {
        self.user.is_some()
            && since.is_none_or(|since| self.signed_in_at.is_some_and(|at| at > since))
    }
}

/// The address a request reached the server at: one node of a cluster, as the server listens
/// on two loopback addresses (when it can) to stand for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Node(pub std::net::IpAddr);

/// Where and when a single-use grant (a code, a refresh token rotated away) was spent. A
/// cluster's nodes share it, so a grant spent at one node is spent at all; the defect
/// `node-local-spent-state` makes each node see only its own.
#[derive(Debug, Default)]
pub(super) struct Spent(Vec<(Node, Instant)>);

impl Spent {
    /// Spent at `node`, now.
    pub fn mark(&mut self, node: Node) {
        if !self.0.iter().any(|(n, _)| *n == node) {
            self.0.push((node, Instant::now()));
        }
    }

    /// Whether it is spent anywhere.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// Whether `node` sees it spent: anywhere, or with `local` (the defect) at `node` only.
    pub fn seen_at(&self, node: Node, local: bool) -> bool {
        if local {
            self.0.iter().any(|(n, _)| *n == node)
        } else {
            self.any()
        }
    }

    /// How long ago it was first spent, if it was.
    pub fn since(&self) -> Option<Duration> {
        self.0.iter().map(|(_, at)| at.elapsed()).max()
    }
}

pub(super) struct CodeRecord {
    pub client_id: String,
    /// The redirect_uri of the authorization request, if it had one.
    pub redirect_uri: Option<String>,
    pub challenge: Option<(CodeChallenge, Method)>,
    pub expires: Instant,
    /// Redeemed, or burnt by a failed PKCE attempt.
    pub spent: Spent,
    /// Access and refresh tokens issued from it, revoked on replay.
    pub issued: Vec<String>,
    /// An OpenID request's code: redeemed with an ID Token.
    pub openid: bool,
    /// The claims the request's scope asks for: what UserInfo gives its tokens.
    pub claims: Released,
    /// The authorization request's `nonce`.
    pub nonce: Option<String>,
    /// The authorization request was pushed (RFC 9126).
    pub pushed: bool,
    /// The DPoP key the code is bound to.
    pub dpop_jkt: Option<String>,
    /// The session's sign-in, in seconds since the epoch: the ID Token's `auth_time`.
    pub auth_time: Option<u64>,
}

pub(super) struct TokenRecord {
    pub client_id: String,
    pub active: bool,
    /// When it was issued: it works for the server's access token lifetime from then.
    pub issued: Instant,
    /// The grant it came from, shared with its refresh tokens: what revoking one of them ends.
    pub family: u64,
    /// The DPoP key the token is bound to (RFC 9449 §6).
    pub jkt: Option<String>,
    /// The client certificate the token is bound to (RFC 8705 §3), as `x5t#S256`.
    pub x5t: Option<String>,
    /// The claims UserInfo answers it with.
    pub claims: Released,
}

pub(super) struct RefreshRecord {
    pub client_id: String,
    pub active: bool,
    /// Already exchanged for a new one (rotation); using it again is reuse.
    pub rotated: Spent,
    /// Tokens of the same lineage, revoked together on reuse.
    pub family: u64,
    /// The DPoP key a public client's refresh token is bound to (RFC 9449 §5).
    pub jkt: Option<String>,
    /// The claims of the grant, handed on to the access tokens it gives.
    pub claims: Released,
    /// The grant is an OpenID Connect one: a refresh gives a new ID Token (OpenID Connect Core
    /// §12.2), with the original login's time.
    pub openid: Option<OpenIdGrant>,
}

/// What a refresh's ID Token keeps of the authentication (OpenID Connect Core §12.2).
#[derive(Debug, Clone, Copy)]
pub(super) struct OpenIdGrant {
    /// When the user signed in (seconds since the epoch), if known.
    pub auth_time: Option<u64>,
}

impl App {
    pub fn new(
        issuer: String,
        clients: Vec<RegisteredClient>,
        config: super::ServerConfig,
        keys: Keys,
        dpop_nonce: String,
    ) -> Self {
        // A code must outlive its own lifetime in the table, or a replay after expiry would
        // look like an unknown code rather than a used one.
        let limits = Retention {
            retention: config.retention.retention.max(config.code_lifetime * 2),
            ..config.retention
        };
        Self {
            issuer,
            clients,
            defects: config.defects,
            code_lifetime: config.code_lifetime,
            access_token_lifetime: config.access_token_lifetime,
            race_window: config.race_window,
            busy: config
                .busy_under_load
                .then(|| std::sync::atomic::AtomicUsize::new(0)),
            login_page: config.login_page,
            keys,
            request_uri_lifetime: config.request_uri_lifetime,
            require_par: config.require_par,
            jwt_access_tokens: config.jwt_clients && !config.require_par,
            pkce_required_confidential: config.pkce_required_confidential,
            authorization_delay: config.authorization_delay,
            absent_method_s256: config.absent_method_s256,
            revoked_userinfo_fails: config.revoked_userinfo_fails,
            replay_forbidden: config.replay_forbidden,
            foreign_assets: config.foreign_assets,
            dpop_nonce,
            dpop_nonce_required: config.require_par || config.dpop_nonce,
            auto_consent: config.client_under_test.as_ref().map(|_| {
                if config.user_denies {
                    Consent::Deny
                } else {
                    Consent::Approve
                }
            }),
            seen: config.client_under_test.as_ref().map(|_| Mutex::default()),
            store: Mutex::new(Store::new(limits)),
        }
    }

    pub fn has(&self, d: Defect) -> bool {
        self.defects.contains(&d)
    }

    /// A client of the set-up, or one registered since (RFC 7591).
    pub fn client(&self, id: &str) -> Option<RegisteredClient> {
        self.client_in(&self.store(), id)
    }

    /// [`Self::client`] for a caller that holds the store already (its lock is not
    /// re-entrant).
    pub fn client_in(&self, store: &Store, id: &str) -> Option<RegisteredClient> {
        self.clients
            .iter()
            .find(|c| c.client_id == id)
            .cloned()
            .or_else(|| store.registered.get(id).map(|r| r.client.clone()))
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock would be a bug in this module; the data stays usable.
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// 32 random octets from the OS, base64url: 256 bits, far above RFC 6749 §10.10's 2^-160.
pub(super) fn random_token() -> std::io::Result<String> {
    let mut buf = [0u8; 32];
    getrandom::fill(&mut buf).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// The RSA key of [`Keys::id_token_rsa`], a private JWK (the defect `jwks-private-key-published`
/// publishes it whole).
pub(super) const ID_TOKEN_RSA_KEY: &str = include_str!("keys/id-token-rsa.jwk.json");

/// The server's keys: the ones it signs ID Tokens with, and a stranger's (the
/// `id-token-foreign-key` defect signs with it under the real key's `kid`).
pub(super) struct Keys {
    /// ES256, generated at start.
    pub id_token: SigningKey,
    /// RS256, which OpenID Connect Discovery §3 requires every provider to offer: a compiled-in
    /// test key that is not a secret, as ring makes no RSA keys.
    pub id_token_rsa: SigningKey,
    pub stranger: SigningKey,
}

impl Keys {
    pub fn generate() -> std::io::Result<Self> {
        let make = || {
            SigningKey::generate(Algorithm::ES256)
                .map(|(k, _)| k)
                .map_err(|e| std::io::Error::other(e.to_string()))
        };
        Ok(Self {
            id_token: make()?,
            id_token_rsa: SigningKey::parse(ID_TOKEN_RSA_KEY, Some(Algorithm::RS256))
                .map_err(|e| std::io::Error::other(e.to_string()))?,
            stranger: make()?,
        })
    }
}

/// A pushed authorization request.
pub(super) struct Pushed {
    pub client_id: String,
    pub params: Params,
    pub expires: Instant,
    pub used: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_forget_by_age_and_by_count() {
        let limits = Retention {
            retention: Duration::from_millis(30),
            capacity: 3,
        };
        let mut t: Expiring<u32> = Expiring::new(limits);
        for i in 0..10 {
            t.insert(format!("k{i}"), i);
        }
        assert_eq!(t.len(), 3, "by count, the oldest go first");
        assert!(t.get("k9").is_some() && t.get("k0").is_none());
        std::thread::sleep(Duration::from_millis(40));
        t.insert("fresh".into(), 0);
        assert_eq!(
            t.len(),
            1,
            "by age, the old ones are gone at the next insert"
        );
        // Removing and re-making a key keeps the newer entry.
        t.remove("fresh");
        t.insert("fresh".into(), 1);
        assert_eq!(t.get("fresh"), Some(&1));
        *t.entry_or_default("new".into()) += 5;
        assert_eq!(t.get("new"), Some(&5));

        let mut r: Recent<u32> = Recent::new(limits);
        for i in 0..10 {
            r.push(i);
        }
        assert_eq!(r.iter().copied().collect::<Vec<_>>(), [7, 8, 9]);
        std::thread::sleep(Duration::from_millis(40));
        r.push(10);
        assert_eq!(r.take(), [10]);
    }
}
