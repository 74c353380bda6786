//! The steps of a scenario: what each sends and what it expects.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::expect::{AuthorizeExpect, HttpExpect};
use super::terms::{ClientKind, Technique};
use super::values::{Template, ValueSpec};
pub use crate::wire::HttpMethod;

/// One exchange with the target.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Fetch the RFC 8414 / OpenID metadata.
    Discovery(DiscoveryStep),
    /// Run an authorization request through login and consent to the redirect.
    Authorize(Box<AuthorizeStep>),
    /// Redeem a code at the token endpoint.
    Token(TokenStep),
    /// Use a refresh token.
    Refresh(RefreshStep),
    /// Call the userinfo or protected resource endpoint with an access token.
    Userinfo(ResourceStep),
    /// Ask the RFC 7662 introspection endpoint about a token.
    Introspect(IntrospectStep),
    /// Revoke a token at the RFC 7009 revocation endpoint.
    Revoke(RevokeStep),
    /// Wait.
    Sleep(SleepStep),
    /// Send one raw request to an endpoint (CORS preflight, odd methods).
    Probe(ProbeStep),
    /// Run several full authorizations and judge the codes as a sample.
    Codes(CodesStep),
    /// Redeem one code many times at the same instant (REQ-58).
    Race(RaceStep),
    /// Register a client at the registration endpoint (RFC 7591), and delete it again.
    Register(RegisterStep),
    /// Ask every HTTPS endpoint of the target, with bare ClientHellos, whether it would take a
    /// TLS version or cipher suite it must refuse.
    Tls(TlsStep),
    /// Send an endpoint's request without secrets over HTTPS and over plain http, and judge
    /// whether plain http is served.
    PlainHttp(PlainHttpStep),
}

/// `race:`: each trial runs a fresh authorization, then sends `count` identical token requests
/// for its code (or, with `grant: refresh-token`, redeems the code and sends `count` identical
/// refresh requests for its refresh token), released together (see [`Technique`]).
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
    /// What each burst redeems: the code (default) or the refresh token its redemption gave.
    #[serde(default)]
    pub grant: RaceGrant,
    /// Each request to the next address of the token host (its nodes, see the capability
    /// `token-nodes`), round-robin, each on its own connection (last-byte): a cluster's nodes
    /// must share what is spent.
    #[serde(default)]
    pub nodes: bool,
}

/// What the requests of a race burst redeem.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RaceGrant {
    /// The trial's authorization code (RFC 6749 §4.1.3).
    #[default]
    Code,
    /// The refresh token the trial's code gave (RFC 6749 §6). A server that does not rotate
    /// refresh tokens may answer every request, so the step is skipped for it.
    RefreshToken,
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
    /// Which metadata document is fetched.
    #[serde(default)]
    pub document: MetadataDocument,
    /// What the metadata response must show.
    #[serde(default)]
    pub expect: HttpExpect,
}

/// A metadata document of the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataDocument {
    /// The one the run found (RFC 8414's well-known URL first, then OpenID Connect's) or the
    /// target file names.
    #[default]
    Found,
    /// The OpenID Provider configuration at `{issuer}/.well-known/openid-configuration`
    /// (OpenID Connect Discovery §4), whose members §3 defines: an RFC 8414 document need not
    /// carry them.
    Openid,
    /// The provider's JWK Set, at the metadata's `jwks_uri`.
    Jwks,
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
    /// Client authentication of the push (RFC 9126 §2: as at the token endpoint).
    #[serde(default)]
    pub par_auth: AuthSpec,
    /// Send the ID Token saved under this name as `id_token_hint` (OpenID Connect Core
    /// §3.1.2.1: the user the client believes is signed in).
    pub id_token_hint: Option<String>,
    /// The HTTP method of the push: POST (RFC 9126 §2) by default; `GET` carries the request,
    /// and the client's authentication, in the query, as a server must not take it.
    #[serde(default = "post")]
    pub par_method: HttpMethod,
    /// Changes to the front-channel request of a pushed one (beside `client_id` and
    /// `request_uri`): what an attacker on the front channel may add.
    #[serde(default)]
    pub front_params: Mutations,
    /// DPoP (RFC 9449): whether the flow has a key, and whether the code is bound to it.
    #[serde(default)]
    pub dpop: DpopBinding,
    /// A DPoP proof on the push (RFC 9449 §10.1, which binds the code to its key): none by
    /// default.
    #[serde(default)]
    pub par_dpop: ParProof,
    /// Load the authorization URL once and leave it before the login, as a user who reloads
    /// the page does: the login then starts from the same URL (RFC 9126 §4 lets a pushed
    /// request be loaded again until it is authorized).
    #[serde(default)]
    pub reload: bool,
    /// What the user answers the consent page: approve (the default), or decline, pressing its
    /// deny, cancel or reject button (the `form` and `browser` drivers).
    #[serde(default)]
    pub consent: ConsentAnswer,
    /// Whether the request travels as a signed request object (RFC 9101), and how it is
    /// flawed on purpose.
    #[serde(default)]
    pub request_object: RequestObjectSpec,
    /// How the request object travels on the front channel: `value` (in `request`, the
    /// default) or `reference` (served by the client host, the target file's `client_host`,
    /// its URL sent as `request_uri`: OpenID Connect Core §6.2, RFC 9101 §5.2). Not for a
    /// pushed request, which carries the object itself.
    #[serde(default)]
    pub request_by: RequestBy,
    /// A JWT-secured `response_mode` (JARM) to send; by default the target's, if any.
    #[serde(default)]
    pub response_mode: Option<JarmMode>,
    /// What must happen.
    #[serde(default)]
    pub expect: AuthorizeExpect,
}

/// What the user answers a consent page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentAnswer {
    /// Approve: the button that allows, or the form's first.
    #[default]
    Approve,
    /// Decline: the button that denies, cancels or rejects.
    Decline,
}

/// A JWT-secured response mode (JARM §2.3): where the signed `response` comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum JarmMode {
    /// The default place for the response type (the query, for `code`).
    #[serde(rename = "jwt")]
    Jwt,
    /// In the redirect URI's query.
    #[serde(rename = "query.jwt")]
    QueryJwt,
    /// In the redirect URI's fragment.
    #[serde(rename = "fragment.jwt")]
    FragmentJwt,
    /// In an auto-submitting form posted to the redirect URI.
    #[serde(rename = "form_post.jwt")]
    FormPostJwt,
}

impl JarmMode {
    /// The `response_mode` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::QueryJwt => "query.jwt",
            Self::FragmentJwt => "fragment.jwt",
            Self::FormPostJwt => "form_post.jwt",
        }
    }
}

/// The request object (RFC 9101) an authorization request travels in: by value in `request`,
/// on the front channel or in the body of a pushed request. The parameters outside it are
/// `client_id` and `request` (and, for a pushed one, the client's authentication); `front_params`
/// adds others, as an attacker on the front channel would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RequestObjectSpec {
    /// As the target does (`request_object: true`: signed, for clients that have a key).
    #[default]
    Auto,
    /// Plain parameters, no request object.
    None,
    /// Signed with the client's key: `iss` and `client_id` the client's, `aud` the issuer, a
    /// fresh `jti`, `iat` and `nbf` now, `exp` in five minutes.
    Signed,
    /// `alg: none`, no signature.
    Unsigned,
    /// Signed with a key the server does not know, under the registered key's `kid` (a wrong
    /// secret for HMAC clients).
    OtherKey,
    /// `aud` another server.
    OtherAudience,
    /// `exp` five minutes ago.
    Expired,
    /// Valid for 70 minutes from `nbf` (FAPI 2.0 Message Signing allows at most 60).
    LongLifetime,
    /// `nbf` (and `iat`) 61 minutes ago, `exp` in five minutes: a short time left, but a
    /// lifetime over FAPI 2.0 Message Signing's 60 minutes from `nbf`.
    OldNbf,
    /// The `client_id` claim another client's than the `client_id` beside it.
    OtherClientId,
    /// `iat` and `nbf` eight seconds ahead (a client clock a little fast; FAPI 2.0 §5.3.2.1
    /// makes a server take up to ten seconds), `exp` five minutes after.
    DatedAhead,
    /// No `nbf` (`iat` still now), which FAPI 2.0 Message Signing requires.
    WithoutNbf,
    /// No `exp`, which FAPI 2.0 Message Signing requires.
    WithoutExp,
    /// Signed by the client's RSA key with RS256, which FAPI 2.0 §5.4.1 does not allow.
    Rs256,
    /// `aud` an array: the issuer and another server (RFC 7519 §4.1.3 lets `aud` be an array
    /// of which the server is one).
    AudienceArray,
}

impl RequestObjectSpec {
    /// What the correct request of a flow sent this way is: a signed object where this one was
    /// an object at all, so a refusal is measured against the same kind of request.
    pub fn corrected(self) -> Self {
        match self {
            Self::Auto | Self::None => self,
            _ => Self::Signed,
        }
    }
}

/// The DPoP proof a push carries (RFC 9449 §10.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ParProof {
    /// No proof: the code is bound only by `dpop_jkt`, if the flow sends it.
    #[default]
    None,
    /// A proof with the flow's key (`dpop: key` or `bind`).
    Flow,
    /// A proof with a key that is not the flow's (with `dpop: bind`, not the key `dpop_jkt`
    /// names).
    OtherKey,
}

impl ParProof {
    /// The proof of a correct push sent the same way: with the flow's key where there was one.
    pub fn corrected(self) -> Self {
        match self {
            Self::None => Self::None,
            Self::Flow | Self::OtherKey => Self::Flow,
        }
    }
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
    /// `iat` ten minutes ahead (§4.3 item 11).
    FutureIat,
    /// `iat` eight seconds ahead: a client clock a little fast, which FAPI 2.0 §5.3.2.1 makes
    /// a server take (up to ten seconds).
    IssuedAhead,
    /// `iat` ten seconds ago: a proof a little slow to arrive.
    IssuedBehind,
    /// Also `nbf` now and `exp` five minutes ahead, claims §4.2 does not define but lets a
    /// proof carry (what the OpenID Foundation's FAPI 2.0 module sends).
    WithNbfExp,
    /// `typ` `JWT`, not `dpop+jwt` (§4.3 item 4).
    WrongType,
    /// Unsigned: `alg` `none` (§4.3 item 5).
    Unsigned,
    /// A signature that does not verify with the header's key (§4.3 item 6).
    BadSignature,
    /// The header's `jwk` carries a private member `d` (§4.3 item 7).
    PrivateKey,
    /// A `nonce` the server never gave (§8).
    WrongNonce,
    /// At a resource: the token presented with the `Bearer` scheme, no proof (a downgrade).
    BearerScheme,
    /// Without one member §4.2 requires (`{without: jti}`): a server refuses it (§4.3 items 3
    /// and 8 to 12).
    Without(DpopMember),
    /// At a resource: `ath` the hash of another access token (§4.3 item 12).
    WrongAth,
    /// `htu` spelled as RFC 3986 §6.2.2 and §6.2.3 normalise to the request's URL (scheme and
    /// host in capitals, the scheme's default port written out): a server that normalises
    /// before it compares, as §4.3 says it SHOULD, takes it.
    HtuUnnormalised,
    /// `htu` with a query and a fragment added, which §4.3 item 9 has the comparison ignore.
    HtuWithQuery,
    /// Two whole proofs in two `DPoP` header fields (§4.3 item 1: not more than one).
    TwoProofs,
    /// Not a well-formed JWT: the proof without its signature part (§4.3 item 2).
    NotAJwt,
    /// Members no specification defines, in the header and in the claims: a server ignores
    /// what it does not understand (RFC 7515 §4, RFC 7519 §4).
    ExtraMembers,
    /// Signed with RS256 by the client's own RSA key (the scenario `requires: [rsa-key]`), the
    /// one RSA key the harness holds: FAPI 2.0 §5.4.1 allows PS256, ES256 and EdDSA only.
    Rs256,
}

/// A member of a DPoP proof a `without` proof leaves out (RFC 9449 §4.2, and the header's
/// `alg` and `jwk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DpopMember {
    /// The header's `typ`.
    Typ,
    /// `jti`.
    Jti,
    /// `htm`.
    Htm,
    /// `htu`.
    Htu,
    /// `iat`.
    Iat,
    /// `ath` (at a resource).
    Ath,
    /// The header's `alg`, taken out after signing (§4.3 item 5).
    Alg,
    /// The header's `jwk` (§4.3 item 6: nothing to verify the signature with).
    Jwk,
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
    /// A fresh random value of this many characters (at most 4096), sent in OpenID flows only.
    Length(
        #[serde(deserialize_with = "crate::bounds::value_length")]
        #[schemars(range(max = 4096))]
        usize,
    ),
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
    /// The key of the provider's JWK Set the ID Token names is strong enough (RFC 7518 §3.3:
    /// an RSA key of 2048 bits or more; §3.4: the elliptic curves JOSE registers). Not judged
    /// for an ID Token signed with the client's secret (HMAC), whose strength is the secret's.
    KeyStrength,
    /// The header names no key of its own (`x5u`, `x5c`, `jku`, `jwk`: §2 says ID Tokens
    /// should not; keys come from the provider's JWK Set).
    NoKeyHeaders,
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
    /// `auth_time` is present, a number of seconds, and not in the future (§2: required when
    /// the request sent `max_age`).
    AuthTime,
    /// `auth_time` is later than that of the ID Token saved under this name: the user signed
    /// in again (§3.1.2.1 `prompt=login`, `max_age`). Not judged where either leaves it out.
    AuthTimeAfter(String),
    /// `auth_time` equals that of the ID Token saved under this name: the session's login was
    /// reused. Not judged where either leaves it out.
    AuthTimeSame(String),
    /// A calibration before `auth-time-after`: where nothing asked for a new login, `auth_time`
    /// is that of the ID Token saved under this name. Where it moved (the server signs in
    /// every time, or gives another time than the login's), a later `auth_time` cannot show a
    /// new login, so the scenario is not judged, saying so; never a finding.
    AuthTimeKept(String),
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
    /// The registered URI with this appended to its path (a trailing `/` of the path dropped
    /// first), its query kept after: one spelling of a path-confusion family (OAuch's
    /// RedirectUriConfusion). Percent signs stay as written, so `%2F` reaches the server as
    /// `%2F` once it has decoded the query.
    Appended(String),
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
    /// A client assertion whose `iss` is not the client (RFC 7523 §3 item 1).
    AssertionOtherIssuer,
    /// A client assertion without `sub` (RFC 7523 §3 item 2); `client_id` names the client.
    AssertionWithoutSubject,
    /// A client assertion issued a year ago and valid for another minute (RFC 7523 §3 item 6).
    AssertionIssuedLongAgo,
    /// A client assertion not valid for another ten minutes (`nbf`, RFC 7523 §3 item 5).
    AssertionNotYetValid,
    /// A client assertion whose `iat` and `nbf` are eight seconds ahead: a client clock a
    /// little fast, which FAPI 2.0 §5.3.2.1 makes a server take (up to ten seconds).
    AssertionDatedAhead,
    /// A client assertion whose `aud` is an array holding the audience it would name as a
    /// string (FAPI 2.0 takes a string only).
    AssertionAudienceArray,
    /// A client assertion made out to the PAR endpoint URL (RFC 9126 §2 makes a server take
    /// it; FAPI 2.0 takes the issuer only).
    AssertionParEndpointAudience,
    /// A client assertion made out to the token endpoint rather than the issuer: what RFC 7523
    /// allows and FAPI 2.0 (final) does not.
    AssertionTokenEndpointAudience,
    /// A client assertion signed by the client's RSA key with RS256 (PKCS#1 v1.5), which FAPI
    /// 2.0 §5.4.1 does not allow (PS256, ES256, EdDSA).
    AssertionRs256,
    /// A client assertion made out to the issuer identifier whatever the profile: the server's
    /// own identity, which RFC 7523 §3 makes it take (and FAPI 2.0 requires). No flaw.
    AssertionIssuerAudience,
    /// The client's previous assertion again, `jti` and all (RFC 7523 §3 item 7, OpenID
    /// Connect Core §9).
    ReplayedAssertion,
    /// An mTLS client (RFC 8705) presenting a TLS certificate the server does not know.
    OtherCertificate,
    /// An mTLS client (RFC 8705) presenting no TLS certificate.
    NoCertificate,
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
                | Self::AssertionOtherIssuer
                | Self::AssertionWithoutSubject
                | Self::AssertionIssuedLongAgo
                | Self::AssertionNotYetValid
                | Self::AssertionDatedAhead
                | Self::AssertionAudienceArray
                | Self::AssertionParEndpointAudience
                | Self::AssertionTokenEndpointAudience
                | Self::AssertionRs256
                | Self::AssertionIssuerAudience
                | Self::ReplayedAssertion
        )
    }

    /// Whether this only makes sense for a client that authenticates with a TLS certificate.
    pub fn is_certificate_attack(self) -> bool {
        matches!(self, Self::OtherCertificate | Self::NoCertificate)
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
    /// Checks of the ID Token the refresh gives (OpenID Connect Core §12.2), as the `token`
    /// step's; the check is skipped where the response carries none, which §12.2 allows.
    #[serde(default)]
    pub id_token: Vec<IdTokenCheck>,
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
    /// The TLS client certificate presented (RFC 8705 §3): the tokens' client's own by
    /// default (for an mTLS client), another one, or none.
    #[serde(default)]
    pub certificate: CertificateSpec,
    /// How the access token is presented (RFC 6750 §2): in the `Authorization` header by
    /// default.
    #[serde(default)]
    pub presented: Presented,
    /// The HTTP method: GET by default. OpenID Connect Core §5.3.1 makes UserInfo take both
    /// GET and POST.
    #[serde(default)]
    pub method: ResourceMethod,
    /// OpenID Connect Core §5.4: each of these scope values brings at least one of its claims,
    /// in the answer or in the ID Token saved with the tokens.
    #[serde(default)]
    pub scope_claims: Vec<ClaimScope>,
    /// OpenID Connect Core §5.1: every standard claim in the answer and in the ID Token saved
    /// with the tokens has its type. Where neither carries a standard claim beside `sub`, there
    /// is nothing to judge and the check is skipped, saying so.
    #[serde(default)]
    pub claim_types: bool,
    /// Claims the answer must carry: those the flow asked for by name with the `claims`
    /// parameter (OpenID Connect Core §5.5).
    #[serde(default)]
    pub claims_present: Vec<String>,
}

/// A scope value of OpenID Connect Core §5.4 that asks for claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimScope {
    /// The default profile claims (`name`, `given_name`, ... `updated_at`).
    Profile,
    /// `email`, `email_verified`.
    Email,
    /// `address`.
    Address,
    /// `phone_number`, `phone_number_verified`.
    Phone,
}

impl ClaimScope {
    /// The scope value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Profile => "profile",
            Self::Email => "email",
            Self::Address => "address",
            Self::Phone => "phone",
        }
    }
}

/// The HTTP method of a `userinfo` step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceMethod {
    /// GET, no body.
    #[default]
    Get,
    /// POST without a body (the token still goes where `presented` says). No empty form
    /// body: node-oidc-provider refuses a form content type with no content, which would judge
    /// a quirk of HTTP bodies rather than the method.
    Post,
}

/// How a `userinfo` step presents the access token (RFC 6750 §2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Presented {
    /// `Authorization: Bearer ...` (or `DPoP ...` for a bound token).
    #[default]
    Header,
    /// The same header with the scheme in lower case (`bearer ...`): RFC 9110 §11.1 makes the
    /// scheme case-insensitive.
    LowercaseScheme,
    /// As the `access_token` query parameter and no header (RFC 6750 §2.3), which RFC 9700
    /// §4.3.2 and FAPI 2.0 §5.3.4 rule out.
    Query,
    /// A JWT access token's claims under `alg: none` with no signature (RFC 9068 §4, RFC 8725
    /// §3.1): skipped where the token is opaque.
    AlgNoneCopy,
    /// The same with `alg: nOnE`, for a resource that compares the name case-sensitively.
    AlgNoneCasedCopy,
    /// A JWT access token's claims signed by a key the server does not know, under the
    /// original `kid`.
    ForgedSignatureCopy,
}

impl Presented {
    /// Whether the step presents a copy made of the access token, not the token itself.
    pub fn is_copy(self) -> bool {
        matches!(
            self,
            Self::AlgNoneCopy | Self::AlgNoneCasedCopy | Self::ForgedSignatureCopy
        )
    }
}

/// The TLS client certificate a request presents (RFC 8705).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateSpec {
    /// The client's own, if it authenticates with one.
    #[default]
    Own,
    /// A self-signed certificate no server knows.
    Other,
    /// None.
    None,
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

/// `revoke:`: RFC 7009 revocation of a saved token. After a refusal it expected, or any request
/// by another client or with other client authentication, the token must still work (the
/// property: a refresh token refreshes, an access token is answered at the resource), and then
/// the engine runs its control: a fresh flow of the token's own client, whose token that client
/// revokes, must be answered 200 (and a refresh token so revoked then refused), or what the
/// step saw proves nothing.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeStep {
    /// The saved tokens; `main` by default.
    #[serde(default = "main_flow")]
    pub tokens: String,
    /// Which token of them.
    #[serde(default)]
    pub token: TokenKind,
    /// The `token_type_hint` sent (RFC 7009 §2.1).
    #[serde(default)]
    pub hint: TypeHint,
    /// Send a token no server issued instead (the saved one with its characters reversed),
    /// which RFC 7009 §2.2 has answered 200.
    #[serde(default)]
    pub unknown: bool,
    /// The client that asks; the client the tokens were issued to by default.
    pub client: Option<ClientKind>,
    /// Client authentication.
    #[serde(default)]
    pub auth: AuthSpec,
    /// What the response must show; 200 by default.
    #[serde(default = "HttpExpect::ok")]
    pub expect: HttpExpect,
}

impl RevokeStep {
    /// Whether the request is one the token's own client would not send: another client's, or
    /// with client authentication other than the configured one. The server should carry out
    /// none of these, so the engine controls each.
    pub fn is_attempt_by_another(&self, owner: ClientKind) -> bool {
        self.client.is_some_and(|c| c != owner) || self.auth != AuthSpec::Default
    }
}

/// The `token_type_hint` of a revocation request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TypeHint {
    /// The type of the token sent.
    #[default]
    Matching,
    /// The other type: RFC 7009 §2.1 has the server search every type when the hint misleads.
    Other,
    /// No hint.
    None,
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

impl TokenKind {
    /// The name RFC 7009 and RFC 7662 give the type (`token_type_hint`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
        }
    }
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
    /// Wait `seconds`, but at most two thirds of the target's declared code lifetime: a code
    /// replayed after it is still within its life, so only the server's memory of its use can
    /// refuse it (a mark kept for less time than the code lives is the bug). Not with
    /// `past_code_lifetime`.
    #[serde(default)]
    pub within_code_lifetime: bool,
    /// Also wait for the longest `expires_in` a PAR response of this scenario gave.
    #[serde(default)]
    pub past_request_uri_lifetime: bool,
    /// Also wait until the access token saved under this name is past the `expires_in` its
    /// token response declared (and a second more); skipped past 30 s, and where none was
    /// declared.
    pub past_access_token_lifetime: Option<String>,
}

/// `register:`: one registration request (RFC 7591 §3.1) with the harness's redirect URI and
/// the code grant, changed as the step says. A client it registers is deleted again (RFC 7592)
/// where the server allows; after an expected refusal, the same request with correct metadata
/// must succeed, or the refusal proves nothing.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterStep {
    /// The redirect URI registered: the target's, or a flawed one.
    #[serde(default)]
    pub redirect_uri: RegisteredRedirect,
    /// `token_endpoint_auth_method`; `client_secret_basic` by default.
    #[serde(default = "client_secret_basic")]
    pub auth_method: String,
    /// For `private_key_jwt`: the client's public key is served by the client host (the
    /// target file's `client_host`) and registered as `jwks_uri`, not sent as `jwks`.
    #[serde(default)]
    pub jwks_uri: bool,
    /// A `sector_identifier_uri` at the client host (OpenID Connect Registration §5), with
    /// `subject_type: pairwise` where the metadata lists it: a list that holds the redirect URI
    /// (and another client URI), or one that lacks it. An expected refusal is controlled by the
    /// same registration with the listing one.
    #[serde(default)]
    pub sector: Option<SectorList>,
    /// What the registered client then does, judged in place of `expect`.
    #[serde(default)]
    pub then: Option<RegisteredUse>,
    /// What the response must show.
    #[serde(default)]
    pub expect: HttpExpect,
}

fn client_secret_basic() -> String {
    "client_secret_basic".into()
}

/// How a request object travels (RFC 9101 §5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RequestBy {
    /// In the `request` parameter.
    #[default]
    Value,
    /// At a URL of the client's host, sent as `request_uri`.
    Reference,
}

/// The list a `sector_identifier_uri` serves (OpenID Connect Registration §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SectorList {
    /// The redirect URI registered, and another URI of the client's.
    Listed,
    /// Another URI of the client's only: the registration must be refused.
    Unlisted,
}

/// What a client the `register` step registered does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RegisteredUse {
    /// RFC 9700 §4.1.3: an authorization request to a URI near the registered one (one the
    /// wildcard matches; the same URI with its query changed) gets no code, one to the
    /// registered string itself does. A refused registration passes, once a correct one is
    /// shown to succeed.
    ExactMatch,
    /// RFC 6749 §3.1.2: the code comes to the registered URI (`with-query`) with its query
    /// kept and the response parameters added. A refused registration skips the check: a
    /// client may register such a URI, but no server must take one.
    QueryKept,
    /// The client completes a flow: its code redeemed with its own authentication. The
    /// registration must succeed.
    Flow,
    /// The flow, then the key behind the client's `jwks_uri` replaced by a new one (another
    /// `kid`): a refresh (or, without a refresh token, a new flow's redemption) authenticated
    /// with the new key is taken, the server fetching the JWK Set again (OpenID Connect Core
    /// §10.1.1). A refusal is controlled by the same request with the old key.
    KeyRotation,
    /// Registered with `id_token_signed_response_alg: RS256` (OpenID Connect Registration
    /// §2), the client completes a flow and its ID Token is signed RS256 by a key of the
    /// provider's JWK Set. A refused registration fails once the same one without the alg is
    /// taken: OpenID Connect Discovery §3 has every provider offer RS256.
    IdTokenRs256,
    /// Registered with `require_signed_request_object: true` (RFC 9101 §10.5) and a key, the
    /// client's authorization request with plain parameters (pushed where the target pushes)
    /// is refused, and the same request in a signed request object gets a code. A server that
    /// refuses the registration, or registers the client without echoing the requirement,
    /// does not support it: the check is skipped.
    SignedRequestsOnly,
}

/// The redirect URI a registration request sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RegisteredRedirect {
    /// The one the harness registers its clients with.
    #[default]
    Correct,
    /// With a fragment (RFC 6749 §3.1.2: the redirection endpoint has none).
    Fragment,
    /// With a wildcard in the host (`https://*.example.com/callback`): matched by pattern, not
    /// exactly (RFC 9700 §2.1).
    Wildcard,
    /// Plain `http` on a host that is not a loopback address (RFC 9700 §2.1, RFC 8252 §8.3: the
    /// code would travel in clear text).
    PlainHttp,
    /// The correct one with a query added (`dummy=lorem`), which RFC 6749 §3.1.2 allows: the
    /// server keeps it when it adds the response parameters.
    WithQuery,
}

impl RegisteredRedirect {
    /// The redirect URI sent, from the correct one.
    pub fn apply(self, correct: &url::Url) -> String {
        let path = correct.path();
        match self {
            Self::Correct => correct.to_string(),
            Self::Fragment => format!(
                "{}#fragment",
                correct.as_str().split('#').next().unwrap_or("")
            ),
            Self::Wildcard => format!("https://*.client.example{path}"),
            Self::PlainHttp => format!("http://client.example{path}"),
            Self::WithQuery => {
                let mut url = correct.clone();
                url.query_pairs_mut().append_pair(QUERY.0, QUERY.1);
                url.to_string()
            }
        }
    }

    /// A URI near `registered` that exact matching tells apart: the wildcard filled in, or the
    /// added query's value changed.
    pub fn near_miss(self, registered: &str) -> String {
        match self {
            Self::WithQuery => registered.replace(
                &format!("{}={}", QUERY.0, QUERY.1),
                &format!("{}=ipsum", QUERY.0),
            ),
            _ => registered.replacen('*', "evil", 1),
        }
    }
}

/// The query pair [`RegisteredRedirect::WithQuery`] adds.
const QUERY: (&str, &str) = ("dummy", "lorem");

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

/// `codes:`: a sample of what the server issues, judged as guessable or not (RFC 6749 §10.10).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CodesStep {
    /// What is sampled: authorization codes (the default), or the access or refresh tokens
    /// their redemption gives.
    #[serde(default)]
    pub of: Issued,
    /// How many to collect (2..=20), each from a flow of its own.
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

/// What a `codes` step samples.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Issued {
    /// Authorization codes.
    #[default]
    Code,
    /// Access tokens.
    AccessToken,
    /// Refresh tokens.
    RefreshToken,
    /// The `request_uri` values of pushed requests (RFC 9126), each from a push of its own.
    RequestUri,
}

impl Issued {
    /// What one of them is called in a message.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::AccessToken => "access token",
            Self::RefreshToken => "refresh token",
            Self::RequestUri => "request_uri",
        }
    }
}

/// `tls:`: to each HTTPS origin of the target (host and port; every endpoint the target names
/// or its metadata gives), a ClientHello that offers what a correct server takes (TLS 1.3 and
/// 1.2 with the suites BCP 195 recommends: the control, whose answer names the version and
/// suite negotiated), then one that offers only what it must refuse. Only the server's choice
/// is judged: no handshake is completed, nothing is sent over it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TlsStep {
    /// What the second hello offers.
    pub offer: TlsOffer,
}

/// What a `tls` step's second hello offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TlsOffer {
    /// TLS 1.1 and 1.0 only, with the suites their clients offered (RFC 8996: neither may be
    /// negotiated).
    LegacyVersions,
    /// TLS 1.2 with only suites BCP 195 does not recommend (RFC 9325 §4.2), where an endpoint
    /// browsers do not use shares the origin (FAPI 2.0 Security Profile §5.2.2), else only the
    /// ones it forbids (§4.1: NULL, RC4, export, DES), which a browser endpoint must refuse too
    /// (§5.2.3).
    WeakSuites,
}

/// `plain_http:`: one request to an HTTPS endpoint that carries nothing secret (a made-up code,
/// token or verifier, the client's id and never its credentials, no cookie: it goes in a fresh
/// session), sent over HTTPS, the control,
/// and then over plain http to the same host (port 80 where the HTTPS port is the default, else
/// the same port, as a server that sniffs the protocol would serve). The endpoint is served
/// over plain http when that answer is the control's (status, media type, OAuth `error`,
/// redirect path, `WWW-Authenticate` scheme); a refused connection, an answer that is not HTTP,
/// a redirect to the same URL over https, or any other answer is the endpoint requiring TLS.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlainHttpStep {
    /// Which endpoint.
    pub endpoint: TlsEndpoint,
}

/// An endpoint that must be reached over TLS only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TlsEndpoint {
    /// The authorization endpoint (RFC 6749 §3.1): an authorization request.
    Authorization,
    /// The token endpoint (RFC 6749 §3.2): a code redemption with a made-up code.
    Token,
    /// The PAR endpoint (RFC 9126 §2): a push without client credentials.
    Par,
    /// The revocation endpoint (RFC 7009 §2): a made-up token, without client credentials.
    Revocation,
    /// The UserInfo endpoint (OpenID Connect Core §5.3): a made-up bearer token.
    Userinfo,
}

impl TlsEndpoint {
    /// Its name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Authorization => "authorization endpoint",
            Self::Token => "token endpoint",
            Self::Par => "PAR endpoint",
            Self::Revocation => "revocation endpoint",
            Self::Userinfo => "UserInfo endpoint",
        }
    }
}
