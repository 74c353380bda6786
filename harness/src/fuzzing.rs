//! Entry points for the fuzz targets in `fuzz/`. The logic lives here, next to the code it
//! checks, so each target is a one-liner and a failing input can be replayed from a unit test.
//!
//! Each function panics exactly when an invariant breaks, which is what the fuzzer looks for.

use sha2::{Digest, Sha256};
use url::Url;

use crate::callback::{parse_form_post, parse_location};
use crate::pkce::{CodeChallenge, CodeVerifier, Method, verify};

/// Differential check of the reference PKCE against a straight-line statement of RFC 7636:
/// the first byte picks the method, the rest is `verifier \n challenge`.
pub fn challenge_verify(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let method = if selector & 1 == 0 {
        Method::S256
    } else {
        Method::Plain
    };
    let text = String::from_utf8_lossy(rest);
    let (v, c) = text.split_once('\n').unwrap_or((&text, ""));

    let parsed_v = CodeVerifier::parse(v);
    let parsed_c = CodeChallenge::parse(c);
    assert_eq!(
        parsed_v.is_ok(),
        in_grammar(v),
        "verifier grammar disagrees for {v:?}"
    );
    assert_eq!(
        parsed_c.is_ok(),
        in_grammar(c),
        "challenge grammar disagrees for {c:?}"
    );
    let Ok(verifier) = parsed_v else { return };

    let expected = straight_line_challenge(v, method);
    let derived = CodeChallenge::derive(&verifier, method);
    assert_eq!(derived.as_str(), expected, "derivation disagrees");
    assert!(
        verify(&derived, method, &verifier),
        "derive then verify must hold"
    );
    if method == Method::S256 {
        assert_eq!(derived.as_str().len(), 43);
    }
    if let Ok(challenge) = parsed_c {
        assert_eq!(
            verify(&challenge, method, &verifier),
            c == expected,
            "verify disagrees"
        );
    }
}

/// `43*128unreserved`, written out without sharing code with the reference.
fn in_grammar(s: &str) -> bool {
    let n = s.len();
    (43..=128).contains(&n)
        && s.bytes().all(
            |b| matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~'),
        )
}

/// RFC 7636 §4.2 with a hand-written base64url encoder (RFC 4648 §5, no padding).
fn straight_line_challenge(v: &str, method: Method) -> String {
    if method == Method::Plain {
        return v.to_owned();
    }
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let digest = Sha256::digest(v.as_bytes());
    let mut out = String::new();
    for chunk in digest.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The callback parser never panics, and what it accepts round-trips.
pub fn callback_parse(data: &[u8]) {
    // Static, valid URLs: parsing them cannot fail.
    let Ok(base) = Url::parse("https://as.example/oauth/authorize?client_id=c") else {
        return;
    };
    let text = String::from_utf8_lossy(data);
    if let Ok(r) = parse_location(&base, &text) {
        let again = parse_location(&base, &r.to_location()).expect("a re-encoded response parses");
        assert_eq!(again.params, r.params, "parameters do not round-trip");
        assert_eq!(again.outcome, r.outcome, "outcome does not round-trip");
    }
    let _ = parse_form_post(&base, &text);
    // The form driver's reading of a page: every form's entry list, as submitted.
    let page = crate::forms::Page::parse(&text, Some("form#consent, form"));
    let _ = page.kind();
    for form in &page.forms {
        let _ = form.entries(&std::collections::BTreeMap::from([("username", "u")]));
        let _ = form.action_with_submitter();
    }
    id_token(&text);
}

/// The TLS hello reader never panics on what a server (or a probing client) sends, and a
/// ClientHello it reads, built again, reads back as the same offer.
pub fn tls_hellos(data: &[u8]) {
    use crate::tls_hello::{client_hello, read_answer, read_client_hello};
    let _ = read_answer(data);
    if let Ok(offer) = read_client_hello(data)
        && !offer.versions.is_empty()
        && offer.suites.len() < 1000
    {
        let again = read_client_hello(&client_hello(&offer, None, &[0; 32]))
            .expect("a hello built here reads back");
        assert_eq!(again.suites, offer.suites, "suites do not round-trip");
    }
}

/// An ID Token and a JWK Set as a hostile server may send them (`token \n jwks`): every check
/// judges without panicking, whatever the header, claims, keys or algorithm claim.
fn id_token(text: &str) {
    use crate::checks::id_token::{Expected, id_token};
    use crate::scenario::model::IdTokenCheck;
    let (token, jwks) = text.split_once('\n').unwrap_or((text, ""));
    let jwks: serde_json::Value = serde_json::from_str(jwks).unwrap_or_default();
    let algs = ["RS256".to_owned(), "ES256".to_owned(), "HS256".to_owned()];
    let expected = Expected {
        issuer: Some("https://as.example"),
        client_id: "c",
        secret: b"a shared secret",
        jwks: Some(&jwks),
        algs: Some(&algs),
        nonce: Some("n"),
        access_token: Some("at"),
        code: Some("code"),
        now: 1_800_000_000,
        skew: 60,
        other_sub: Some("alice"),
        other_auth_time: Some(1_799_999_000),
    };
    for check in [
        IdTokenCheck::Present,
        IdTokenCheck::Signature,
        IdTokenCheck::Iss,
        IdTokenCheck::Aud,
        IdTokenCheck::Lifetime,
        IdTokenCheck::Nonce,
        IdTokenCheck::NoNonce,
        IdTokenCheck::AtHash,
        IdTokenCheck::CHash,
        IdTokenCheck::SameSub("first".into()),
        IdTokenCheck::AuthTime,
        IdTokenCheck::AuthTimeAfter("first".into()),
        IdTokenCheck::AuthTimeSame("first".into()),
        IdTokenCheck::AuthTimeKept("first".into()),
    ] {
        let _ = id_token(&check, Some(token), &expected);
    }
}

/// The scenario, target and baseline loaders never panic, and every error they give names the
/// file with a line and column inside the input.
pub fn file_loaders(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = crate::diagnostics::yaml_lines(&text).count().max(1) as u64;
    let check = |e: crate::diagnostics::LoadError| {
        if let crate::diagnostics::LoadError::Syntax {
            file, line, column, ..
        } = &e
        {
            assert_eq!(file, "fuzz.yaml");
            assert!(
                *line >= 1 && *line <= lines + 1,
                "line {line} outside 1..={} for {text:?}",
                lines + 1
            );
            assert!(*column >= 1);
        }
        let _ = e.to_string();
    };
    if let Err(e) = crate::scenario::parse_scenario("fuzz.yaml", &text) {
        check(e);
    }
    if let Err(e) = crate::target::parse_target("fuzz.yaml", &text) {
        check(e);
    }
    if let Err(e) = crate::baseline::parse_baseline("fuzz.yaml", &text) {
        check(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_hold() {
        challenge_verify(b"\x00dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\nE9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        challenge_verify(b"\x01dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\ndBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        challenge_verify(b"\x00short\n");
        callback_parse(b"https://c.example/cb?code=a&state=b&iss=https%3A%2F%2Fas.example");
        callback_parse(b"/cb#error=access_denied&error_description=no%0A");
        callback_parse(b"<form method=post action=/cb><input name=code value=x></form>");
        // An HS256 header over an RSA key set: the key type must keep it from being an HMAC key.
        callback_parse(b"eyJhbGciOiJIUzI1NiJ9.e30.AAAA\n{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}");
        callback_parse(b"eyJhbGciOiJSUzI1NiJ9.e30.AAAA\n{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}");
        file_loaders(b"format: 1\ntitle: t\nrequirements: [REQ-50]\nsteps:\n  - authorize: {}\n");
        file_loaders(b"format: 1\ntitle: [\n");
        file_loaders(b"\t- a: {b: [c, {d: e}]}\n");
        tls_hellos(&crate::tls_hello::server_hello(
            crate::tls_hello::Version::TLS11,
            crate::tls_hello::Suite(0xc013),
        ));
        tls_hellos(&[21, 3, 3, 0, 2, 2, 40]);
    }

    proptest::proptest! {
        #[test]
        fn challenge_verify_holds_on_arbitrary_bytes(data in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            challenge_verify(&data);
            callback_parse(&data);
            file_loaders(&data);
            tls_hellos(&data);
        }
    }
}
