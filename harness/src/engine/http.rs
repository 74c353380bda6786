//! The engine's HTTP client: no automatic redirects (the harness reads every `Location`), a
//! cookie jar per scenario, a time limit per request and a cap on body size.

use std::time::Duration;

/// How TLS is verified.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// Extra trusted CA certificates (PEM), besides the bundled Mozilla roots and the system's.
    pub ca_certs: Vec<Vec<u8>>,
    /// Accept any certificate. Only when asked (`--insecure`); every report says so.
    pub insecure: bool,
}

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

pub use crate::wire::{HttpError, Request, Response, without_query};

/// One scenario's HTTP client (its own cookie jar).
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    limits: Limits,
    tls: Tls,
}

impl HttpClient {
    /// A client with a fresh cookie jar.
    pub fn new(limits: Limits, tls: &Tls) -> Result<Self, HttpError> {
        let fail = |reason: String| HttpError::Setup { reason };
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .danger_accept_invalid_certs(tls.insecure);
        for pem in &tls.ca_certs {
            let cert = reqwest::Certificate::from_pem(pem)
                .map_err(|e| fail(format!("CA certificate: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(limits.request_timeout)
            .user_agent(concat!("pkce-harness/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            client,
            limits,
            tls: tls.clone(),
        })
    }

    /// How this client verifies TLS (the race step opens its own connections the same way).
    pub fn tls(&self) -> &Tls {
        &self.tls
    }

    /// A client with the same settings and an empty cookie jar (a new browser session).
    pub fn fresh_session(&self) -> Result<Self, HttpError> {
        Self::new(self.limits, &self.tls)
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
        let mut builder = self.client.request(method, req.url.clone());
        for (k, v) in &req.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        if let Some(form) = &req.form {
            builder = builder
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone());
        }
        let mut resp = builder.send().await.map_err(send_err)?;
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
