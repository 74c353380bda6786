//! jsonwebtoken's signature checks on ring. jsonwebtoken 10 moved its cryptography behind a
//! [`CryptoProvider`] and ships two: aws-lc-rs (a second C crypto library to build, beside the
//! ring rustls already uses here) and RustCrypto (which brings the `rsa` crate and its unfixed
//! timing advisory, RUSTSEC-2023-0071). This provider keeps one crypto library in the tree: it
//! hands each algorithm to ring's own verifier, and frames nothing itself.
//!
//! Only verification is provided: the harness signs with ring directly ([`super::key`]), so a
//! signer asked of jsonwebtoken is an error, never a panic.

use std::sync::Once;

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::ThumbprintHash;
use jsonwebtoken::signature::{self, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::signature as ring_sig;

/// Makes ring jsonwebtoken's provider for this process, before its first signature check.
/// Idempotent; a provider another part of the process installed first stays.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = PROVIDER.install_default();
    });
}

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: verifier,
    jwk_utils: JwkUtils {
        extract_rsa_public_key_components: |_| Err(ErrorKind::InvalidKeyFormat.into()),
        extract_ec_public_key_coordinates: |_, _| Err(ErrorKind::InvalidKeyFormat.into()),
        compute_digest: digest,
    },
};

fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

fn digest(data: &[u8], hash: ThumbprintHash) -> Vec<u8> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &ring::digest::SHA256,
        ThumbprintHash::SHA384 => &ring::digest::SHA384,
        ThumbprintHash::SHA512 => &ring::digest::SHA512,
    };
    ring::digest::digest(algorithm, data).as_ref().to_vec()
}

/// How ring checks one algorithm.
#[derive(Clone, Copy)]
enum Check {
    Hmac(ring::hmac::Algorithm),
    Rsa(&'static ring_sig::RsaParameters),
    /// ECDSA (fixed-size `r || s`, RFC 7518 §3.4) and Ed25519: a public key as bytes.
    Point(&'static dyn ring_sig::VerificationAlgorithm),
}

struct RingVerifier {
    alg: Algorithm,
    check: Check,
    key: DecodingKey,
}

fn verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    use Algorithm as A;
    let (family, check) = match alg {
        A::HS256 => (AlgorithmFamily::Hmac, Check::Hmac(ring::hmac::HMAC_SHA256)),
        A::HS384 => (AlgorithmFamily::Hmac, Check::Hmac(ring::hmac::HMAC_SHA384)),
        A::HS512 => (AlgorithmFamily::Hmac, Check::Hmac(ring::hmac::HMAC_SHA512)),
        A::RS256 => (
            AlgorithmFamily::Rsa,
            Check::Rsa(&ring_sig::RSA_PKCS1_2048_8192_SHA256),
        ),
        A::RS384 => (
            AlgorithmFamily::Rsa,
            Check::Rsa(&ring_sig::RSA_PKCS1_2048_8192_SHA384),
        ),
        A::RS512 => (
            AlgorithmFamily::Rsa,
            Check::Rsa(&ring_sig::RSA_PKCS1_2048_8192_SHA512),
        ),
        A::PS256 => (
            AlgorithmFamily::Rsa,
            Check::Rsa(&ring_sig::RSA_PSS_2048_8192_SHA256),
        ),
        A::PS384 => (
            AlgorithmFamily::Rsa,
            Check::Rsa(&ring_sig::RSA_PSS_2048_8192_SHA384),
        ),
        A::PS512 => (
            AlgorithmFamily::Rsa,
            Check::Rsa(&ring_sig::RSA_PSS_2048_8192_SHA512),
        ),
        A::ES256 => (
            AlgorithmFamily::Ec,
            Check::Point(&ring_sig::ECDSA_P256_SHA256_FIXED),
        ),
        A::ES384 => (
            AlgorithmFamily::Ec,
            Check::Point(&ring_sig::ECDSA_P384_SHA384_FIXED),
        ),
        A::EdDSA => (AlgorithmFamily::Ed, Check::Point(&ring_sig::ED25519)),
    };
    // A key of another family is never tried (an RSA key's bytes as an HMAC secret).
    if key.family() != family {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(RingVerifier {
        alg: *alg,
        check,
        key: key.clone(),
    }))
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], sig: &Vec<u8>) -> Result<(), signature::Error> {
        let verified = match (self.check, self.key.kind()) {
            (Check::Hmac(alg), DecodingKeyKind::SecretOrDer(secret)) => {
                ring::hmac::verify(&ring::hmac::Key::new(alg, secret), msg, sig)
            }
            (Check::Rsa(params), DecodingKeyKind::RsaModulusExponent { n, e }) => {
                ring_sig::RsaPublicKeyComponents { n, e }.verify(params, msg, sig)
            }
            (Check::Rsa(params), DecodingKeyKind::SecretOrDer(der)) => {
                ring_sig::UnparsedPublicKey::new(params, der).verify(msg, sig)
            }
            (Check::Point(alg), DecodingKeyKind::SecretOrDer(point)) => {
                ring_sig::UnparsedPublicKey::new(alg, point).verify(msg, sig)
            }
            (Check::Hmac(_) | Check::Point(_), DecodingKeyKind::RsaModulusExponent { .. }) => {
                return Err(signature::Error::new());
            }
        };
        verified.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;

    /// A test-only RSA key (ring generates none): `openssl genpkey -algorithm RSA`.
    const RSA_KEY: &str = include_str!("../../../fixtures/vectors/rsa-2048-test-key.pem");

    fn verifies(key: &SigningKey, alg: Algorithm, decoding: &DecodingKey) -> (bool, bool) {
        let token = key
            .sign(&serde_json::json!({"sub": "x"}), &Default::default())
            .expect("signed");
        let (input, sig) = token.rsplit_once('.').expect("three parts");
        let ok = |input: &str| {
            jsonwebtoken::crypto::verify(sig, input.as_bytes(), decoding, alg).unwrap_or(false)
        };
        (ok(input), ok(&format!("{input}x")))
    }

    /// Every algorithm the harness signs with verifies through jsonwebtoken on this provider;
    /// a changed message, or a key of another family, does not.
    #[test]
    fn ring_verifies_what_ring_signed() {
        install();
        let mut keys = vec![
            SigningKey::generate(Algorithm::ES256).expect("a key").0,
            SigningKey::generate(Algorithm::EdDSA).expect("a key").0,
        ];
        for alg in [Algorithm::RS256, Algorithm::PS384] {
            keys.push(SigningKey::parse(RSA_KEY, Some(alg)).expect("the RSA key"));
        }
        for key in &keys {
            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(key.public_jwk().expect("public")).expect("a JWK");
            let decoding = DecodingKey::from_jwk(&jwk).expect("decoding key");
            assert_eq!(
                verifies(key, key.alg(), &decoding),
                (true, false),
                "{:?}",
                key.alg()
            );
            let secret = DecodingKey::from_secret(b"secret");
            assert_eq!(
                verifies(key, key.alg(), &secret),
                (false, false),
                "{:?}",
                key.alg()
            );
        }
        let hs = SigningKey::hmac(
            b"a shared secret of 32 bytes or more",
            Some(Algorithm::HS256),
        )
        .expect("an HMAC key");
        let decoding = DecodingKey::from_secret(b"a shared secret of 32 bytes or more");
        assert_eq!(verifies(&hs, Algorithm::HS256, &decoding), (true, false));
        let other = DecodingKey::from_secret(b"another shared secret of 32 bytes");
        assert_eq!(verifies(&hs, Algorithm::HS256, &other), (false, false));
    }

    #[test]
    fn a_signer_is_an_error_not_a_panic() {
        install();
        let key = EncodingKey::from_secret(b"k");
        assert!(jsonwebtoken::crypto::sign(b"m", &key, Algorithm::HS256).is_err());
    }
}
