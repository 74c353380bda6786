//! The reference client's defect switches (client mode): one variant per deliberate bug of an
//! OAuth client, so every client scenario is shown to pass on a correct client and to fail on
//! a broken one (the kill matrix of this side). Core (no I/O), like [`crate::defect`], so the
//! client-scenario loader checks `catches:` names without the client.

use serde::Deserialize;

use crate::defect::Severity;

/// A deliberate bug of the reference client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientDefect {
    /// Sends no code_challenge at all.
    NoPkce,
    /// Uses `plain` although the server offers S256.
    PlainMethod,
    /// Makes 42-character verifiers, one short of RFC 7636's minimum.
    ShortVerifier,
    /// Derives the challenge as hex SHA-256 instead of base64url (a real SDK bug class).
    HexChallenge,
    /// Sends the verifier itself in the authorization request too.
    VerifierInFrontChannel,
    /// Uses one hard-coded verifier for every login.
    ReusedVerifier,
    /// Makes its verifiers of digits only (43 of them: about 143 bits).
    DigitVerifier,
    /// Leaves redirect_uri out of its token requests.
    RedirectUriDropped,
    /// Redeems the code whatever state comes back.
    StateUnchecked,
    /// Redeems the code whatever iss comes back.
    IssUnchecked,
    /// Accepts an ID Token without verifying its signature (or with `alg: none`).
    IdTokenSignatureUnchecked,
    /// Accepts an ID Token without checking its `iss`, `aud`, `exp` or `nonce`.
    IdTokenClaimsUnchecked,
    /// Takes the access token without comparing it with the ID Token's `at_hash`.
    AtHashUnchecked,
    /// A confidential client that puts its `client_secret` in the authorization request too
    /// (in the URL the browser carries, its history and the server's logs).
    SecretOnFrontChannel,
    /// A confidential client that authenticates with the other method than the one it is
    /// registered with (in the body when registered for Basic, and the reverse).
    WrongAuthMethod,
    /// Answered with an error, starts a new authorization request, again and again.
    RetriesOnError,
    /// Claims PAR but sends its authorization requests on the front channel, parameters and all.
    ParBypassed,
    /// Signs every DPoP proof with the same `jti`.
    DpopJtiReused,
    /// Leaves `ath` out of the proof it presents at the resource.
    DpopAthMissing,
    /// Gives up when the server asks for its DPoP nonce instead of sending it.
    DpopNonceIgnored,
    /// Refreshes with its first refresh token every time, not the one each refresh answered.
    RefreshTokenNotReplaced,
}

impl ClientDefect {
    /// Every defect, in declaration order.
    pub const ALL: &'static [Self] = &[
        Self::NoPkce,
        Self::PlainMethod,
        Self::ShortVerifier,
        Self::HexChallenge,
        Self::VerifierInFrontChannel,
        Self::ReusedVerifier,
        Self::DigitVerifier,
        Self::RedirectUriDropped,
        Self::StateUnchecked,
        Self::IssUnchecked,
        Self::IdTokenSignatureUnchecked,
        Self::IdTokenClaimsUnchecked,
        Self::AtHashUnchecked,
        Self::SecretOnFrontChannel,
        Self::WrongAuthMethod,
        Self::RetriesOnError,
        Self::ParBypassed,
        Self::DpopJtiReused,
        Self::DpopAthMissing,
        Self::DpopNonceIgnored,
        Self::RefreshTokenNotReplaced,
    ];

    /// The kebab-case name used on the command line and in `catches:`.
    pub fn name(self) -> &'static str {
        match self {
            Self::NoPkce => "no-pkce",
            Self::PlainMethod => "plain-method",
            Self::ShortVerifier => "short-verifier",
            Self::HexChallenge => "hex-challenge",
            Self::VerifierInFrontChannel => "verifier-in-front-channel",
            Self::ReusedVerifier => "reused-verifier",
            Self::DigitVerifier => "digit-verifier",
            Self::RedirectUriDropped => "redirect-uri-dropped",
            Self::StateUnchecked => "state-unchecked",
            Self::IssUnchecked => "iss-unchecked",
            Self::IdTokenSignatureUnchecked => "id-token-signature-unchecked",
            Self::IdTokenClaimsUnchecked => "id-token-claims-unchecked",
            Self::AtHashUnchecked => "at-hash-unchecked",
            Self::SecretOnFrontChannel => "secret-on-front-channel",
            Self::WrongAuthMethod => "wrong-auth-method",
            Self::RetriesOnError => "retries-on-error",
            Self::ParBypassed => "par-bypassed",
            Self::DpopJtiReused => "dpop-jti-reused",
            Self::DpopAthMissing => "dpop-ath-missing",
            Self::DpopNonceIgnored => "dpop-nonce-ignored",
            Self::RefreshTokenNotReplaced => "refresh-token-not-replaced",
        }
    }

    /// How much the bug lets an attacker do (the rule of [`Severity`]): a code intercepted
    /// and redeemed, or a login injected, is high; a weakened protection medium.
    pub fn severity(self) -> Severity {
        match self {
            Self::NoPkce
            | Self::PlainMethod
            | Self::VerifierInFrontChannel
            | Self::ReusedVerifier
            | Self::IdTokenSignatureUnchecked
            | Self::IdTokenClaimsUnchecked
            | Self::SecretOnFrontChannel => Severity::High,
            Self::ShortVerifier
            | Self::DigitVerifier
            | Self::RedirectUriDropped
            | Self::HexChallenge
            | Self::StateUnchecked
            | Self::IssUnchecked
            | Self::AtHashUnchecked => Severity::Medium,
            Self::ParBypassed | Self::DpopJtiReused | Self::DpopAthMissing => Severity::Medium,
            Self::WrongAuthMethod
            | Self::RetriesOnError
            | Self::DpopNonceIgnored
            | Self::RefreshTokenNotReplaced => Severity::Low,
        }
    }
}

impl std::fmt::Display for ClientDefect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ClientDefect {
    type Err = crate::diagnostics::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                crate::diagnostics::UnknownName::new(
                    "client defect",
                    s,
                    Self::ALL.iter().map(|d| d.name()),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for d in ClientDefect::ALL {
            assert_eq!(d.name().parse::<ClientDefect>(), Ok(*d));
            let read: ClientDefect =
                serde_json::from_value(serde_json::json!(d.name())).expect("serde name");
            assert_eq!(read, *d);
        }
    }
}
