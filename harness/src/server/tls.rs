//! HTTPS for the reference server (`--tls`): a certificate for 127.0.0.1, ::1 and localhost,
//! signed by a test CA, both compiled in. Neither key is a secret worth the name: the server
//! listens on loopback only and exists to be tested against; the harness trusts the CA with
//! `--ca-cert` (`serve-reference --write-ca` writes it), or by itself for the embedded run.
//!
//! The server asks every client for a certificate and takes any (RFC 8705 §2.2: self-signed
//! ones are matched by their registered key, not by a PKI): the handshake proves the client
//! holds the key, and the routes judge the certificate by its thumbprint ([`PeerCert`]).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use sha2::Digest as _;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};
use tokio_rustls::server::TlsStream;

use crate::defect::Defect;
use crate::tls_hello;

/// The test CA that signed the server's certificate (PEM).
pub const CA_PEM: &str = include_str!("tls/ca.pem");
const CERT_PEM: &str = include_str!("tls/server.pem");
const KEY_PEM: &str = include_str!("tls/server.key");

/// The certificates and keys (PEM) of the mTLS set-up's two confidential clients
/// (`self_signed_tls_client_auth`, RFC 8705 §2.2), compiled in like the server's: test keys.
pub(super) const CLIENT_CERTS: [(&str, &str); 2] = [
    (
        include_str!("tls/client1.pem"),
        include_str!("tls/client1.key"),
    ),
    (
        include_str!("tls/client2.pem"),
        include_str!("tls/client2.key"),
    ),
];

/// How long a client has for its handshake before the connection is dropped: the handshake
/// runs in the accept loop, so one silent client must not stall the others for long.
const HANDSHAKE: Duration = Duration::from_secs(5);

/// A TCP listener that hands axum TLS streams (and, with `plain-http-served`, plain ones).
pub(super) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    /// `tls-legacy-version-accepted`: answer a hello for TLS 1.1 or older in kind.
    answers_old_hellos: bool,
    /// `plain-http-served`: a connection whose first byte is not a TLS handshake record is
    /// served as plain HTTP on the same port.
    serves_plain: bool,
}

impl TlsListener {
    /// Wraps `tcp` with the compiled-in certificate: TLS 1.3 with rustls's suites, and TLS 1.2
    /// with only the ones BCP 195 recommends (RFC 9325 §4.2: ECDHE with AES-GCM; FAPI 2.0
    /// §5.2.2), unless a defect says otherwise.
    pub(super) fn new(tcp: TcpListener, defects: &BTreeSet<Defect>) -> std::io::Result<Self> {
        use pki_types::pem::PemObject;
        let chain: Vec<pki_types::CertificateDer<'static>> =
            pki_types::CertificateDer::pem_slice_iter(CERT_PEM.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(std::io::Error::other)?;
        let key = pki_types::PrivateKeyDer::from_pem_slice(KEY_PEM.as_bytes())
            .map_err(std::io::Error::other)?;
        let mut provider = rustls::crypto::ring::default_provider();
        if !defects.contains(&Defect::TlsWeakSuiteAccepted) {
            provider.cipher_suites.retain(|s| {
                s.tls13().is_some()
                    || tls_hello::RECOMMENDED_TLS12
                        .contains(&tls_hello::Suite(u16::from(s.suite())))
            });
        }
        let provider = Arc::new(provider);
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_client_cert_verifier(Arc::new(AnyClientCert(Arc::clone(&provider))))
            .with_single_cert(chain, key)
            .map_err(std::io::Error::other)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            answers_old_hellos: defects.contains(&Defect::TlsLegacyVersionAccepted),
            serves_plain: defects.contains(&Defect::PlainHttpServed),
        })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((mut tcp, addr)) = self.tcp.accept().await else {
                // Out of file descriptors and the like: wait, as axum's own listener does.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            if self.answers_old_hellos && answered_old_hello(&mut tcp).await {
                continue;
            }
            if self.serves_plain && !starts_a_handshake(&tcp).await {
                return (Connection::Plain(tcp), addr);
            }
            // A failed or slow handshake is the client's problem; the next one is served.
            if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE, self.acceptor.accept(tcp)).await {
                return (Connection::Tls(Box::new(tls)), addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A connection the listener hands axum: TLS, or plain HTTP under `plain-http-served`.
pub(super) enum Connection {
    Tls(Box<TlsStream<TcpStream>>),
    Plain(TcpStream),
}

impl tokio::io::AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Whether the first byte a client sends is a TLS handshake record's (22): what tells a
/// ClientHello from an HTTP request line. A client that sends nothing in time is left to the
/// TLS handshake and its own timeout.
async fn starts_a_handshake(tcp: &TcpStream) -> bool {
    let mut first = [0u8; 1];
    match tokio::time::timeout(HANDSHAKE, tcp.peek(&mut first)).await {
        Ok(Ok(1)) => first[0] == 22,
        _ => true,
    }
}

/// `tls-legacy-version-accepted`: a ClientHello that offers nothing newer than TLS 1.1 is
/// answered with a ServerHello for its newest version and first suite, and the connection
/// dropped (rustls could not go on). Any other hello is left, unread, to rustls.
async fn answered_old_hello(tcp: &mut TcpStream) -> bool {
    use tokio::io::AsyncWriteExt as _;
    let mut buf = [0u8; 4096];
    let waiting = async {
        loop {
            let n = tcp.peek(&mut buf).await.ok()?;
            match tls_hello::read_client_hello(&buf[..n]) {
                Ok(offer) => return Some(offer),
                Err(tls_hello::ReadError::Incomplete) if n > 0 && n < buf.len() => {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err(_) => return None,
            }
        }
    };
    let Ok(Some(offer)) = tokio::time::timeout(HANDSHAKE, waiting).await else {
        return false;
    };
    let newest = offer.versions.iter().max().copied();
    let (Some(version), Some(suite)) = (newest, offer.suites.first().copied()) else {
        return false;
    };
    if version > tls_hello::Version::TLS11 {
        return false;
    }
    let _ = tcp
        .write_all(&tls_hello::server_hello(version, suite))
        .await;
    true
}

/// The client certificate of a connection, as its `x5t#S256` thumbprint (RFC 8705 §3.1): what
/// the routes compare with a client's registered certificate and a token's binding. `None` on a
/// plain-HTTP connection or when the client sent none.
#[derive(Debug, Clone, Default)]
pub(super) struct PeerCert(pub Option<String>);

impl Connected<IncomingStream<'_, TlsListener>> for PeerCert {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        let Connection::Tls(tls) = stream.io() else {
            return Self(None);
        };
        let (_, connection) = tls.get_ref();
        Self(
            connection
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|cert| crate::jose::b64(sha2::Sha256::digest(cert.as_ref()))),
        )
    }
}

impl Connected<IncomingStream<'_, TcpListener>> for PeerCert {
    fn connect_info(_: IncomingStream<'_, TcpListener>) -> Self {
        Self(None)
    }
}

/// Any client certificate whose signature over the handshake verifies: possession of the key
/// is proven here, which certificate it is the routes decide.
#[derive(Debug)]
struct AnyClientCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::server::danger::ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _: &pki_types::CertificateDer<'_>,
        _: &[pki_types::CertificateDer<'_>],
        _: pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
