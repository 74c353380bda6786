use thiserror::Error;

/// What is wrong with a PKCE value, precisely enough to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PkceError {
    /// Fewer than 43 characters (RFC 7636 §4.1).
    #[error("code verifier is too short: {len} characters, at least 43 required (RFC 7636 §4.1)")]
    VerifierTooShort {
        /// The length found.
        len: usize,
    },
    /// More than 128 characters (RFC 7636 §4.1).
    #[error("code verifier is too long: {len} characters, at most 128 allowed (RFC 7636 §4.1)")]
    VerifierTooLong {
        /// The length found.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9-._~]`.
    #[error("code verifier has a character outside [A-Za-z0-9-._~] at index {index}: {ch:?}")]
    VerifierBadChar {
        /// Position of the first bad character, counted in characters.
        index: usize,
        /// The character itself.
        ch: char,
    },
    /// Fewer than 43 characters (RFC 7636 §4.2).
    #[error("code challenge is too short: {len} characters, at least 43 required (RFC 7636 §4.2)")]
    ChallengeTooShort {
        /// The length found.
        len: usize,
    },
    /// More than 128 characters (RFC 7636 §4.2).
    #[error("code challenge is too long: {len} characters, at most 128 allowed (RFC 7636 §4.2)")]
    ChallengeTooLong {
        /// The length found.
        len: usize,
    },
    /// A character outside `[A-Za-z0-9-._~]`, such as base64 padding or the standard alphabet.
    #[error("code challenge has a character outside [A-Za-z0-9-._~] at index {index}: {ch:?}")]
    ChallengeBadChar {
        /// Position of the first bad character, counted in characters.
        index: usize,
        /// The character itself.
        ch: char,
    },
    /// A `code_challenge_method` other than `S256` or `plain` (case-sensitive).
    #[error("unknown code challenge method {0:?}: expected \"S256\" or \"plain\" (case-sensitive)")]
    UnknownMethod(String),
    /// A requested verifier length outside 43..=128.
    #[error("verifier length {0} is outside 43..=128 (RFC 7636 §4.1)")]
    LengthOutOfRange(usize),
    /// The operating system's random source failed.
    #[error("the operating system's random source failed: {0}")]
    Entropy(String),
}
