//! HTTPS for the reference server (`--tls`): a certificate for 127.0.0.1, ::1 and localhost,
//! signed by a test CA, both compiled in. Neither key is a secret worth the name: the server
//! listens on loopback only and exists to be tested against; the harness trusts the CA with
//! `--ca-cert` (`serve-reference --write-ca` writes it), or by itself for the embedded run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};
use tokio_rustls::server::TlsStream;

/// The test CA that signed the server's certificate (PEM).
pub const CA_PEM: &str = include_str!("tls/ca.pem");
const CERT_PEM: &str = include_str!("tls/server.pem");
const KEY_PEM: &str = include_str!("tls/server.key");

/// How long a client has for its handshake before the connection is dropped: the handshake
/// runs in the accept loop, so one silent client must not stall the others for long.
const HANDSHAKE: Duration = Duration::from_secs(5);

/// A TCP listener that hands axum TLS streams.
pub(super) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    /// Wraps `tcp` with the compiled-in certificate (TLS 1.2 and 1.3, rustls's safe suites).
    pub(super) fn new(tcp: TcpListener) -> std::io::Result<Self> {
        use pki_types::pem::PemObject;
        let chain: Vec<pki_types::CertificateDer<'static>> =
            pki_types::CertificateDer::pem_slice_iter(CERT_PEM.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(std::io::Error::other)?;
        let key = pki_types::PrivateKeyDer::from_pem_slice(KEY_PEM.as_bytes())
            .map_err(std::io::Error::other)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(std::io::Error::other)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                // Out of file descriptors and the like: wait, as axum's own listener does.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            // A failed or slow handshake is the client's problem; the next one is served.
            if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE, self.acceptor.accept(tcp)).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
