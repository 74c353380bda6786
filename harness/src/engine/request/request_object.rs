//! JWT-secured authorization requests (RFC 9101): the authorization request's parameters as the
//! claims of a request object signed by the client, flawed as a scenario asks, and what travels
//! beside it.

use serde_json::{Map, Value};

use super::client_auth::{ClientKey, OTHER_AUDIENCE, sign_as_client};
use crate::outcome::Fault;
use crate::params::Params;
use crate::scenario::model::RequestObjectSpec;
use crate::target::ClientConfig;

/// How long a correct request object is valid: five minutes, well inside FAPI 2.0 Message
/// Signing's sixty.
const LIFETIME: u64 = 300;

/// The lifetime of [`RequestObjectSpec::LongLifetime`]: ten minutes over FAPI's sixty.
const LONG_LIFETIME: u64 = 70 * 60;

/// The request object carrying `params` (RFC 9101 §4): each parameter a claim (a repeated one
/// keeps its first value: a JSON object has one member per name), `iss` and `client_id` the
/// client's, `aud` the issuer, a fresh `jti`, `iat` and `nbf` `now`; signed with the client's
/// key, or flawed as `spec` says. `other_client` is the `client_id` of
/// [`RequestObjectSpec::OtherClientId`].
pub fn request_object(
    client: &ClientConfig,
    issuer: &str,
    params: &Params,
    spec: RequestObjectSpec,
    now: u64,
    jti: &str,
    other_client: &str,
) -> Result<String, Fault> {
    let mut claims = Map::new();
    for (name, value) in params.iter() {
        claims
            .entry(name.to_owned())
            .or_insert_with(|| Value::String(value.to_owned()));
    }
    let id = client.client_id.0.as_str();
    let client_id = match spec {
        RequestObjectSpec::OtherClientId => other_client,
        _ => id,
    };
    let aud = match spec {
        RequestObjectSpec::OtherAudience => Value::from(OTHER_AUDIENCE),
        RequestObjectSpec::AudienceArray => Value::from(vec![issuer, OTHER_AUDIENCE]),
        _ => Value::from(issuer),
    };
    let (nbf, exp) = match spec {
        RequestObjectSpec::Expired => (now.saturating_sub(600), now.saturating_sub(300)),
        RequestObjectSpec::LongLifetime => (now, now + LONG_LIFETIME),
        RequestObjectSpec::OldNbf => (now.saturating_sub(61 * 60), now + LIFETIME),
        RequestObjectSpec::DatedAhead => (
            now + crate::jose::AHEAD,
            now + crate::jose::AHEAD + LIFETIME,
        ),
        _ => (now, now + LIFETIME),
    };
    for (name, value) in [
        ("iss", Value::from(id)),
        ("client_id", Value::from(client_id)),
        ("aud", aud),
        ("jti", Value::from(jti)),
        ("iat", Value::from(nbf)),
        ("nbf", Value::from(nbf)),
        ("exp", Value::from(exp)),
    ] {
        claims.insert(name.to_owned(), value);
    }
    match spec {
        RequestObjectSpec::WithoutNbf => claims.remove("nbf"),
        RequestObjectSpec::WithoutExp => claims.remove("exp"),
        _ => None,
    };
    let key = match spec {
        RequestObjectSpec::Unsigned => ClientKey::Unsigned,
        RequestObjectSpec::OtherKey => ClientKey::Other,
        RequestObjectSpec::Rs256 => ClientKey::OwnRs256,
        _ => ClientKey::Own,
    };
    sign_as_client(client, &Value::Object(claims), key, "request object")
}

/// The request object a step sends, `None` for plain parameters: `Auto` is a signed one where
/// the target sends them (`request_object: true`) and the client has a key to sign with.
pub fn request_object_spec(
    spec: RequestObjectSpec,
    target_sends: bool,
    client: &ClientConfig,
) -> Option<RequestObjectSpec> {
    match spec {
        RequestObjectSpec::Auto if target_sends && client.signing_key.is_some() => {
            Some(RequestObjectSpec::Signed)
        }
        RequestObjectSpec::Auto | RequestObjectSpec::None => None,
        other => Some(other),
    }
}

/// What travels beside a request object (RFC 9101 §5): `client_id` and `request`. The
/// parameters themselves are in the object only; a scenario's `front_params` add others.
pub fn beside_request_object(client: &ClientConfig, object: String) -> Params {
    let mut params = Params::new();
    params.push("client_id", client.client_id.0.clone());
    params.push("request", object);
    params
}

/// What travels beside a request object by reference (OpenID Connect Core §6.2): `client_id`
/// and `request_uri`, the URL the server fetches it from.
pub fn beside_request_uri(client: &ClientConfig, uri: &str) -> Params {
    let mut params = Params::new();
    params.push("client_id", client.client_id.0.clone());
    params.push("request_uri", uri);
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::{Algorithm, SigningKey, jws::Jws};
    use crate::target::parse_target;

    fn client() -> (ClientConfig, Value) {
        let (_, pem) = SigningKey::generate(Algorithm::ES256).expect("key");
        let text = format!(
            "format: 1\nissuer: \"https://as.example\"\nendpoints: {{authorization: \"https://as.example/a\", token: \"https://as.example/t\"}}\nclients:\n  public: {{client_id: p, redirect_uri: \"http://127.0.0.1:9/cb\"}}\n  confidential:\n    client_id: c\n    auth_method: private_key_jwt\n    redirect_uri: \"https://c.example/cb\"\n    private_key: |\n{}\nlogin: {{auto: {{}}}}\n",
            pem.lines()
                .map(|l| format!("      {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let file = parse_target("t.yaml", &text).expect("valid");
        let c = file.clients.as_ref().expect("clients").confidential.clone();
        let jwk = c
            .signing_key
            .as_ref()
            .and_then(|k| k.public_jwk())
            .expect("jwk");
        (c, serde_json::json!({ "keys": [jwk] }))
    }

    fn claims(token: &str) -> Value {
        let body = token.split('.').nth(1).expect("claims part");
        serde_json::from_slice(&crate::jose::unb64(body).expect("base64")).expect("json")
    }

    #[test]
    fn a_correct_object_carries_every_parameter_and_verifies_with_the_clients_key() {
        let (c, jwks) = client();
        let params = Params::parse("response_type=code&client_id=c&state=s&state=t&scope=openid");
        let token = request_object(
            &c,
            "https://as.example",
            &params,
            RequestObjectSpec::Signed,
            1_000,
            "j1",
            "other",
        )
        .expect("signed");
        let jws = Jws::parse(&token).expect("parses");
        assert!(
            jws.verify(&jwks, b"").is_ok(),
            "verifies with the client's key"
        );
        let c = claims(&token);
        assert_eq!(c["response_type"], "code");
        assert_eq!(
            c["state"], "s",
            "a repeated parameter keeps its first value"
        );
        assert_eq!(c["iss"], "c");
        assert_eq!(c["client_id"], "c");
        assert_eq!(c["aud"], "https://as.example");
        assert_eq!(c["exp"], 1_300);
        assert_eq!(c["nbf"], 1_000);
    }

    #[test]
    fn each_flaw_changes_only_what_it_names() {
        let (c, jwks) = client();
        let params = Params::parse("response_type=code&client_id=c");
        let make = |spec| {
            request_object(&c, "https://as.example", &params, spec, 10_000, "j", "c2")
                .expect("made")
        };
        let verifies = |t: &str| Jws::parse(t).expect("parses").verify(&jwks, b"").is_ok();
        assert!(!verifies(&make(RequestObjectSpec::OtherKey)));
        assert!(!verifies(&make(RequestObjectSpec::Unsigned)));
        let expired = make(RequestObjectSpec::Expired);
        assert!(verifies(&expired));
        assert!(claims(&expired)["exp"].as_u64() < Some(10_000));
        let long = claims(&make(RequestObjectSpec::LongLifetime));
        assert_eq!(
            long["exp"]
                .as_u64()
                .zip(long["nbf"].as_u64())
                .map(|(e, n)| e - n),
            Some(4_200)
        );
        assert_eq!(
            claims(&make(RequestObjectSpec::OtherAudience))["aud"],
            OTHER_AUDIENCE
        );
        let other = claims(&make(RequestObjectSpec::OtherClientId));
        assert_eq!(
            (&other["client_id"], &other["iss"]),
            (&Value::from("c2"), &Value::from("c"))
        );
    }
}
