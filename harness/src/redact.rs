//! The single place secrets are masked. Every report and log line goes through it: the engine
//! keeps one [`Redactor`] per scenario, teaches it every secret it sends or receives, and records
//! only what the redactor gives back.
//!
//! A secret is shown as a short fingerprint (`redacted.3f9a12c0`): the first 8 hex digits of its
//! SHA-256, in characters that survive URL encoding unchanged.
//! Two occurrences of one code share a fingerprint, so a reader can follow a replay in the
//! evidence without ever seeing the code.

use sha2::{Digest, Sha256};

/// Parameter and field names whose values are secrets wherever they appear (form bodies, query
/// strings, JSON bodies, callback parameters).
pub const SECRET_NAMES: &[&str] = &[
    "code",
    "code_verifier",
    "client_secret",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "registration_access_token",
    "password",
];

/// The members of a JWK that hold private key material (RFC 7518 §6.2.2, §6.3.2, §6.4): a
/// JWK Set that carries them hands out a private key, which is masked like any secret.
pub const JWK_PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Whether a parameter or field called `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    SECRET_NAMES.contains(&name)
}

/// The fingerprint shown instead of a secret.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("redacted.{hex}")
}

/// A secret value (a code, a token, a client secret). `Debug` and `Display` print its
/// fingerprint; the value is reached only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The value itself, to put on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", fingerprint(&self.0))
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&fingerprint(&self.0))
    }
}

/// The forms a secret can come back in: as sent, form- and percent-encoded (as a server that
/// echoes a request body or query shows it), JSON-escaped, and base64 (standard and URL-safe,
/// padded or not, as an echoed `Authorization: Basic` or a token that embeds it shows it).
pub fn encodings(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let mut out = vec![
        secret.to_owned(),
        form.replace('+', "%20"),
        form,
        serde_json::to_string(secret)
            .map(|j| j.trim_matches('"').to_owned())
            .unwrap_or_default(),
    ];
    // Only whole base64 quanta are sure to appear verbatim inside a longer encoded text; a
    // short secret is matched as its own encoding.
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        out.push(engine.encode(secret));
    }
    out.retain(|v| !v.is_empty());
    out.sort();
    out.dedup();
    out
}

/// Form-encodes `params` with the values of secret names replaced by fingerprints.
pub fn params(params: &crate::params::Params) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (n, v) in params.iter() {
        if is_secret_name(n) && !v.is_empty() {
            s.append_pair(n, &fingerprint(v));
        } else {
            s.append_pair(n, v);
        }
    }
    s.finish()
}

/// The shortest start of a known secret masked where a text cuts it: shorter starts are too
/// common in ordinary text to mask.
const MIN_CUT_SECRET: usize = 8;

/// A JWT-shaped run starting at `i` (not inside a longer word): its length and fingerprint.
fn jwt_at(bytes: &[u8], i: usize) -> Option<(usize, String)> {
    let jwt_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.');
    if !bytes[i..].starts_with(b"eyJ") || (i > 0 && jwt_byte(bytes[i - 1])) {
        return None;
    }
    let len = bytes[i..].iter().take_while(|&&b| jwt_byte(b)).count();
    // ASCII only, so the run is valid UTF-8 on its own.
    let run = std::str::from_utf8(&bytes[i..i + len]).ok()?;
    (len >= 19).then(|| (len, fingerprint(run)))
}

/// Where a JSON string that starts at `s` (after its opening quote) ends: its closing quote,
/// or the end of `s` when it was cut.
fn string_end(s: &str) -> usize {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return i,
            _ => escaped = false,
        }
    }
    s.len()
}

/// The secrets one scenario has seen, and the ways to mask them in what it records.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Each pattern, ASCII-lower-cased, with the fingerprint that replaces it: every encoding of
    /// every secret, longest first so a secret that contains another is masked whole.
    patterns: Vec<(Vec<u8>, String)>,
    /// For each first byte, the patterns that start with it, in the order above.
    by_first: Vec<Vec<usize>>,
}

impl Redactor {
    /// A redactor that knows `secrets` already (client secrets, passwords).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut r = Self::default();
        for s in secrets {
            r.learn(&s);
        }
        r
    }

    /// Remembers a value to mask wherever it appears, in every encoding ([`encodings`]), however
    /// short: a three-character secret is still a secret (the target loader warns about it).
    pub fn learn(&mut self, value: &str) {
        if value.is_empty() {
            return;
        }
        let shown = fingerprint(value);
        for form in encodings(value) {
            self.add(form.to_ascii_lowercase().into_bytes(), &shown);
        }
        self.index();
    }

    /// Remembers a client's credentials as HTTP Basic carries them: `id:secret` in base64, with
    /// both parts form-encoded first (RFC 6749 §2.3.1) or not (what many clients send).
    pub fn learn_credentials(&mut self, id: &str, secret: &str) {
        self.learn(secret);
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        for pair in [
            format!("{id}:{secret}"),
            format!("{}:{}", enc(id), enc(secret)),
        ] {
            let shown = fingerprint(&pair);
            for form in encodings(&pair) {
                self.add(form.to_ascii_lowercase().into_bytes(), &shown);
            }
        }
        self.index();
    }

    /// The longest pattern, in bytes.
    pub fn longest(&self) -> usize {
        self.patterns.first().map_or(0, |(p, _)| p.len())
    }

    fn add(&mut self, pattern: Vec<u8>, shown: &str) {
        if self.patterns.iter().any(|(p, _)| *p == pattern) {
            return;
        }
        let at = self
            .patterns
            .iter()
            .position(|(p, _)| p.len() < pattern.len())
            .unwrap_or(self.patterns.len());
        self.patterns.insert(at, (pattern, shown.to_owned()));
    }

    /// Rebuilds [`Redactor::by_first`] once the patterns of one value are added (an insert
    /// moves the indices after it).
    fn index(&mut self) {
        self.by_first = vec![Vec::new(); 256];
        for (i, (p, _)) in self.patterns.iter().enumerate() {
            if let Some(&b) = p.first() {
                self.by_first[usize::from(b)].push(i);
            }
        }
    }

    /// Masks every known secret in `text`, in one pass: a fingerprint is never masked again.
    /// Also masked: a secret cut short where `text` ends or a preview's `…` cuts it (a prefix
    /// of eight bytes or more of a known secret), and every JWT by its shape (`eyJ` and sixteen
    /// or more base64url characters and dots: an ID Token, access token, assertion or proof,
    /// learned or not, whole or cut).
    pub fn text(&self, text: &str) -> String {
        let lower = text.to_ascii_lowercase();
        let (bytes, lower) = (text.as_bytes(), lower.as_bytes());
        let cuts: Vec<usize> = text
            .match_indices('…')
            .map(|(i, _)| i)
            .chain([text.len()])
            .collect();
        let mut next_cut = 0;
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            while cuts[next_cut] < i {
                next_cut += 1;
            }
            let cut = cuts[next_cut];
            // ASCII lower-casing keeps byte offsets, and a pattern starts with a lead byte, so a
            // match always starts and ends on character boundaries of `text`.
            let candidates = || {
                self.by_first
                    .get(usize::from(lower[i]))
                    .into_iter()
                    .flatten()
                    .map(|&k| &self.patterns[k])
            };
            let whole = candidates()
                .find(|(p, _)| lower[i..].starts_with(p))
                .map(|(p, shown)| (p.len(), shown.clone()));
            let cut_short = || {
                let tail = &lower[i..cut];
                (tail.len() >= MIN_CUT_SECRET)
                    .then(|| {
                        candidates().find(|(p, _)| p.len() > tail.len() && p.starts_with(tail))
                    })
                    .flatten()
                    .map(|(_, shown)| (tail.len(), shown.clone()))
            };
            match whole.or_else(cut_short).or_else(|| jwt_at(bytes, i)) {
                Some((len, shown)) => {
                    out.extend_from_slice(shown.as_bytes());
                    i += len;
                }
                None => {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
        }
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Learns the secrets a response hands out: secret-named JSON members (read from the text
    /// when the body is no JSON document: cut at the size cap, malformed), secret-named
    /// parameters of a `Location`, and cookie values.
    pub fn learn_from_response(
        &mut self,
        body: &str,
        json: Option<&serde_json::Value>,
        location: Option<&str>,
        set_cookies: &[&str],
    ) {
        match json {
            Some(serde_json::Value::Object(o)) => {
                for (k, v) in o {
                    if let (true, Some(s)) = (is_secret_name(k), v.as_str()) {
                        self.learn(s);
                    }
                }
                self.learn_private_keys(o);
            }
            Some(_) => {}
            None => self.learn_from_text(body),
        }
        if let Some(loc) = location {
            let params = loc.split(['?', '#']).skip(1).flat_map(|p| {
                url::form_urlencoded::parse(p.as_bytes())
                    .into_owned()
                    .collect::<Vec<_>>()
            });
            for (k, v) in params {
                if is_secret_name(&k) {
                    self.learn(&v);
                }
            }
        }
        for cookie in set_cookies {
            if let Some((_, v)) = cookie.split(';').next().and_then(|c| c.split_once('=')) {
                self.learn(v);
            }
        }
    }

    /// Learns the private members of a JWK (`o` itself) or of the keys of a JWK Set.
    fn learn_private_keys(&mut self, o: &serde_json::Map<String, serde_json::Value>) {
        let keys = match o.get("keys") {
            Some(serde_json::Value::Array(keys)) => {
                keys.iter().filter_map(|k| k.as_object()).collect()
            }
            _ if o.contains_key("kty") => vec![o],
            _ => Vec::new(),
        };
        for key in keys {
            for name in JWK_PRIVATE_MEMBERS {
                if let Some(s) = key.get(*name).and_then(serde_json::Value::as_str) {
                    self.learn(s);
                }
            }
        }
    }

    /// Learns from a body that is no JSON document what a JSON reader would have found: the
    /// value of every `"secret-name": "..."` member, and in what looks like a JWK (a `"kty"`
    /// member) of every private key member, up to its closing quote or the end of the text (a
    /// body cut inside the value). JWTs need no learning: [`Redactor::text`] masks them by
    /// shape.
    fn learn_from_text(&mut self, body: &str) {
        let mut found = Vec::new();
        let jwk = body.contains("\"kty\"");
        let names = SECRET_NAMES
            .iter()
            .chain(JWK_PRIVATE_MEMBERS.iter().filter(|_| jwk));
        for name in names {
            let key = format!("\"{name}\"");
            for (at, _) in body.match_indices(&key) {
                let rest = body[at + key.len()..].trim_start();
                let Some(rest) = rest.strip_prefix(':').map(str::trim_start) else {
                    continue;
                };
                let Some(value) = rest.strip_prefix('"') else {
                    continue;
                };
                let end = string_end(value);
                found.push(value[..end].to_owned());
            }
        }
        for value in found {
            self.learn(&value);
        }
    }

    /// A URL with secret-named query and fragment parameters fingerprinted and every known
    /// secret masked.
    pub fn url(&self, url: &url::Url) -> String {
        let mut u = url.clone();
        if let Some(p) = url.password() {
            let _ = u.set_password(Some(&fingerprint(p)));
        }
        if let Some(q) = url.query() {
            u.set_query(Some(&params(&crate::params::Params::parse(q))));
        }
        if let Some(f) = url.fragment() {
            u.set_fragment(Some(&params(&crate::params::Params::parse(f))));
        }
        self.text(u.as_str())
    }

    /// A form body with secret-named fields fingerprinted and every known secret masked.
    pub fn form(&self, body: &str) -> String {
        self.text(&params(&crate::params::Params::parse(body)))
    }

    /// A header value: credentials of `Authorization` and cookie values fingerprinted, a
    /// `Location` treated as a URL, anything else masked as text.
    pub fn header(&self, name: &str, value: &str) -> String {
        match name.to_ascii_lowercase().as_str() {
            "authorization" => match value.split_once(' ') {
                Some((scheme, cred)) => format!("{scheme} {}", fingerprint(cred)),
                None => fingerprint(value),
            },
            "cookie" | "set-cookie" => value
                .split(';')
                .map(|part| match part.split_once('=') {
                    Some((k, v))
                        if !k.trim().eq_ignore_ascii_case("path")
                            && !k.trim().eq_ignore_ascii_case("samesite") =>
                    {
                        format!("{k}={}", fingerprint(v))
                    }
                    _ => part.to_owned(),
                })
                .collect::<Vec<_>>()
                .join(";"),
            "location" => {
                url::Url::parse(value).map_or_else(|_| self.text(value), |u| self.url(&u))
            }
            _ => self.text(value),
        }
    }

    /// A JSON document with secret-named members fingerprinted and every string masked.
    pub fn json(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, val) in o.iter_mut() {
                    match val {
                        serde_json::Value::String(s) if is_secret_name(k) => *s = fingerprint(s),
                        other => self.json(other),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| self.json(v)),
            serde_json::Value::String(s) => *s = self.text(s),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_show_only_a_fingerprint() {
        let s = Secret::new("SplxlOBeZQQYbYS6WxSbIA");
        assert!(!format!("{s:?}{s}").contains("SplxlOBeZQQYbYS6WxSbIA"));
        assert_eq!(format!("{s}"), fingerprint("SplxlOBeZQQYbYS6WxSbIA"));
    }

    #[test]
    fn headers_show_fingerprints_of_credentials_and_cookies() {
        let r = Redactor::new(["s3cret-value".to_owned()]);
        let basic = r.header("Authorization", "Basic Y2xpZW50OnMzY3JldA==");
        assert_eq!(
            basic,
            format!("Basic {}", fingerprint("Y2xpZW50OnMzY3JldA=="))
        );
        let cookie = r.header("set-cookie", "sid=abc123; Path=/; SameSite=Lax");
        assert_eq!(
            cookie,
            format!("sid={}; Path=/; SameSite=Lax", fingerprint("abc123"))
        );
        let loc = r.header(
            "location",
            "https://c.example/cb?code=xyz&state=s&x=s3cret-value",
        );
        assert!(
            !loc.contains("xyz") && !loc.contains("s3cret-value") && loc.contains("state=s"),
            "{loc}"
        );
        assert_eq!(
            r.header("x-echo", "got s3cret-value"),
            format!("got {}", fingerprint("s3cret-value"))
        );
    }

    #[test]
    fn json_members_and_strings_are_masked() {
        let r = Redactor::new(["s3cret-value".to_owned()]);
        let mut v = serde_json::json!({"access_token": "at", "nested": [{"error_description": "bad s3cret-value"}]});
        r.json(&mut v);
        assert_eq!(v["access_token"], fingerprint("at"));
        assert_eq!(
            v["nested"][0]["error_description"],
            format!("bad {}", fingerprint("s3cret-value"))
        );
    }

    #[test]
    fn responses_teach_their_secrets() {
        let mut r = Redactor::default();
        let body = serde_json::json!({"access_token": "tok-1", "token_type": "Bearer"});
        r.learn_from_response(
            &body.to_string(),
            Some(&body),
            Some("https://c/cb?code=c0de&state=s"),
            &["sid=cookie1; Path=/"],
        );
        let out = r.text("tok-1 c0de cookie1 Bearer s");
        assert!(
            !out.contains("tok-1") && !out.contains("c0de") && !out.contains("cookie1"),
            "{out}"
        );
        assert!(out.contains("Bearer"), "{out}");
        assert_eq!(
            r.form("code_verifier=v&x=1"),
            format!("code_verifier={}&x=1", fingerprint("v"))
        );
    }

    /// A JWK Set that hands out a private key: its private members are masked, whole or cut,
    /// and its public ones stay readable.
    #[test]
    fn a_published_private_key_is_masked() {
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "k1", "n": "modulus-public", "e": "AQAB", "d": "private-exponent-d", "qi": "coefficient-qi"},
            {"kty": "oct", "k": "symmetric-key-k"},
        ]});
        let text = body.to_string();
        let mut r = Redactor::default();
        r.learn_from_response(&text, Some(&body), None, &[]);
        let out = r.text(&text);
        for secret in ["private-exponent-d", "coefficient-qi", "symmetric-key-k"] {
            assert!(!out.contains(secret), "{out}");
        }
        assert!(
            out.contains("modulus-public") && out.contains("k1"),
            "{out}"
        );
        let cut = &text[..text.find("coefficient").unwrap_or(text.len())];
        let mut r = Redactor::default();
        r.learn_from_response(cut, None, None, &[]);
        assert!(
            !r.text(cut).contains("private-exponent-d"),
            "{}",
            r.text(cut)
        );
    }

    /// A token response cut at the size cap, or malformed, is no JSON document: its tokens are
    /// still found, by member name (even cut inside the value) and by shape.
    #[test]
    fn secrets_in_a_cut_or_malformed_body_are_found() {
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
        let cut = format!(
            "{{\"access_token\" : \"at-0123456789\", \"token_type\": \"Bearer\", \"id_token\": \"{jwt}"
        );
        let mut r = Redactor::default();
        r.learn_from_response(&cut, None, None, &[]);
        let out = r.text(&cut);
        assert!(
            !out.contains("at-0123456789") && !out.contains("eyJ"),
            "{out}"
        );
        assert!(out.contains("Bearer"), "not secret, still shown: {out}");
        // A JWT whose member name was cut off, and one inside HTML.
        let mut r = Redactor::default();
        let page = format!("<p>{}</p>", &jwt[..40]);
        r.learn_from_response(&page, None, None, &[]);
        assert!(!r.text(&page).contains("eyJ"), "{}", r.text(&page));
        // A preview that cuts a learned secret short shows none of it.
        let mut r = Redactor::default();
        r.learn("AT-secret-0123456789");
        let out = r.text("got \"{\\\"access_token\\\":\\\"AT-secret-01…\" and AT-s");
        assert!(!out.contains("AT-secret"), "{out}");
        assert!(
            out.ends_with("and AT-s"),
            "a short start is ordinary text: {out}"
        );
        // Escapes inside a value do not end it early.
        let mut r = Redactor::default();
        let body = "{\"refresh_token\": \"rt-\\\"quoted\\\"-rest\"";
        r.learn_from_response(body, None, None, &[]);
        assert!(!r.text(body).contains("rest"), "{}", r.text(body));
    }

    #[test]
    fn longest_first_and_one_pass() {
        let r = Redactor::new(["secret".to_owned(), "secret-long".to_owned()]);
        let out = r.text("a=secret-long b=SECRET");
        assert_eq!(
            out,
            format!(
                "a={} b={}",
                fingerprint("secret-long"),
                fingerprint("secret")
            )
        );
        // A fingerprint is never masked again, even by a short secret it happens to contain.
        let r = Redactor::new(["red".to_owned()]);
        assert_eq!(r.text("red"), fingerprint("red"));
    }
}
