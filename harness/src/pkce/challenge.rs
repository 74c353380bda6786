use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::{CodeVerifier, Grammar, PkceError, check_grammar};

/// A `code_challenge_method` (RFC 7636 §4.3, §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`: mandatory to implement on servers.
    S256,
    /// `code_challenge = code_verifier`: offers no protection against an eavesdropper.
    Plain,
}

impl Method {
    /// The method as it is spelled on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }

    /// Parses the wire value, case-sensitively: `s256` and `PLAIN` are errors.
    pub fn parse(value: &str) -> Result<Self, PkceError> {
        match value {
            "S256" => Ok(Self::S256),
            "plain" => Ok(Self::Plain),
            other => Err(PkceError::UnknownMethod(other.to_owned())),
        }
    }

    /// The method a server must assume for a request parameter that may be absent: RFC 7636
    /// §4.3 makes `plain` the default ("defaults to plain if not present in the request").
    pub fn from_param(value: Option<&str>) -> Result<Self, PkceError> {
        value.map_or(Ok(Self::Plain), Self::parse)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Method {
    type Err = PkceError;
    fn from_str(s: &str) -> Result<Self, PkceError> {
        Self::parse(s)
    }
}

/// A `code_challenge`: 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.2). Not a secret:
/// it travels in the front channel by design.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Derives the challenge of `verifier` with `method` (RFC 7636 §4.2).
    pub fn derive(verifier: &CodeVerifier, method: Method) -> Self {
        match method {
            Method::S256 => Self(s256_of_text(verifier.expose_secret())),
            Method::Plain => Self(verifier.expose_secret().to_owned()),
        }
    }

    /// Checks `value` against the grammar and keeps it.
    pub fn parse(value: &str) -> Result<Self, PkceError> {
        check_grammar(value, Grammar::Challenge)?;
        Ok(Self(value.to_owned()))
    }

    /// The challenge as it is sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CodeChallenge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for CodeChallenge {
    type Err = PkceError;
    fn from_str(s: &str) -> Result<Self, PkceError> {
        Self::parse(s)
    }
}

/// RFC 7636 §4.6: derive the challenge from `verifier` with the method stored with the code and
/// compare it with the stored `challenge`. The comparison takes the same time wherever the first
/// difference lies, so a server built on it leaks nothing through timing. Nothing is allocated:
/// the S256 encoding goes to a stack buffer (this runs once per token request).
pub fn verify(challenge: &CodeChallenge, method: Method, verifier: &CodeVerifier) -> bool {
    let expected = challenge.0.as_bytes();
    match method {
        Method::S256 => {
            let mut buf = [0u8; 43];
            let digest = Sha256::digest(verifier.expose_secret().as_bytes());
            // 32 octets always encode to exactly 43 base64url characters.
            URL_SAFE_NO_PAD
                .encode_slice(digest, &mut buf)
                .is_ok_and(|n| ct_eq(&buf[..n], expected))
        }
        Method::Plain => ct_eq(verifier.expose_secret().as_bytes(), expected),
    }
}

/// Compares two byte strings in time that depends only on their lengths (which are public here:
/// a challenge is 43..=128 characters). The differences are OR-folded without branches and the
/// result passes through `black_box`, so the compiler cannot turn the fold into an early exit.
/// One barrier for the whole slice, not one per byte, keeps this within a few nanoseconds of `==`.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// `BASE64URL-ENCODE(SHA256(value))` of any text, always 43 characters. For building test inputs
/// outside the verifier grammar (a challenge for a 1-character verifier); everything else
/// should use [`CodeChallenge::derive`].
pub fn s256_of_text(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(value.as_bytes()))
}
