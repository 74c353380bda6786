//! The reference PKCE implementation (RFC 7636): the oracle every check of the harness trusts.
//!
//! [`CodeVerifier`] can only hold a string of the RFC 7636 §4.1 grammar, [`CodeChallenge`] only
//! one of the §4.2 grammar, and [`Method`] only `S256` or `plain` spelled exactly so (values are
//! case-sensitive, RFC 6749 §1.9 and the IANA registry). [`verify`] compares in constant time.

mod challenge;
mod error;
mod verifier;

pub use challenge::{CodeChallenge, Method, ct_eq, s256_of_text, verify};
pub use error::PkceError;
pub use verifier::CodeVerifier;

/// The unreserved characters of RFC 3986 §2.3, the only ones a verifier or challenge may hold
/// (RFC 7636 §4.1: `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"`).
pub fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

/// Checks `value` against `43*128unreserved`, the grammar shared by verifiers (§4.1) and
/// challenges (§4.2), and names the first thing wrong with it.
fn check_grammar(value: &str, what: Grammar) -> Result<(), PkceError> {
    if let Some((index, ch)) = value.chars().enumerate().find(|&(_, c)| !is_unreserved(c)) {
        return Err(what.bad_char(index, ch));
    }
    // Every accepted character is ASCII, so the byte length is the character count.
    let len = value.len();
    if len < 43 {
        return Err(what.too_short(len));
    }
    if len > 128 {
        return Err(what.too_long(len));
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Grammar {
    Verifier,
    Challenge,
}

impl Grammar {
    fn bad_char(self, index: usize, ch: char) -> PkceError {
        match self {
            Self::Verifier => PkceError::VerifierBadChar { index, ch },
            Self::Challenge => PkceError::ChallengeBadChar { index, ch },
        }
    }
    fn too_short(self, len: usize) -> PkceError {
        match self {
            Self::Verifier => PkceError::VerifierTooShort { len },
            Self::Challenge => PkceError::ChallengeTooShort { len },
        }
    }
    fn too_long(self, len: usize) -> PkceError {
        match self {
            Self::Verifier => PkceError::VerifierTooLong { len },
            Self::Challenge => PkceError::ChallengeTooLong { len },
        }
    }
}

#[cfg(test)]
mod tests;
