//! The `tls` step: bare ClientHellos to each HTTPS origin of the target, judged by the
//! server's choice ([`crate::tls_hello`]). rustls, which every other request uses, offers only
//! what is safe, so it can show what a server negotiates but never what weaker thing it would
//! also take; these hellos can.
//!
//! Each origin first gets a hello a correct server takes (TLS 1.3 and 1.2 with the suites BCP
//! 195 recommends): its answer is the negotiated version and suite the evidence records, and a
//! server that refuses it, or answers with something that is not TLS, cannot be judged by its
//! refusal of the weaker hello that follows (an `error`, never a pass).

use std::collections::BTreeMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

use super::context::{Ctx, ResolvedTarget};
use super::exchange::send::precondition;
use super::judge::{Next, StepResult};
use crate::outcome::{Fault, Halt, Unmet};
use crate::scenario::model::{TlsOffer, TlsStep};
use crate::tls_hello::{self, Answer, Offer, ReadError, Suite, Version};
use crate::verdict::Exchange;
use crate::wire::HttpError;

/// One HTTPS origin and what the target reaches there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    host: String,
    port: u16,
    /// The endpoints there, by name (`authorization`, `token`, ...).
    endpoints: Vec<&'static str>,
}

impl Origin {
    /// Only the authorization endpoint is there: browsers use it, and FAPI 2.0 §5.2.3 allows
    /// it the wider set of suites BCP 195 allows.
    fn browser_only(&self) -> bool {
        self.endpoints.iter().all(|e| *e == "authorization")
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "https://{host}:{} ({})",
            self.port,
            self.endpoints.join(", ")
        )
    }
}

/// Every HTTPS origin among the endpoints the target names or its metadata gives (all of them
/// already passed the target's origin policy), each once with the endpoints it serves.
pub(super) fn https_origins(target: &ResolvedTarget) -> Vec<Origin> {
    let mut named: Vec<(&'static str, Url)> = vec![
        ("authorization", target.authorization.clone()),
        ("token", target.token.clone()),
    ];
    let optional = [
        ("par", target.par.clone()),
        ("userinfo", target.userinfo.clone()),
        ("introspection", target.introspection.clone()),
        ("registration", target.registration.clone()),
        ("jwks", target.jwks_uri()),
        ("metadata", target.metadata_url.clone()),
    ];
    named.extend(
        optional
            .into_iter()
            .filter_map(|(name, url)| url.map(|u| (name, u))),
    );
    named.extend(
        target
            .mtls_aliases
            .iter()
            .map(|(_, alias)| ("mtls alias", alias.clone())),
    );
    let mut origins: BTreeMap<(String, u16), Vec<&'static str>> = BTreeMap::new();
    for (name, url) in named {
        if url.scheme() != "https" {
            continue;
        }
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            continue;
        };
        let host = match host {
            url::Host::Ipv6(ip) => ip.to_string(),
            other => other.to_string(),
        };
        let names = origins.entry((host, port)).or_default();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    origins
        .into_iter()
        .map(|((host, port), endpoints)| Origin {
            host,
            port,
            endpoints,
        })
        .collect()
}

/// What a server did with a hello.
enum Probed {
    /// It chose this version and suite.
    Took(Version, Suite),
    /// It refused: an alert, or the connection closed without a word.
    Refused(String),
}

pub(super) async fn tls(ctx: &mut Ctx, step: &TlsStep) -> StepResult {
    let origins = https_origins(&ctx.target);
    if origins.is_empty() {
        return Err(Fault::config("no endpoint of the target uses HTTPS: nothing to ask").into());
    }
    let mut took = Vec::new();
    let mut offered = String::new();
    for origin in origins {
        let control = Offer {
            versions: vec![Version::TLS13, Version::TLS12],
            suites: [tls_hello::TLS13_SUITES, tls_hello::RECOMMENDED_TLS12].concat(),
        };
        match probe(ctx, &origin, &control).await? {
            Probed::Took(version, suite) => ctx
                .notes
                .push(format!("{origin} negotiates {version} with {suite}")),
            Probed::Refused(how) => {
                return Err(precondition(format!(
                    "{origin} refused a hello offering TLS 1.3 and 1.2 with the suites BCP 195 recommends ({how}), so its refusal of a weaker one proves nothing"
                )));
            }
        }
        let (bad, said) = weak(step.offer, &origin);
        offered = said.to_owned();
        if let Probed::Took(version, suite) = probe(ctx, &origin, &bad).await? {
            if !bad.versions.contains(&version) || !bad.suites.contains(&suite) {
                return Err(precondition(format!(
                    "{origin} answered a hello offering only {offered} with {version} and {suite}, which it did not offer: no TLS server a hello can judge"
                )));
            }
            took.push(format!("{origin} chose {version} with {suite}"));
        }
    }
    if took.is_empty() {
        Ok(Next::Continue)
    } else {
        Err(Unmet::Tls { offered, took }.into())
    }
}

/// The hello a correct server refuses at `origin`, and what it offers in a few words (the
/// evidence lists every suite).
fn weak(offer: TlsOffer, origin: &Origin) -> (Offer, &'static str) {
    match offer {
        TlsOffer::LegacyVersions => (
            Offer {
                versions: vec![Version::TLS11, Version::TLS10],
                suites: tls_hello::LEGACY.to_vec(),
            },
            "TLS 1.1 and 1.0 (RFC 8996)",
        ),
        TlsOffer::WeakSuites if origin.browser_only() => (
            Offer {
                versions: vec![Version::TLS12],
                suites: tls_hello::FORBIDDEN.to_vec(),
            },
            "TLS 1.2 suites BCP 195 forbids (NULL, RC4, export, DES; RFC 9325 §4.1)",
        ),
        TlsOffer::WeakSuites => (
            Offer {
                versions: vec![Version::TLS12],
                suites: [tls_hello::NOT_RECOMMENDED_TLS12, tls_hello::FORBIDDEN].concat(),
            },
            "TLS 1.2 suites BCP 195 does not recommend (ChaCha20, CCM, CBC, DHE or static-RSA key exchange, 3DES, and the forbidden ones; RFC 9325 §4.2)",
        ),
    }
}

fn describe(offer: &Offer) -> String {
    let versions: Vec<String> = offer.versions.iter().map(ToString::to_string).collect();
    let suites: Vec<String> = offer.suites.iter().map(ToString::to_string).collect();
    format!("{} with {}", versions.join(" and "), suites.join(", "))
}

/// The most a server's answer to a hello is read: a ServerHello with its certificate chain
/// fits many times over.
const MAX_ANSWER: usize = 64 * 1024;

/// Sends `offer` to `origin` on a fresh connection and reads the first answer; records both.
async fn probe(ctx: &mut Ctx, origin: &Origin, offer: &Offer) -> Result<Probed, Halt> {
    let limit = ctx.http.limits().request_timeout;
    let mut random = [0u8; 32];
    getrandom::fill(&mut random)
        .map_err(|e| Fault::harness(format!("no randomness for a ClientHello: {e}")))?;
    let hello = tls_hello::client_hello(offer, Some(&origin.host), &random);
    let fail = |reason: String| -> Halt {
        Fault::Http {
            error: HttpError::Send {
                method: "TLS".into(),
                url: origin.to_string(),
                reason,
            },
        }
        .into()
    };
    let exchange = tokio::time::timeout(limit, ask(origin, &hello)).await;
    let answer = match exchange {
        Err(_) => Err(Fault::Http {
            error: HttpError::Timeout {
                method: "TLS".into(),
                url: origin.to_string(),
                seconds: limit.as_secs_f64(),
            },
        }
        .into()),
        Ok(Err(Asked::Connect(e))) => Err(fail(format!("cannot connect: {e}"))),
        Ok(Err(Asked::NotTls(why))) => Err(fail(format!("the answer to a hello is {why}"))),
        Ok(Ok(answer)) => Ok(answer),
    };
    record(ctx, origin, offer, &answer);
    answer
}

/// Why a hello got no answer that can be judged.
enum Asked {
    Connect(std::io::Error),
    NotTls(String),
}

async fn ask(origin: &Origin, hello: &[u8]) -> Result<Probed, Asked> {
    let mut tcp = TcpStream::connect((origin.host.as_str(), origin.port))
        .await
        .map_err(Asked::Connect)?;
    tcp.write_all(hello).await.map_err(Asked::Connect)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tcp.read(&mut chunk).await {
            Ok(0) if buf.is_empty() => {
                return Ok(Probed::Refused("closed the connection".into()));
            }
            Ok(0) => return Err(Asked::NotTls("cut short".into())),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            // A reset is how some stacks refuse a hello they will not take.
            Err(e) if buf.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Ok(Probed::Refused("reset the connection".into()));
            }
            Err(e) => return Err(Asked::Connect(e)),
        }
        match tls_hello::read_answer(&buf) {
            Ok(Answer::Hello { version, suite }) => return Ok(Probed::Took(version, suite)),
            Ok(alert @ Answer::Alert { .. }) => return Ok(Probed::Refused(alert.to_string())),
            Err(ReadError::Incomplete) if buf.len() < MAX_ANSWER => {}
            Err(ReadError::Incomplete) => {
                return Err(Asked::NotTls(format!(
                    "no ServerHello in {MAX_ANSWER} bytes"
                )));
            }
            Err(ReadError::NotTls(why)) => return Err(Asked::NotTls(why)),
        }
    }
}

/// The hello and its answer as evidence: nothing in either is secret.
fn record(ctx: &mut Ctx, origin: &Origin, offer: &Offer, answer: &Result<Probed, Halt>) {
    let (response, error) = match answer {
        Ok(Probed::Took(version, suite)) => {
            (Some(format!("ServerHello: {version}, {suite}")), None)
        }
        Ok(Probed::Refused(how)) => (Some(format!("refused: {how}")), None),
        Err(halt) => (None, Some(halt.to_string())),
    };
    ctx.evidence.push(Exchange {
        step: ctx.step.clone(),
        method: "TLS".into(),
        url: origin.to_string(),
        request_headers: Vec::new(),
        request_body: Some(format!("ClientHello offering {}", describe(offer))),
        status: None,
        response_headers: Vec::new(),
        response_body: response,
        error,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(text: &str) -> ResolvedTarget {
        ResolvedTarget::new(
            crate::target::parse_target("t.yaml", text).unwrap_or_else(|e| panic!("{e}")),
            None,
            None,
        )
        .expect("resolves")
    }

    #[test]
    fn origins_are_the_https_ones_each_once_with_what_they_serve() {
        let t = target(
            "format: 1\nendpoints: {authorization: \"https://login.example/a\", token: \"https://api.example/t\", userinfo: \"https://api.example/u\", par: \"http://127.0.0.1:9/par\"}\nclients:\n  public: {client_id: p, redirect_uri: \"http://127.0.0.1:8765/cb\"}\n  confidential: {client_id: c, client_secret: s3cr3t-value, auth_method: client_secret_basic, redirect_uri: \"https://c.example/cb\"}\nlogin: {auto: {}}\n",
        );
        let origins = https_origins(&t);
        let shown: Vec<String> = origins.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "https://api.example:443 (token, userinfo)",
                "https://login.example:443 (authorization)"
            ]
        );
        assert!(!origins[0].browser_only());
        assert!(origins[1].browser_only());
        // A browser-only origin is asked only about what BCP 195 forbids outright.
        let (asked, _) = weak(TlsOffer::WeakSuites, &origins[1]);
        assert_eq!(asked.suites, tls_hello::FORBIDDEN);
        assert!(
            weak(TlsOffer::WeakSuites, &origins[0])
                .0
                .suites
                .contains(&Suite(0xcca9))
        );
    }
}
