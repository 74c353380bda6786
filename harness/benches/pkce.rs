//! S256 verification of a 43- and a 128-character verifier: the reference implementation beside
//! (a) the floor, one SHA-256 + base64url encode + compare written inline, and (b) the `oauth2`
//! crate's challenge derivation plus a compare. Run: `cargo bench --bench pkce`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use divan::black_box;
use pkce_harness::pkce::{CodeChallenge, CodeVerifier, Method, verify};
use sha2::{Digest, Sha256};

fn main() {
    divan::main();
}

const LENGTHS: &[usize] = &[43, 128];

fn pair(len: usize) -> (CodeVerifier, CodeChallenge) {
    let v = CodeVerifier::parse(&"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".repeat(3)[..len])
        .expect("valid verifier");
    let c = CodeChallenge::derive(&v, Method::S256);
    (v, c)
}

#[divan::bench(args = LENGTHS)]
fn reference_verify(bencher: divan::Bencher, len: usize) {
    let (v, c) = pair(len);
    bencher.bench_local(|| verify(black_box(&c), Method::S256, black_box(&v)));
}

#[divan::bench(args = LENGTHS)]
fn floor_inline(bencher: divan::Bencher, len: usize) {
    let (v, c) = pair(len);
    let (v, c) = (v.expose_secret().to_owned(), c.as_str().to_owned());
    bencher.bench_local(|| {
        let mut out = [0u8; 43];
        let digest = Sha256::digest(black_box(v.as_bytes()));
        let n = URL_SAFE_NO_PAD
            .encode_slice(digest, &mut out)
            .expect("43 bytes hold a SHA-256 in base64url");
        out[..n] == *black_box(c.as_bytes())
    });
}

#[divan::bench(args = LENGTHS)]
fn oauth2_crate(bencher: divan::Bencher, len: usize) {
    let (v, c) = pair(len);
    let (v, c) = (v.expose_secret().to_owned(), c.as_str().to_owned());
    bencher.bench_local(|| {
        let verifier = oauth2::PkceCodeVerifier::new(black_box(v.clone()));
        oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier).as_str()
            == black_box(c.as_str())
    });
}
