//! One login of the reference client as two halves, whatever drives it: [`begin`] makes the
//! authorization URL and what the client keeps until the browser comes back ([`Begun`]),
//! [`finish`] judges the authorization response as a correct client does, redeems the code,
//! validates the ID Token and calls the resource. The defects switch each judgement off.

use std::collections::BTreeSet;

use serde_json::Value;
use sha2::Digest as _;
use tokio_rustls::rustls;
use url::Url;

use crate::client_defect::ClientDefect;
use crate::jose::{Algorithm, Jws, SigningKey};
use crate::params::Params;
use crate::pkce::CodeVerifier;

/// Why the client refused a login, or could not try one.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A setting is missing or unusable.
    #[error("setup: {0}")]
    Setup(String),
    /// The server's answer is not one the client may trust: the login is refused.
    #[error("refused: {0}")]
    Refused(String),
}

impl ClientError {
    /// The exit status the driver protocol gives this.
    pub fn exit_status(&self) -> u8 {
        match self {
            Self::Refused(_) => 1,
            Self::Setup(_) => 2,
        }
    }
}

pub(super) fn setup(e: impl std::fmt::Display) -> ClientError {
    ClientError::Setup(e.to_string())
}

pub(super) fn refused(why: impl Into<String>) -> ClientError {
    ClientError::Refused(why.into())
}

/// The settings the `command` driver hands a client.
pub(super) struct Settings {
    pub(super) issuer: String,
    pub(super) client_id: String,
    /// A confidential client's secret, and whether it goes in the body rather than Basic.
    pub(super) secret: Option<(String, bool)>,
    pub(super) redirect_uri: String,
    pub(super) scope: String,
    /// Pushes its authorization requests (RFC 9126): `PKCE_HARNESS_USE_PAR=1`.
    par: bool,
    /// Binds its tokens with DPoP (RFC 9449): `PKCE_HARNESS_USE_DPOP=1`.
    dpop: bool,
    /// How many times it refreshes its tokens after a login, before it calls the resource:
    /// `PKCE_HARNESS_REFRESHES`.
    refreshes: usize,
}

impl Settings {
    pub(super) fn from_env() -> Result<Self, ClientError> {
        let var = |name: &str| std::env::var(name).map_err(|_| setup(format!("{name} is not set")));
        Ok(Self {
            issuer: var("PKCE_HARNESS_ISSUER")?,
            client_id: var("PKCE_HARNESS_CLIENT_ID")?,
            secret: std::env::var("PKCE_HARNESS_CLIENT_SECRET").ok().map(|s| {
                let post = std::env::var("PKCE_HARNESS_AUTH_METHOD")
                    .is_ok_and(|m| m == "client_secret_post");
                (s, post)
            }),
            redirect_uri: var("PKCE_HARNESS_REDIRECT_URI")?,
            scope: std::env::var("PKCE_HARNESS_SCOPE").unwrap_or_else(|_| "openid".into()),
            par: std::env::var("PKCE_HARNESS_USE_PAR").is_ok_and(|v| v == "1"),
            dpop: std::env::var("PKCE_HARNESS_USE_DPOP").is_ok_and(|v| v == "1"),
            refreshes: std::env::var("PKCE_HARNESS_REFRESHES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        })
    }
}

/// The client: its settings, the server's metadata, its defects.
pub(super) struct Client {
    pub(super) settings: Settings,
    pub(super) meta: Value,
    pub(super) defects: BTreeSet<ClientDefect>,
    http: reqwest::Client,
    /// The DPoP key (a fresh ES256 pair), when the client uses DPoP.
    dpop: Option<SigningKey>,
}

/// What the client keeps between sending the browser to the server and its return.
pub(super) struct Begun {
    /// Where the browser goes.
    pub(super) url: Url,
    verifier: String,
    method: Option<&'static str>,
    state: String,
    nonce: String,
}

impl Client {
    /// Reads the settings from the environment and the server's metadata.
    pub(super) async fn new(defects: BTreeSet<ClientDefect>) -> Result<Self, ClientError> {
        let settings = Settings::from_env()?;
        let http = http()?;
        let meta = get_json(
            &http,
            &format!("{}/.well-known/openid-configuration", settings.issuer),
            None,
        )
        .await?;
        let dpop = if settings.dpop {
            Some(SigningKey::generate(Algorithm::ES256).map_err(setup)?.0)
        } else {
            None
        };
        Ok(Self {
            settings,
            meta,
            defects,
            http,
            dpop,
        })
    }

    pub(super) fn has(&self, d: ClientDefect) -> bool {
        self.defects.contains(&d)
    }

    fn endpoint(&self, name: &str) -> Result<String, ClientError> {
        self.meta
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| setup(format!("the metadata has no {name}")))
    }

    /// A new login: fresh PKCE, state and nonce, and the authorization URL carrying them (or,
    /// pushed, the `request_uri` that stands for them).
    pub(super) async fn begin(&self) -> Result<Begun, ClientError> {
        let s = &self.settings;
        let (verifier, challenge, method) = pkce(&self.defects)?;
        let state = random_text(22)?;
        let nonce = random_text(22)?;
        let mut url = Url::parse(&self.endpoint("authorization_endpoint")?).map_err(setup)?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &s.client_id)
                .append_pair("redirect_uri", &s.redirect_uri)
                .append_pair("scope", &s.scope)
                .append_pair("state", &state);
            if self.openid() {
                q.append_pair("nonce", &nonce);
            }
            if let Some(method) = method {
                q.append_pair("code_challenge", &challenge)
                    .append_pair("code_challenge_method", method);
            }
            if self.has(ClientDefect::VerifierInFrontChannel) {
                q.append_pair("code_verifier", &verifier);
            }
            if let (Some((secret, _)), true) =
                (&s.secret, self.has(ClientDefect::SecretOnFrontChannel))
            {
                q.append_pair("client_secret", secret);
            }
        }
        if self.settings.par && !self.has(ClientDefect::ParBypassed) {
            url = self.push(url).await?;
        }
        Ok(Begun {
            url,
            verifier,
            method,
            state,
            nonce,
        })
    }

    /// RFC 9126 §2: the parameters of `url` pushed, authenticated like a token request; the
    /// URL the browser gets carries only `client_id` and the `request_uri` answered (§4).
    async fn push(&self, mut url: Url) -> Result<Url, ClientError> {
        let s = &self.settings;
        let mut form = Params::new();
        for (k, v) in url.query_pairs() {
            form.push(k.into_owned(), v.into_owned());
        }
        let basic = self.authenticate(&mut form);
        let endpoint = self.endpoint("pushed_authorization_request_endpoint")?;
        let mut req = self
            .http
            .post(endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.encode());
        if let Some(secret) = basic {
            req = req.basic_auth(enc(&s.client_id), Some(enc(secret)));
        }
        let resp = req.send().await.map_err(setup)?;
        let status = resp.status();
        let answer = json_of(resp).await?;
        let request_uri = answer
            .get("request_uri")
            .and_then(Value::as_str)
            .filter(|_| status.is_success())
            .ok_or_else(|| refused(format!("the PAR endpoint answered {status}")))?;
        url.set_query(None);
        url.query_pairs_mut()
            .append_pair("client_id", &s.client_id)
            .append_pair("request_uri", request_uri);
        Ok(url)
    }

    /// Puts the client's credentials in `form` as it is registered (or, with the defect, the
    /// other way); returns the secret when it goes in a Basic header instead.
    fn authenticate(&self, form: &mut Params) -> Option<&String> {
        let s = &self.settings;
        let flip = self.has(ClientDefect::WrongAuthMethod);
        match &s.secret {
            Some((secret, post)) if *post == flip => Some(secret),
            Some((secret, _)) => {
                form.push("client_id", s.client_id.clone());
                form.push("client_secret", secret.clone());
                None
            }
            None => {
                form.push("client_id", s.client_id.clone());
                None
            }
        }
    }

    /// A DPoP proof for `method` `url` (RFC 9449 §4.2), with the server's `nonce` and the
    /// access token's hash where they apply; `None` for a client without DPoP.
    fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<Option<String>, ClientError> {
        let Some(key) = &self.dpop else {
            return Ok(None);
        };
        let jti = if self.has(ClientDefect::DpopJtiReused) {
            "the-same-jti-for-every-proof".to_owned()
        } else {
            random_text(22)?
        };
        let iat = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = crate::jose::dpop::ProofClaims {
            htm: method,
            htu: url,
            iat,
            jti: &jti,
            access_token: access_token.filter(|_| !self.has(ClientDefect::DpopAthMissing)),
            nonce,
            lifetime: None,
        };
        crate::jose::dpop::proof(key, &claims)
            .map(Some)
            .map_err(setup)
    }

    fn openid(&self) -> bool {
        self.settings.scope.split(' ').any(|w| w == "openid")
    }

    /// The browser came back with `back` (the redirect URI's query): the login ends accepted
    /// (`Ok`) or refused. An error response is refused here; retrying is the driver's affair.
    pub(super) async fn finish(&self, begun: &Begun, back: &Params) -> Result<(), ClientError> {
        let s = &self.settings;
        if let Some(error) = back.get("error") {
            return Err(refused(format!("the server answered error={error}")));
        }
        if !self.has(ClientDefect::StateUnchecked)
            && back.get("state") != Some(begun.state.as_str())
        {
            return Err(refused(
                "state does not match the one sent (RFC 6749 §10.12)",
            ));
        }
        let iss_announced = self
            .meta
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !self.has(ClientDefect::IssUnchecked)
            && (iss_announced || back.get("iss").is_some())
            && back.get("iss") != Some(s.issuer.as_str())
        {
            return Err(refused("iss is not the issuer (RFC 9207 §2.4)"));
        }
        let code = back
            .get("code")
            .ok_or_else(|| refused("no code came back"))?;
        let tokens = self.redeem(begun, code).await?;
        let access = tokens
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| refused("no access token"))?;
        if self.openid() {
            let id_token = tokens
                .get("id_token")
                .and_then(Value::as_str)
                .ok_or_else(|| refused("no ID Token"))?;
            let jwks = get_json(&self.http, &self.endpoint("jwks_uri")?, None).await?;
            id_token_valid(id_token, &jwks, (s, &begun.nonce, access), &self.defects)?;
        }
        let tokens = match self.settings.refreshes {
            0 => tokens,
            n => self.refresh(tokens, n).await?,
        };
        let access = tokens
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| refused("no access token"))?;
        self.resource(access, &tokens).await
    }

    /// The protected resource (UserInfo) with the access token: as a bearer token, or bound
    /// (the `DPoP` scheme and a proof with its hash, RFC 9449 §7.1) when it was issued so.
    async fn resource(&self, access: &str, tokens: &Value) -> Result<(), ClientError> {
        let endpoint = self.endpoint("userinfo_endpoint")?;
        let bound = tokens.get("token_type").and_then(Value::as_str) == Some("DPoP");
        let mut req = self.http.get(&endpoint);
        match self.proof("GET", &endpoint, Some(access), None)? {
            Some(proof) if bound => {
                req = req
                    .header("authorization", format!("DPoP {access}"))
                    .header("dpop", proof);
            }
            _ => req = req.bearer_auth(access),
        }
        let resp = req.send().await.map_err(setup)?;
        if !resp.status().is_success() {
            return Err(refused(format!("{endpoint} answered {}", resp.status())));
        }
        Ok(())
    }

    /// The token request for `code`, authenticated as the client is registered (or, with the
    /// defect, the other way).
    async fn redeem(&self, begun: &Begun, code: &str) -> Result<Value, ClientError> {
        let s = &self.settings;
        let mut form = Params::new();
        form.push("grant_type", "authorization_code");
        form.push("code", code);
        let basic = self.authenticate(&mut form);
        if !self.has(ClientDefect::RedirectUriDropped) {
            form.push("redirect_uri", s.redirect_uri.clone());
        }
        if begun.method.is_some() {
            form.push("code_verifier", begun.verifier.clone());
        }
        self.token_request(&form, basic).await
    }

    /// RFC 6749 §6: `n` refreshes, each with the refresh token the one before answered (or,
    /// with the defect, always the first); returns the last answer.
    async fn refresh(&self, mut tokens: Value, n: usize) -> Result<Value, ClientError> {
        let first = tokens.get("refresh_token").cloned();
        for _ in 0..n {
            let current = if self.has(ClientDefect::RefreshTokenNotReplaced) {
                first.as_ref()
            } else {
                tokens.get("refresh_token")
            };
            let rt = current
                .and_then(Value::as_str)
                .ok_or_else(|| refused("no refresh token to refresh with"))?;
            let mut form = Params::new();
            form.push("grant_type", "refresh_token");
            form.push("refresh_token", rt);
            let basic = self.authenticate(&mut form);
            let next = self.token_request(&form, basic).await?;
            // §5.1: an answer without a new refresh token keeps the old one usable.
            let kept = tokens.get("refresh_token").cloned();
            tokens = next;
            if let (Some(o), Some(rt)) = (tokens.as_object_mut(), kept) {
                o.entry("refresh_token").or_insert(rt);
            }
        }
        Ok(tokens)
    }

    /// A request to the token endpoint with `form` (and the secret in a Basic header when
    /// given), its DPoP proof, and the nonce dance.
    async fn token_request(
        &self,
        form: &Params,
        basic: Option<&String>,
    ) -> Result<Value, ClientError> {
        let s = &self.settings;
        let endpoint = self.endpoint("token_endpoint")?;
        let mut nonce: Option<String> = None;
        // RFC 9449 §8: a server that wants its nonce says so once; the request is made again
        // with it (and a new proof).
        for _ in 0..2 {
            let mut req = self
                .http
                .post(&endpoint)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.encode());
            if let Some(secret) = basic {
                req = req.basic_auth(enc(&s.client_id), Some(enc(secret)));
            }
            if let Some(proof) = self.proof("POST", &endpoint, None, nonce.as_deref())? {
                req = req.header("dpop", proof);
            }
            let resp = req.send().await.map_err(setup)?;
            let status = resp.status();
            let offered = resp
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let tokens = json_of(resp).await?;
            let wants_nonce = tokens.get("error").and_then(Value::as_str) == Some("use_dpop_nonce");
            match offered {
                Some(n)
                    if wants_nonce
                        && nonce.is_none()
                        && !self.has(ClientDefect::DpopNonceIgnored) =>
                {
                    nonce = Some(n);
                }
                _ if status.is_success() => return Ok(tokens),
                _ => return Err(refused(format!("the token endpoint answered {status}"))),
            }
        }
        Err(refused("the token endpoint asked for a DPoP nonce twice"))
    }
}

/// RFC 6749 §2.3.1: each of client_id and secret form-encoded before the Basic encoding.
fn enc(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// The verifier, the challenge and its method (none: no PKCE), as the defects have them.
fn pkce(
    defects: &BTreeSet<ClientDefect>,
) -> Result<(String, String, Option<&'static str>), ClientError> {
    let verifier = if defects.contains(&ClientDefect::ReusedVerifier) {
        "the-same-verifier-for-every-login-0123456789".to_owned()
    } else if defects.contains(&ClientDefect::ShortVerifier) {
        random_text(CodeVerifier::MIN_LEN - 1)?
    } else if defects.contains(&ClientDefect::DigitVerifier) {
        random_digits(CodeVerifier::MIN_LEN)?
    } else {
        CodeVerifier::generate()
            .map_err(setup)?
            .expose_secret()
            .to_owned()
    };
    let digest = sha2::Sha256::digest(verifier.as_bytes());
    Ok(if defects.contains(&ClientDefect::NoPkce) {
        (verifier, String::new(), None)
    } else if defects.contains(&ClientDefect::PlainMethod) {
        (verifier.clone(), verifier, Some("plain"))
    } else if defects.contains(&ClientDefect::HexChallenge) {
        let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
        (verifier, hex, Some("S256"))
    } else {
        (verifier, crate::jose::b64(digest), Some("S256"))
    })
}

/// OpenID Connect Core §3.1.3.7: signed by the server's key, by the issuer, for this client,
/// not expired, with the nonce sent; §3.1.3.8: an `at_hash`, when there is one, is the access
/// token's.
fn id_token_valid(
    token: &str,
    jwks: &Value,
    (s, nonce, access): (&Settings, &str, &str),
    defects: &BTreeSet<ClientDefect>,
) -> Result<(), ClientError> {
    let jws = Jws::parse(token).map_err(|e| refused(format!("ID Token: {e}")))?;
    if !defects.contains(&ClientDefect::IdTokenSignatureUnchecked) {
        jws.verify(jwks, &[])
            .map_err(|e| refused(format!("ID Token signature: {e}")))?;
    }
    if defects.contains(&ClientDefect::IdTokenClaimsUnchecked) {
        return Ok(());
    }
    let claim = |name: &str| jws.claims.get(name);
    if claim("iss").and_then(Value::as_str) != Some(s.issuer.as_str()) {
        return Err(refused("ID Token iss is not the issuer"));
    }
    if !jws.audiences().contains(&s.client_id.as_str()) {
        return Err(refused("ID Token aud is not this client"));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if claim("exp")
        .and_then(Value::as_u64)
        .is_none_or(|exp| exp + 60 < now)
    {
        return Err(refused("ID Token expired"));
    }
    if claim("nonce").and_then(Value::as_str) != Some(nonce) {
        return Err(refused("ID Token nonce is not the one sent"));
    }
    // An alg without a hash (`none`) is the signature check's to refuse.
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    let hashed = alg
        .parse::<Algorithm>()
        .ok()
        .map(|alg| crate::jose::half_hash(alg, access));
    match claim("at_hash").and_then(Value::as_str) {
        Some(at_hash)
            if !defects.contains(&ClientDefect::AtHashUnchecked)
                && hashed.is_some_and(|h| h != at_hash) =>
        {
            Err(refused("ID Token at_hash is not the access token's"))
        }
        _ => Ok(()),
    }
}

/// `n` characters of the unreserved alphabet, from the operating system's randomness.
pub(super) fn random_text(n: usize) -> Result<String, ClientError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(setup)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// `n` decimal digits, from the operating system's randomness (the digit-verifier defect).
fn random_digits(n: usize) -> Result<String, ClientError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(setup)?;
    Ok(bytes.iter().map(|b| char::from(b'0' + b % 10)).collect())
}

/// An HTTP client that follows no redirects; it talks to the harness's loopback server only,
/// over plain HTTP, so it trusts no certificate at all.
fn http() -> Result<reqwest::Client, ClientError> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(setup)
}

async fn get_json(
    http: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
) -> Result<Value, ClientError> {
    let mut req = http.get(url);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.map_err(setup)?;
    if !resp.status().is_success() {
        return Err(refused(format!("{url} answered {}", resp.status())));
    }
    json_of(resp).await
}

async fn json_of(resp: reqwest::Response) -> Result<Value, ClientError> {
    let bytes = resp.bytes().await.map_err(setup)?;
    serde_json::from_slice(&bytes).map_err(|e| refused(format!("not JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pkce_defect_changes_what_is_sent() {
        let correct = pkce(&BTreeSet::new()).expect("pkce");
        assert_eq!(correct.2, Some("S256"));
        assert_eq!(correct.1, crate::pkce::s256_of_text(&correct.0));
        let of = |d| pkce(&BTreeSet::from([d])).expect("pkce");
        assert_eq!(of(ClientDefect::NoPkce).2, None);
        assert_eq!(of(ClientDefect::PlainMethod).2, Some("plain"));
        assert_eq!(of(ClientDefect::ShortVerifier).0.len(), 42);
        assert_eq!(of(ClientDefect::HexChallenge).1.len(), 64);
        assert_eq!(
            of(ClientDefect::ReusedVerifier).0,
            of(ClientDefect::ReusedVerifier).0
        );
    }
}
