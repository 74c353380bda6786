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
use crate::jose::Jws;
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
        })
    }
}

/// The client: its settings, the server's metadata, its defects.
pub(super) struct Client {
    pub(super) settings: Settings,
    pub(super) meta: Value,
    pub(super) defects: BTreeSet<ClientDefect>,
    http: reqwest::Client,
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
        Ok(Self {
            settings,
            meta,
            defects,
            http,
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

    /// A new login: fresh PKCE, state and nonce, and the authorization URL carrying them.
    pub(super) fn begin(&self) -> Result<Begun, ClientError> {
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
        Ok(Begun {
            url,
            verifier,
            method,
            state,
            nonce,
        })
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
        get_json(
            &self.http,
            &self.endpoint("userinfo_endpoint")?,
            Some(access),
        )
        .await?;
        Ok(())
    }

    /// The token request for `code`, authenticated as the client is registered (or, with the
    /// defect, the other way).
    async fn redeem(&self, begun: &Begun, code: &str) -> Result<Value, ClientError> {
        let s = &self.settings;
        // The form is built apart: its serializer may not be held across an await.
        let (body, basic) = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code);
            let flip = self.has(ClientDefect::WrongAuthMethod);
            let basic = match &s.secret {
                Some((secret, post)) if *post == flip => Some(secret),
                Some((secret, _)) => {
                    form.append_pair("client_id", &s.client_id)
                        .append_pair("client_secret", secret);
                    None
                }
                None => {
                    form.append_pair("client_id", &s.client_id);
                    None
                }
            };
            if !self.has(ClientDefect::RedirectUriDropped) {
                form.append_pair("redirect_uri", &s.redirect_uri);
            }
            if begun.method.is_some() {
                form.append_pair("code_verifier", &begun.verifier);
            }
            (form.finish(), basic)
        };
        let mut req = self
            .http
            .post(self.endpoint("token_endpoint")?)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(secret) = basic {
            // RFC 6749 §2.3.1: each form-encoded before the Basic encoding.
            let enc =
                |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
            req = req.basic_auth(enc(&s.client_id), Some(enc(secret)));
        }
        let resp = req.send().await.map_err(setup)?;
        let status = resp.status();
        let tokens = json_of(resp).await?;
        if !status.is_success() {
            return Err(refused(format!("the token endpoint answered {status}")));
        }
        Ok(tokens)
    }
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
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    match claim("at_hash").and_then(Value::as_str) {
        Some(at_hash)
            if !defects.contains(&ClientDefect::AtHashUnchecked)
                && half_hash(alg, access).is_some_and(|h| h != at_hash) =>
        {
            Err(refused("ID Token at_hash is not the access token's"))
        }
        _ => Ok(()),
    }
}

/// OpenID Connect Core §3.2.2.9: the left half of the hash the `alg` uses, base64url; `None`
/// for an alg without one (`none`, which the signature check refuses).
fn half_hash(alg: &str, value: &str) -> Option<String> {
    let digest: Vec<u8> = match alg.get(2..) {
        Some("256") => sha2::Sha256::digest(value.as_bytes()).to_vec(),
        Some("384") => sha2::Sha384::digest(value.as_bytes()).to_vec(),
        Some("512") => sha2::Sha512::digest(value.as_bytes()).to_vec(),
        _ => return None,
    };
    Some(crate::jose::b64(&digest[..digest.len() / 2]))
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
