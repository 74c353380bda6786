//! The engine's HTTP client: no automatic redirects (the harness reads every `Location`), a
//! cookie jar per scenario, a time limit per request and a cap on body size.

use std::sync::Arc;

use std::time::Duration;
use tokio_rustls::rustls;

pub use super::tls::Tls;

/// Limits applied to every request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time for one request, connection to last body byte.
    pub request_timeout: Duration,
    /// The most body bytes read; the rest is dropped and the body marked truncated.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            max_body: 1 << 20,
        }
    }
}

pub use crate::wire::{
    Body, Channel, ClientIdentity, HttpError, HttpMethod, Request, Response, without_query,
};

/// One scenario's HTTP client: the browser's side with its own cookie jar, and the client back
/// end's side with none.
///
/// A server may close an idle connection without saying so (`Connection: close`); a request
/// sent on it then fails with "connection closed before message completed", and a verdict
/// would flip with timing. So idempotent requests use pooled connections and are retried once,
/// on a new connection, when the pooled one turns out closed; every other request (a token
/// request above all: resending a code redemption would be a replay, and change what is tested)
/// opens a connection of its own and is never retried.
#[derive(Clone)]
pub struct HttpClient {
    /// The user agent: with the cookie jar.
    front: Pair,
    /// The client's back end: no cookies.
    back: Pair,
    /// The TLS configuration every client here uses.
    rustls: Arc<rustls::ClientConfig>,
    /// Back ends that present a client certificate (RFC 8705), by its thumbprint: made on the
    /// first request that needs one, shared by every session of the run.
    identities: Arc<std::sync::Mutex<std::collections::HashMap<String, Pair>>>,
    limits: Limits,
    tls: Tls,
}

impl HttpClient {
    /// The limits every request of this client keeps to.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A client with a fresh cookie jar.
    pub fn new(limits: Limits, tls: &Tls) -> Result<Self, HttpError> {
        // The trust store is read once (the system's roots take milliseconds to load) and
        // shared by every client of this run and each new browser session.
        let rustls =
            super::tls::client_config(tls, &[b"http/1.1"]).map_err(|e| HttpError::Setup {
                reason: e.to_string(),
            })?;
        let back = Pair::new(limits, &rustls, None)?;
        Self::with_back(limits, tls, rustls, back, Arc::default())
    }

    fn with_back(
        limits: Limits,
        tls: &Tls,
        rustls: Arc<rustls::ClientConfig>,
        back: Pair,
        identities: Arc<std::sync::Mutex<std::collections::HashMap<String, Pair>>>,
    ) -> Result<Self, HttpError> {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Ok(Self {
            front: Pair::new(limits, &rustls, Some(jar))?,
            back,
            rustls,
            identities,
            limits,
            tls: tls.clone(),
        })
    }

    /// The back end presenting `identity`'s certificate.
    fn back_as(&self, identity: &ClientIdentity) -> Result<Pair, HttpError> {
        let mut made = self
            .identities
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(pair) = made.get(&identity.thumbprint) {
            return Ok(pair.clone());
        }
        let tls = Tls {
            identity: Some(Arc::new(identity.clone())),
            ..self.tls.clone()
        };
        let rustls =
            super::tls::client_config(&tls, &[b"http/1.1"]).map_err(|e| HttpError::Setup {
                reason: e.to_string(),
            })?;
        let pair = Pair::new(self.limits, &rustls, None)?;
        made.insert(identity.thumbprint.clone(), pair.clone());
        Ok(pair)
    }

    /// How this client verifies TLS (the race step opens its own connections the same way).
    pub fn tls(&self) -> &Tls {
        &self.tls
    }

    /// A client with the same settings and an empty cookie jar (a new browser session). The
    /// back channel, which keeps no cookies, is shared.
    pub fn fresh_session(&self) -> Result<Self, HttpError> {
        Self::with_back(
            self.limits,
            &self.tls,
            Arc::clone(&self.rustls),
            self.back.clone(),
            Arc::clone(&self.identities),
        )
    }

    /// Sends `req` and reads the body up to the cap.
    pub async fn send(&self, req: &Request) -> Result<Response, HttpError> {
        let shown = without_query(&req.url);
        let send_err = |e: reqwest::Error| {
            if e.is_timeout() {
                HttpError::Timeout {
                    method: req.method.to_string(),
                    url: shown.clone(),
                    seconds: self.limits.request_timeout.as_secs_f64(),
                }
            } else {
                HttpError::Send {
                    method: req.method.to_string(),
                    url: shown.clone(),
                    // Without the URL: reqwest prints it whole, query (state, secrets) included.
                    reason: error_chain(&e.without_url()),
                }
            }
        };
        let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes()).map_err(|e| {
            HttpError::Setup {
                reason: e.to_string(),
            }
        })?;
        let idempotent = matches!(
            req.method,
            HttpMethod::Get | HttpMethod::Head | HttpMethod::Options
        );
        let presenting;
        let pair = match (req.channel, &req.identity) {
            (Channel::Front, _) => &self.front,
            (Channel::Back, None) => &self.back,
            (Channel::Back, Some(identity)) => {
                presenting = self.back_as(identity)?;
                &presenting
            }
        };
        let client = if idempotent {
            &pair.pooled
        } else {
            &pair.fresh
        };
        let send = || {
            let mut builder = client.request(method.clone(), req.url.clone());
            for (k, v) in &req.headers {
                builder = builder.header(k.as_str(), v.as_str());
            }
            builder = match &req.body {
                Some(Body::Form(form)) => builder
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form.clone()),
                Some(Body::Json(json)) => builder
                    .header("content-type", "application/json")
                    .body(json.to_string()),
                None => builder,
            };
            builder.send()
        };
        let mut resp = match send().await {
            // The pooled connection was closed under us; the request never reached the server
            // whole, and it is safe to repeat: once, on a new connection.
            Err(e) if idempotent && stale_connection(&e) => send().await.map_err(send_err)?,
            other => other.map_err(send_err)?,
        };
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = resp.chunk().await.map_err(send_err)? {
            let room = self.limits.max_body.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let (body, invalid_utf8) = match String::from_utf8(body) {
            Ok(text) => (text, false),
            Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
        };
        Ok(Response {
            status,
            headers,
            body,
            truncated,
            invalid_utf8,
        })
    }
}

/// Two clients with the same settings (and the same cookie jar, if any).
#[derive(Clone)]
struct Pair {
    /// GET, HEAD, OPTIONS.
    pooled: reqwest::Client,
    /// Everything else: no idle connection is kept, so none can be stale.
    fresh: reqwest::Client,
}

impl Pair {
    fn new(
        limits: Limits,
        rustls: &Arc<rustls::ClientConfig>,
        jar: Option<Arc<reqwest::cookie::Jar>>,
    ) -> Result<Self, HttpError> {
        let fail = |reason: String| HttpError::Setup { reason };
        let build = |keep_idle: bool| {
            let mut builder = reqwest::Client::builder()
                .use_preconfigured_tls(rustls::ClientConfig::clone(rustls));
            if !keep_idle {
                builder = builder.pool_max_idle_per_host(0);
            }
            if let Some(jar) = &jar {
                builder = builder.cookie_provider(Arc::clone(jar));
            }
            builder
                .redirect(reqwest::redirect::Policy::none())
                .timeout(limits.request_timeout)
                .user_agent(concat!("pkce-harness/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| fail(e.to_string()))
        };
        Ok(Self {
            pooled: build(true)?,
            fresh: build(false)?,
        })
    }
}

/// Whether a request failed because the connection it went out on was already closed: hyper's
/// "connection closed before message completed", or a reset or broken pipe while sending.
fn stale_connection(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_incomplete_message)
        {
            return true;
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
            )
        {
            return true;
        }
        source = s.source();
    }
    false
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
