//! The defect `id-token-weak-key`: ID Tokens signed RS256 with a 1024-bit RSA key, published
//! in the JWK Set beside the good one. RFC 7518 §3.3 requires 2048 bits or more, so no library
//! this crate uses will sign with such a key; the signature is made here, by the book
//! (RFC 8017 §8.2.1: EMSA-PKCS1-v1_5 with SHA-256, then `m^d mod n`), with a compiled-in test
//! key that is not a secret.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use num_bigint::BigUint;
use serde_json::{Value, json};
use sha2::Digest;

/// The key's `kid` in the JWK Set and in the ID Token's header.
pub(super) const KID: &str = "weak-rsa-1024";

/// Modulus and private exponent, hex, one per line after the comment.
const KEY: &str = include_str!("keys/weak-rsa-1024.txt");

/// RFC 8017 §9.2 note 1: the DER prefix of a SHA-256 `DigestInfo`.
const SHA256_DIGEST_INFO: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

fn parts() -> (BigUint, BigUint) {
    let mut hex = KEY.lines().filter(|l| !l.starts_with('#'));
    let mut next = || {
        hex.next()
            .and_then(|h| BigUint::parse_bytes(h.trim().as_bytes(), 16))
            .unwrap_or_default()
    };
    let n = next();
    (n, next())
}

/// The public key as a JWK.
pub(super) fn jwk() -> Value {
    let (n, _) = parts();
    json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
        "n": URL_SAFE_NO_PAD.encode(n.to_bytes_be()), "e": "AQAB",
    })
}

/// `claims` as a compact JWS, RS256 with the weak key.
pub(super) fn sign(claims: &Value) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": KID});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let (n, d) = parts();
    let k = n.to_bytes_be().len();
    let mut t = SHA256_DIGEST_INFO.to_vec();
    t.extend_from_slice(&sha2::Sha256::digest(input.as_bytes()));
    // EM = 0x00 || 0x01 || PS (0xff, k - len(T) - 3 octets) || 0x00 || T
    let mut em = vec![0x00, 0x01];
    em.resize(k - t.len() - 1, 0xff);
    em.push(0x00);
    em.extend_from_slice(&t);
    let s = BigUint::from_bytes_be(&em).modpow(&d, &n).to_bytes_be();
    let mut signature = vec![0u8; k - s.len()];
    signature.extend_from_slice(&s);
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_verifies_with_the_public_key() {
        let jwt = sign(&json!({"sub": "alice"}));
        let (input, signature) = jwt.rsplit_once('.').expect("three parts");
        let s = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(signature).expect("base64"));
        let (n, _) = parts();
        assert_eq!(n.bits(), 1024);
        let em = s.modpow(&BigUint::from(65_537u32), &n).to_bytes_be();
        let digest = sha2::Sha256::digest(input.as_bytes());
        assert!(
            em.ends_with(&digest),
            "EM ends with the SHA-256 of the signing input"
        );
        assert!(
            em.starts_with(&[0x01, 0xff]),
            "EM (its leading zero dropped) is type 1"
        );
    }
}
