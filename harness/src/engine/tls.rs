//! TLS as every request of a run verifies it: the engine's HTTP client and the race's own
//! sockets trust the same roots, so a burst is never checked more loosely than a login.

use std::sync::Arc;

use tokio_rustls::rustls::{self, pki_types};

use crate::wire::ClientIdentity;

/// How TLS is verified.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// Extra trusted CA certificates (PEM), besides the bundled Mozilla roots and the system's.
    pub ca_certs: Vec<Vec<u8>>,
    /// Accept any certificate. Only when asked (`--insecure`); every report says so.
    pub insecure: bool,
    /// The client certificate to present when the server asks for one (RFC 8705): an mTLS
    /// client's, set per request, never run-wide.
    pub identity: Option<Arc<ClientIdentity>>,
}

/// Why the TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rustls refused its own default protocol versions (a build without them).
    #[error("TLS set-up: {0}")]
    Versions(rustls::Error),
    /// A `--ca-cert` file is not PEM.
    #[error("CA certificate: {0}")]
    CaPem(pki_types::pem::Error),
    /// A `--ca-cert` certificate is not one rustls can trust.
    #[error("CA certificate: {0}")]
    CaCert(rustls::Error),
    /// A client's TLS certificate or key (RFC 8705) that rustls cannot use.
    #[error("the client's TLS certificate: {0}")]
    Identity(String),
}

/// The same trust as the engine's HTTP client: bundled Mozilla roots, the system's, `--ca-cert`;
/// or none at all under `--insecure`.
/// With `tls.identity`, presents that certificate when the server asks for one.
pub fn client_config(tls: &Tls, alpn: &[&[u8]]) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Versions)?;
    let builder = if tls.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
    } else {
        let mut roots = bundled_and_system_roots().clone();
        for pem in &tls.ca_certs {
            use pki_types::pem::PemObject;
            for cert in pki_types::CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(TlsError::CaPem)?;
                roots.add(cert).map_err(TlsError::CaCert)?;
            }
        }
        builder.with_root_certificates(roots)
    };
    let mut config = match &tls.identity {
        None => builder.with_no_client_auth(),
        Some(id) => {
            use pki_types::pem::PemObject;
            let chain = pki_types::CertificateDer::pem_slice_iter(id.cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| TlsError::Identity(e.to_string()))?;
            let key = pki_types::PrivateKeyDer::from_pem_slice(id.key_pem().as_bytes())
                .map_err(|e| TlsError::Identity(e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::Identity(e.to_string()))?
        }
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// The bundled Mozilla roots and the system's, read once: reading and parsing the system's
/// take milliseconds, and the fuzzer builds a client for every batch of cases.
fn bundled_and_system_roots() -> &'static rustls::RootCertStore {
    static ROOTS: std::sync::OnceLock<rustls::RootCertStore> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        roots
    })
}

/// `--insecure`: any certificate, signatures still checked for form.
#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &pki_types::CertificateDer<'_>,
        _: &[pki_types::CertificateDer<'_>],
        _: &pki_types::ServerName<'_>,
        _: &[u8],
        _: pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
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
