//! The scenario format, version 1 (documented in `scenarios/README.md`).
//!
//! Every struct denies unknown fields and no enum is untagged, so a typo is an error at its line
//! and column rather than a check that silently passes. Values that refer to something (a
//! requirement id, a defect, a template variable) are checked while they are read.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::defect::Defect;
pub use crate::wire::HttpMethod;

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
    /// The check is about RFC 9207 `iss`: a present `iss` is always judged; an absent one only
    /// where the metadata announces it (or under `fapi2`), else the check is skipped saying so.
    IssParameter,
    /// The declared code lifetime is short enough to wait for (at most 60 s).
    ShortCodeLifetime,
    /// The scenario's client has more than one registered redirect URI.
    SeveralRedirectUris,
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

/// One exchange with the target.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Fetch the RFC 8414 / OpenID metadata.
    Discovery(DiscoveryStep),
    /// Run an authorization request through login and consent to the redirect.
    Authorize(AuthorizeStep),
    /// Redeem a code at the token endpoint.
    Token(TokenStep),
    /// Use a refresh token.
    Refresh(RefreshStep),
    /// Call the userinfo or protected resource endpoint with an access token.
    Userinfo(ResourceStep),
    /// Ask the RFC 7662 introspection endpoint about a token.
    Introspect(IntrospectStep),
    /// Wait.
    Sleep(SleepStep),
    /// Send one raw request to an endpoint (CORS preflight, odd methods).
    Probe(ProbeStep),
    /// Run several full authorizations and judge the codes as a sample.
    Codes(CodesStep),
    /// Redeem one code many times at the same instant (REQ-58).
    Race(RaceStep),
}

/// `race:`: each trial runs a fresh authorization, then sends `count` identical token requests
/// for its code, released together (see [`Technique`]).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaceStep {
    /// Requests per burst (2..=200).
    #[serde(default = "race_count")]
    pub count: usize,
    /// Bursts, each with its own code (1..=100); the step stops at the first burst with more
    /// than `at_most` successes.
    #[serde(default = "one")]
    pub trials: usize,
    /// The most successes one burst may have.
    #[serde(default = "one")]
    pub at_most: usize,
    /// Keep the tokens of the last trial's winner under this name.
    pub save_as: Option<String>,
    /// How the burst is sent; by default HTTP/2 single-packet where the target speaks HTTP/2,
    /// else HTTP/1.1 last-byte synchronisation. `run --race-technique` overrides it.
    pub technique: Option<Technique>,
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

fn race_count() -> usize {
    20
}
fn one() -> usize {
    1
}

/// `discovery:`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryStep {
    /// What the metadata response must show.
    #[serde(default)]
    pub expect: HttpExpect,
}

/// `authorize:`: an authorization request and everything up to the redirect back.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeStep {
    /// The flow name later steps refer to; `main` by default.
    #[serde(default = "main_flow")]
    pub flow: String,
    /// The client; the scenario's client by default.
    pub client: Option<ClientKind>,
    /// The PKCE parameters.
    #[serde(default)]
    pub pkce: PkceSpec,
    /// The redirect_uri parameter.
    #[serde(default)]
    pub redirect_uri: RedirectSpec,
    /// The state parameter.
    #[serde(default)]
    pub state: StateSpec,
    /// The response_type parameter.
    #[serde(default = "code_response_type")]
    pub response_type: ValueSpec,
    /// Further changes to the request's parameters.
    #[serde(default)]
    pub params: Mutations,
    /// Reuse the previous flow's login session (same cookie jar); default true.
    #[serde(default = "yes")]
    pub same_session: bool,
    /// The OpenID Connect `nonce`: a fresh random one in OpenID flows by default.
    #[serde(default)]
    pub nonce: NonceSpec,
    /// Whether the request is pushed first (RFC 9126): by default when the target pushes.
    #[serde(default)]
    pub par: ParSpec,
    /// Changes to the front-channel request of a pushed one (beside `client_id` and
    /// `request_uri`): what an attacker on the front channel may add.
    #[serde(default)]
    pub front_params: Mutations,
    /// DPoP (RFC 9449): whether the flow has a key, and whether the code is bound to it.
    #[serde(default)]
    pub dpop: DpopBinding,
    /// What must happen.
    #[serde(default)]
    pub expect: AuthorizeExpect,
}

/// A flow's DPoP key (RFC 9449).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DpopBinding {
    /// As the target does (`dpop: true`: a key per flow, the code bound with `dpop_jkt`).
    #[default]
    Auto,
    /// A fresh key for the flow, and `dpop_jkt` binding the code to it (§10).
    Bind,
    /// A fresh key for the flow's token requests, the code not bound.
    Key,
    /// No DPoP.
    None,
}

/// The DPoP proof of a back-channel request: the flow's, none, or one flawed on purpose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DpopProof {
    /// A fresh proof with the flow's key, if it has one.
    #[default]
    Auto,
    /// No proof (and, at a resource, the DPoP scheme still).
    None,
    /// A proof by another key.
    OtherKey,
    /// The last proof this scenario sent, `jti` and all (§11.1).
    Replayed,
    /// `htm` another method (§4.3).
    WrongMethod,
    /// `htu` another server's URL (§4.3).
    WrongUrl,
    /// `iat` ten minutes ago (§11.1).
    Stale,
    /// A `nonce` the server never gave (§8).
    WrongNonce,
    /// At a resource: the token presented with the `Bearer` scheme, no proof (a downgrade).
    BearerScheme,
}

/// Pushed authorization requests (RFC 9126) for one authorization step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ParSpec {
    /// Pushed when the target pushes (its `par` setting, or metadata that requires PAR).
    #[default]
    Auto,
    /// Pushed, then the authorization request carries only `client_id` and `request_uri`.
    Push,
    /// Pushed only: the flow keeps its `request_uri` for a later step (`reuse`).
    PushOnly,
    /// Sent on the front channel, never pushed.
    Front,
    /// Not pushed again: the `request_uri` of the named flow, with this step's client.
    Reuse(String),
}

/// The `nonce` of an authorization request (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NonceSpec {
    /// A fresh random value, sent in OpenID flows only.
    #[default]
    Random,
    /// Not sent (optional in the code flow).
    Omit,
}

/// One check of the ID Token a token response carries, as a relying party makes it (OpenID
/// Connect Core §3.1.3.7). Each judges one thing, so one defect is one finding: the claim checks
/// read the claims without verifying the signature, which `signature` checks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum IdTokenCheck {
    /// An `id_token` is in the response (§3.1.3.3).
    Present,
    /// `alg` is advertised and not `none`, and the signature verifies with the provider's JWKS
    /// key chosen by `kid` (§3.1.3.7 items 6-8, §10.1).
    Signature,
    /// `iss` equals the issuer exactly (item 2).
    Iss,
    /// `aud` contains the client_id; with several audiences `azp` is the client_id (items 3-5).
    Aud,
    /// `exp` is in the future and `iat` not in it, within the target's clock skew (items 9-10).
    Lifetime,
    /// `nonce` equals the one the authorization request sent (item 11, §2).
    Nonce,
    /// No `nonce` claim, when the authorization request sent none (§2: the value is the
    /// request's, so there is nothing to echo).
    NoNonce,
    /// `at_hash`, when present, is the left half of the access token's hash (§3.1.3.8).
    AtHash,
    /// `c_hash`, when present, is the left half of the code's hash (§3.3.2.11).
    CHash,
    /// `sub` equals the `sub` of the ID Token saved under this name: one user, one subject
    /// (§2: "never reassigned").
    SameSub(String),
}

fn main_flow() -> String {
    "main".into()
}
fn code_response_type() -> ValueSpec {
    ValueSpec::Literal(Template::literal("code"))
}
fn yes() -> bool {
    true
}

/// `pkce:` of an authorization request.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PkceSpec {
    /// `code_challenge_method`: `S256` by default.
    #[serde(default = "s256")]
    pub method: ValueSpec,
    /// How the challenge is made: derived from a fresh verifier by default.
    #[serde(default)]
    pub challenge: ChallengeSpec,
    /// Length of the generated verifier, 43..=128.
    #[serde(
        default = "verifier_len",
        deserialize_with = "crate::bounds::verifier_length"
    )]
    #[schemars(range(min = 43, max = 128))]
    pub verifier_length: usize,
    /// Use this text as the verifier instead of a generated one, even outside the grammar
    /// (to test that the server enforces it, REQ-54).
    #[serde(default)]
    pub verifier: Option<Template>,
    /// The method used to derive the challenge when `method` is not a real method (omitted or
    /// misspelt); `S256` by default, `plain` to follow RFC 7636 §4.3's default.
    #[serde(default)]
    pub derive_with: Option<crate::pkce::Method>,
}

impl Default for PkceSpec {
    fn default() -> Self {
        Self {
            method: s256(),
            challenge: ChallengeSpec::Derived,
            verifier_length: 43,
            verifier: None,
            derive_with: None,
        }
    }
}

fn s256() -> ValueSpec {
    ValueSpec::Literal(Template::literal("S256"))
}
fn verifier_len() -> usize {
    43
}

impl<'de> Deserialize<'de> for crate::pkce::Method {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::pkce::Method::parse(&String::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// How a `code_challenge` is made.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChallengeSpec {
    /// Derived from the flow's fresh verifier with the method.
    #[default]
    Derived,
    /// Not sent at all.
    Omit,
    /// Sent with an empty value.
    Empty,
    /// The derived challenge with base64 `=` padding appended.
    Padded,
    /// The derived challenge cut or extended to this many characters (at most 4096).
    Length(
        #[serde(deserialize_with = "crate::bounds::value_length")]
        #[schemars(range(max = 4096))]
        usize,
    ),
    /// The derived challenge with `+` and `/` in place of `-` and `_` (forced in).
    StandardAlphabet,
    /// A fixed value (templates allowed).
    Literal(Template),
    /// Sent twice: the derived challenge, then another.
    Duplicated,
}

/// A parameter value that may be left out: a string is sent as written (templates allowed), `~`
/// (null) leaves the parameter out, `""` sends it with an empty value.
#[derive(Debug, Clone)]
pub enum ValueSpec {
    /// Not sent.
    Omit,
    /// Sent with an empty value.
    Empty,
    /// This value (templates allowed).
    Literal(Template),
}

impl<'de> Deserialize<'de> for ValueSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = ValueSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, \"\" for an empty value, or ~ to leave the parameter out")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Omit)
            }
            fn visit_none<E: de::Error>(self) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Omit)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ValueSpec, E> {
                if v.is_empty() {
                    return Ok(ValueSpec::Empty);
                }
                Template::parse(v)
                    .map(ValueSpec::Literal)
                    .map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Literal(Template::literal(&v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// `redirect_uri:` of a request.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectSpec {
    /// The client's registered redirect URI (at the token endpoint: the one the flow used).
    #[default]
    Registered,
    /// Not sent.
    Omit,
    /// The registered URI, changed.
    Mutate(RedirectMutation),
    /// A fixed value (templates allowed).
    Literal(Template),
}

/// The redirect URI mutation corpus (RFC 9700 §4.1.3; BUG-13..BUG-19).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RedirectMutation {
    /// `?extra=1` appended.
    ExtraQuery,
    /// `/x` appended to the path.
    PathSuffix,
    /// A `/` appended (or removed, when the path ends with one).
    TrailingSlash,
    /// The path upper-cased.
    PathCase,

    /// `/..%2Fevil` appended to the path.
    EncodedTraversal,
    /// `%252F` double-encoded slash in the path.
    DoubleEncoded,
    /// `scheme://registered-host:port@evil.example/path` (userinfo confusion).
    Userinfo,
    /// `#frag` appended.
    Fragment,
    /// `evil.` prepended to the host.
    Subdomain,
    /// Another port on the same host.
    OtherPort,
    /// Another host entirely (`evil.example`), same path.
    OtherHost,
    /// `https` turned into `http` (or `http` into `https`).
    SchemeSwap,
    /// `http://127.0.0.1` with the registered port and path (BUG-13).
    LoopbackHost,
}

impl RedirectMutation {
    /// Every mutation.
    pub const ALL: &'static [Self] = &[
        Self::ExtraQuery,
        Self::PathSuffix,
        Self::TrailingSlash,
        Self::PathCase,
        Self::EncodedTraversal,
        Self::DoubleEncoded,
        Self::Userinfo,
        Self::Fragment,
        Self::Subdomain,
        Self::OtherPort,
        Self::OtherHost,
        Self::SchemeSwap,
        Self::LoopbackHost,
    ];
}

/// `state:` of an authorization request.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StateSpec {
    /// A fresh random value.
    #[default]
    Random,
    /// Not sent.
    Omit,
    /// A fixed value (templates allowed).
    Literal(Template),
    /// A random value of this many characters (at most 4096).
    Length(
        #[serde(deserialize_with = "crate::bounds::value_length")]
        #[schemars(range(max = 4096))]
        usize,
    ),
}

/// Changes to a request's parameters, applied after everything else.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mutations {
    /// Set these (replacing any present).
    #[serde(default)]
    pub set: BTreeMap<String, Template>,
    /// Remove these.
    #[serde(default)]
    pub omit: Vec<String>,
    /// Send these a second time with the same value.
    #[serde(default)]
    pub repeat: Vec<String>,
}

/// What an authorization request must lead to.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeExpect {
    /// How the request ends; a code by default.
    #[serde(default)]
    pub outcome: AuthOutcome,
    /// For an error redirect: acceptable `error` values.
    pub error: Option<OneOrMany<String>>,
    /// `state` is echoed byte for byte.
    #[serde(default)]
    pub state_echoed: bool,
    /// RFC 9207 `iss` is present and equals the metadata issuer.
    #[serde(default)]
    pub iss: bool,
    /// The error response follows RFC 6749 §4.1.2.1 (registered code, charset, no repeats).
    #[serde(default)]
    pub error_format: bool,
    /// The flow's code_challenge appears nowhere in the authorization response.
    #[serde(default)]
    pub challenge_not_reflected: bool,
    /// Every HTML page shown on the way (login, consent) carries these headers.
    #[serde(default)]
    pub page_headers: BTreeMap<String, HeaderMatch>,
    /// Every HTML page shown on the way forbids framing: `X-Frame-Options` or a
    /// `Content-Security-Policy` with `frame-ancestors` (RFC 9700 §4.16).
    #[serde(default)]
    pub pages_not_frameable: bool,
    /// No redirect on the way answers a POST with one of these statuses.
    #[serde(default)]
    pub post_redirect_not: Vec<u16>,
    /// A consent page is shown on the way (RFC 8252 §8.6).
    #[serde(default)]
    pub consent_shown: bool,
    /// If the server refuses the request (error redirect or error page), the scenario passes
    /// here, for this reason: the attack the later steps try is stopped earlier.
    pub refusal_passes: Option<String>,
    /// The request only provokes the refusal whose details the other expectations judge: when
    /// the server does not refuse it, those details cannot be observed, and the check is
    /// skipped saying what came instead (never a finding of what was not seen).
    #[serde(default)]
    pub provocation: bool,
    /// If the server refuses the request (and the correct request succeeds), the scenario is
    /// skipped for this reason: what the later steps judge was never reached, and the refusal
    /// itself is another scenario's finding.
    pub refusal_skips: Option<String>,
}

impl Default for AuthorizeExpect {
    fn default() -> Self {
        Self {
            outcome: AuthOutcome::Code,
            error: None,
            state_echoed: false,
            iss: false,
            error_format: false,
            challenge_not_reflected: false,
            page_headers: BTreeMap::new(),
            pages_not_frameable: false,
            post_redirect_not: Vec::new(),
            consent_shown: false,
            refusal_passes: None,
            provocation: false,
            refusal_skips: None,
        }
    }
}

/// How an authorization request ends.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum AuthOutcome {
    /// Redirected to the client with a code.
    #[default]
    Code,
    /// Redirected to the client with an error (AE-redirect).
    ErrorRedirect,
    /// An error page, and no redirect to the client (AE-page; RFC 6749 §3.1.2.4).
    ErrorPage,
    /// Either kind of refusal; never a code.
    Refused,
}

/// `token:`: a token request for a flow's code.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenStep {
    /// The flow whose code is redeemed; `main` by default.
    #[serde(default = "main_flow")]
    pub flow: String,
    /// The client that redeems it; the flow's client by default.
    pub client: Option<ClientKind>,
    /// How the client authenticates; its configured method by default.
    #[serde(default)]
    pub auth: AuthSpec,
    /// The `code`.
    #[serde(default)]
    pub code: CodeSpec,
    /// The `code_verifier`.
    #[serde(default)]
    pub verifier: VerifierSpec,
    /// The `redirect_uri`.
    #[serde(default)]
    pub redirect_uri: RedirectSpec,
    /// The `grant_type`.
    #[serde(default = "authorization_code")]
    pub grant_type: ValueSpec,
    /// Further changes to the body's parameters.
    #[serde(default)]
    pub params: Mutations,
    /// The HTTP method; POST by default.
    #[serde(default = "post")]
    pub http_method: HttpMethod,
    /// The name under which the tokens are kept; the flow's name by default.
    pub save_as: Option<String>,
    /// What the response must show; 200 with tokens by default.
    #[serde(default = "HttpExpect::token_success")]
    pub expect: HttpExpect,
    /// Checks of the ID Token the response carries, after `expect` holds.
    #[serde(default)]
    pub id_token: Vec<IdTokenCheck>,
    /// The DPoP proof (RFC 9449).
    #[serde(default)]
    pub dpop: DpopProof,
}

fn authorization_code() -> ValueSpec {
    ValueSpec::Literal(Template::literal("authorization_code"))
}
fn post() -> HttpMethod {
    HttpMethod::Post
}

/// Client authentication at the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthSpec {
    /// The client's configured method (`none` for a public client).
    #[default]
    Default,
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
    /// `client_id` in the body, no secret.
    ClientIdOnly,
    /// Nothing: no `client_id`, no secret.
    Omit,
    /// Both Basic and `client_secret` in the body.
    Both,
    /// The configured method with a wrong secret.
    WrongSecret,
    /// `client_id` and `client_secret` in the query string of the token URL.
    Query,
    /// A client assertion whose `exp` has passed (RFC 7523 §3 item 4).
    ExpiredAssertion,
    /// A client assertion signed with a key the server does not know (RFC 7523 §3 item 9).
    AssertionOtherKey,
    /// An unsigned client assertion, `alg: none` (RFC 7523 §3 item 9, RFC 8725 §3.1).
    UnsignedAssertion,
    /// A client assertion for another audience (RFC 7523 §3 item 3).
    AssertionOtherAudience,
    /// The client's previous assertion again, `jti` and all (RFC 7523 §3 item 7, OpenID
    /// Connect Core §9).
    ReplayedAssertion,
}

impl AuthSpec {
    /// Whether this only makes sense for a client that authenticates with an assertion.
    pub fn is_assertion_attack(self) -> bool {
        matches!(
            self,
            Self::ExpiredAssertion
                | Self::AssertionOtherKey
                | Self::UnsignedAssertion
                | Self::AssertionOtherAudience
                | Self::ReplayedAssertion
        )
    }
}

/// The `code` of a token request.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CodeSpec {
    /// The flow's code.
    #[default]
    Flow,
    /// Not sent.
    Omit,
    /// The flow's code with its last character changed.
    Garbled,
}

/// The `code_verifier` of a token request.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VerifierSpec {
    /// The flow's verifier.
    #[default]
    Flow,
    /// Not sent.
    Omit,
    /// Sent with an empty value.
    Empty,
    /// A fresh, valid verifier that does not match.
    Wrong,
    /// The flow's verifier reversed (still in the grammar).
    Reversed,
    /// The flow's code_challenge (plain substitution, REQ-53).
    Challenge,
    /// A fresh verifier when the flow had none (downgrade, REQ-52).
    Fresh,
    /// A fixed value (templates allowed).
    Literal(Template),
}

/// `refresh:`: a refresh token grant.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshStep {
    /// The saved tokens whose refresh token is used; `main` by default.
    #[serde(default = "main_flow")]
    pub tokens: String,
    /// The client; the client the tokens were issued to by default.
    pub client: Option<ClientKind>,
    /// Client authentication.
    #[serde(default)]
    pub auth: AuthSpec,
    /// The name to keep the new tokens under; not kept by default.
    pub save_as: Option<String>,
    /// What the response must show; 200 with tokens by default.
    #[serde(default = "HttpExpect::token_success")]
    pub expect: HttpExpect,
    /// The DPoP proof (RFC 9449): with the tokens' key by default.
    #[serde(default)]
    pub dpop: DpopProof,
}

/// `userinfo:`: a resource request with an access token.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceStep {
    /// The saved tokens; `main` by default.
    #[serde(default = "main_flow")]
    pub tokens: String,
    /// What the response must show.
    #[serde(default)]
    pub expect: HttpExpect,
    /// The response's `sub` equals the `sub` of the ID Token saved with the tokens (OpenID
    /// Connect Core §5.3.2: otherwise the UserInfo response must not be used).
    #[serde(default)]
    pub sub_matches_id_token: bool,
    /// The DPoP proof (RFC 9449 §7): with the tokens' key by default.
    #[serde(default)]
    pub dpop: DpopProof,
}

/// `introspect:`: RFC 7662.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntrospectStep {
    /// The saved tokens; `main` by default.
    #[serde(default = "main_flow")]
    pub tokens: String,
    /// Which token of them.
    #[serde(default)]
    pub token: TokenKind,
    /// What the response must show.
    #[serde(default)]
    pub expect: HttpExpect,
}

/// Access or refresh token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// The access token.
    #[default]
    AccessToken,
    /// The refresh token.
    RefreshToken,
}

/// `sleep:`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepStep {
    /// Seconds to wait, 0 to 600.
    #[serde(default, deserialize_with = "crate::bounds::sleep_seconds")]
    #[schemars(range(min = 0, max = 600))]
    pub seconds: f64,
    /// Also wait for the target's declared code lifetime.
    #[serde(default)]
    pub past_code_lifetime: bool,
    /// Also wait for the longest `expires_in` a PAR response of this scenario gave.
    #[serde(default)]
    pub past_request_uri_lifetime: bool,
}

/// `probe:`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProbeStep {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// The HTTP method.
    #[serde(default = "get")]
    pub method: HttpMethod,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Template>,
    /// What the response must show.
    #[serde(default)]
    pub expect: HttpExpect,
}

fn get() -> HttpMethod {
    HttpMethod::Get
}

/// A target endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// The authorization endpoint.
    Authorization,
    /// The token endpoint.
    Token,
}

/// `codes:`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodesStep {
    /// How many codes to collect (2..=20).
    pub count: usize,
    /// The least length in characters every code must have.
    #[serde(deserialize_with = "crate::bounds::code_length")]
    #[schemars(range(max = 4096))]
    pub min_length: usize,
    /// The least estimated entropy of the sample, in bits per code (0 to 4096).
    #[serde(deserialize_with = "crate::bounds::entropy_bits")]
    #[schemars(range(min = 0, max = 4096))]
    pub min_entropy_bits: f64,
}

/// What an HTTP response must show. Checks run strongest first: status, then error, then the
/// rest, and the first that fails is reported alone.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    /// Acceptable status codes.
    pub status: Option<OneOrMany<u16>>,
    /// Acceptable OAuth `error` values of a JSON error body.
    pub error: Option<OneOrMany<String>>,
    /// The error body follows RFC 6749 §5.2 (JSON, registered code, charset).
    #[serde(default)]
    pub error_format: bool,
    /// RFC 6749 §5.2: when the request authenticated the client with the `Authorization`
    /// header, the answer is 401 with a `WWW-Authenticate` challenge for the same scheme; when
    /// it did not, nothing more is required.
    #[serde(default)]
    pub auth_challenge: bool,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderMatch>,
    /// Fields of a JSON body.
    #[serde(default)]
    pub json: BTreeMap<String, JsonMatch>,
}

impl HttpExpect {
    /// Whether every status the expectation accepts is an error: the step expects a refusal.
    pub fn expects_refusal(&self) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| !s.0.is_empty() && s.0.iter().all(|&c| c >= 400))
    }

    /// The security property of an expected refusal: what must not be in the answer (the
    /// `json` fields), without the refusal's form (status, error code, format, headers).
    pub fn property(&self) -> Self {
        Self {
            json: self.json.clone(),
            ..Self::default()
        }
    }

    /// 200 with a string `access_token`: a successful token response. (`token_type` is left to
    /// the response-format scenario, so one missing field is one finding, not dozens.)
    pub fn token_success() -> Self {
        let mut json = BTreeMap::new();
        json.insert("access_token".to_owned(), JsonMatch::String);
        Self {
            status: Some(OneOrMany(vec![200])),
            json,
            ..Self::default()
        }
    }
}

/// A header check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeaderMatch {
    /// The header is present.
    Present,
    /// The header is absent.
    Absent,
    /// The value contains this, case-insensitively.
    Contains(String),
    /// Some value of the header contains one of these, case-insensitively.
    ContainsAny(Vec<String>),
}

/// A JSON field check.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JsonMatch {
    /// The field is present and not null.
    Present,
    /// The field is absent or null.
    Absent,
    /// The field is a non-empty string: a token of the wrong JSON type is no token.
    String,
    /// The field equals this value (templates allowed in strings).
    Equals(serde_json::Value),
    /// The field is an array that contains this value.
    Contains(serde_json::Value),
    /// The field is an array that does not contain this value.
    NotContains(serde_json::Value),
}

/// A value or a list of values; a scalar reads as a one-element list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(OneOrMany(out))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(de::value::U64Deserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(de::value::I64Deserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A string with `{{name}}` placeholders, checked against the known names while it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

/// The placeholders a template may use.
pub const TEMPLATE_NAMES: &[&str] = &[
    "issuer",
    "redirect_uri",
    "client_id",
    "state",
    "code_challenge",
    "authorization_endpoint",
];

/// Why a scenario's value is not a template the harness can fill in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without its `}}`.
    #[error("unclosed {{{{ in template {0:?}")]
    Unclosed(String),
    /// A placeholder the harness has no value for.
    #[error(transparent)]
    Unknown(crate::diagnostics::UnknownName),
}

impl Template {
    /// A template without placeholders.
    pub fn literal(s: &str) -> Self {
        Self(s.to_owned())
    }
    /// Checks every placeholder of `s`.
    pub fn parse(s: &str) -> Result<Self, TemplateError> {
        let mut rest = s;
        while let Some(open) = rest.find("{{") {
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| TemplateError::Unclosed(s.to_owned()))?;
            let name = after[..close].trim();
            if !TEMPLATE_NAMES.contains(&name) {
                return Err(TemplateError::Unknown(
                    crate::diagnostics::UnknownName::new("template variable", name, TEMPLATE_NAMES),
                ));
            }
            rest = &after[close + 2..];
        }
        Ok(Self(s.to_owned()))
    }
    /// Fills the placeholders with `lookup`; every name was checked at load time.
    pub fn render(&self, lookup: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else { break };
            out.push_str(&lookup(after[..close].trim()));
            rest = &after[close + 2..];
        }
        out.push_str(rest);
        out
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(de::Error::custom)
    }
}
