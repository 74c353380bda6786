//! The client's own web host, as far as a server fetches from it: the JWK Set behind a
//! registered `jwks_uri` (OpenID Connect Registration §2), the list behind a
//! `sector_identifier_uri` (§5), a request object behind a `request_uri` (OpenID Connect Core
//! §6.2, RFC 9101 §5.2). The target file turns it on (`client_host`); it starts on the first
//! document a run publishes, listens where the file says (a loopback address by default) and
//! serves each document at a path of 22 random characters. It holds only what a client
//! publishes (public keys, URI lists, request objects), never a secret, and answers every
//! other path 404.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use url::Url;

/// One published document.
#[derive(Debug, Clone)]
struct Document {
    media_type: &'static str,
    body: String,
    fetched: usize,
    last_fetched: Option<tokio::time::Instant>,
}

type Documents = Arc<Mutex<HashMap<String, Document>>>;

/// The client host of a run.
#[derive(Debug)]
pub struct ClientHost {
    listen: SocketAddr,
    base_url: Option<Url>,
    documents: Documents,
    started: tokio::sync::OnceCell<Result<Started, String>>,
}

/// The listening server and the base URL of what it serves.
#[derive(Debug)]
struct Started {
    base: Url,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Started {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ClientHost {
    /// A host that will listen on `listen` and tell the server its documents are under
    /// `base_url` (by default `http://` and the address it listens on).
    pub fn new(listen: SocketAddr, base_url: Option<Url>) -> Self {
        Self {
            listen,
            base_url,
            documents: Documents::default(),
            started: tokio::sync::OnceCell::new(),
        }
    }

    /// Serves `body` as `media_type` from now on, at a new URL, which it returns.
    pub async fn publish(
        &self,
        media_type: &'static str,
        body: String,
        name: &str,
    ) -> Result<Url, String> {
        let base = self.base().await?;
        let path = format!("{}/{name}", unguessable()?);
        self.lock().insert(
            path.clone(),
            Document {
                media_type,
                body,
                fetched: 0,
                last_fetched: None,
            },
        );
        base.join(&path)
            .map_err(|e| format!("the client host's base URL {base} cannot hold {path}: {e}"))
    }

    /// Serves `body` instead at `url`, one [`Self::publish`] returned.
    pub fn replace(&self, url: &Url, body: String) {
        if let Some(doc) = self.lock().get_mut(&Self::key(url)) {
            doc.body = body;
        }
    }

    /// How many times the document at `url` was fetched.
    pub fn fetched(&self, url: &Url) -> usize {
        self.lock().get(&Self::key(url)).map_or(0, |d| d.fetched)
    }

    /// `Ok` where the document at `url` (the client's `what`) was fetched; else the fault that
    /// leaves a refusal unjudged: the server cannot reach the host (a loopback address its
    /// guard against server-side request forgery refuses, a firewall) or does not read it, so
    /// its answer is not about what is there.
    pub fn fetched_or_fault(&self, url: &Url, what: &str) -> Result<(), crate::outcome::Fault> {
        if self.fetched(url) > 0 {
            return Ok(());
        }
        Err(crate::outcome::Fault::precondition(format!(
            "the server never fetched the {what} from the client host ({url}): it cannot reach it, or does not read it; set client_host.base_url to a URL it reaches"
        )))
    }

    /// When the document at `url` was last fetched, if it was.
    pub fn last_fetched(&self, url: &Url) -> Option<tokio::time::Instant> {
        self.lock()
            .get(&Self::key(url))
            .and_then(|d| d.last_fetched)
    }

    fn key(url: &Url) -> String {
        url.path_segments()
            .map(|s| s.rev().take(2).collect::<Vec<_>>())
            .map(|mut s| {
                s.reverse();
                s.join("/")
            })
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Document>> {
        self.documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    async fn base(&self) -> Result<Url, String> {
        let started = self
            .started
            .get_or_init(|| start(self.listen, self.base_url.clone(), self.documents.clone()))
            .await;
        started
            .as_ref()
            .map(|s| s.base.clone())
            .map_err(Clone::clone)
    }
}

/// 22 random URL-safe characters (128 bits from the system's generator, not the run's seeded
/// one: a path a seed replays is a path anyone with the report can guess).
fn unguessable() -> Result<String, String> {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a path: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

async fn start(
    listen: SocketAddr,
    base_url: Option<Url>,
    documents: Documents,
) -> Result<Started, String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("the client host cannot listen on {listen}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("the client host's address: {e}"))?;
    let base = match base_url {
        Some(mut url) => {
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            url
        }
        None => Url::parse(&format!("http://{local}/"))
            .map_err(|e| format!("no URL for the client host at {local}: {e}"))?,
    };
    let app = axum::Router::new().fallback(serve).with_state(documents);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Started { base, task })
}

/// Any path: the document there, or 404.
async fn serve(State(documents): State<Documents>, request: Request) -> Response {
    let url = Url::parse("http://host/").and_then(|b| b.join(request.uri().path()));
    let found = url.ok().and_then(|u| {
        let mut docs = documents.lock().unwrap_or_else(PoisonError::into_inner);
        docs.get_mut(&ClientHost::key(&u)).map(|d| {
            d.fetched += 1;
            d.last_fetched = Some(tokio::time::Instant::now());
            d.clone()
        })
    });
    let (status, media_type, body) = match found {
        Some(d) => (StatusCode::OK, d.media_type, d.body),
        None => (StatusCode::NOT_FOUND, "text/plain", "not found".to_owned()),
    };
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(media_type),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn get(url: &Url) -> String {
        let addr = url.socket_addrs(|| None).expect("addr");
        let mut stream = tokio::net::TcpStream::connect(&*addr)
            .await
            .expect("connect");
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            url.path()
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut out = String::new();
        stream.read_to_string(&mut out).await.expect("read");
        out
    }

    #[tokio::test]
    async fn serves_what_is_published_counts_fetches_and_nothing_else() {
        let host = ClientHost::new(SocketAddr::from(([127, 0, 0, 1], 0)), None);
        let url = host
            .publish("application/json", r#"{"keys":[]}"#.into(), "jwks.json")
            .await
            .expect("published");
        assert_eq!(url.host_str(), Some("127.0.0.1"));
        assert_eq!(host.fetched(&url), 0);
        let answer = get(&url).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("application/json") && answer.ends_with(r#"{"keys":[]}"#));
        assert_eq!(host.fetched(&url), 1);
        assert!(host.last_fetched(&url).is_some());
        host.replace(&url, r#"{"keys":[1]}"#.into());
        assert!(get(&url).await.ends_with(r#"{"keys":[1]}"#));
        let guessed = url.join("../other/jwks.json").expect("url");
        assert!(get(&guessed).await.starts_with("HTTP/1.1 404"));
    }
}
