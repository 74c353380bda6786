//! Client scenarios (`scenarios/client/`): checks of an OAuth client, run by `pkce-harness
//! client`. The harness is the authorization server; a scenario says how it misbehaves (the
//! reference server's own defects, turned around: a wrong `state`, another issuer's `iss`, an
//! ID Token signed by a stranger), how many logins the client goes through, and what the
//! client must have done, judged from what reached the server and how each login ended.

use std::path::Path;

use serde::Deserialize;

use super::model::{FormatVersion, Level, Notes};
use crate::client_defect::ClientDefect;
use crate::defect::Defect;
use crate::diagnostics::{LoadError, parse_yaml};
use crate::requirements::RequirementId;

/// One client scenario file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientScenarioFile {
    /// The format version; only `1` exists.
    pub format: FormatVersion,
    /// What the client must do, in one sentence.
    pub title: String,
    /// The requirement ids it checks.
    pub requirements: Vec<RequirementId>,
    /// How binding the requirement is.
    #[serde(default)]
    pub level: Level,
    /// How many logins the client goes through (1..=20); checks across logins (fresh
    /// verifiers) need several.
    #[serde(default = "one")]
    pub logins: usize,
    /// How the harness's server misbehaves: defects of the reference server, switched on.
    #[serde(default)]
    pub server: Vec<Defect>,
    /// What the user does at the harness's server: consents (the default), or denies every
    /// authorization request, which then ends in an `access_denied` error response.
    #[serde(default)]
    pub user: User,
    /// The server demands its own nonce in DPoP proofs (RFC 9449 §8): a first proof without it
    /// is answered `use_dpop_nonce` with a `DPoP-Nonce`.
    #[serde(default)]
    pub dpop_nonce: bool,
    /// What the client must send for the check to apply; it is skipped, saying so, otherwise.
    #[serde(default)]
    pub requires: Vec<ClientNeed>,
    /// Why the scenario exists.
    #[serde(default)]
    pub notes: Notes,
    /// The reference client's defects this scenario must fail against.
    #[serde(default)]
    pub catches: Vec<ClientDefect>,
    /// What the client must have done.
    pub expect: ClientExpect,
}

fn one() -> usize {
    1
}

/// What a client must send for a check about it to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClientNeed {
    /// A `state` in its authorization requests (RFC 9700 §2.1 lets PKCE stand in for it
    /// against CSRF): a check of how it handles a wrong one needs one.
    State,
    /// `openid` in its scope: ID Tokens are issued.
    Openid,
    /// A `nonce` in its authorization requests (optional in the code flow, OpenID Connect
    /// Core §3.1.2.1): a check of how it handles an ID Token without it needs one.
    Nonce,
    /// A client secret (the client file's `client_secret`): a check of how a confidential
    /// client authenticates needs one.
    Confidential,
    /// Pushed authorization requests, claimed in the client file (`uses: [par]`).
    Par,
    /// DPoP, claimed in the client file (`uses: [dpop]`).
    Dpop,
    /// Refreshing tokens, claimed in the client file (`uses: [refresh]`).
    Refresh,
}

/// What the user does at the harness's server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum User {
    /// Signs in and consents at once.
    #[default]
    Consents,
    /// Denies every authorization request (RFC 6749 §4.1.2.1 `access_denied`).
    Denies,
}

/// What the client must have done; every given expectation is judged.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientExpect {
    /// Every authorization request carries a `code_challenge` with method `S256` (RFC 7636
    /// §4.2: a client able to use S256 must; the server offers it).
    #[serde(default)]
    pub s256: bool,
    /// Every code is redeemed with a `code_verifier` of 43 to 128 unreserved characters whose
    /// S256 is the challenge sent (RFC 7636 §4.1, §4.5), and no verifier appeared on the front
    /// channel (§1: only its hash travels there).
    #[serde(default)]
    pub verifier_valid: bool,
    /// No two logins share a challenge (RFC 7636 §4.1, RFC 9700 §2.1.1: one verifier per
    /// authorization request).
    #[serde(default)]
    pub fresh_verifiers: bool,
    /// The verifiers of all logins, taken as a sample, show about 256 bits each (RFC 7636 §4.1,
    /// §7.1: the output of a random generator, 32 octets recommended): estimated from the
    /// characters they do not share and the alphabet they use, a lower bound that a verifier
    /// drawn from digits, hex or a timestamp falls under.
    #[serde(default)]
    pub verifier_entropy: bool,
    /// Each token request repeats, exactly, the `redirect_uri` of the authorization request that
    /// got the code (RFC 6749 §4.1.3).
    #[serde(default)]
    pub redirect_uri_repeated: bool,
    /// How each login must end, as the client says (its exit status).
    pub login: Option<LoginEnd>,
    /// No token request redeemed a code: the answer was one the client must not trust.
    #[serde(default)]
    pub not_redeemed: bool,
    /// The client never called the protected resource with what it got.
    #[serde(default)]
    pub no_resource_call: bool,
    /// Each login sends one authorization request: answered with an error, the client ends
    /// the login rather than starting another on its own (no retry loop).
    #[serde(default)]
    pub one_authorization: bool,
    /// Every token request authenticates the way the client is registered (the client file's
    /// `auth_method`), with one method only, and no request carries the client secret in its
    /// URL (RFC 6749 §2.3, §2.3.1).
    #[serde(default)]
    pub authenticates_as_registered: bool,
    /// Every authorization request was pushed (RFC 9126 §4): the browser carried a
    /// `request_uri` this login's push got, and the parameters went on the back channel.
    #[serde(default)]
    pub pushed: bool,
    /// Every token request and every call to the resource carries a DPoP proof (RFC 9449
    /// §4.2, §4.3, §7.1): `typ` `dpop+jwt`, an asymmetric `alg`, a public `jwk`, `htm` and `htu`
    /// of the request, a `jti` never used before in the run, and at the resource the `DPoP`
    /// scheme and `ath`.
    #[serde(default)]
    pub dpop_proofs: bool,
    /// Each login refreshes at least twice, and every refresh sends the refresh token the one
    /// before it got (RFC 6749 §6: a new refresh token replaces the old one, which the server
    /// may then treat as stolen).
    #[serde(default)]
    pub refresh_rotated: bool,
}

/// How a login ends, as the client under test says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LoginEnd {
    /// The client accepted the login (exit status 0).
    Accepted,
    /// The client refused it (any other exit status).
    Refused,
}

/// A client scenario with its id (its path under `scenarios/`, without `.yaml`).
#[derive(Debug, Clone)]
pub struct ClientScenario {
    /// `client/rfc7636/...`.
    pub id: String,
    /// The file's contents.
    pub file: ClientScenarioFile,
}

/// The folder under `scenarios/` that holds client scenarios.
pub const CLIENT_FOLDER: &str = "client/";

/// Parses one client scenario and checks what the types cannot: a requirement, an
/// expectation, and a sane number of logins.
pub fn parse_client_scenario(file: &str, text: &str) -> Result<ClientScenarioFile, LoadError> {
    let s: ClientScenarioFile = parse_yaml(file, text)?;
    let problem = if s.requirements.is_empty() {
        Some("a client scenario must cite at least one requirement id")
    } else if !(1..=20).contains(&s.logins) {
        Some("logins must be between 1 and 20")
    } else if !(s.expect.s256
        || s.expect.verifier_valid
        || s.expect.fresh_verifiers
        || s.expect.verifier_entropy
        || s.expect.redirect_uri_repeated
        || s.expect.not_redeemed
        || s.expect.no_resource_call
        || s.expect.one_authorization
        || s.expect.authenticates_as_registered
        || s.expect.pushed
        || s.expect.dpop_proofs
        || s.expect.refresh_rotated
        || s.expect.login.is_some())
    {
        Some("expect must judge something")
    } else if s.expect.fresh_verifiers && s.logins < 2 {
        Some("fresh_verifiers needs at least 2 logins")
    } else if s.expect.verifier_entropy && s.logins < 10 {
        Some("verifier_entropy needs at least 10 logins (a sample to see the alphabet in)")
    } else {
        None
    };
    match problem {
        Some(message) => Err(LoadError::Io {
            file: file.to_owned(),
            message: message.to_owned(),
        }),
        None => Ok(s),
    }
}

/// The client scenarios among `files` ((path under `scenarios/`, text) pairs, as the built-in
/// library holds them), sorted by id; every broken one is reported.
pub fn client_scenarios(files: &[(&str, &str)]) -> Result<Vec<ClientScenario>, Vec<LoadError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (rel, text) in files.iter().filter(|(p, _)| p.starts_with(CLIENT_FOLDER)) {
        let shown = Path::new("built-in").join(rel).display().to_string();
        match parse_client_scenario(&shown, text) {
            Ok(file) => out.push(ClientScenario {
                id: rel.trim_end_matches(".yaml").to_owned(),
                file,
            }),
            Err(e) => errors.push(e),
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_that_judges_nothing_is_refused() {
        let text = "format: 1\ntitle: t\nrequirements: [REQ-50]\nexpect: {}\n";
        let e = parse_client_scenario("c.yaml", text).expect_err("judges nothing");
        assert!(e.to_string().contains("expect must judge something"), "{e}");
    }

    #[test]
    fn an_unknown_client_defect_is_named() {
        let text = "format: 1\ntitle: t\nrequirements: [REQ-50]\ncatches: [no-pcke]\nexpect: {s256: true}\n";
        let e = parse_client_scenario("c.yaml", text).expect_err("unknown defect");
        assert!(e.to_string().contains("no-pkce"), "{e}");
    }
}
