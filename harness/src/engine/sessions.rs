//! Where a job's browser session comes from. A scenario may be about the session (a code bound
//! to it, a login it must not skip), so `run` gives every job a new one. The differential
//! fuzzer's cases are about one parameter each, and a new session means a full login per case:
//! against a server whose login hashes passwords slowly that is most of the time a case takes.
//! So `fuzz` keeps the sessions its finished cases leave logged in and hands them to the next
//! ones; the login driver still logs in whenever a login page appears, and a case's control
//! flow runs in the case's own session, so a refusal is still measured under the same cookies.

use std::sync::{Arc, Mutex};

use super::http::HttpClient;

/// Where a job's session comes from.
#[derive(Clone, Default)]
pub enum Sessions {
    /// Each job starts a new browser session (an empty cookie jar).
    #[default]
    Fresh,
    /// A job takes a session a finished job gave back (or a new one when none is free), and
    /// its first authorization request runs in it as it is.
    Kept(Arc<Mutex<Vec<HttpClient>>>),
}

impl Sessions {
    /// Sessions kept from one job to the next.
    pub fn kept() -> Self {
        Self::Kept(Arc::default())
    }

    /// A session a finished job gave back, if this run keeps them and one is free.
    pub(super) fn take(&self) -> Option<HttpClient> {
        match self {
            Self::Fresh => None,
            Self::Kept(free) => free.lock().ok()?.pop(),
        }
    }

    /// Gives a job's session back for the next job (dropped when sessions are not kept).
    pub(super) fn give_back(&self, http: HttpClient) {
        if let Self::Kept(free) = self
            && let Ok(mut free) = free.lock()
        {
            free.push(http);
        }
    }
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fresh => "Fresh",
            Self::Kept(_) => "Kept",
        })
    }
}
