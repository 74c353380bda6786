use proptest::prelude::*;
use serde::Deserialize;

use super::*;

/// RFC 7636 Appendix B.
const APPB_OCTETS: [u8; 32] = [
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
    105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
];
const APPB_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const APPB_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[test]
fn appendix_b_octets_give_the_verifier_and_challenge() {
    let v = CodeVerifier::from_octets(&APPB_OCTETS).expect("32 octets encode to 43 characters");
    assert_eq!(v.expose_secret(), APPB_VERIFIER);
    assert_eq!(
        CodeChallenge::derive(&v, Method::S256).as_str(),
        APPB_CHALLENGE
    );
}

#[test]
fn secrets_are_redacted() {
    let v = CodeVerifier::parse(APPB_VERIFIER).expect("valid");
    assert!(!format!("{v:?}").contains(APPB_VERIFIER));
    assert_eq!(format!("{v}"), "[redacted]");
}

#[test]
fn errors_name_the_cause() {
    assert_eq!(
        CodeVerifier::parse(&"a".repeat(42)),
        Err(PkceError::VerifierTooShort { len: 42 })
    );
    assert_eq!(
        CodeVerifier::parse(&"a".repeat(129)),
        Err(PkceError::VerifierTooLong { len: 129 })
    );
    let bad = format!("{}+{}", "a".repeat(5), "a".repeat(40));
    assert_eq!(
        CodeVerifier::parse(&bad),
        Err(PkceError::VerifierBadChar { index: 5, ch: '+' })
    );
    assert_eq!(
        Method::parse("s256"),
        Err(PkceError::UnknownMethod("s256".into()))
    );
    assert_eq!(
        PkceError::VerifierBadChar { index: 5, ch: '+' }.to_string(),
        "code verifier has a character outside [A-Za-z0-9-._~] at index 5: '+'"
    );
}

#[test]
fn generated_verifiers_have_the_asked_length() {
    assert_eq!(CodeVerifier::generate().expect("os rng").len(), 43);
    for len in [43, 44, 45, 46, 100, 127, 128] {
        assert_eq!(CodeVerifier::generate_len(len).expect("os rng").len(), len);
    }
    assert_eq!(
        CodeVerifier::generate_len(42).err(),
        Some(PkceError::LengthOutOfRange(42))
    );
    assert_ne!(
        CodeVerifier::generate().expect("os rng").expose_secret(),
        CodeVerifier::generate().expect("os rng").expose_secret()
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct VectorFile {
    #[expect(dead_code, reason = "part of the Wycheproof shape, read by humans")]
    algorithm: String,
    #[expect(dead_code, reason = "part of the Wycheproof shape, read by humans")]
    schema: String,
    #[expect(dead_code, reason = "part of the Wycheproof shape, read by humans")]
    header: Vec<String>,
    notes: std::collections::BTreeMap<String, String>,
    number_of_tests: usize,
    tests: Vec<Vector>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Vector {
    tc_id: u32,
    comment: String,
    verifier: String,
    challenge: String,
    method: Option<String>,
    result: Expected,
    flags: Vec<String>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Expected {
    Valid,
    Invalid,
    /// Valid only through a legacy default (no method means plain).
    Acceptable,
}

fn reference_accepts(v: &Vector) -> bool {
    let Ok(method) = Method::from_param(v.method.as_deref()) else {
        return false;
    };
    let Ok(verifier) = CodeVerifier::parse(&v.verifier) else {
        return false;
    };
    let Ok(challenge) = CodeChallenge::parse(&v.challenge) else {
        return false;
    };
    verify(&challenge, method, &verifier)
}

#[test]
fn wycheproof_vectors() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/vectors/pkce.json");
    let text = std::fs::read_to_string(path).expect("fixtures/vectors/pkce.json is readable");
    let file: VectorFile = serde_json::from_str(&text).expect("vector file matches its shape");
    assert_eq!(
        file.tests.len(),
        file.number_of_tests,
        "numberOfTests disagrees with the file"
    );
    assert!(
        file.tests.len() >= 40,
        "the issue asks for at least 40 vectors"
    );
    let mut failures = Vec::new();
    for (i, v) in file.tests.iter().enumerate() {
        assert_eq!(v.tc_id as usize, i + 1, "tcId must count up from 1");
        let accepted = reference_accepts(v);
        let ok = match v.result {
            Expected::Valid => accepted,
            Expected::Invalid => !accepted,
            Expected::Acceptable => accepted && v.method.is_none(),
        };
        if !ok {
            failures.push(format!(
                "tcId {} ({}): {:?}, reference accepted={accepted}",
                v.tc_id, v.comment, v.result
            ));
        }
        for flag in &v.flags {
            assert!(!flag.is_empty(), "tcId {}: empty flag", v.tc_id);
        }
    }
    assert!(file.notes.contains_key("PlainSubstitution"));
    assert!(
        failures.is_empty(),
        "vectors failed:\n{}",
        failures.join("\n")
    );
}

/// Any string of the RFC 7636 §4.1 grammar.
fn valid_verifier() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~-]{43,128}"
}

proptest! {
    #[test]
    fn derive_then_verify_holds(v in valid_verifier(), s256 in any::<bool>()) {
        let method = if s256 { Method::S256 } else { Method::Plain };
        let verifier = CodeVerifier::parse(&v).expect("strategy yields valid verifiers");
        let challenge = CodeChallenge::derive(&verifier, method);
        prop_assert!(verify(&challenge, method, &verifier));
    }

    #[test]
    fn s256_challenges_are_43_unpadded_base64url(v in valid_verifier()) {
        let verifier = CodeVerifier::parse(&v).expect("valid");
        let c = CodeChallenge::derive(&verifier, Method::S256);
        prop_assert_eq!(c.as_str().len(), 43);
        prop_assert!(c.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        prop_assert!(CodeChallenge::parse(c.as_str()).is_ok());
    }

    #[test]
    fn any_single_character_change_of_the_verifier_fails(
        v in valid_verifier(), idx in any::<prop::sample::Index>(), repl in "[A-Za-z0-9._~-]",
        s256 in any::<bool>(),
    ) {
        let method = if s256 { Method::S256 } else { Method::Plain };
        let verifier = CodeVerifier::parse(&v).expect("valid");
        let challenge = CodeChallenge::derive(&verifier, method);
        let i = idx.index(v.len());
        prop_assume!(v[i..=i] != repl);
        let mut tampered = v.clone();
        tampered.replace_range(i..=i, &repl);
        let tampered = CodeVerifier::parse(&tampered).expect("still in the grammar");
        prop_assert!(!verify(&challenge, method, &tampered));
    }

    #[test]
    fn any_single_character_change_of_the_challenge_fails(
        v in valid_verifier(), idx in any::<prop::sample::Index>(), repl in "[A-Za-z0-9._~-]",
    ) {
        let verifier = CodeVerifier::parse(&v).expect("valid");
        let c = CodeChallenge::derive(&verifier, Method::S256).as_str().to_owned();
        let i = idx.index(c.len());
        prop_assume!(c[i..=i] != repl);
        let mut tampered = c.clone();
        tampered.replace_range(i..=i, &repl);
        let tampered = CodeChallenge::parse(&tampered).expect("still in the grammar");
        prop_assert!(!verify(&tampered, Method::S256, &verifier));
    }

    /// The parser accepts exactly `43*128unreserved`, compared with a straight-line statement of
    /// the grammar over arbitrary strings (mostly near the alphabet, so both sides are reached).
    #[test]
    fn verifier_parser_is_exactly_the_grammar(s in "[A-Za-z0-9._~+/= %-]{0,140}|\\PC{0,140}") {
        let grammar = (43..=128).contains(&s.chars().count())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        prop_assert_eq!(CodeVerifier::parse(&s).is_ok(), grammar);
        prop_assert_eq!(CodeChallenge::parse(&s).is_ok(), grammar);
    }
}
