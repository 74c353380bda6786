//! Client authentication of a back-channel request (RFC 6749 §2.3, RFC 7523): Basic, form
//! secrets, signed client assertions and the flaws a scenario asks of them.

use base64::Engine as _;

use crate::outcome::Fault;
use crate::params::Params;
use crate::scenario::model::AuthSpec;
use crate::target::{AuthMethod, ClientConfig};
use crate::wire::Request;

/// HTTP Basic credentials as RFC 6749 §2.3.1 builds them: id and secret form-encoded first.
pub fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

/// RFC 7521 §4.2: the `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What is wrong with a client assertion on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    /// Nothing: the assertion a correct client sends.
    None,
    /// `exp` five minutes ago.
    Expired,
    /// Signed with a key the server does not know (HMAC: a wrong secret).
    OtherKey,
    /// `alg: none`.
    Unsigned,
    /// `aud` another server's token endpoint.
    OtherAudience,
    /// `iss` another party than the client (`sub` still the client).
    OtherIssuer,
    /// No `sub` (`iss` still the client, and the request's `client_id` names it).
    NoSubject,
    /// `iat` a year ago, `exp` still a minute ahead: only its age is wrong.
    IssuedLongAgo,
    /// `nbf` ten minutes ahead.
    NotYetValid,
    /// `iat` and `nbf` eight seconds ahead, `exp` a minute after: a clock a little fast.
    DatedAhead,
    /// `aud` an array holding the audience given.
    AudienceArray,
    /// `aud` the PAR endpoint: the caller passes it as the audience.
    ParEndpointAudience,
    /// `aud` this server's token endpoint where the issuer is asked for (FAPI 2.0): the caller
    /// passes the token endpoint as the audience.
    TokenEndpointAudience,
    /// Signed with RS256 by the client's RSA key.
    Rs256,
    /// `aud` the issuer whatever the profile: the caller passes it as the audience.
    IssuerAudience,
}

impl Flaw {
    /// The flaw a step's authentication asks for.
    pub fn of(auth: AuthSpec) -> Self {
        match auth {
            AuthSpec::ExpiredAssertion => Self::Expired,
            AuthSpec::AssertionOtherKey | AuthSpec::WrongSecret => Self::OtherKey,
            AuthSpec::UnsignedAssertion => Self::Unsigned,
            AuthSpec::AssertionOtherAudience => Self::OtherAudience,
            AuthSpec::AssertionOtherIssuer => Self::OtherIssuer,
            AuthSpec::AssertionWithoutSubject => Self::NoSubject,
            AuthSpec::AssertionIssuedLongAgo => Self::IssuedLongAgo,
            AuthSpec::AssertionNotYetValid => Self::NotYetValid,
            AuthSpec::AssertionDatedAhead => Self::DatedAhead,
            AuthSpec::AssertionAudienceArray => Self::AudienceArray,
            AuthSpec::AssertionParEndpointAudience => Self::ParEndpointAudience,
            AuthSpec::AssertionTokenEndpointAudience => Self::TokenEndpointAudience,
            AuthSpec::AssertionRs256 => Self::Rs256,
            AuthSpec::AssertionIssuerAudience => Self::IssuerAudience,
            _ => Self::None,
        }
    }
}

/// A client assertion (RFC 7523 §3, OpenID Connect Core §9): `iss` and `sub` the client_id,
/// `aud` the `audience` given (the token endpoint, or the issuer), a fresh `jti`, issued `now`
/// and valid for 60 seconds, signed with the client's key, or flawed as asked.
pub fn assertion(
    client: &ClientConfig,
    audience: &str,
    now: u64,
    jti: &str,
    flaw: Flaw,
) -> Result<String, Fault> {
    let (iat, exp) = match flaw {
        Flaw::Expired => (now.saturating_sub(600), now.saturating_sub(300)),
        Flaw::IssuedLongAgo => (now.saturating_sub(YEAR), now + 60),
        Flaw::DatedAhead => (now + crate::jose::AHEAD, now + crate::jose::AHEAD + 60),
        _ => (now, now + 60),
    };
    let aud = match flaw {
        Flaw::OtherAudience => serde_json::json!(OTHER_AUDIENCE),
        Flaw::AudienceArray => serde_json::json!([audience]),
        _ => serde_json::json!(audience),
    };
    let id = &client.client_id.0;
    let iss = match flaw {
        Flaw::OtherIssuer => OTHER_ISSUER,
        _ => id.as_str(),
    };
    let mut claims = serde_json::json!({
        "iss": iss, "sub": id, "aud": aud, "jti": jti, "iat": iat, "exp": exp,
    });
    if let Some(o) = claims.as_object_mut() {
        match flaw {
            Flaw::NotYetValid => {
                // Valid from ten minutes ahead, for twenty: only `nbf` is wrong.
                o.insert("nbf".into(), serde_json::json!(now + 600));
                o.insert("exp".into(), serde_json::json!(now + 1200));
            }
            Flaw::NoSubject => {
                o.remove("sub");
            }
            Flaw::DatedAhead => {
                o.insert("nbf".into(), serde_json::json!(now + crate::jose::AHEAD));
            }
            _ => {}
        }
    }
    let key = match flaw {
        Flaw::Unsigned => ClientKey::Unsigned,
        Flaw::OtherKey => ClientKey::Other,
        Flaw::Rs256 => ClientKey::OwnRs256,
        _ => ClientKey::Own,
    };
    sign_as_client(client, &claims, key, "client assertion")
}

/// A year in seconds: an `iat` this old is "unreasonably far in the past" (RFC 7523 §3 item 6)
/// by any server's measure.
const YEAR: u64 = 365 * 24 * 3600;

/// The audience of a JWT made out to another server.
pub const OTHER_AUDIENCE: &str = "https://other-server.example/token";

/// The issuer of a client assertion made by someone other than the client.
pub const OTHER_ISSUER: &str = "pkce-harness-another-party";

/// Which key signs a JWT a client makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKey {
    /// The client's own (the registered one).
    Own,
    /// A key the server does not know: a fresh one of the same kind under the registered
    /// key's `kid`, so the server finds the client's key and the signature alone is wrong (for
    /// HMAC clients, a wrong secret).
    Other,
    /// None: `alg: none`.
    Unsigned,
    /// The client's own, an RSA key, with RS256 whatever algorithm the client signs with.
    OwnRs256,
}

/// `claims` signed as `client` (a client assertion, a request object) with the key `key` says.
/// `what` names the JWT in a fault.
pub fn sign_as_client(
    client: &ClientConfig,
    claims: &serde_json::Value,
    key: ClientKey,
    what: &str,
) -> Result<String, Fault> {
    // Looked up where a key signs: an unsigned JWT needs none, so a client without one can
    // send it.
    let own = || {
        client.signing_key.as_ref().ok_or_else(|| {
            Fault::config(format!(
                "client {} has no key to sign a {what} with (auth_method {})",
                client.client_id.0,
                client.auth_method.as_str()
            ))
        })
    };
    let signed = |key: &crate::jose::SigningKey,
                  extra: serde_json::Map<String, serde_json::Value>| {
        key.sign(claims, &extra)
            .map_err(|e| Fault::harness(format!("signing the {what}: {e}")))
    };
    match key {
        ClientKey::Unsigned => Ok(crate::jose::jws::unsigned(claims)),
        ClientKey::Other if client.auth_method == AuthMethod::ClientSecretJwt => {
            let wrong = format!(
                "{}-wrong",
                client.client_secret.as_ref().map_or("", |s| s.0.expose())
            );
            let other = crate::jose::SigningKey::hmac(wrong.as_bytes(), Some(own()?.alg()))
                .map_err(|e| Fault::harness(e.to_string()))?;
            signed(&other, serde_json::Map::new())
        }
        ClientKey::Other => {
            let own = own()?;
            let alg = match own.alg() {
                a @ (crate::jose::Algorithm::ES256 | crate::jose::Algorithm::EdDSA) => a,
                _ => crate::jose::Algorithm::ES256,
            };
            let (other, _) = crate::jose::SigningKey::generate(alg)
                .map_err(|e| Fault::harness(e.to_string()))?;
            let mut extra = serde_json::Map::new();
            if let Some(kid) = own.kid() {
                extra.insert("kid".into(), kid.into());
            }
            signed(&other, extra)
        }
        ClientKey::Own => signed(own()?, serde_json::Map::new()),
        ClientKey::OwnRs256 => own()?
            .sign_as(
                crate::jose::Algorithm::RS256,
                claims,
                &serde_json::Map::new(),
            )
            .map_err(|e| Fault::config(format!("signing the {what} with RS256: {e}"))),
    }
}

/// A self-signed client certificate no server has registered (compiled in, not secret): what an
/// mTLS client presenting the wrong certificate sends (RFC 8705 §2).
pub fn stranger_identity() -> Result<std::sync::Arc<crate::wire::ClientIdentity>, Fault> {
    const CERT: &str = include_str!("stranger/stranger.pem");
    const KEY: &str = include_str!("stranger/stranger.key");
    let thumbprint = crate::jose::x5t_s256(CERT)
        .map_err(|e| Fault::harness(format!("the stranger certificate: {e}")))?;
    Ok(std::sync::Arc::new(crate::wire::ClientIdentity::new(
        CERT.to_owned(),
        KEY.to_owned(),
        thumbprint,
    )))
}

/// Adds client authentication to a token-endpoint request: the configured method, or the one
/// the scenario forces (also the wrong ones). `assertion` is the client assertion to send when
/// the client authenticates with one (the caller signs it: it needs the clock and a fresh `jti`).
pub fn authenticate(
    req: &mut Request,
    params: &mut Params,
    client: &ClientConfig,
    auth: AuthSpec,
    assertion: Option<String>,
) -> Result<(), Fault> {
    let secret = || {
        client
            .client_secret
            .as_ref()
            .map(|s| s.0.expose().to_owned())
            .ok_or_else(|| {
                Fault::config(format!(
                    "auth {auth:?} needs a client secret, and client {} has none",
                    client.client_id.0
                ))
            })
    };
    let id = client.client_id.0.clone();
    if auth.is_certificate_attack() && !client.auth_method.is_mtls() {
        return Err(Fault::config(format!(
            "auth {auth:?} needs a client that authenticates with its TLS certificate, and client {id} uses {}",
            client.auth_method.as_str()
        )));
    }
    let mtls = client.auth_method.is_mtls();
    if mtls {
        // RFC 8705 §2: the certificate authenticates, the body names the client. Wrong
        // credentials are another certificate; none (client_id only, nothing) is none.
        req.identity = match auth {
            AuthSpec::Default => client.tls_identity.clone(),
            AuthSpec::WrongSecret | AuthSpec::OtherCertificate => Some(stranger_identity()?),
            _ => None,
        };
    }
    let uses_assertion = client.uses_assertion();
    if auth.is_assertion_attack() && !uses_assertion {
        return Err(Fault::config(format!(
            "auth {auth:?} needs a client that authenticates with a JWT assertion, and client {id} uses {}",
            client.auth_method.as_str()
        )));
    }
    if (uses_assertion && matches!(auth, AuthSpec::Default | AuthSpec::WrongSecret))
        || auth.is_assertion_attack()
    {
        let assertion = assertion.ok_or_else(|| {
            Fault::harness("a JWT client's request was built without its assertion")
        })?;
        params.push("client_id", id);
        params.push("client_assertion_type", JWT_BEARER);
        params.push("client_assertion", assertion);
        return Ok(());
    }
    let configured = match client.auth_method {
        AuthMethod::None | AuthMethod::TlsClientAuth | AuthMethod::SelfSignedTlsClientAuth => {
            AuthSpec::ClientIdOnly
        }
        AuthMethod::ClientSecretBasic => AuthSpec::Basic,
        AuthMethod::ClientSecretPost | AuthMethod::ClientSecretJwt | AuthMethod::PrivateKeyJwt => {
            AuthSpec::Post
        }
    };
    let effective = if auth == AuthSpec::Default {
        configured
    } else {
        auth
    };
    let header = |v: String| ("Authorization".to_owned(), v);
    match effective {
        AuthSpec::Default
        | AuthSpec::ClientIdOnly
        | AuthSpec::OtherCertificate
        | AuthSpec::NoCertificate => params.push("client_id", id),
        AuthSpec::Basic => req.headers.push(header(basic(&id, &secret()?))),
        AuthSpec::Post => {
            params.push("client_id", id);
            params.push("client_secret", secret()?);
        }
        AuthSpec::Omit => {}
        AuthSpec::WrongSecret if mtls => params.push("client_id", id),
        AuthSpec::Both => {
            let s = secret()?;
            req.headers.push(header(basic(&id, &s)));
            params.push("client_secret", s);
        }
        AuthSpec::WrongSecret => {
            let wrong = format!("{}-wrong", secret()?);
            if configured == AuthSpec::Post {
                params.push("client_id", id);
                params.push("client_secret", wrong);
            } else {
                req.headers.push(header(basic(&id, &wrong)));
            }
        }
        AuthSpec::Query => {
            let s = secret()?;
            req.url
                .query_pairs_mut()
                .append_pair("client_id", &id)
                .append_pair("client_secret", &s);
        }
        // Handled above: an assertion attack on a client without assertions is refused.
        AuthSpec::ExpiredAssertion
        | AuthSpec::AssertionOtherIssuer
        | AuthSpec::AssertionWithoutSubject
        | AuthSpec::AssertionIssuedLongAgo
        | AuthSpec::AssertionNotYetValid
        | AuthSpec::AssertionDatedAhead
        | AuthSpec::AssertionAudienceArray
        | AuthSpec::AssertionParEndpointAudience
        | AuthSpec::AssertionOtherKey
        | AuthSpec::UnsignedAssertion
        | AuthSpec::AssertionOtherAudience
        | AuthSpec::AssertionTokenEndpointAudience
        | AuthSpec::AssertionRs256
        | AuthSpec::AssertionIssuerAudience
        | AuthSpec::ReplayedAssertion => {}
    }
    Ok(())
}
