//! The surfaces a differential run explores: for each, a generator of inputs (a proptest
//! strategy, so a disagreement shrinks), the oracle's decision for an input (from the reference
//! PKCE implementation, RFC 7636's grammar and the exact redirect-URI rule), the class a
//! disagreement is grouped under, and the scenario that puts one input to the server.

use proptest::prelude::*;
use url::Url;

/// What a differential run can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Surface {
    /// `code_verifier` at the token endpoint (RFC 7636 §4.1, §4.6).
    Verifier,
    /// `code_challenge` and `code_challenge_method` at the authorization endpoint (§4.2, §4.3).
    Challenge,
    /// `redirect_uri` derived from the registered one (RFC 9700 §4.1.3, RFC 8252 §7.3).
    Redirect,
    /// `state`, which must come back byte for byte (RFC 6749 §4.1.2).
    State,
}

impl Surface {
    /// Every surface.
    pub const ALL: [Self; 4] = [Self::Verifier, Self::Challenge, Self::Redirect, Self::State];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Verifier => "verifier",
            Self::Challenge => "challenge",
            Self::Redirect => "redirect",
            Self::State => "state",
        }
    }

    /// The requirements a disagreement on this surface breaks.
    pub fn requirements(self) -> &'static [&'static str] {
        match self {
            Self::Verifier => &["REQ-54", "REQ-50"],
            Self::Challenge => &["REQ-22", "REQ-20", "REQ-19"],
            Self::Redirect => &["REQ-25", "REQ-26", "REQ-30"],
            Self::State => &["REQ-12"],
        }
    }
}

impl std::str::FromStr for Surface {
    type Err = crate::diagnostics::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| {
                crate::diagnostics::UnknownName::new("surface", s, Self::ALL.map(Self::name))
            })
    }
}

/// One generated input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A verifier, with the challenge derived from it by S256.
    Verifier(String),
    /// A challenge and a method (`None`: the method left out).
    Challenge {
        /// `code_challenge`.
        challenge: String,
        /// `code_challenge_method`.
        method: Option<String>,
    },
    /// A redirect URI, sent by the public or the confidential client.
    Redirect {
        /// The URI.
        uri: String,
        /// Sent by the confidential client.
        confidential: bool,
        /// How it was derived from the registered one.
        how: Mutation,
    },
    /// A `state` value.
    State(String),
}

/// What the oracle says the server must do with an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go through: a code, or tokens.
    Accept,
    /// Refuse it.
    Refuse,
}

/// What the run knows of the target the oracle needs.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The public client's redirect URI.
    pub public: Url,
    /// The confidential client's.
    pub confidential: Url,
    /// Whether the target declares `plain` allowed.
    pub plain_allowed: bool,
}

const UNRESERVED: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/// Whether `s` is in RFC 7636's `43*128unreserved` (the verifier and challenge grammar).
pub fn in_grammar(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.chars().all(|c| UNRESERVED.contains(c))
}

/// A string of `len` characters of `alphabet`.
fn of(alphabet: &'static str, len: std::ops::RangeInclusive<usize>) -> BoxedStrategy<String> {
    let chars: Vec<char> = alphabet.chars().collect();
    proptest::collection::vec(proptest::sample::select(chars), len)
        .prop_map(|v| v.into_iter().collect())
        .boxed()
}

/// A string of the grammar's length with one character replaced by one outside it.
fn with_stray(stray: &'static [char]) -> BoxedStrategy<String> {
    (
        of(UNRESERVED, 43..=128),
        proptest::sample::select(stray),
        any::<proptest::sample::Index>(),
    )
        .prop_map(|(s, c, at)| {
            let mut chars: Vec<char> = s.chars().collect();
            let i = at.index(chars.len());
            chars[i] = c;
            chars.into_iter().collect()
        })
        .boxed()
}

/// Characters outside `unreserved` a client might send: reserved, space, percent, Unicode.
const STRAY: &[char] = &[
    ' ', '+', '/', '=', '%', '!', '*', '\'', '(', ')', ';', ':', '@', '&', ',', '$', '#', '[', ']',
    '"', '<', '>', '\\', '^', '`', '|', 'é', '漢', '\t',
];

/// The generator of a surface's inputs.
pub fn strategy(surface: Surface, reg: &Registered) -> BoxedStrategy<Input> {
    match surface {
        Surface::Verifier => prop_oneof![
            2 => of(UNRESERVED, 43..=128),
            3 => of(UNRESERVED, 1..=42),
            2 => of(UNRESERVED, 129..=200),
            2 => with_stray(STRAY),
        ]
        .prop_map(Input::Verifier)
        .boxed(),
        Surface::Challenge => {
            let b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let methods = prop_oneof![
                4 => Just(Some("S256".to_owned())),
                1 => proptest::sample::select(vec!["s256", "S512", "plain", "PLAIN", "Plain", "sha256", "S256 ", " S256", ""])
                    .prop_map(|m| Some(m.to_owned())),
                1 => Just(None),
                1 => of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 1..=8).prop_map(Some),
            ];
            let challenges = prop_oneof![
                3 => of(b64, 43..=43),
                2 => of(b64, 1..=42),
                1 => of(b64, 129..=200),
                1 => of(b64, 43..=43).prop_map(|s| format!("{s}=")),
                1 => of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 43..=43),
                1 => with_stray(STRAY).prop_map(|s| s.chars().take(43).collect()),
            ];
            (challenges, methods)
                .prop_map(|(challenge, method)| Input::Challenge { challenge, method })
                .boxed()
        }
        Surface::Redirect => {
            let (public, confidential) = (reg.public.to_string(), reg.confidential.to_string());
            let base = prop_oneof![Just((public, false)), Just((confidential, true))];
            (base, proptest::sample::select(MUTATIONS.to_vec()), any::<proptest::sample::Index>(), 1u16..=65535)
                .prop_map(|((uri, confidential), m, at, port)| Input::Redirect {
                    uri: mutate(&uri, m, at, port),
                    confidential,
                    how: m,
                })
                .boxed()
        }
        Surface::State => prop_oneof![
            2 => of(UNRESERVED, 1..=400),
            2 => proptest::collection::vec(
                proptest::sample::select(
                    "aZ09 -._~+/=%&?#:;@!$'()*,[]\"<>\\^`|{}éü漢字😀\u{a0}".chars().collect::<Vec<_>>()
                ),
                1..=300
            )
            .prop_map(|v| v.into_iter().collect::<String>()),
        ]
        .prop_filter("templates are the scenario format's own", |s: &String| !s.contains("{{"))
        .prop_map(Input::State)
        .boxed(),
    }
}

/// The ways a redirect URI is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// Unchanged.
    Same,
    /// Another port.
    Port,
    /// The host in upper case.
    UpperHost,
    /// The path in upper case.
    UpperPath,
    /// The scheme in upper case.
    UpperScheme,
    /// A path segment appended.
    PathSuffix,
    /// A slash appended.
    TrailingSlash,
    /// A dot segment before the path.
    DotSegment,
    /// One path letter percent-encoded.
    PercentEncoded,
    /// The authority as userinfo before another host.
    Userinfo,
    /// A fragment appended.
    Fragment,
    /// A query appended.
    Query,
    /// `localhost` for the host.
    Localhost,
    /// `[::1]` for the host.
    Ipv6,
    /// `127.1` for the host.
    ShortIpv4,
    /// A dot after the host.
    TrailingDot,
    /// A space appended.
    TrailingSpace,
}

const MUTATIONS: &[Mutation] = &[
    Mutation::Same,
    Mutation::Port,
    Mutation::UpperHost,
    Mutation::UpperPath,
    Mutation::UpperScheme,
    Mutation::PathSuffix,
    Mutation::TrailingSlash,
    Mutation::DotSegment,
    Mutation::PercentEncoded,
    Mutation::Userinfo,
    Mutation::Fragment,
    Mutation::Query,
    Mutation::Localhost,
    Mutation::Ipv6,
    Mutation::ShortIpv4,
    Mutation::TrailingDot,
    Mutation::TrailingSpace,
];

/// `uri` changed by `m`; `at` picks a character, `port` a port. Written on the text, so the
/// result is exactly what is sent.
fn mutate(uri: &str, m: Mutation, at: proptest::sample::Index, port: u16) -> String {
    let Ok(u) = Url::parse(uri) else {
        return uri.to_owned();
    };
    let host = u.host_str().unwrap_or_default().to_owned();
    let authority = match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let scheme = u.scheme();
    let path = u.path();
    let rebuilt = |auth: &str, path: &str| format!("{scheme}://{auth}{path}");
    match m {
        Mutation::Same => uri.to_owned(),
        Mutation::Port => rebuilt(&format!("{host}:{port}"), path),
        Mutation::UpperHost => rebuilt(&authority.to_ascii_uppercase(), path),
        Mutation::UpperPath => rebuilt(&authority, &path.to_ascii_uppercase()),
        Mutation::UpperScheme => format!("{}://{authority}{path}", scheme.to_ascii_uppercase()),
        Mutation::PathSuffix => rebuilt(&authority, &format!("{path}/evil")),
        Mutation::TrailingSlash => rebuilt(&authority, &format!("{path}/")),
        Mutation::DotSegment => rebuilt(&authority, &format!("/x/..{path}")),
        Mutation::PercentEncoded => {
            let chars: Vec<char> = path.chars().collect();
            let letters: Vec<usize> = (0..chars.len())
                .filter(|i| chars[*i].is_ascii_alphabetic())
                .collect();
            match letters.get(
                at.index(letters.len().max(1))
                    .min(letters.len().saturating_sub(1)),
            ) {
                Some(&i) => {
                    let enc: String = chars
                        .iter()
                        .enumerate()
                        .map(|(j, c)| {
                            if j == i {
                                format!("%{:02X}", *c as u32)
                            } else {
                                c.to_string()
                            }
                        })
                        .collect();
                    rebuilt(&authority, &enc)
                }
                None => uri.to_owned(),
            }
        }
        Mutation::Userinfo => rebuilt(&format!("{authority}@evil.example"), path),
        Mutation::Fragment => format!("{uri}#frag"),
        Mutation::Query => format!("{uri}?extra=1"),
        Mutation::Localhost => rebuilt(&authority.replace(&host, "localhost"), path),
        Mutation::Ipv6 => rebuilt(&authority.replace(&host, "[::1]"), path),
        Mutation::ShortIpv4 => rebuilt(&authority.replace(&host, "127.1"), path),
        Mutation::TrailingDot => rebuilt(&authority.replace(&host, &format!("{host}.")), path),
        Mutation::TrailingSpace => format!("{uri} "),
    }
}

/// `uri` with the port of its authority taken out, as text (nothing else is normalised).
fn without_port_text(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = match authority.rfind(':') {
        Some(i)
            if !authority[i + 1..].is_empty()
                && authority[i + 1..].chars().all(|c| c.is_ascii_digit())
                && !authority.ends_with(']') =>
        {
            &authority[..i]
        }
        _ => authority,
    };
    format!("{scheme}://{host}{tail}")
}

/// Whether `uri` is an http loopback IP literal (RFC 8252 §7.3).
fn loopback_literal(u: &Url) -> bool {
    u.scheme() == "http" && matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(u.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
}

/// What the oracle says, or `None` where the specifications leave the server a choice (such
/// inputs are not judged).
pub fn decide(input: &Input, reg: &Registered) -> Option<Decision> {
    Some(match input {
        Input::Verifier(v) => {
            if in_grammar(v) {
                Decision::Accept
            } else {
                Decision::Refuse
            }
        }
        Input::Challenge { challenge, method } => {
            let method_ok = match method.as_deref() {
                Some("S256") => true,
                // Absent means plain (RFC 7636 §4.3).
                Some("plain") | None => reg.plain_allowed,
                Some(_) => false,
            };
            let grammar = in_grammar(challenge);
            // An S256 challenge of 44-128 characters is in the grammar but no SHA-256 output:
            // a server may refuse it or not.
            if method_ok && grammar && method.as_deref() == Some("S256") && challenge.len() != 43 {
                return None;
            }
            if method_ok && grammar {
                Decision::Accept
            } else {
                Decision::Refuse
            }
        }
        Input::Redirect {
            uri, confidential, ..
        } => {
            let registered = if *confidential {
                &reg.confidential
            } else {
                &reg.public
            };
            // The public client's loopback redirect URI: any port (RFC 8252 §7.3).
            let any_port = !*confidential && loopback_literal(registered);
            let without_port = |u: &Url| {
                let mut u = u.clone();
                let _ = u.set_port(None);
                u
            };
            if uri == registered.as_str()
                || (any_port && without_port_text(uri) == without_port(registered).as_str())
            {
                Decision::Accept
            } else if Url::parse(uri).is_ok_and(|u| {
                let (a, b) = if any_port {
                    (without_port(&u), without_port(registered))
                } else {
                    (u, registered.clone())
                };
                a == b
            }) {
                // Another spelling of the same URI (case of scheme or host, `127.1`, dot
                // segments): exact string matching refuses it, URL parsing accepts it, and either
                // sends the browser to the same place. Not judged.
                return None;
            } else {
                Decision::Refuse
            }
        }
        Input::State(_) => Decision::Accept,
    })
}

/// The class a disagreement is grouped under: one finding per class, not one per case.
pub fn class(input: &Input, decision: Decision) -> String {
    match input {
        Input::Verifier(_) if decision == Decision::Accept => "refuses a verifier in the grammar".into(),
        Input::Verifier(v) if v.len() < 43 => "accepts verifiers shorter than 43 characters".into(),
        Input::Verifier(v) if v.len() > 128 => "accepts verifiers longer than 128 characters".into(),
        Input::Verifier(_) => "accepts verifiers with characters outside unreserved".into(),
        Input::Challenge { method, .. } if decision == Decision::Accept => {
            format!("refuses a valid challenge with method {}", method.as_deref().unwrap_or("(absent)"))
        }
        Input::Challenge { challenge, method } => match method.as_deref() {
            Some("S256") if challenge.len() < 43 => "accepts S256 challenges shorter than 43 characters".into(),
            Some("S256") if challenge.len() > 128 => "accepts S256 challenges longer than 128 characters".into(),
            Some("S256") => "accepts S256 challenges with characters outside unreserved".into(),
            None | Some("") => {
                "redeems a code with a plain verifier for an absent or empty code_challenge_method though plain is not allowed".into()
            }
            Some("plain") => "redeems a code with a plain verifier though plain is not allowed".into(),
            Some(m)
                if m.trim().eq_ignore_ascii_case("S256") || m.trim().eq_ignore_ascii_case("plain") =>
            {
                "accepts a method in the wrong case or with spaces (S256 and plain are case-sensitive)".into()
            }
            Some(_) => "accepts unknown code_challenge_method values".into(),
        },
        Input::Redirect { confidential, how, .. } => {
            let who = if *confidential { "confidential" } else { "public" };
            match decision {
                Decision::Accept => format!("refuses the {who} client's redirect URI ({how:?})"),
                Decision::Refuse => format!("accepts the {who} client's redirect URI changed: {how:?}"),
            }
        }
        Input::State(s) if s.len() > 32 => "does not echo a long state exactly".into(),
        Input::State(_) => "does not echo state exactly".into(),
    }
}

/// The scenario that puts `input` to the server, expecting what the oracle says: what a
/// finding is emitted as, and how each case runs.
pub fn scenario_yaml(surface: Surface, input: &Input, decision: Decision, title: &str) -> String {
    let q = |s: &str| serde_json::Value::String(s.to_owned()).to_string();
    let reqs = surface.requirements().join(", ");
    let head = format!(
        "format: 1\ntitle: {}\nrequirements: [{reqs}]\nlevel: must\n",
        q(title)
    );
    match input {
        Input::Verifier(v) => {
            let expect = match decision {
                Decision::Accept => "{status: 200}".to_owned(),
                Decision::Refuse => {
                    "{status: 400, error: [invalid_request, invalid_grant]}".to_owned()
                }
            };
            format!(
                "{head}steps:\n  - authorize:\n      pkce: {{verifier: {}}}\n  - token:\n      expect: {expect}\n",
                q(v)
            )
        }
        // A plain challenge where plain is not allowed is judged where RFC 7636 defines it: the
        // server may refuse the request or take the method as S256, but its token endpoint must
        // never redeem the code with the challenge as a plain verifier.
        Input::Challenge { challenge, method }
            if decision == Decision::Refuse
                && plain_style(method.as_deref())
                && in_grammar(challenge) =>
        {
            let method = method.as_deref().map_or("~".to_owned(), q);
            format!(
                "{head}steps:\n  - authorize:\n      pkce: {{method: {method}, challenge: {{literal: {}}}}}\n      expect: {{outcome: code, refusal_passes: \"refused at the authorization endpoint\"}}\n  - token:\n      verifier: challenge\n      expect: {{status: 400}}\n",
                q(challenge)
            )
        }
        Input::Challenge { challenge, method } => {
            let method = method.as_deref().map_or("~".to_owned(), q);
            let outcome = match decision {
                Decision::Accept => "code",
                Decision::Refuse => "refused",
            };
            format!(
                "{head}steps:\n  - authorize:\n      pkce: {{method: {method}, challenge: {{literal: {}}}}}\n      expect: {{outcome: {outcome}}}\n",
                q(challenge)
            )
        }
        Input::Redirect {
            uri, confidential, ..
        } => {
            let outcome = match decision {
                Decision::Accept => "code",
                Decision::Refuse => "error-page",
            };
            let client = if *confidential {
                "confidential"
            } else {
                "public"
            };
            format!(
                "{head}clients: [{client}]\nsteps:\n  - authorize:\n      redirect_uri: {{literal: {}}}\n      expect: {{outcome: {outcome}}}\n",
                q(uri)
            )
        }
        Input::State(s) => format!(
            "{head}steps:\n  - authorize:\n      state: {{literal: {}}}\n      expect: {{outcome: code, state_echoed: true}}\n",
            q(s)
        ),
    }
}

/// A method that means plain: absent, empty (RFC 6749 §3.1: empty is absent) or `plain`
/// (RFC 7636 §4.3).
fn plain_style(method: Option<&str>) -> bool {
    matches!(method, None | Some("" | "plain"))
}

/// The input as a finding shows it: short ones whole, long ones by their start and length.
pub fn shown(input: &Input) -> String {
    let cut = |s: &str| {
        let n = s.chars().count();
        if n <= 60 {
            format!("{s:?} ({n} characters)")
        } else {
            format!(
                "{:?}… ({n} characters)",
                s.chars().take(40).collect::<String>()
            )
        }
    };
    match input {
        Input::Verifier(v) => format!("code_verifier {}", cut(v)),
        Input::Challenge { challenge, method } => format!(
            "code_challenge {} with code_challenge_method {}",
            cut(challenge),
            method
                .as_deref()
                .map_or("absent".to_owned(), |m| format!("{m:?}"))
        ),
        Input::Redirect {
            uri, confidential, ..
        } => format!(
            "redirect_uri {uri:?} ({} client)",
            if *confidential {
                "confidential"
            } else {
                "public"
            }
        ),
        Input::State(s) => format!("state {}", cut(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Registered {
        Registered {
            public: Url::parse("http://127.0.0.1:8765/callback").expect("url"),
            confidential: Url::parse("https://client.example/cb").expect("url"),
            plain_allowed: false,
        }
    }

    #[test]
    fn the_oracle_follows_the_grammar_and_the_exact_match_rule() {
        let r = reg();
        let v = |s: &str| decide(&Input::Verifier(s.into()), &r);
        assert_eq!(v(&"a".repeat(43)), Some(Decision::Accept));
        assert_eq!(v(&"a".repeat(42)), Some(Decision::Refuse));
        assert_eq!(v(&"a".repeat(129)), Some(Decision::Refuse));
        assert_eq!(v(&format!("{} ", "a".repeat(42))), Some(Decision::Refuse));
        let redirect = |uri: &str, confidential| {
            decide(
                &Input::Redirect {
                    uri: uri.into(),
                    confidential,
                    how: Mutation::Same,
                },
                &r,
            )
        };
        assert_eq!(
            redirect("http://127.0.0.1:8765/callback", false),
            Some(Decision::Accept)
        );
        assert_eq!(
            redirect("http://127.0.0.1:9999/callback", false),
            Some(Decision::Accept)
        );
        assert_eq!(
            redirect("http://127.0.0.1:9999/callback/", false),
            Some(Decision::Refuse)
        );
        assert_eq!(
            redirect("http://localhost:8765/callback", false),
            Some(Decision::Refuse)
        );
        assert_eq!(
            redirect("https://client.example:444/cb", true),
            Some(Decision::Refuse)
        );
        assert_eq!(redirect("https://CLIENT.example/cb", true), None);
        assert_eq!(
            redirect("https://client.example/CB", true),
            Some(Decision::Refuse)
        );
        let ch = |c: &str, m: Option<&str>| {
            decide(
                &Input::Challenge {
                    challenge: c.into(),
                    method: m.map(str::to_owned),
                },
                &r,
            )
        };
        assert_eq!(ch(&"a".repeat(43), Some("S256")), Some(Decision::Accept));
        assert_eq!(ch(&"a".repeat(44), Some("S256")), None);
        assert_eq!(ch(&"a".repeat(43), Some("s256")), Some(Decision::Refuse));
        assert_eq!(ch(&"a".repeat(43), None), Some(Decision::Refuse));
        assert_eq!(ch(&"a".repeat(42), Some("S256")), Some(Decision::Refuse));
    }

    fn index(i: usize) -> proptest::sample::Index {
        // An Index picks `i * len / 4`-ish positions; only used to recognise a mutation.
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut tree = any::<proptest::sample::Index>()
            .new_tree(&mut runner)
            .unwrap_or_else(|_| unreachable!("an index always generates"));
        for _ in 0..i {
            tree.simplify();
        }
        tree.current()
    }

    #[test]
    fn mutations_change_what_they_say() {
        let at = index(0);
        let u = "http://127.0.0.1:8765/callback";
        assert_eq!(
            mutate(u, Mutation::Port, at, 9),
            "http://127.0.0.1:9/callback"
        );
        assert_eq!(
            mutate(u, Mutation::Userinfo, at, 9),
            "http://127.0.0.1:8765@evil.example/callback"
        );
        assert_eq!(
            mutate(u, Mutation::UpperPath, at, 9),
            "http://127.0.0.1:8765/CALLBACK"
        );
        assert_eq!(
            mutate("https://client.example/cb", Mutation::UpperHost, at, 9),
            "https://CLIENT.EXAMPLE/cb"
        );
        assert!(mutate(u, Mutation::PercentEncoded, at, 9).contains('%'));
    }

    #[test]
    fn every_generated_case_becomes_a_scenario_that_loads() {
        use proptest::strategy::ValueTree;
        let r = reg();
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for surface in Surface::ALL {
            let s = strategy(surface, &r);
            for _ in 0..200 {
                let input = s.new_tree(&mut runner).expect("generates").current();
                let Some(d) = decide(&input, &r) else {
                    continue;
                };
                let yaml = scenario_yaml(surface, &input, d, &class(&input, d));
                if let Err(e) = crate::scenario::parse_scenario("case.yaml", &yaml) {
                    panic!("{surface:?} {input:?}: {e}\n{yaml}");
                }
            }
        }
    }
}
