//! The reference server's defect switches: one variant per deliberate bug.
//!
//! Each variant re-creates the violation of a requirement (`REQ-n`) or a catalogued real-world
//! bug (`BUG-n`). Scenarios name the defects they catch in `catches:`; the self-test runs every
//! scenario against every defect and proves each check can fail. The enum lives in the core (no
//! I/O) so the scenario loader can check `catches:` names without the server.

use serde::Deserialize;

/// How much a bug lets an attacker do, the rule every check's severity comes from (a check is
/// as severe as the worst defect it catches):
/// - `high`: tokens or credentials go to someone who should not have them: a PKCE bypass or
///   downgrade, a code redeemed twice, by another client or after a race, a redirect URI not
///   bound exactly, a client not authenticated, a secret exposed, a guessable code;
/// - `medium`: a protection is weakened without a direct theft: consent, CSRF (`state`), mix-up
///   (`iss`), framing, replay revocation, refresh rotation, parameter confusion, expiry;
/// - `low`: the format or behaviour differs from the specification with no security effect
///   (error codes, headers, metadata fields, interoperability).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize, serde::Serialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// No security effect.
    #[default]
    Low,
    /// A protection weakened.
    Medium,
    /// Tokens or credentials exposed.
    High,
}

impl Severity {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = crate::diagnostics::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            _ => Err(crate::diagnostics::UnknownName::new(
                "severity",
                s,
                ["low", "medium", "high"],
            )),
        }
    }
}

macro_rules! defects {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, [$($cites:literal),*], $severity:ident; )*) => {
        /// A deliberate bug of the reference server.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
        pub enum Defect {
            $( $(#[doc = $doc])* #[serde(rename = $name)] $variant, )*
        }

        impl Defect {
            /// Every defect, in declaration order.
            pub const ALL: &'static [Defect] = &[$(Defect::$variant),*];

            /// The kebab-case name used on the command line and in `catches:`.
            pub fn name(self) -> &'static str {
                match self { $(Defect::$variant => $name,)* }
            }

            /// The requirement and bug ids it re-creates.
            pub fn cites(self) -> &'static [&'static str] {
                match self { $(Defect::$variant => &[$($cites),*],)* }
            }

            /// How much the bug lets an attacker do (see [`Severity`]).
            pub fn severity(self) -> Severity {
                match self { $(Defect::$variant => Severity::$severity,)* }
            }

            /// One line saying what the server does wrong.
            pub fn description(self) -> &'static str {
                match self { $(Defect::$variant => concat!($($doc),*).trim_ascii(),)* }
            }
        }
    };
}

defects! {
    /// Accepts any code_verifier, matching or not.
    AcceptsWrongVerifier = "accepts-wrong-verifier", ["REQ-50", "BUG-21"], High;
    /// Skips the PKCE check when code_verifier is missing or empty.
    VerifierOptional = "verifier-optional", ["REQ-51", "REQ-41", "BUG-3", "BUG-4", "BUG-8"], High;
    /// Accepts a code_verifier for a code issued without a challenge (PKCE downgrade).
    PkceDowngrade = "pkce-downgrade", ["REQ-52", "BUG-1", "BUG-2", "BUG-6", "BUG-7"], High;
    /// Also accepts the S256 challenge itself as the verifier (plain substitution).
    PlainSubstitution = "plain-substitution", ["REQ-53"], High;
    /// Does not enforce the verifier grammar (length 43..128, unreserved characters).
    NoVerifierAbnf = "no-verifier-abnf", ["REQ-54", "BUG-5"], Medium;
    /// A failed PKCE attempt leaves the code redeemable.
    FailedAttemptKeepsCode = "failed-attempt-keeps-code", ["REQ-55", "BUG-5"], Medium;
    /// Issues codes to public clients without a code_challenge.
    PkceOptionalForPublic = "pkce-optional-for-public", ["REQ-18", "BUG-18"], High;
    /// Accepts a code_challenge without code_challenge_method as plain (its RFC 7636 §4.3
    /// default) although plain is not allowed: the challenge itself then redeems the code.
    MethodAbsentAccepted = "method-absent-accepted", ["REQ-19", "BUG-23"], High;
    /// Accepts unknown or wrongly cased code_challenge_method values.
    AcceptsUnknownMethod = "accepts-unknown-method", ["REQ-20"], Medium;
    /// Accepts plain although it declares plain unsupported, and lists it in its metadata.
    AcceptsPlain = "accepts-plain", ["REQ-56", "REQ-20", "REQ-1"], High;
    /// Refuses every authorization request without `state` ("Missing parameter: state"), which
    /// RFC 6749 §4.1.1 only recommends and OAuth 2.1 lets PKCE stand in for.
    StateRequired = "state-required", ["REQ-96"], Low;
    /// Refuses an OpenID authorization request of the code flow without `nonce`, which OpenID
    /// Connect Core §3.1.2.1 makes optional there.
    NonceRequired = "nonce-required", ["REQ-97"], Low;
    /// Refuses authorization requests with an error page instead of redirecting to the client
    /// with `error` (RFC 6749 §4.1.2.1): safe, but the client never learns why.
    RefusalPages = "refusal-pages", ["REQ-94"], Low;
    /// Answers a request whose redirect URI does not match with an error sent to the client's
    /// registered redirect URI, not a page: safe (nothing goes where the request said), but
    /// RFC 6749 §4.1.2.1 has the resource owner told.
    RedirectErrorsToRegistered = "redirect-errors-to-registered", ["REQ-26"], Low;
    /// Echoes the code_challenge in the authorization response.
    ReflectsChallenge = "reflects-challenge", ["REQ-24"], Medium;
    /// Accepts challenges outside 43*128unreserved.
    NoChallengeAbnf = "no-challenge-abnf", ["REQ-22"], Medium;
    /// Codes can be redeemed more than once.
    ReusableCode = "reusable-code", ["REQ-57", "BUG-10", "BUG-11"], High;
    /// Checks that a code is unused, yields for a window, then marks it used: concurrent
    /// redemptions inside the window all succeed (django-oidc-provider #411, fosite #778).
    CodeRaceWindow = "code-race-window", ["REQ-58", "BUG-12"], High;
    /// Checks that a rotated refresh token is unused, yields for a window, then rotates it:
    /// concurrent refreshes inside the window all succeed, each with a new refresh token.
    RefreshRaceWindow = "refresh-race-window", ["REQ-61"], High;
    /// A replayed code does not revoke the tokens issued from it.
    NoRevokeOnReplay = "no-revoke-on-replay", ["REQ-59", "BUG-22"], Medium;
    /// Remembers that a code was used for a moment only (a cache entry that expires before the
    /// code does): a replay a little later, while the code still lives, is redeemed again.
    SpentMarkShortLived = "spent-mark-short-lived", ["REQ-57"], High;
    /// Keeps the tokens a code gave for a moment only: a later replay is refused, but revokes
    /// nothing.
    ReplayRevocationForgotten = "replay-revocation-forgotten", ["REQ-59"], Medium;
    /// A replay with a wrong verifier revokes the legitimate client's tokens.
    RevokeOnInvalidReplay = "revoke-on-invalid-replay", ["REQ-60"], Medium;
    /// A code can be redeemed by a client other than the one it was issued to.
    CodeNotBoundToClient = "code-not-bound-to-client", ["REQ-46", "REQ-45", "REQ-36"], High;
    /// Redirect URIs match by prefix instead of exact string comparison.
    PrefixRedirectMatch = "prefix-redirect-match", ["REQ-25", "REQ-26", "BUG-15", "BUG-19"], High;
    /// Redirect URIs are compared case-insensitively.
    CaseInsensitiveRedirect = "case-insensitive-redirect", ["REQ-25", "BUG-14"], High;
    /// Redirect URI host parsing is fooled by userinfo (`http://127.0.0.1:80@evil`).
    UserinfoRedirect = "userinfo-redirect", ["REQ-25", "BUG-17"], High;
    /// Any loopback redirect URI with the registered path is accepted, whatever host was
    /// registered (fosite's loopback handling).
    LoopbackHostConfusion = "loopback-host-confusion", ["REQ-25", "BUG-13"], High;
    /// With several redirect URIs registered, an omitted redirect_uri picks the first.
    DefaultRedirectUri = "default-redirect-uri", ["REQ-27"], Medium;
    /// Login and consent pages carry no Referrer-Policy.
    NoReferrerPolicy = "no-referrer-policy", ["REQ-16"], Low;
    /// Loopback redirect URIs must match the registered port exactly.
    LoopbackPortStrict = "loopback-port-strict", ["REQ-30"], Low;
    /// Redirects to an unregistered redirect URI (or, for an unknown client, to whatever
    /// redirect_uri was sent) with an error instead of showing an error page.
    RedirectsToUnregistered = "redirects-to-unregistered", ["REQ-26", "BUG-19"], High;
    /// The token endpoint does not check redirect_uri against the authorization request.
    TokenRedirectUriUnchecked = "token-redirect-uri-unchecked", ["REQ-49"], High;
    /// Confidential clients may redeem codes without authenticating.
    ClientAuthOptional = "client-auth-optional", ["REQ-44"], High;
    /// Failed Basic authentication answers 400 without WWW-Authenticate.
    InvalidClient400 = "invalid-client-400", ["REQ-44"], Low;
    /// Failed Basic authentication answers 401 with a `Bearer` challenge, not one for the
    /// scheme the client used.
    ChallengeSchemeBearer = "challenge-scheme-bearer", ["REQ-44"], Low;
    /// Accepts two client authentication methods in one request.
    MultipleAuthAccepted = "multiple-auth-accepted", ["REQ-47"], Medium;
    /// Accepts client_secret in the token request's query string.
    SecretInQuery = "secret-in-query", ["REQ-47"], High;
    /// Accepts repeated parameters instead of rejecting them.
    RepeatedParamsAccepted = "repeated-params-accepted", ["REQ-10", "REQ-40"], Medium;
    /// Rejects requests that carry an unknown parameter.
    RejectsUnknownParams = "rejects-unknown-params", ["REQ-8", "REQ-39"], Low;
    /// Refuses the OpenID Connect parameters display, ui_locales, claims_locales, acr_values
    /// and login_hint with invalid_request instead of taking them.
    OidcParamsRefused = "oidc-params-refused", ["REQ-149", "REQ-150"], Low;
    /// Treats a request as OpenID Connect only when openid is the first scope value: no ID
    /// Takes a request for OpenID Connect only when `openid` is the first scope value: the code
    /// of `scope=profile openid` gets tokens without an ID Token.
    OpenidScopeFirstOnly = "openid-scope-first-only", ["REQ-151"], Low;
    /// Shows the login page to a prompt=none request instead of answering login_required.
    PromptNoneIgnored = "prompt-none-ignored", ["REQ-148"], Low;
    /// The token endpoint answers GET requests.
    TokenGetAllowed = "token-get-allowed", ["REQ-38"], Low;
    /// Token responses lack Cache-Control: no-store and Pragma: no-cache.
    NoCacheHeaders = "no-cache-headers", ["REQ-42"], Medium;
    /// Token errors use an unregistered error code and a control character in the description.
    BadErrorFormat = "bad-error-format", ["REQ-43"], Low;
    /// Does not echo state exactly (truncates it to 32 characters).
    StateTruncated = "state-truncated", ["REQ-12"], Medium;
    /// Sends back another state than the client sent (its first character changed): what a
    /// client that checks state must refuse (RFC 6749 §10.12).
    StateReplaced = "state-replaced", ["REQ-12"], Medium;
    /// Announces iss in its metadata and sends a wrong one in authorization responses (another
    /// issuer's, as in a mix-up): what a client must refuse (RFC 9207 §2.4).
    WrongIss = "wrong-iss", ["REQ-28"], Medium;
    /// Leaves iss out of authorization responses although the metadata announces it.
    NoIss = "no-iss", ["REQ-28", "REQ-4"], Medium;
    /// Does not announce iss in its metadata, but sends one in authorization responses, and a
    /// wrong one (RFC 9207 §2.4: a present iss is checked whatever the metadata says).
    WrongIssUnannounced = "wrong-iss-unannounced", ["REQ-28"], Medium;
    /// Publishes metadata without code_challenge_methods_supported and response_types_supported,
    /// and with grant_types_supported that leaves authorization_code out.
    MetadataIncomplete = "metadata-incomplete", ["REQ-1", "REQ-3"], Low;
    /// Publishes an issuer that differs from the one the metadata URL was built from.
    MetadataWrongIssuer = "metadata-wrong-issuer", ["REQ-2"], Medium;
    /// Codes never expire.
    CodeNeverExpires = "code-never-expires", ["REQ-34"], Medium;
    /// Codes are short and sequential.
    WeakCodes = "weak-codes", ["REQ-35"], High;
    /// Codes of 16 random octets: the 128 bits §10.10 requires, not the 160 it recommends.
    Codes128Bits = "codes-128-bits", ["REQ-35"], Low;
    /// Access tokens are a counter's values.
    WeakAccessTokens = "weak-access-tokens", ["REQ-133"], High;
    /// Refresh tokens are a counter's values.
    WeakRefreshTokens = "weak-refresh-tokens", ["REQ-133"], High;
    /// Refresh tokens of 16 random octets: the 128 bits §10.10 requires, not the 160 it
    /// recommends.
    RefreshTokens128Bits = "refresh-tokens-128-bits", ["REQ-133"], Low;
    /// Pushed request_uri values are a counter's.
    WeakRequestUris = "weak-request-uris", ["REQ-144"], High;
    /// Pushed request_uri values of 16 random octets: unguessable, below the 160 bits RFC 6749
    /// §10.10 recommends for tokens.
    RequestUris128Bits = "request-uris-128-bits", ["REQ-144"], Low;
    /// UserInfo takes an access token from the URI query (`?access_token=`).
    TokenInQueryAccepted = "token-in-query-accepted", ["REQ-135"], Medium;
    /// Takes an access token after the lifetime its `expires_in` declared, at UserInfo and at
    /// introspection.
    AccessTokenOutlivesExpiresIn = "access-token-outlives-expires-in", ["REQ-191"], Medium;
    /// Serves a token sent in the URI query, and answers it with no `Cache-Control` header: a
    /// shared cache keeps the answer under the URL, token and all.
    QueryTokenServedCacheable = "query-token-served-cacheable", ["REQ-189"], Medium;
    /// UserInfo takes the `Bearer` scheme only as written, refusing `bearer`.
    BearerSchemeCaseSensitive = "bearer-scheme-case-sensitive", ["REQ-134"], Low;
    /// Token responses carry no `expires_in`: the client cannot tell when the token ends.
    NoExpiresIn = "no-expires-in", ["REQ-146"], Low;
    /// Issues tokens for the resource owner password grant.
    PasswordGrantAccepted = "password-grant-accepted", ["REQ-145"], Medium;
    /// Refresh tokens of public clients are not rotated, and reuse is not detected.
    NoRefreshRotation = "no-refresh-rotation", ["REQ-61"], Medium;
    /// A refresh token is taken from any authenticated client, not only the one it was issued to.
    RefreshNotBoundToClient = "refresh-not-bound-to-client", ["REQ-136"], High;
    /// The revocation endpoint answers 200 and revokes nothing.
    RevocationIgnored = "revocation-ignored", ["REQ-137"], High;
    /// Revokes refresh tokens only: a revoked access token keeps working.
    AccessTokenRevocationIgnored = "access-token-revocation-ignored", ["REQ-138"], Medium;
    /// Revoking a refresh token leaves the access tokens of its grant working.
    RefreshRevocationKeepsAccessTokens = "refresh-revocation-keeps-access-tokens", ["REQ-138"], Medium;
    /// Looks for the token only among the type `token_type_hint` names.
    RevocationTrustsHint = "revocation-trusts-hint", ["REQ-137"], Medium;
    /// Takes a revocation with a confidential client's `client_id` and no credentials.
    RevocationUnauthenticated = "revocation-unauthenticated", ["REQ-139"], High;
    /// Revokes a token whichever authenticated client asks.
    RevokesOtherClientsTokens = "revokes-other-clients-tokens", ["REQ-139"], High;
    /// Answers a token it does not know with 400 `invalid_request`.
    RevocationUnknownTokenError = "revocation-unknown-token-error", ["REQ-140"], Low;
    /// Answers CORS requests at the authorization endpoint.
    CorsOnAuthorize = "cors-on-authorize", ["REQ-13"], Medium;
    /// Redirects the login POST with 307, re-posting credentials.
    Login307 = "login-307", ["REQ-14"], Medium;
    /// Login and consent pages may be framed (no X-Frame-Options or frame-ancestors).
    Frameable = "frameable", ["REQ-15"], Medium;
    /// Skips consent for a public client that was approved before.
    AutoApprovePublic = "auto-approve-public", ["REQ-65", "BUG-20"], Medium;
    /// Missing or unknown response_type is answered with a code or the wrong error.
    ResponseTypeUnchecked = "response-type-unchecked", ["REQ-11"], Low;
    /// Accepts a redirect_uri that carries a fragment.
    FragmentRedirectAccepted = "fragment-redirect-accepted", ["REQ-32"], Medium;
    /// The S256 method is broken: every S256 flow fails at the token endpoint.
    BrokenS256 = "broken-s256", ["REQ-21"], Low;
    /// Token responses omit token_type and are served as text/plain.
    BadTokenResponse = "bad-token-response", ["REQ-42"], Low;
    /// Missing or unknown code, grant_type answered with the wrong error.
    WrongGrantErrors = "wrong-grant-errors", ["REQ-48"], Low;
    /// Public clients may omit client_id at the token endpoint.
    PublicClientIdOptional = "public-client-id-optional", ["REQ-45"], Low;
    /// Answers an OpenID token request without an ID Token.
    IdTokenMissing = "id-token-missing", ["REQ-66"], Low;
    /// Issues unsigned ID Tokens (`alg: none`).
    IdTokenUnsigned = "id-token-unsigned", ["REQ-67"], High;
    /// Signs ID Tokens with a key that is not in its JWK Set (under the published `kid`).
    IdTokenForeignKey = "id-token-foreign-key", ["REQ-67"], High;
    /// Puts an `iss` in ID Tokens that differs from its issuer (a trailing slash).
    IdTokenWrongIssuer = "id-token-wrong-issuer", ["REQ-68"], Medium;
    /// Issues ID Tokens whose audience is the issuer, not the client.
    IdTokenWrongAudience = "id-token-wrong-audience", ["REQ-69"], High;
    /// Issues ID Tokens that expired before they were issued.
    IdTokenExpired = "id-token-expired", ["REQ-70"], Medium;
    /// Leaves the authorization request's nonce out of the ID Token.
    NonceNotEchoed = "nonce-not-echoed", ["REQ-71"], High;
    /// Puts the user's latest nonce in the ID Token instead of the one of the code's own
    /// authorization request (a nonce kept per user, not per code).
    NonceNotBound = "nonce-not-bound", ["REQ-71"], High;
    /// Puts a nonce of its own making in the ID Token, not the one the request sent.
    NonceReplaced = "nonce-replaced", ["REQ-71"], High;
    /// Cuts the nonce to 255 characters in the ID Token (a database column too short).
    NonceTruncated = "nonce-truncated", ["REQ-71"], Medium;
    /// Computes `at_hash` over the code instead of the access token.
    AtHashWrong = "at-hash-wrong", ["REQ-72"], Medium;
    /// Computes `c_hash` over the access token instead of the code.
    CHashWrong = "c-hash-wrong", ["REQ-72"], Medium;
    /// Gives the same user a new `sub` in every ID Token.
    SubUnstable = "sub-unstable", ["REQ-73"], High;
    /// Answers UserInfo with another user's `sub` than the ID Token's.
    UserinfoSubDiffers = "userinfo-sub-differs", ["REQ-74"], High;
    /// Takes a signed-in session for a request with `prompt=login`: no new login.
    PromptLoginIgnored = "prompt-login-ignored", ["REQ-156"], Medium;
    /// Takes a signed-in session of any age for a request with `max_age`.
    MaxAgeIgnored = "max-age-ignored", ["REQ-156"], Medium;
    /// Gives the ID Token's own issue time as `auth_time`, not the time the user signed in.
    AuthTimeIsIssueTime = "auth-time-is-issue-time", ["REQ-156"], Medium;
    /// Answers UserInfo only to GET: a POST gets 405.
    UserinfoGetOnly = "userinfo-get-only", ["REQ-154"], Low;
    /// Accepts client assertions whose `exp` has passed.
    JwtExpiryUnchecked = "jwt-expiry-unchecked", ["REQ-75"], High;
    /// Accepts client assertions without checking their signature.
    JwtSignatureUnchecked = "jwt-signature-unchecked", ["REQ-76"], High;
    /// Accepts unsigned client assertions (`alg: none`).
    JwtAlgNoneAccepted = "jwt-alg-none-accepted", ["REQ-76"], High;
    /// Accepts client assertions made out to another audience.
    JwtAudienceUnchecked = "jwt-audience-unchecked", ["REQ-77"], High;
    /// Accepts client assertions whose `iss` is not the client.
    JwtIssuerUnchecked = "jwt-issuer-unchecked", ["REQ-147"], Medium;
    /// Accepts client assertions without `sub` (it finds the client by `client_id`).
    JwtSubjectUnchecked = "jwt-subject-unchecked", ["REQ-147"], Medium;
    /// Accepts client assertions issued any time ago, as long as they have not expired.
    JwtIatUnchecked = "jwt-iat-unchecked", ["REQ-153"], Low;
    /// Accepts client assertions before their `nbf`.
    JwtNbfUnchecked = "jwt-nbf-unchecked", ["REQ-147"], Medium;
    /// Allows no clock offset: refuses client assertions and request objects whose `nbf` is
    /// ahead by a second, and DPoP proofs whose `iat` is ahead at all or over five seconds old.
    NoClockLeeway = "no-clock-leeway", ["REQ-155"], Low;
    /// Accepts a client assertion again (same `jti`).
    JwtReplayAccepted = "jwt-replay-accepted", ["REQ-78"], Medium;
    /// Answers a push that carries a DPoP proof with an error: only `dpop_jkt` binds.
    ParDpopHeaderRefused = "par-dpop-header-refused", ["REQ-157"], Medium;
    /// Takes a DPoP proof on the push without binding the code to its key.
    ParDpopProofIgnored = "par-dpop-proof-ignored", ["REQ-157"], High;
    /// Takes a push whose `dpop_jkt` names another key than its DPoP proof.
    ParDpopJktMismatchAccepted = "par-dpop-jkt-mismatch-accepted", ["REQ-157"], Medium;
    /// A pushed request_uri can be used more than once.
    ParReusable = "par-reusable", ["REQ-79"], Medium;
    /// A pushed request_uri never expires.
    ParNeverExpires = "par-never-expires", ["REQ-80"], Medium;
    /// A request_uri pushed by one client is accepted with another client's client_id.
    ParNotBoundToClient = "par-not-bound-to-client", ["REQ-81"], High;
    /// Parameters sent beside request_uri override the pushed ones (a code_challenge changed on
    /// the front channel).
    ParFrontChannelOverrides = "par-front-channel-overrides", ["REQ-82"], High;
    /// Requires pushed authorization requests in its metadata but accepts plain ones.
    ParNotEnforced = "par-not-enforced", ["REQ-83"], Medium;
    /// The PAR endpoint does not check the pushed redirect_uri against the registered ones.
    ParRedirectUnchecked = "par-redirect-unchecked", ["REQ-84", "REQ-25"], High;
    /// A code from a pushed request is redeemed without the PKCE check (the pushed, authenticated
    /// request is taken as protection enough).
    ParSkipsPkce = "par-skips-pkce", ["REQ-50", "REQ-82"], High;
    /// The PAR endpoint takes a confidential client's `client_id` without checking its
    /// credentials.
    ParClientAuthUnchecked = "par-client-auth-unchecked", ["REQ-141"], High;
    /// The PAR endpoint takes a pushed request that carries a `request_uri` (and drops it).
    ParRequestUriAccepted = "par-request-uri-accepted", ["REQ-141"], Low;
    /// The PAR endpoint also takes a push by GET, the request and the client's credentials in
    /// the query (where access logs keep them).
    ParGetAccepted = "par-get-accepted", ["REQ-152"], Low;
    /// A pushed request without `code_challenge` is taken from a public client, as the
    /// authorization endpoint would not.
    ParChallengeOptional = "par-challenge-optional", ["REQ-142"], High;
    /// A pushed request with `code_challenge_method=plain` is taken, as the authorization
    /// endpoint would not.
    ParAcceptsPlain = "par-accepts-plain", ["REQ-142"], Medium;
    /// Requires PKCE of confidential clients in its policy but issues codes without a challenge.
    PkceOptionalForConfidential = "pkce-optional-for-confidential", ["REQ-52", "REQ-18"], High;
    /// A code bound to a dpop_jkt is redeemed with a proof of another key.
    DpopJktUnchecked = "dpop-jkt-unchecked", ["REQ-85"], High;
    /// A DPoP proof is accepted again (same jti).
    DpopProofReplay = "dpop-proof-replay", ["REQ-86"], Medium;
    /// A DPoP proof for another method or URL is accepted.
    DpopHtmHtuUnchecked = "dpop-htm-htu-unchecked", ["REQ-87"], Medium;
    /// A DPoP proof with a stale iat is accepted.
    DpopIatUnchecked = "dpop-iat-unchecked", ["REQ-88"], Medium;
    /// Takes a DPoP proof whatever its `typ`.
    DpopTypUnchecked = "dpop-typ-unchecked", ["REQ-143"], Medium;
    /// Takes a DPoP proof whose signature does not verify, or that is unsigned (`alg: none`).
    DpopSignatureUnchecked = "dpop-signature-unchecked", ["REQ-143"], High;
    /// Takes a DPoP proof whose `jwk` carries a private key member.
    DpopPrivateKeyAccepted = "dpop-private-key-accepted", ["REQ-143"], Low;
    /// The server hands out a DPoP nonce but accepts proofs with another one.
    DpopNonceUnchecked = "dpop-nonce-unchecked", ["REQ-89"], Low;
    /// DPoP-bound access tokens are issued with token_type Bearer.
    DpopTokenTypeBearer = "dpop-token-type-bearer", ["REQ-90"], Low;
    /// The resource takes a DPoP-bound access token without a proof, or with another key's.
    DpopResourceUnbound = "dpop-resource-unbound", ["REQ-91"], High;
    /// Refresh tokens of public clients are not bound to the DPoP key.
    DpopRefreshUnbound = "dpop-refresh-unbound", ["REQ-92"], High;
    /// In the FAPI 2.0 set-up, issues unconstrained (Bearer) tokens to a token request without a
    /// DPoP proof.
    DpopNotRequired = "dpop-not-required", ["REQ-93"], High;
    /// In the FAPI 2.0 set-up, takes a client assertion made out to the token endpoint or the
    /// PAR endpoint (FAPI 2.0 allows the issuer alone).
    JwtTokenEndpointAudienceAccepted = "jwt-token-endpoint-audience-accepted", ["REQ-104"], Medium;
    /// Under FAPI 2.0, takes a client assertion whose `aud` is an array holding the issuer.
    JwtAudienceArrayAccepted = "jwt-audience-array-accepted", ["REQ-104"], Low;
    /// Refuses a client assertion made out to the PAR endpoint URL, which RFC 9126 §2 makes a
    /// server accept (it takes the issuer and the token endpoint only).
    ParEndpointAudienceRefused = "par-endpoint-audience-refused", ["REQ-141"], Low;
    /// Takes a request object without checking its signature.
    RequestObjectSignatureUnchecked = "request-object-signature-unchecked", ["REQ-98"], Medium;
    /// Takes an unsigned request object (`alg: none`) although its metadata lists no `none`.
    RequestObjectUnsignedAccepted = "request-object-unsigned-accepted", ["REQ-99"], Medium;
    /// Takes a request object made out to another server (`aud`).
    RequestObjectAudienceUnchecked = "request-object-audience-unchecked", ["REQ-100"], Medium;
    /// Takes a request object whose `exp` has passed.
    RequestObjectExpiryUnchecked = "request-object-expiry-unchecked", ["REQ-101"], Medium;
    /// Takes a request object that lives longer than sixty minutes from its `nbf`.
    RequestObjectLifetimeUnchecked = "request-object-lifetime-unchecked", ["REQ-101"], Medium;
    /// Takes request objects without `nbf` (its lifetime starts at `iat`) or without `exp`
    /// (no end): it checks the claims that are there, and requires none.
    RequestObjectLifetimeOptional = "request-object-lifetime-optional", ["REQ-101"], Medium;
    /// Refuses a request object whose `aud` is an array, though it holds the issuer.
    RequestObjectAudienceArrayRefused = "request-object-audience-array-refused", ["REQ-100"], Low;
    /// Takes a request object whose `client_id` is another client's than the one beside it.
    RequestObjectClientIdUnchecked = "request-object-client-id-unchecked", ["REQ-102"], Medium;
    /// Parameters beside a request object override the signed ones (a `code_challenge`
    /// changed on the front channel).
    RequestObjectOutsideParamsUsed = "request-object-outside-params-used", ["REQ-103"], High;
    /// Checks the redirect URI a request object signs, then sends the code to the
    /// `redirect_uri` beside it: the check and the use read different parameters.
    RequestObjectRedirectUriBesideUsed = "request-object-redirect-uri-beside-used", ["REQ-103"], High;
    /// JWT-secured authorization responses go out unsigned (`alg: none`).
    JarmUnsigned = "jarm-unsigned", ["REQ-105"], Medium;
    /// JWT-secured authorization responses are made out to the issuer instead of the client.
    JarmWrongAudience = "jarm-wrong-audience", ["REQ-105"], Medium;
    /// JWT-secured authorization responses have expired when they are sent.
    JarmExpired = "jarm-expired", ["REQ-105"], Medium;
    /// An error response to a request for a JWT response mode comes as plain parameters.
    JarmErrorsPlain = "jarm-errors-plain", ["REQ-106"], Low;
    /// Registers a redirect URI with a fragment.
    RegistrationFragmentAccepted = "registration-fragment-accepted", ["REQ-107"], Medium;
    /// Registers a redirect URI with a wildcard, and matches it as a pattern at the
    /// authorization endpoint.
    RegistrationWildcardMatched = "registration-wildcard-matched", ["REQ-108", "BUG-15"], High;
    /// Registers a plain-http redirect URI on a host that is not a loopback address.
    RegistrationPlainHttpAccepted = "registration-plain-http-accepted", ["REQ-111"], Medium;
    /// Registers a client with a token endpoint auth method it does not support (and makes it
    /// a `client_secret_basic` client).
    RegistrationAuthMethodUnchecked = "registration-auth-method-unchecked", ["REQ-110"], Medium;
    /// Leaves registered metadata (redirect URIs, auth method) out of its answer.
    RegistrationMetadataOmitted = "registration-metadata-omitted", ["REQ-109"], Low;
    /// Codes live two minutes, whatever the set-up's configured (and declared) lifetime.
    CodeLifetimeOverAMinute = "code-lifetime-over-a-minute", ["REQ-112"], Medium;
    /// Authenticates an mTLS client whatever certificate (or none) the connection carries.
    MtlsCertificateUnchecked = "mtls-certificate-unchecked", ["REQ-113"], High;
    /// Issues an mTLS client's tokens unbound, so they work over any connection.
    MtlsBindingUnchecked = "mtls-binding-unchecked", ["REQ-114"], High;
    /// Answers a ClientHello that offers only TLS 1.1 or 1.0 with a ServerHello for that
    /// version. rustls speaks neither, so the choice is all it sends: what a server that still
    /// negotiates them shows a probe.
    TlsLegacyVersionAccepted = "tls-legacy-version-accepted", ["REQ-115"], High;
    /// Serves TLS 1.2 with rustls's default suites, ChaCha20-Poly1305 among them: allowed by
    /// BCP 195, not recommended, so not for FAPI 2.0's back-channel endpoints.
    TlsWeakSuiteAccepted = "tls-weak-suite-accepted", ["REQ-116"], Medium;
    /// Serves plain HTTP on its HTTPS port too (a connection whose first byte is not a TLS
    /// handshake record): every endpoint answers over http as over https.
    PlainHttpServed = "plain-http-served", ["REQ-6", "REQ-37", "REQ-158"], High;
    /// Answers UserInfo with `sub` alone, whatever the scope asked for.
    ScopeClaimsIgnored = "scope-claims-ignored", ["REQ-159"], Low;
    /// Sends `email_verified` and `updated_at` as strings ("true", "1700000000").
    ClaimTypesWrong = "claim-types-wrong", ["REQ-160"], Medium;
    /// Refuses a DPoP proof that carries `nbf` or `exp`, claims RFC 9449 does not define.
    DpopNbfExpRefused = "dpop-nbf-exp-refused", ["REQ-161"], Low;
    /// Spends a `request_uri` when the authorization URL is first loaded, not when its code is
    /// issued: a user who reloads the login page gets an error.
    RequestUriSpentOnVisit = "request-uri-spent-on-visit", ["REQ-162"], Low;
    /// In the FAPI 2.0 set-up, takes a pushed request without `redirect_uri` for a client with
    /// one registered, as RFC 6749 §3.1.2.3 lets a plain server.
    ParRedirectUriOptional = "par-redirect-uri-optional", ["REQ-163"], Low;
    /// In the FAPI 2.0 set-up, serves `response_type=token` (an access token in the fragment)
    /// and `code id_token` (a code and an ID Token in the fragment) beside `code`.
    FrontChannelTokens = "front-channel-tokens", ["REQ-164"], High;
    /// Ignores the `claims` request parameter it says it supports: UserInfo answers with the
    /// claims of the scope alone.
    ClaimsParameterIgnored = "claims-parameter-ignored", ["REQ-165"], Low;
    /// Takes any answer to the consent form as approval: a user who denies gets a code issued.
    ConsentDenialIgnored = "consent-denial-ignored", ["REQ-166"], High;
    /// In the FAPI 2.0 set-up, takes JWTs an RSA client signed with RS256 (client assertions,
    /// request objects), as outside it.
    Rs256Accepted = "rs256-accepted", ["REQ-167"], Medium;
    /// Sends the response parameters to the registered redirect URI with its query dropped.
    RedirectQueryDropped = "redirect-query-dropped", ["REQ-168"], Low;
    /// Matches redirect URIs with their queries left out: a registered URI with a query is
    /// matched by the same URI with any other query.
    RedirectQueryIgnored = "redirect-query-ignored", ["REQ-25", "REQ-26"], High;
    /// Registers a `sector_identifier_uri` without fetching it: redirect URIs it does not list
    /// are registered.
    SectorUriUnchecked = "sector-uri-unchecked", ["REQ-169"], Medium;
    /// Refuses a `sector_identifier_uri` that lists more than the redirect URIs registered.
    SectorUriListMustEqual = "sector-uri-list-must-equal", ["REQ-169"], Low;
    /// Keeps the key it fetched from a client's `jwks_uri` at registration, and never fetches
    /// it again: a client that rotates its key is locked out.
    ClientJwksNotRefetched = "client-jwks-not-refetched", ["REQ-170"], Medium;
    /// Fetches a registered `jwks_uri` (to validate it) but verifies client assertions only
    /// with keys registered by value: a client registered with a `jwks_uri` cannot
    /// authenticate.
    JwksUriKeysUnused = "jwks-uri-keys-unused", ["REQ-171"], Low;
    /// Says `request_uri_parameter_supported` but answers a request object by reference with
    /// `request_uri_not_supported`.
    RequestUriNotFetched = "request-uri-not-fetched", ["REQ-172"], Low;
    /// Lists `none` among the request object algorithms it supports, and refuses unsigned
    /// request objects.
    UnsignedRequestObjectRefused = "unsigned-request-object-refused", ["REQ-173"], Low;
    /// Signs ID Tokens RS256 with a 1024-bit RSA key, published in its JWK Set.
    IdTokenWeakKey = "id-token-weak-key", ["REQ-174"], Medium;
    /// At the resource, takes a JWT access token on its claims without verifying it: `alg`
    /// `none` (in any case) and another key's signature pass.
    JwtAccessTokenUnverified = "jwt-access-token-unverified", ["REQ-175"], High;
    /// Refuses a nonce longer than 48 characters.
    NonceLengthCapped = "nonce-length-capped", ["REQ-176"], Low;
    /// Names another client as the ID Token's authorized party (`azp`).
    IdTokenAzpWrong = "id-token-azp-wrong", ["REQ-69"], Medium;
    /// Gives the ID Token a second audience, and no `azp`.
    IdTokenAudiencesWithoutAzp = "id-token-audiences-without-azp", ["REQ-69"], Medium;
    /// Puts its public key in the ID Token's header (`jwk`).
    IdTokenEmbeddedKey = "id-token-embedded-key", ["REQ-177"], Low;
    /// Gives the ID Token of a refresh another subject than the login's.
    RefreshIdTokenOtherSubject = "refresh-id-token-other-subject", ["REQ-178"], High;
    /// Takes a request object that carries `request` or `request_uri` (RFC 9101 §4 forbids
    /// both): a pushed one then points at another request past the check of the form
    /// parameters.
    ParObjectRequestUriAccepted = "par-object-request-uri-accepted", ["REQ-141"], Medium;
    /// Registers a client's `require_signed_request_object` and echoes it, but takes the
    /// client's plain authorization requests, on the front channel and pushed.
    SignedRequestRequirementIgnored = "signed-request-requirement-ignored", ["REQ-190"], High;
    /// Takes client assertions made out to its endpoint URLs only, not to its issuer
    /// identifier.
    JwtIssuerAudienceRefused = "jwt-issuer-audience-refused", ["REQ-77"], Low;
    /// Leaves RS256 out of `id_token_signing_alg_values_supported`, though it can sign with it.
    MetadataWithoutRs256 = "metadata-without-rs256", ["REQ-179"], Low;
    /// Leaves `subject_types_supported` out of its metadata.
    MetadataWithoutSubjectTypes = "metadata-without-subject-types", ["REQ-179"], Low;
    /// Signs every ID Token with its own key (ES256), whatever `id_token_signed_response_alg`
    /// a client registered.
    RegisteredIdTokenAlgIgnored = "registered-id-token-alg-ignored", ["REQ-180"], Low;
    /// Lists its scopes in `scopes_supported` without `openid`.
    MetadataScopesWithoutOpenid = "metadata-scopes-without-openid", ["REQ-179"], Low;
    /// Lists RS256 alone for ID Tokens, client assertions and DPoP proofs in its metadata,
    /// which FAPI 2.0 clients may not use.
    MetadataRs256Only = "metadata-rs256-only", ["REQ-182"], Low;
    /// Lists only client secrets among its client authentication methods.
    MetadataSecretAuthOnly = "metadata-secret-auth-only", ["REQ-182"], Low;
    /// Each node of the cluster (each address it listens on) keeps its own record of spent
    /// codes and rotated refresh tokens: one spent at one node is taken once more at another.
    NodeLocalSpentState = "node-local-spent-state", ["REQ-183"], High;
    /// Forbids framing of its login and consent pages by X-Frame-Options alone, with no
    /// Content Security Policy.
    FrameOptionsOnly = "frame-options-only", ["REQ-15"], Low;
    /// Checks each member of a DPoP proof only where the proof has it: a proof without `typ`,
    /// `jti`, `htm`, `htu`, `iat` or `ath` is taken.
    DpopClaimsOptional = "dpop-claims-optional", ["REQ-184"], Medium;
    /// At a resource, takes a DPoP proof whose `ath` is the hash of another access token.
    DpopAthUnchecked = "dpop-ath-unchecked", ["REQ-184"], Medium;
    /// Compares a DPoP proof's `htu` with the request's URL as strings, without normalising
    /// either.
    DpopHtuExactMatch = "dpop-htu-exact-match", ["REQ-185"], Low;
    /// Reads the first of several `DPoP` header fields and ignores the rest.
    DpopFirstOfSeveralProofs = "dpop-first-of-several-proofs", ["REQ-187"], Medium;
    /// At a resource, takes a DPoP proof without `jwk` unverified, and so unbound to the
    /// token's key: the check of the signature runs only where the proof gives a key.
    DpopJwkOptional = "dpop-jwk-optional", ["REQ-143"], High;
    /// Refuses a DPoP proof with a header parameter or claim it does not know.
    DpopUnknownMembersRefused = "dpop-unknown-members-refused", ["REQ-188"], Low;
    /// In the FAPI 2.0 set-up, takes DPoP proofs signed with RS256, as outside it (and offers
    /// RS256 in `dpop_signing_alg_values_supported`).
    DpopRs256Accepted = "dpop-rs256-accepted", ["REQ-192"], Medium;
    /// Refuses a `claims` request parameter that names a claim it does not have.
    ClaimsParameterUnknownClaimRefused = "claims-parameter-unknown-claim-refused", ["REQ-186"], Low;
    /// Publishes its RSA signing key in its JWK Set whole, private members and all.
    JwksPrivateKeyPublished = "jwks-private-key-published", ["REQ-181"], High;
}

/// The reference server's set-ups a defect can show in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Confidential clients with secrets (`client_secret_basic`, `client_secret_post`).
    Secrets,
    /// Confidential clients with assertions (`private_key_jwt`, `client_secret_jwt`).
    JwtClients,
    /// The FAPI 2.0 set-up: HTTPS, pushed authorization requests required, PKCE for every
    /// client, assertion clients; the kill matrix runs it under the `fapi2` profile.
    Fapi2,
    /// HTTPS, and confidential clients with TLS client certificates (RFC 8705).
    Mtls,
}

impl Defect {
    /// The server set-up the kill matrix runs this defect in: client-assertion defects need
    /// assertion clients, and a PAR requirement that is not enforced needs one to exist.
    pub fn variant(self) -> Variant {
        match self {
            Self::JwtExpiryUnchecked
            | Self::JwtSignatureUnchecked
            | Self::JwtAlgNoneAccepted
            | Self::JwtAudienceUnchecked
            | Self::JwtIssuerUnchecked
            | Self::JwtSubjectUnchecked
            | Self::JwtIatUnchecked
            | Self::JwtNbfUnchecked
            | Self::JwtReplayAccepted
            | Self::RequestObjectSignatureUnchecked
            | Self::RequestObjectUnsignedAccepted
            | Self::RequestObjectAudienceUnchecked
            | Self::RequestObjectExpiryUnchecked
            | Self::RequestObjectClientIdUnchecked
            | Self::RequestObjectOutsideParamsUsed
            | Self::RequestObjectRedirectUriBesideUsed
            | Self::RequestObjectAudienceArrayRefused
            | Self::ParEndpointAudienceRefused
            | Self::RequestUriNotFetched
            | Self::JwtAccessTokenUnverified
            | Self::ParObjectRequestUriAccepted
            | Self::JwtIssuerAudienceRefused => Variant::JwtClients,
            // The nonce is only required in the FAPI set-up; the lifetime cap on request objects
            // is FAPI 2.0 Message Signing's; the FAPI set-up has every kind of JWT a clock
            // offset touches (assertions, request objects, DPoP proofs).
            Self::ParNotEnforced
            | Self::NoClockLeeway
            | Self::PkceOptionalForConfidential
            | Self::DpopNonceUnchecked
            | Self::DpopNotRequired
            | Self::RequestObjectLifetimeUnchecked
            | Self::RequestObjectLifetimeOptional
            | Self::JwtTokenEndpointAudienceAccepted
            | Self::JwtAudienceArrayAccepted
            | Self::CodeLifetimeOverAMinute
            | Self::TlsLegacyVersionAccepted
            | Self::TlsWeakSuiteAccepted
            | Self::PlainHttpServed
            | Self::ParRedirectUriOptional
            | Self::FrontChannelTokens
            | Self::Rs256Accepted
            | Self::DpopRs256Accepted
            | Self::MetadataRs256Only
            | Self::MetadataSecretAuthOnly => Variant::Fapi2,
            // Only the mTLS set-up's tokens expire within a run (twenty seconds).
            Self::MtlsCertificateUnchecked
            | Self::MtlsBindingUnchecked
            | Self::AccessTokenOutlivesExpiresIn => Variant::Mtls,
            _ => Variant::Secrets,
        }
    }
}

impl std::fmt::Display for Defect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Defect {
    type Err = crate::diagnostics::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Defect::ALL
            .iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                crate::diagnostics::UnknownName::new(
                    "defect",
                    s,
                    Defect::ALL.iter().map(|d| d.name()),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defect_cites_catalogued_ids_and_round_trips_its_name() {
        for d in Defect::ALL {
            assert_eq!(d.name().parse::<Defect>(), Ok(*d));
            assert!(!d.description().is_empty());
            for id in d.cites() {
                let known = crate::requirements::RequirementId::parse(id).is_ok();
                assert!(known, "{d}: {id} is not in the catalogue");
            }
        }
    }
}
