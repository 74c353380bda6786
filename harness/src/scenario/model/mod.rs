//! The scenario format, version 1 (documented in `scenarios/README.md`).
//!
//! Every struct denies unknown fields and no enum is untagged, so a typo is an error at its line
//! and column rather than a check that silently passes. Values that refer to something (a
//! requirement id, a defect, a template variable) are checked while they are read.

mod expect;
mod steps;
mod terms;
mod values;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::defect::Defect;
pub use expect::*;
pub use steps::*;
pub use terms::*;
pub use values::*;

/// One scenario file.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// The format version; only `1` exists.
    pub format: FormatVersion,
    /// What is sent, in one sentence.
    pub title: String,
    /// The requirement ids it checks (`REQ-n`, `BUG-n`).
    pub requirements: Vec<RequirementId>,
    /// How binding the requirement is.
    #[serde(default)]
    pub level: Level,
    /// The client kinds it runs with; one result each. Default: the public client.
    #[serde(default = "default_clients")]
    pub clients: Vec<ClientKind>,
    /// What the target must have for the scenario to apply; it is skipped, with the reason,
    /// otherwise.
    #[serde(default)]
    pub requires: Vec<Capability>,
    /// Where the specifications disagree: the level, or a skip, under a profile.
    #[serde(default)]
    pub profiles: BTreeMap<Profile, ProfileOverride>,
    /// Why the scenario exists.
    #[serde(default)]
    pub notes: Notes,
    /// The reference-server defects this scenario must fail against.
    #[serde(default)]
    pub catches: Vec<Defect>,
    /// How a refusal in another form than expected is graded: the bad value was refused (no
    /// code, no token), but as a page instead of an error redirect, or with another status or
    /// error code. That is a deviation of its own, never the bypass the scenario looks for.
    #[serde(default)]
    pub form: FormGrading,
    /// The exchanges, in order.
    pub steps: Vec<Step>,
}

/// The grade of a refusal that came in another form than the scenario expects. Only the form
/// of a refusal is graded so: the scenario says what property it checks through `outcome` (no
/// code) and the success-or-refusal class of `status` (no token); the kind of refusal
/// (`error-redirect` rather than a page), the exact status, the `error` code, `error_format` and
/// `auth_challenge` are its form.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormGrading {
    /// The level of such a finding; `should` by default (the client cannot tell what went
    /// wrong, but nothing was let through).
    #[serde(default = "form_level")]
    pub level: Level,
    /// The requirements the form comes from; by default the error-response rule of the step
    /// where it was seen: REQ-94 (RFC 6749 §4.1.2.1) for an authorization request, REQ-95
    /// (RFC 6750 §3.1) for a resource, REQ-43 (RFC 6749 §5.2) for the token endpoint.
    #[serde(default)]
    pub requirements: Vec<RequirementId>,
}

impl Default for FormGrading {
    fn default() -> Self {
        Self {
            level: form_level(),
            requirements: Vec::new(),
        }
    }
}

fn form_level() -> Level {
    Level::Should
}

impl ScenarioFile {
    /// Its level under `profile`: the profile's override, else its own.
    pub fn level_under(&self, profile: Profile) -> Level {
        self.profiles
            .get(&profile)
            .and_then(|o| o.level)
            .unwrap_or(self.level)
    }

    /// How severe an unmet result of this scenario is: the worst of the defects it catches
    /// (what it protects against; see [`crate::defect::Severity`]).
    pub fn severity(&self) -> crate::defect::Severity {
        self.catches
            .iter()
            .map(|d| d.severity())
            .max()
            .unwrap_or_default()
    }
}

fn default_clients() -> Vec<ClientKind> {
    vec![ClientKind::Public]
}

/// The only format version, checked while reading so a future file fails at its `format:` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatVersion;

impl<'de> Deserialize<'de> for FormatVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match u32::deserialize(d)? {
            1 => Ok(Self),
            v => Err(de::Error::custom(format!(
                "unsupported scenario format {v}: this harness reads format 1"
            ))),
        }
    }
}

pub use crate::requirements::RequirementId;

/// A scenario's rule under one profile.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileOverride {
    /// The level under this profile.
    pub level: Option<Level>,
    /// Skip under this profile, for this reason.
    pub skip: Option<String>,
}

/// What a target must have for a scenario to apply.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// A second confidential client is configured.
    SecondConfidentialClient,
    /// The public client's redirect URI is a loopback IP literal (RFC 8252 §7.3).
    LoopbackRedirect,
    /// Refresh tokens are issued to the public client.
    RefreshTokensPublic,
    /// Refresh tokens are issued to the confidential clients.
    RefreshTokensConfidential,
    /// A userinfo or protected resource endpoint is configured.
    Userinfo,
    /// An RFC 7662 introspection endpoint is configured.
    Introspection,
    /// An RFC 7009 revocation endpoint is configured, or the metadata names one.
    Revocation,
    /// Whether an access token still works can be asked: a userinfo or resource endpoint, or
    /// else RFC 7662 introspection (`active`), which a `userinfo` step that judges only the
    /// status then asks instead.
    TokenStatus,
    /// The scenario checks that plain is refused. It always runs: where the target declares
    /// plain allowed (`policy.plain_allowed`), an unmet result is `info` that says so.
    PlainUnsupported,
    /// The server declares that it allows plain.
    PlainSupported,
    /// PKCE is required of confidential clients: the target declares it
    /// (`policy.pkce_required_confidential`), or the profile is `fapi2`, which requires it.
    PkceRequiredConfidential,
    /// The server declares PKCE optional for confidential clients.
    PkceOptionalConfidential,
    /// The login driver goes through the login and consent pages (`form` or `browser`), so the
    /// scenario can inspect them; `steps` calls APIs beside them.
    FormLogin,
    /// The login driver keeps a signed-in session from one authorization to the next
    /// (`form` or `browser`, which sign in only when the server asks); `steps` replays its
    /// login calls every time, so a reused login cannot be told from a new one.
    SessionLogin,
    /// The target does not declare its client assertions made out to the issuer alone
    /// (`assertion_audience: issuer`, as FAPI 2.0 asks), so the endpoint URLs RFC 9126 §2 and
    /// RFC 7523 name as audiences apply.
    EndpointAudience,
    /// The check is about RFC 9207 `iss`: a present `iss` is always judged; an absent one only
    /// where the metadata announces it (or under `fapi2`), else the check is skipped saying so.
    IssParameter,
    /// The declared code lifetime is short enough to wait for (at most 60 s).
    ShortCodeLifetime,
    /// The scenario's client has more than one registered redirect URI.
    SeveralRedirectUris,
    /// The target's `scope` has two or more values, so their order can change.
    SeveralScopes,
    /// The scenario's client has a redirect URI that is not a loopback address.
    NonLoopbackRedirect,
    /// Flows are OpenID Connect flows (the target says so, or its metadata is an OpenID
    /// Provider's): ID Tokens are expected.
    Openid,
    /// The scenario's client authenticates with a JWT assertion (`private_key_jwt` or
    /// `client_secret_jwt`).
    JwtClientAuth,
    /// The scenario's client has a client secret (the checks of how secrets travel).
    ClientSecret,
    /// The server has a pushed authorization request endpoint (RFC 9126).
    Par,
    /// The server requires pushed authorization requests (its metadata says
    /// `require_pushed_authorization_requests`, or the target file `par: required`).
    ParRequired,
    /// The server takes DPoP proofs (metadata `dpop_signing_alg_values_supported`, or the
    /// target file `dpop: true`).
    Dpop,
    /// The server takes signed request objects (RFC 9101: metadata
    /// `request_parameter_supported`, or the target file `request_object: true`), and the
    /// scenario's client has a key to sign them with (`private_key_jwt`, `client_secret_jwt`).
    RequestObject,
    /// The server does not take unsigned request objects: its metadata requires them signed
    /// (`require_signed_request_object`) or lists their algorithms without `none`
    /// (`request_object_signing_alg_values_supported`), or the profile is `fapi2`.
    SignedRequestObject,
    /// The server registers clients dynamically (RFC 7591: metadata `registration_endpoint`).
    Registration,
    /// The server publishes a JWK Set (metadata `jwks_uri`).
    Jwks,
    /// A redirect URI the client did not register must be refused when the client pushes it:
    /// always for a client that does not authenticate, and for one that does unless the
    /// target declares `policy.pushed_redirect_uris_unregistered` (RFC 9126 §2.4).
    PushedRedirectRegistered,
    /// The token endpoint's host has two or more addresses (the target file's
    /// `token_addresses`, else what it resolves to): a race can be spread over a cluster's
    /// nodes.
    TokenNodes,
    /// The scenario's client signs with an RSA key (RS256..PS512), which can be made to sign
    /// with RS256.
    RsaKey,
    /// The target file turns on the client host (`client_host`), which serves what the server
    /// fetches from a client: a `jwks_uri`, a `sector_identifier_uri`, a `request_uri`.
    ClientHost,
    /// The server fetches request objects by reference (OpenID Connect Core §6.2: its metadata
    /// says `request_uri_parameter_supported`), and does not require pushed requests.
    RequestUri,
    /// The server takes unsigned request objects (OpenID Connect Core §6.1: its metadata lists
    /// `none` among `request_object_signing_alg_values_supported`, and does not say
    /// `require_signed_request_object`).
    UnsignedRequestObject,
    /// The server issues pairwise subject identifiers (OpenID Connect Core §8.1: its metadata
    /// lists `pairwise` among `subject_types_supported`).
    Pairwise,
    /// The server supports the `claims` request parameter (OpenID Connect Core §5.5: its
    /// metadata says `claims_parameter_supported`, false by default).
    ClaimsParameter,
    /// The scenario's client authenticates with a TLS client certificate (RFC 8705:
    /// `tls_client_auth`, `self_signed_tls_client_auth`).
    Mtls,
    /// The scenario's client presents no TLS client certificate. An mTLS client's tokens are
    /// bound to its certificate (RFC 8705 §3), which FAPI 2.0 takes as their sender
    /// constraint as well as DPoP: a request from it without a DPoP proof is no downgrade.
    NotMtls,
    /// The target is reached over HTTPS: at least one endpoint it names or its metadata gives
    /// has an `https` URL (the TLS checks ask those).
    Https,
    /// The server answers in JWT-secured response modes (JARM: metadata
    /// `response_modes_supported` lists `jwt`, or the target file sets `response_mode`).
    Jarm,
}

/// Why a scenario exists (wycheproof's notes).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notes {
    /// The kind of bug the scenario looks for.
    pub bug_type: Option<BugType>,
    /// What an attacker gains if the check fails.
    pub effect: Option<String>,
    /// CVE ids of real products that had this bug.
    #[serde(default)]
    pub cves: Vec<String>,
    /// Further reading.
    #[serde(default)]
    pub links: Vec<String>,
}

/// The kinds of bug scenarios look for (wycheproof's `bugType`), so a report can group them.
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
#[serde(rename_all = "kebab-case")]
pub enum BugType {
    /// A code bound to one client is redeemed by another.
    Binding,
    /// A secret can be guessed online.
    BruteForce,
    /// A page can be framed.
    Clickjacking,
    /// Consent is skipped.
    ConsentBypass,
    /// A credential travels where it should not.
    CredentialLeak,
    /// A default is applied inconsistently.
    DefaultConfusion,
    /// Anyone can break a user's session.
    DenialOfService,
    /// Metadata misleads clients.
    Discovery,
    /// A protection can be stripped.
    Downgrade,
    /// The response format differs from the specification.
    Format,
    /// A secret has too little entropy.
    GuessableSecret,
    /// A check is not performed at all.
    MissingStep,
    /// A value is accepted without validation.
    MissingValidation,
    /// A client cannot tell servers apart.
    MixUp,
    /// Values are normalised where they must match exactly.
    Normalisation,
    /// The server redirects anywhere.
    OpenRedirect,
    /// Repeated or conflicting parameters are read differently.
    ParameterConfusion,
    /// Concurrent requests get around a single-use rule.
    Race,
    /// A redirect URI is not bound exactly.
    RedirectUriBinding,
    /// A single-use value is used again.
    Replay,
}
