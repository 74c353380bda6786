//! One login of the `oauth2` crate (5.x), the Rust ecosystem's OAuth 2.0 client, as its
//! documentation writes one: a `BasicClient` with the server's endpoints, an authorization URL
//! with a random PKCE S256 challenge and a CSRF token as `state`, the state compared by the
//! application (the crate leaves that to it), the code exchanged with the verifier. The HTTP
//! client is the crate's pluggable async one, a closure over reqwest. No ID Token: the crate is
//! OAuth 2.0 only, so its client file asks for no `openid`.
//!
//! It speaks pkce-harness's `command` driver protocol (`PKCE_HARNESS_*` settings, the
//! authorization URL on stdout, the redirect back on stdin, exit status 0 for an accepted login,
//! 1 for a refused one) and is judged by `pkce-harness client --target
//! fixtures/clients/oauth2-crate.yaml`.

use std::io::BufRead as _;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, HttpRequest, HttpResponse, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse as _, TokenUrl,
};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        eprintln!("{name} is not set");
        std::process::exit(2)
    })
}

/// The crate's pluggable HTTP client: one request over reqwest, redirects not followed.
async fn send(http: &reqwest::Client, req: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let (parts, body) = req.into_parts();
    let resp = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut out = http::Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        out = out.header(k, v);
    }
    let body = resp.bytes().await?.to_vec();
    Ok(out.body(body).unwrap_or_default())
}

#[tokio::main]
async fn main() {
    let issuer = env("PKCE_HARNESS_ISSUER");
    let refuse = |why: String| -> ! {
        eprintln!("refused: {why}");
        std::process::exit(1)
    };
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let tls = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.with_root_certificates(tokio_rustls::rustls::RootCertStore::empty())
                .with_no_client_auth()
        })
        .unwrap_or_else(|e| refuse(e.to_string()));
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| refuse(e.to_string()));
    let meta: serde_json::Value = match http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
    {
        Ok(r) => serde_json::from_slice(&r.bytes().await.unwrap_or_default()).unwrap_or_default(),
        Err(e) => refuse(e.to_string()),
    };
    let endpoint = |name: &str| {
        meta.get(name)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| refuse(format!("the metadata has no {name}")))
    };
    let client = BasicClient::new(ClientId::new(env("PKCE_HARNESS_CLIENT_ID")))
        .set_auth_uri(
            AuthUrl::new(endpoint("authorization_endpoint"))
                .unwrap_or_else(|e| refuse(e.to_string())),
        )
        .set_token_uri(
            TokenUrl::new(endpoint("token_endpoint")).unwrap_or_else(|e| refuse(e.to_string())),
        )
        .set_redirect_uri(
            RedirectUrl::new(env("PKCE_HARNESS_REDIRECT_URI"))
                .unwrap_or_else(|e| refuse(e.to_string())),
        );
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for scope in env("PKCE_HARNESS_SCOPE")
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        request = request.add_scope(Scope::new(scope.to_owned()));
    }
    let (url, state) = request.url();
    println!("{url}");
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    let back =
        url::Url::parse(line.trim()).unwrap_or_else(|_| refuse("no redirect came back".into()));
    let param = |name: &str| {
        back.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(error) = param("error") {
        refuse(format!("the server answered error={error}"));
    }
    if param("state").as_deref() != Some(state.secret().as_str()) {
        refuse("state does not match the one sent".into());
    }
    let code = param("code").unwrap_or_else(|| refuse("no code came back".into()));
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&|req| send(&http, req))
        .await
        .unwrap_or_else(|e| refuse(format!("the token request: {e}")));
    let userinfo = http
        .get(endpoint("userinfo_endpoint"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await;
    match userinfo {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => refuse(format!("UserInfo answered {}", r.status())),
        Err(e) => refuse(e.to_string()),
    }
}
