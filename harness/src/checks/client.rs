//! Judges of OAuth clients (client mode): whether a client met a client scenario's
//! expectations, from what reached the harness's server during each login and how the login
//! ended. Pure, like every judge: the server records, the client runner drives.

use crate::outcome::{Fault, Halt, Unmet};
use crate::pkce::{CodeVerifier, s256_of_text};
use crate::scenario::client::{ClientExpect, LoginEnd};
use crate::seen::Seen;
use crate::target::AuthMethod;

/// One login of the client under test.
#[derive(Debug, Clone)]
pub struct Login {
    /// What the client sent to the server during it, in order.
    pub seen: Vec<Seen>,
    /// How it ended, as the client says.
    pub end: LoginEnd,
}

impl Login {
    /// The authorization requests, as the server took them: a pushed one (RFC 9126) is the
    /// request, and the front-channel one that carries its `request_uri` only points at it.
    fn authorizations(&self) -> impl Iterator<Item = &Seen> {
        self.seen
            .iter()
            .filter(|s| s.is_push() || (s.is_authorize() && s.params.get("request_uri").is_none()))
    }

    /// Whether every authorization request of the login (a pushed one's included) carries
    /// the parameter `name` (`state`, `nonce`), not empty.
    pub fn sends(&self, name: &str) -> bool {
        self.authorizations()
            .all(|a| a.params.get(name).is_some_and(|v| !v.is_empty()))
    }

    /// What went through the browser to the authorization endpoint.
    fn front_channel(&self) -> impl Iterator<Item = &Seen> {
        self.seen.iter().filter(|s| s.is_authorize())
    }

    fn redemptions(&self) -> impl Iterator<Item = &Seen> {
        self.seen
            .iter()
            .filter(|s| s.is_token() && s.params.get("grant_type") == Some("authorization_code"))
    }
}

fn unmet(check: &str, expected: impl Into<String>, got: impl Into<String>) -> Halt {
    Unmet::Client {
        check: check.to_owned(),
        expected: expected.into(),
        got: got.into(),
    }
    .into()
}

/// Whether `expect` wants the client to refuse something: then the refusal proves something only
/// if the same client completes a correct login (see [`control`]).
pub fn expects_refusal(expect: &ClientExpect) -> bool {
    expect.login == Some(LoginEnd::Refused) || expect.not_redeemed || expect.no_resource_call
}

/// The control login, on a server that does not misbehave: the client must accept it, having
/// redeemed its code, or its refusals prove nothing (`error`).
pub fn control(login: &Login) -> Result<(), Halt> {
    let redeemed = login.redemptions().next().is_some();
    if login.end == LoginEnd::Accepted && redeemed {
        return Ok(());
    }
    Err(Fault::precondition(format!(
        "the client does not complete even a correct login ({}; {}), so its refusal here proves nothing",
        ended(login.end),
        if redeemed { "it redeemed the code" } else { "it redeemed no code" }
    ))
    .into())
}

/// Judges `logins` of a client registered with `registered` against `expect`. A login in
/// which the client sent no authorization request, or a check of verifiers where it redeemed
/// nothing, cannot be judged: `error`.
pub fn judge(expect: &ClientExpect, registered: AuthMethod, logins: &[Login]) -> Result<(), Halt> {
    // The proofs first: a client whose bad proof the server refused also ends its login
    // refused, and the proof says why.
    if expect.dpop_proofs {
        dpop(logins)?;
    }
    for (i, login) in logins.iter().enumerate() {
        let n = i + 1;
        if login.front_channel().next().is_none() {
            return Err(Fault::precondition(format!(
                "login {n}: the client sent no authorization request to the harness's server"
            ))
            .into());
        }
        if expect.s256 {
            s256(n, login)?;
        }
        if expect.verifier_valid {
            verifiers(n, login)?;
        }
        if expect.redirect_uri_repeated {
            redirect_uri(n, login)?;
        }
        if expect.authenticates_as_registered {
            authentication(n, login, registered)?;
        }
        if expect.pushed {
            pushed(n, login)?;
        }
        if expect.refresh_rotated {
            rotated(n, login)?;
        }
        let asked = login.authorizations().count();
        if expect.one_authorization && asked > 1 {
            return Err(unmet(
                "authorization request",
                "one authorization request per login: an error answer ends it",
                format!(
                    "login {n}: {asked} authorization requests, the client starting again on its own"
                ),
            ));
        }
        if expect.not_redeemed && login.redemptions().next().is_some() {
            return Err(unmet(
                "code",
                "the code left unredeemed",
                format!("login {n}: redeemed at the token endpoint"),
            ));
        }
        if expect.no_resource_call && login.seen.iter().any(Seen::is_resource) {
            return Err(unmet(
                "resource",
                "no call to the protected resource",
                format!("login {n}: the client called UserInfo with the token"),
            ));
        }
        // What was sent is judged first: a login refused for a reason of its own says less.
        if let Some(end) = expect.login
            && login.end != end
        {
            return Err(unmet(
                "login",
                format!("the login {}", ended(end)),
                format!("login {n} {}", ended(login.end)),
            ));
        }
    }
    if expect.fresh_verifiers {
        fresh(logins)?;
    }

    if expect.verifier_entropy {
        entropy(logins)?;
    }
    Ok(())
}

/// The bits RFC 7636 §7.1 recommends (a 32-octet random sequence), less a margin for the
/// estimate itself: 43 characters over the 62 letters and digits estimate 256.03.
pub const VERIFIER_BITS: f64 = 250.0;

/// RFC 7636 §4.1, §7.1: the verifiers, as a sample, estimate at least [`VERIFIER_BITS`].
fn entropy(logins: &[Login]) -> Result<(), Halt> {
    let verifiers: Vec<&str> = logins
        .iter()
        .flat_map(Login::redemptions)
        .filter_map(|t| t.params.get("code_verifier"))
        .collect();
    if verifiers.len() < logins.len() {
        return Err(Fault::precondition(format!(
            "only {} of {} logins redeemed a code with a verifier: too few to judge as a sample",
            verifiers.len(),
            logins.len()
        ))
        .into());
    }
    let e = super::Estimate::of(&verifiers);
    if e.bits < VERIFIER_BITS {
        return Err(unmet(
            "code_verifier",
            format!(
                "about 256 bits of randomness (at least {VERIFIER_BITS:.0} estimated; RFC 7636 §7.1)"
            ),
            format!(
                "an estimated {:.0} bits ({} varying characters over an alphabet of {}, the smallest usual one holding what {} verifiers show, shared prefix {})",
                e.bits,
                e.varying,
                e.alphabet,
                verifiers.len(),
                e.prefix
            ),
        ));
    }
    Ok(())
}

fn ended(end: LoginEnd) -> &'static str {
    match end {
        LoginEnd::Accepted => "accepted by the client (exit status 0, or the app's success page)",
        LoginEnd::Refused => "refused by the client (another exit status, or another page)",
    }
}

/// RFC 7636 §4.2, §4.3: a challenge on every request, with `S256`.
fn s256(n: usize, login: &Login) -> Result<(), Halt> {
    for a in login.authorizations() {
        let got = match (
            a.params.get("code_challenge"),
            a.params.get("code_challenge_method"),
        ) {
            (None | Some(""), _) => "no code_challenge".to_owned(),
            (Some(_), Some("S256")) => continue,
            (Some(_), None) => "a code_challenge without a method (plain, RFC 7636 §4.3)".into(),
            (Some(_), Some(m)) => format!("code_challenge_method={m}"),
        };
        return Err(unmet(
            "code_challenge",
            "a code_challenge with method S256 on every authorization request",
            format!("login {n}: {got}"),
        ));
    }
    Ok(())
}

/// RFC 7636 §4.1, §4.5: each redemption's verifier has the grammar and hashes to the challenge
/// of the request that got the code; §1: no verifier on the front channel.
fn verifiers(n: usize, login: &Login) -> Result<(), Halt> {
    let challenge = login
        .authorizations()
        .last()
        .and_then(|a| a.params.get("code_challenge"))
        .unwrap_or_default();
    let mut redeemed = false;
    for t in login.redemptions() {
        redeemed = true;
        let Some(verifier) = t.params.get("code_verifier") else {
            return Err(unmet(
                "code_verifier",
                "a code_verifier in the token request",
                format!("login {n}: none"),
            ));
        };
        if let Err(e) = CodeVerifier::parse(verifier) {
            return Err(unmet(
                "code_verifier",
                "43 to 128 unreserved characters (RFC 7636 §4.1)",
                format!("login {n}: {} characters, {e}", verifier.chars().count()),
            ));
        }
        let method = login
            .authorizations()
            .last()
            .and_then(|a| a.params.get("code_challenge_method"))
            .unwrap_or("plain");
        let derived = if method == "S256" {
            s256_of_text(verifier)
        } else {
            verifier.to_owned()
        };
        if derived != challenge {
            return Err(unmet(
                "code_challenge",
                format!("the {method} of the verifier as the challenge (RFC 7636 §4.2)"),
                format!(
                    "login {n}: a challenge of {} characters that is not it",
                    challenge.chars().count()
                ),
            ));
        }
        let on_front = login
            .front_channel()
            .any(|a| a.params.iter().any(|(_, v)| v == verifier));
        if on_front {
            return Err(unmet(
                "code_verifier",
                "the verifier only at the token endpoint (RFC 7636 §1: the front channel carries its hash)",
                format!("login {n}: the verifier was in the authorization request too"),
            ));
        }
    }
    if !redeemed {
        return Err(Fault::precondition(format!(
            "login {n}: the client redeemed no code, so it sent no verifier to judge"
        ))
        .into());
    }
    Ok(())
}

/// RFC 6749 §4.1.3: the token request carries the authorization request's `redirect_uri`,
/// identical. A login whose client redeemed nothing cannot be judged.
fn redirect_uri(n: usize, login: &Login) -> Result<(), Halt> {
    let sent = login
        .authorizations()
        .last()
        .and_then(|a| a.params.get("redirect_uri"));
    let mut redeemed = false;
    for t in login.redemptions() {
        redeemed = true;
        let repeated = t.params.get("redirect_uri");
        if sent.is_some() && repeated != sent {
            return Err(unmet(
                "redirect_uri",
                "the authorization request's redirect_uri, identical, in the token request",
                format!(
                    "login {n}: {}",
                    repeated.map_or_else(|| "none".to_owned(), |r| format!("{r:?}"))
                ),
            ));
        }
    }
    if !redeemed {
        return Err(Fault::precondition(format!(
            "login {n}: the client redeemed no code, so it sent no token request to judge"
        ))
        .into());
    }
    Ok(())
}

/// RFC 6749 §2.3.1: the secret never in a URL (the authorization request's included); §2.3:
/// each token request authenticated once, the registered way. A login whose client redeemed
/// nothing cannot be judged.
fn authentication(n: usize, login: &Login, registered: AuthMethod) -> Result<(), Halt> {
    if let Some(s) = login
        .seen
        .iter()
        .find(|s| s.in_query.iter().any(|k| k == "client_secret"))
    {
        return Err(unmet(
            "client_secret",
            "the client secret only in a token request's body or Basic header (RFC 6749 §2.3.1: never in the request URI)",
            format!(
                "login {n}: client_secret in the URL of {} {}",
                s.method, s.path
            ),
        ));
    }
    let mut redeemed = false;
    for t in login.redemptions() {
        redeemed = true;
        let used = match (t.basic.is_some(), t.params.get("client_secret").is_some()) {
            (true, true) => {
                return Err(unmet(
                    "client authentication",
                    "one authentication method per request (RFC 6749 §2.3)",
                    format!("login {n}: HTTP Basic and client_secret in the body, both"),
                ));
            }
            (true, false) => AuthMethod::ClientSecretBasic,
            (false, true) => AuthMethod::ClientSecretPost,
            (false, false) => AuthMethod::None,
        };
        if used != registered {
            return Err(unmet(
                "client authentication",
                format!(
                    "{}, the method the client is registered with",
                    registered.as_str()
                ),
                format!("login {n}: {}", used.as_str()),
            ));
        }
    }
    if !redeemed {
        return Err(Fault::precondition(format!(
            "login {n}: the client redeemed no code, so it sent no token request to judge"
        ))
        .into());
    }
    Ok(())
}

/// RFC 9126 §4: every authorization request through the browser carries a `request_uri` (the
/// client_id beside it), after a push in the same login.
fn pushed(n: usize, login: &Login) -> Result<(), Halt> {
    let mut pushes = 0;
    for s in &login.seen {
        if s.is_push() {
            pushes += 1;
        } else if s.is_authorize() && (s.params.get("request_uri").is_none() || pushes == 0) {
            let sent: Vec<&str> = s.params.iter().map(|(k, _)| k).collect();
            return Err(unmet(
                "authorization request",
                "a pushed request: the browser carries only client_id and the request_uri a push got (RFC 9126 §4)",
                format!("login {n}: the browser carried {}", sent.join(", ")),
            ));
        }
    }
    Ok(())
}

/// RFC 6749 §6: at least two refreshes, each with a refresh token no refresh sent before (the
/// server rotates them, so a repeat is the replaced one).
fn rotated(n: usize, login: &Login) -> Result<(), Halt> {
    let sent: Vec<&str> = login
        .seen
        .iter()
        .filter(|s| s.is_token() && s.params.get("grant_type") == Some("refresh_token"))
        .filter_map(|s| s.params.get("refresh_token"))
        .collect();
    if sent.len() < 2 {
        return Err(Fault::precondition(format!(
            "login {n}: the client refreshed {} time(s), so rotation cannot be judged (it claims refresh: two are asked of it)",
            sent.len()
        ))
        .into());
    }
    for (i, rt) in sent.iter().enumerate() {
        if sent[..i].contains(rt) {
            return Err(unmet(
                "refresh_token",
                "each refresh with the refresh token the one before it got (RFC 6749 §6: the new one replaces the old)",
                format!(
                    "login {n}: refresh {} sent a refresh token already used, one the server had replaced",
                    i + 1
                ),
            ));
        }
    }
    Ok(())
}

/// RFC 9449 §4.2, §4.3, §7.1: a well-formed proof on every token request and resource call,
/// a `jti` never used before, and at the resource the `DPoP` scheme with `ath`.
fn dpop(logins: &[Login]) -> Result<(), Halt> {
    let mut jtis = std::collections::BTreeSet::new();
    let mut judged = 0;
    for (i, login) in logins.iter().enumerate() {
        let n = i + 1;
        for s in login
            .seen
            .iter()
            .filter(|s| s.is_token() || s.is_resource())
        {
            judged += 1;
            let at = format!("login {n}: {} {}", s.method, s.path);
            let wrong =
                |expected: &str, got: String| Err(unmet("DPoP", expected, format!("{at}: {got}")));
            let Some(p) = &s.dpop else {
                return wrong(
                    "a DPoP proof on every token request and resource call (RFC 9449 §4.1)",
                    "no DPoP header".into(),
                );
            };
            let alg = p
                .header
                .get("alg")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("");
            let jwk_public = p
                .header
                .get("jwk")
                .and_then(serde_json::Value::as_object)
                .is_some_and(|k| !k.contains_key("d"));
            if p.header.get("typ").and_then(serde_json::Value::as_str) != Some("dpop+jwt")
                || alg.is_empty()
                || alg == "none"
                || alg.starts_with("HS")
                || !jwk_public
            {
                return wrong(
                    "typ dpop+jwt, an asymmetric alg and a public jwk in the proof's header (§4.2)",
                    format!(
                        "typ {:?}, alg {alg:?}, public jwk {jwk_public}",
                        p.header.get("typ")
                    ),
                );
            }
            if p.claim("htm") != Some(s.method.as_str()) || p.claim("htu") != Some(s.url.as_str()) {
                return wrong(
                    "htm and htu of the request the proof goes with (§4.2)",
                    format!("htm {:?}, htu {:?}", p.claim("htm"), p.claim("htu")),
                );
            }
            match p.claim("jti") {
                Some(jti) if jtis.insert(jti.to_owned()) => {}
                Some(_) => {
                    return wrong(
                        "a new jti for every proof (§4.2, §11.1)",
                        "a jti used before".into(),
                    );
                }
                None => return wrong("a jti (§4.2)", "none".into()),
            }
            if s.is_resource() && (s.scheme.as_deref() != Some("DPoP") || p.claim("ath").is_none())
            {
                return wrong(
                    "the DPoP scheme and the access token's hash (ath) at the resource (§7.1)",
                    format!(
                        "scheme {}, ath {}",
                        s.scheme.as_deref().unwrap_or("none"),
                        if p.claim("ath").is_some() {
                            "present"
                        } else {
                            "missing"
                        }
                    ),
                );
            }
        }
    }
    if judged == 0 {
        return Err(Fault::precondition(
            "the client sent no token request and called no resource, so no proof to judge",
        )
        .into());
    }
    Ok(())
}

/// RFC 7636 §4.1, RFC 9700 §2.1.1: a new verifier, so a new challenge, for every login.
fn fresh(logins: &[Login]) -> Result<(), Halt> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (i, login) in logins.iter().enumerate() {
        for a in login.authorizations() {
            let Some(c) = a.params.get("code_challenge").filter(|c| !c.is_empty()) else {
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == c) {
                return Err(unmet(
                    "code_challenge",
                    "a new verifier (so a new challenge) for every authorization request",
                    format!("login {} repeats the challenge of login {first}", i + 1),
                ));
            }
            seen.push((c, i + 1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Params;

    fn seen(path: &str, method: &str, params: &[(&str, &str)]) -> Seen {
        Seen {
            method: method.into(),
            path: path.into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Params>(),
            in_query: Vec::new(),
            basic: None,
            scheme: None,
            dpop: None,
            url: format!("http://127.0.0.1:1{path}"),
        }
    }

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn good_login() -> Login {
        Login {
            seen: vec![
                seen(
                    "/authorize",
                    "GET",
                    &[
                        ("code_challenge", CHALLENGE),
                        ("code_challenge_method", "S256"),
                    ],
                ),
                seen(
                    "/token",
                    "POST",
                    &[
                        ("grant_type", "authorization_code"),
                        ("code_verifier", VERIFIER),
                    ],
                ),
            ],
            end: LoginEnd::Accepted,
        }
    }

    fn all() -> ClientExpect {
        ClientExpect {
            s256: true,
            verifier_valid: true,
            fresh_verifiers: false,
            verifier_entropy: false,
            redirect_uri_repeated: true,
            login: Some(LoginEnd::Accepted),
            not_redeemed: false,
            no_resource_call: false,
            one_authorization: true,
            authenticates_as_registered: true,
            pushed: false,
            dpop_proofs: false,
            refresh_rotated: false,
        }
    }

    #[test]
    fn a_correct_login_passes() {
        assert_eq!(judge(&all(), AuthMethod::None, &[good_login()]), Ok(()));
    }

    #[test]
    fn a_plain_challenge_is_named() {
        let mut l = good_login();
        l.seen[0] = seen("/authorize", "GET", &[("code_challenge", VERIFIER)]);
        let e = judge(&all(), AuthMethod::None, &[l]).expect_err("plain");
        assert!(e.to_string().contains("without a method"), "{e}");
    }

    #[test]
    fn a_verifier_that_does_not_hash_to_the_challenge_fails() {
        let mut l = good_login();
        l.seen[1] = seen(
            "/token",
            "POST",
            &[
                ("grant_type", "authorization_code"),
                ("code_verifier", &VERIFIER.replace('d', "e")),
            ],
        );
        let e = judge(&all(), AuthMethod::None, &[l]).expect_err("mismatch");
        assert!(e.to_string().contains("is not it"), "{e}");
    }

    #[test]
    fn a_repeated_challenge_across_logins_fails() {
        let expect = ClientExpect {
            fresh_verifiers: true,
            ..ClientExpect::default()
        };
        let e =
            judge(&expect, AuthMethod::None, &[good_login(), good_login()]).expect_err("repeated");
        assert!(e.to_string().contains("login 2 repeats"), "{e}");
    }

    #[test]
    fn a_confidential_client_is_judged_by_its_registered_method() {
        let mut l = good_login();
        l.seen[1].basic = Some("client-under-test".into());
        assert_eq!(
            judge(&all(), AuthMethod::ClientSecretBasic, &[l.clone()]),
            Ok(())
        );
        let e = judge(&all(), AuthMethod::ClientSecretPost, &[l.clone()]).expect_err("basic");
        assert!(e.to_string().contains("client_secret_basic"), "{e}");
        l.seen[1].params.push("client_secret", "s");
        let e = judge(&all(), AuthMethod::ClientSecretBasic, &[l.clone()]).expect_err("both");
        assert!(e.to_string().contains("both"), "{e}");
        let mut front = good_login();
        front.seen[0].params.push("client_secret", "s");
        front.seen[0].in_query.push("client_secret".into());
        let e = judge(&all(), AuthMethod::None, &[front]).expect_err("in the URL");
        assert!(e.to_string().contains("URL of GET /authorize"), "{e}");
    }

    #[test]
    fn a_pushed_request_is_the_authorization_request() {
        let mut l = good_login();
        l.seen[0] = seen(
            "/par",
            "POST",
            &[
                ("state", "s"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ],
        );
        l.seen.insert(
            1,
            seen(
                "/authorize",
                "GET",
                &[("client_id", "c"), ("request_uri", "urn:x")],
            ),
        );
        assert!(l.sends("state"), "the pushed request carries the state");
        let expect = ClientExpect {
            pushed: true,
            ..all()
        };
        assert_eq!(judge(&expect, AuthMethod::None, &[l.clone()]), Ok(()));
        l.seen[1].params = Params::parse("client_id=c&code_challenge=x");
        let only_pushed = ClientExpect {
            pushed: true,
            ..ClientExpect::default()
        };
        let e = judge(&only_pushed, AuthMethod::None, &[l]).expect_err("not pushed");
        assert!(
            e.to_string()
                .contains("the browser carried client_id, code_challenge"),
            "{e}"
        );
    }

    #[test]
    fn a_retry_loop_is_named() {
        let mut l = good_login();
        l.seen.insert(0, l.seen[0].clone());
        let e = judge(&all(), AuthMethod::None, &[l]).expect_err("two requests");
        assert!(e.to_string().contains("2 authorization requests"), "{e}");
    }

    #[test]
    fn a_login_without_an_authorization_request_cannot_be_judged() {
        let l = Login {
            seen: Vec::new(),
            end: LoginEnd::Refused,
        };
        let e = judge(&all(), AuthMethod::None, &[l]).expect_err("nothing seen");
        assert!(matches!(e, Halt::Fault { .. }), "{e}");
    }
}
