use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{Defect, RegisteredClient};
use crate::pkce::{CodeChallenge, Method};

/// Shared state of one server instance.
pub(super) struct App {
    pub issuer: String,
    pub clients: Vec<RegisteredClient>,
    pub defects: BTreeSet<Defect>,
    pub code_lifetime: Duration,
    pub race_window: Duration,
    store: Mutex<Store>,
}

#[derive(Default)]
pub(super) struct Store {
    /// Authorization requests waiting for login and consent, by transaction id.
    pub pending: HashMap<String, Pending>,
    /// Browser sessions, by cookie value.
    pub sessions: HashMap<String, Session>,
    pub codes: HashMap<String, CodeRecord>,
    pub access_tokens: HashMap<String, TokenRecord>,
    pub refresh_tokens: HashMap<String, RefreshRecord>,
    /// For the `weak-codes` defect.
    pub counter: u64,
    /// Every `code_verifier` received, so tests can search reports for them.
    pub verifiers: Vec<String>,
    /// When each POST to the token endpoint reached its handler (the whole request read), so
    /// the race benchmark can measure how close together a burst arrives.
    pub arrivals: Vec<Instant>,
}

pub(super) struct Pending {
    pub client_id: String,
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    pub state: Option<String>,
    pub challenge: Option<(CodeChallenge, Method)>,
    pub csrf: String,
    pub session: String,
}

#[derive(Default)]
pub(super) struct Session {
    pub user: Option<String>,
    pub approved: HashSet<String>,
}

pub(super) struct CodeRecord {
    pub client_id: String,
    /// The redirect_uri of the authorization request, if it had one.
    pub redirect_uri: Option<String>,
    pub challenge: Option<(CodeChallenge, Method)>,
    pub expires: Instant,
    /// Redeemed, or burnt by a failed PKCE attempt.
    pub used: bool,
    /// Access and refresh tokens issued from it, revoked on replay.
    pub issued: Vec<String>,
}

pub(super) struct TokenRecord {
    pub client_id: String,
    pub active: bool,
}

pub(super) struct RefreshRecord {
    pub client_id: String,
    pub active: bool,
    /// Already exchanged for a new one (rotation); using it again is reuse.
    pub rotated: bool,
    /// Tokens of the same lineage, revoked together on reuse.
    pub family: u64,
}

impl App {
    pub fn new(
        issuer: String,
        clients: Vec<RegisteredClient>,
        defects: BTreeSet<Defect>,
        code_lifetime: Duration,
        race_window: Duration,
    ) -> Self {
        Self {
            issuer,
            clients,
            defects,
            code_lifetime,
            race_window,
            store: Mutex::new(Store::default()),
        }
    }

    pub fn has(&self, d: Defect) -> bool {
        self.defects.contains(&d)
    }

    pub fn client(&self, id: &str) -> Option<&RegisteredClient> {
        self.clients.iter().find(|c| c.client_id == id)
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
