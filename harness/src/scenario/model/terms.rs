//! The scenario format's vocabulary: levels, clients, profiles, burst techniques.

use serde::Deserialize;

/// RFC 2119 strength: an unmet `must` fails, an unmet `should` warns, an unmet `may` informs.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// MUST, SHALL, REQUIRED.
    #[default]
    Must,
    /// SHOULD, RECOMMENDED.
    Should,
    /// MAY, OPTIONAL.
    May,
}

impl Level {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Must => "must",
            Self::Should => "should",
            Self::May => "may",
        }
    }
}

/// Which of the target's clients a flow uses.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// A public client (no secret; `token_endpoint_auth_method: none`).
    Public,
    /// A confidential client.
    Confidential,
    /// A second confidential client, for cross-client checks.
    Confidential2,
}

impl ClientKind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Confidential => "confidential",
            Self::Confidential2 => "confidential2",
        }
    }
}

/// The set of rules a verdict is judged by, where the specifications disagree.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
pub enum Profile {
    /// RFC 6749 + RFC 7636 as published.
    #[serde(rename = "rfc6749")]
    Rfc6749,
    /// The OAuth 2.0 Security Best Current Practice (RFC 9700). The default.
    #[default]
    #[serde(rename = "rfc9700")]
    Rfc9700,
    /// The OAuth 2.1 draft.
    #[serde(rename = "oauth2.1")]
    Oauth21,
    /// The FAPI 2.0 Security Profile as far as it is checked here: PAR, DPoP and RFC 9207 `iss`
    /// required, PKCE S256 for every client, no declared softening (not mTLS, not HTTPS).
    #[serde(rename = "fapi2")]
    Fapi2,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 4] = [Self::Rfc6749, Self::Rfc9700, Self::Oauth21, Self::Fapi2];
    /// The name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rfc6749 => "rfc6749",
            Self::Rfc9700 => "rfc9700",
            Self::Oauth21 => "oauth2.1",
            Self::Fapi2 => "fapi2",
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = crate::diagnostics::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                crate::diagnostics::UnknownName::new("profile", s, Self::ALL.map(Self::as_str))
            })
    }
}

/// How a burst of concurrent requests is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// HTTP/1.1: one connection per request, the final bytes released in a tight loop.
    LastByte,
    /// HTTP/2: one connection, every stream's final DATA frame in one write.
    H2SinglePacket,
}

impl Technique {
    /// The name used in files, flags and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LastByte => "last-byte",
            Self::H2SinglePacket => "h2-single-packet",
        }
    }
}
