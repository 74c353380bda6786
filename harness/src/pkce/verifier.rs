use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{Grammar, PkceError, check_grammar};

/// A PKCE `code_verifier`: 43 to 128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
///
/// It cannot hold anything else, so code that has one never has to re-check it. It is a secret
/// for the length of a flow: `Debug` and `Display` print `[redacted]`, and there is no `Clone`, so
/// each copy is a deliberate [`CodeVerifier::expose_secret`] call that review can find.
#[derive(PartialEq, Eq)]
pub struct CodeVerifier(String);

impl CodeVerifier {
    /// The shortest verifier the grammar allows.
    pub const MIN_LEN: usize = 43;
    /// The longest verifier the grammar allows.
    pub const MAX_LEN: usize = 128;
    /// Octets of entropy behind a default verifier: RFC 7636 §4.1 recommends 32, which
    /// base64url-encode to 43 characters.
    pub const DEFAULT_OCTETS: usize = 32;

    /// A fresh 43-character verifier from 32 octets of the OS CSPRNG (RFC 7636 §4.1).
    pub fn generate() -> Result<Self, PkceError> {
        Self::generate_len(Self::MIN_LEN)
    }

    /// A fresh verifier of exactly `len` characters (43..=128) from the OS CSPRNG.
    pub fn generate_len(len: usize) -> Result<Self, PkceError> {
        Self::from_random(len, |buf| {
            getrandom::fill(buf).map_err(|e| PkceError::Entropy(e.to_string()))
        })
    }

    /// A verifier of `len` characters whose octets come from `fill`, which must be a CSPRNG
    /// (the harness passes its seeded ChaCha20 stream so a run can be replayed).
    pub fn from_random(
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<(), PkceError>,
    ) -> Result<Self, PkceError> {
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(PkceError::LengthOutOfRange(len));
        }
        // base64url carries 6 bits a character: ceil(len * 6 / 8) octets cover `len` characters.
        let mut octets = vec![0u8; (len * 6).div_ceil(8)];
        fill(&mut octets)?;
        let mut encoded = URL_SAFE_NO_PAD.encode(&octets);
        encoded.truncate(len);
        Ok(Self(encoded))
    }

    /// The base64url encoding, unpadded, of `octets`: how RFC 7636 §4.1 and Appendix B build a
    /// verifier from 32 random octets. Fails if the encoding is outside 43..=128 characters.
    pub fn from_octets(octets: &[u8]) -> Result<Self, PkceError> {
        Self::parse(&URL_SAFE_NO_PAD.encode(octets))
    }

    /// Checks `value` against the grammar and keeps it.
    pub fn parse(value: &str) -> Result<Self, PkceError> {
        check_grammar(value, Grammar::Verifier)?;
        Ok(Self(value.to_owned()))
    }

    /// The verifier itself, to put on the wire. Named so that every use is visible in review.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Its length in characters.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: the grammar has no empty verifier. Present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<String> for CodeVerifier {
    type Error = PkceError;
    fn try_from(value: String) -> Result<Self, PkceError> {
        check_grammar(&value, Grammar::Verifier)?;
        Ok(Self(value))
    }
}

impl std::str::FromStr for CodeVerifier {
    type Err = PkceError;
    fn from_str(s: &str) -> Result<Self, PkceError> {
        Self::parse(s)
    }
}

impl std::fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CodeVerifier([redacted], len={})", self.0.len())
    }
}

impl std::fmt::Display for CodeVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}
