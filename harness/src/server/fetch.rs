//! What the server fetches from a client's own host: its JWK Set (`jwks_uri`), its sector
//! identifier list (`sector_identifier_uri`), a request object by reference (`request_uri`).
//! The reference server is a test fixture, so it fetches from loopback addresses only, over
//! plain HTTP/1.1, within two seconds and 64 KiB: a URL a client names never makes it reach
//! out to the network, hang or fill its memory.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// The most of a document read.
const MAX_BYTES: u64 = 64 * 1024;
/// How long a fetch may take, all told.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The body of `url`, a `200` answer from a loopback address; else why not, in words a client
/// can be told.
pub(super) async fn fetch(url: &str) -> Result<String, String> {
    let url = Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        _ => false,
    };
    if url.scheme() != "http" || !loopback {
        return Err(format!(
            "this reference server fetches from http://127.0.0.1 or http://[::1] only, not {url}"
        ));
    }
    tokio::time::timeout(TIMEOUT, get(&url))
        .await
        .unwrap_or_else(|_| Err(format!("{url} did not answer within {TIMEOUT:?}")))
}

async fn get(url: &Url) -> Result<String, String> {
    let addrs = url
        .socket_addrs(|| Some(80))
        .map_err(|e| format!("{url}: {e}"))?;
    let mut stream = tokio::net::TcpStream::connect(&*addrs)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let host = url.host_str().unwrap_or_default();
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}{port}\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let mut raw = Vec::new();
    stream
        .take(MAX_BYTES)
        .read_to_end(&mut raw)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(head)) = response.parse(&raw) else {
        return Err(format!("{url} sent no complete HTTP response"));
    };
    if response.code != Some(200) {
        return Err(format!(
            "{url} answered HTTP {}",
            response.code.unwrap_or_default()
        ));
    }
    let body = raw.get(head..).unwrap_or_default();
    String::from_utf8(body.to_vec()).map_err(|_| format!("{url} sent a body that is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_plain_http_on_a_loopback_address_is_fetched() {
        for url in [
            "http://example.com/jwks",
            "https://127.0.0.1/jwks",
            "http://10.0.0.1/jwks",
            "file:///etc/passwd",
        ] {
            let refused = fetch(url).await.expect_err(url);
            assert!(refused.contains("fetches from"), "{url}: {refused}");
        }
    }

    #[tokio::test]
    async fn a_body_beyond_the_limit_is_cut_and_a_silent_host_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            // Accepts, reads nothing, answers nothing.
            let _held = listener.accept().await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        let started = std::time::Instant::now();
        let refused = fetch(&format!("http://{addr}/jwks"))
            .await
            .expect_err("silent");
        assert!(refused.contains("did not answer"), "{refused}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
