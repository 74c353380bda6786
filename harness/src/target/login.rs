//! How the harness gets past login and consent: the `login` section of a target file.
//!
//! Four drivers, for the four kinds of login page servers have: `auto` (none: the server
//! redirects at once), `form` (HTML forms, parsed as a browser parses them), `steps` (a
//! JavaScript application's API calls, replayed as HTTP requests in the user agent's cookie
//! jar), `browser` (headless Chromium runs the page's script). Everything here is checked while
//! the file loads, so a typo in a selector, a regex or a template name stops the run before any
//! request, at its line.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::{ConfigSecret, ConfigString};

/// How the harness gets past login and consent.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LoginConfig {
    /// The server redirects straight back to the client.
    Auto {},
    /// Fill and submit the HTML forms on the way.
    Form(FormLogin),
    /// Replay the login page's API calls: HTTP requests in the user agent's cookie jar, then
    /// resume the authorization.
    Steps(ScriptLogin),
    /// Run the pages in headless Chromium.
    Browser(BrowserLogin),
}

impl LoginConfig {
    /// The driver's name as the target file spells it.
    pub fn driver(&self) -> &'static str {
        match self {
            Self::Auto {} => "auto",
            Self::Form(_) => "form",
            Self::Steps(_) => "steps",
            Self::Browser(_) => "browser",
        }
    }

    /// Every value the login sends that the file holds, but the user name: all of them are
    /// treated as secrets (a password field need not be called `password`). A user name is
    /// shown: readers need it, and masking it would mask every mention of an ordinary word.
    pub fn values(&self) -> Vec<&str> {
        match self {
            Self::Auto {} => Vec::new(),
            Self::Form(f) => f
                .fields
                .iter()
                .filter(|(name, _)| !names_a_user(name))
                .map(|(_, v)| v.0.expose())
                .collect(),
            Self::Steps(s) => s.literals(),
            Self::Browser(b) => b
                .password
                .iter()
                .map(|v| v.0.expose())
                .chain(b.pages.iter().flat_map(|p| {
                    p.tasks.iter().filter_map(|t| match t {
                        Task::Text { value, .. } => Some(value.0.expose()),
                        _ => None,
                    })
                }))
                .collect(),
        }
    }
}

/// Whether a login field called `name` holds the user name (`username`, `login`, `email`,
/// `user_id`), not a password, PIN or code.
pub fn names_a_user(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["user", "login", "mail"].iter().any(|w| n.contains(w))
        && !["pass", "secret", "pin", "otp", "code", "token", "key"]
            .iter()
            .any(|w| n.contains(w))
}

/// The HTML form driver's settings.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormLogin {
    /// Values to fill in by control name (hidden inputs, selects and checked boxes keep their
    /// own values unless named here).
    pub fields: BTreeMap<String, ConfigSecret>,
    /// Which form to submit when a page has several; the first POST form by default.
    #[serde(default)]
    pub select: Option<FormSelector>,
    /// The most requests one login may take (1 to 100).
    #[serde(default = "max_steps", deserialize_with = "crate::bounds::login_steps")]
    #[schemars(range(min = 1, max = 100))]
    pub max_steps: usize,
}

fn max_steps() -> usize {
    12
}

/// Picks a form on a page; every criterion given must hold.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormSelector {
    /// The form's `id`.
    pub id: Option<String>,
    /// A substring of the form's `action`.
    pub action_contains: Option<String>,
    /// A CSS selector the form matches (`#consent`, `div.login > form`).
    pub css: Option<CssSelector>,
}

/// A CSS selector, checked while the file loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CssSelector(pub String);

impl<'de> Deserialize<'de> for CssSelector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        scraper::Selector::parse(&s)
            .map_err(|e| de::Error::custom(format!("{s:?} is not a CSS selector: {e}")))?;
        Ok(Self(s))
    }
}

/// The scripted driver: requests in order, then one `resume`.
#[derive(Debug, Clone, schemars::JsonSchema)]
#[schemars(with = "Vec<ScriptStep>")]
pub struct ScriptLogin {
    /// The API calls.
    pub requests: Vec<ApiRequest>,
    /// How the authorization goes on after them.
    pub resume: Resume,
}

/// One entry of `login.steps`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScriptStep {
    /// An HTTP request in the user agent's cookie jar.
    Request(ApiRequest),
    /// The last step: follow this URL in the user agent until the server sends it to the
    /// client.
    Resume(Resume),
}

impl<'de> Deserialize<'de> for ScriptLogin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut steps = Vec::<ScriptStep>::deserialize(d)?;
        let Some(ScriptStep::Resume(resume)) = steps.pop() else {
            return Err(de::Error::custom(
                "the last of login.steps must be a `resume` (the URL that continues the authorization)",
            ));
        };
        let mut requests = Vec::new();
        let mut known: Vec<&str> = Vec::new();
        let check = |t: &Template, known: &[&str], at: &str| -> Result<(), D::Error> {
            match t.unknown_name(known) {
                Some(n) => Err(de::Error::custom(format!(
                    "{at}: {{{{{n}}}}} is not extracted by an earlier step, nor one of {}",
                    Source::NAMES.join(", ")
                ))),
                None => Ok(()),
            }
        };
        for (i, step) in steps.iter().enumerate() {
            let ScriptStep::Request(r) = step else {
                return Err(de::Error::custom(format!(
                    "login.steps[{i}] is a resume, but only the last step may be one"
                )));
            };
            let at = format!("login.steps[{i}]");
            for t in r.templates() {
                check(t, &known, &at)?;
            }
            known.extend(r.extract.keys().map(String::as_str));
        }
        for t in std::iter::once(&resume.url).chain(resume.params.values()) {
            check(t, &known, "login.steps resume")?;
        }
        for step in steps {
            if let ScriptStep::Request(r) = step {
                requests.push(r);
            }
        }
        Ok(Self { requests, resume })
    }
}

impl ScriptLogin {
    fn literals(&self) -> Vec<&str> {
        self.requests
            .iter()
            .flat_map(ApiRequest::secret_templates)
            .chain(std::iter::once(&self.resume.url))
            .chain(self.resume.params.values())
            .flat_map(Template::secret_literals)
            .collect()
    }
}

/// An API call of a scripted login.
#[derive(Debug, Clone, schemars::JsonSchema)]
#[schemars(with = "RawRequest")]
pub struct ApiRequest {
    /// A name for messages.
    pub name: Option<String>,
    /// The method.
    pub method: ApiMethod,
    /// Where.
    pub url: Template,
    /// Request headers.
    pub headers: BTreeMap<String, Template>,
    /// The body.
    pub body: Option<ApiBody>,
    /// The statuses that mean the step worked; any 2xx or 3xx when none are given.
    pub expect_status: Vec<u16>,
    /// Values to take from the response, by name, for later templates.
    pub extract: BTreeMap<String, Extractor>,
}

/// An API call as written.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    /// A name for messages; `step N` by default.
    #[serde(default)]
    name: Option<String>,
    /// GET, POST, PUT, PATCH or DELETE; GET by default.
    #[serde(default)]
    method: ApiMethod,
    /// Relative to the issuer (or the authorization endpoint without issuer), or absolute.
    url: Template,
    /// Request headers.
    #[serde(default)]
    headers: BTreeMap<String, Template>,
    /// An `application/x-www-form-urlencoded` body, fields by name.
    #[serde(default)]
    form: Option<BTreeMap<String, Template>>,
    /// An `application/json` body; every string in it is a template.
    #[serde(default)]
    json: Option<JsonTemplate>,
    /// The statuses that mean the step worked; any 2xx or 3xx by default.
    #[serde(default)]
    expect_status: Option<crate::scenario::model::OneOrMany<u16>>,
    /// Values to take from the response, by name, for later templates.
    #[serde(default)]
    extract: BTreeMap<String, Extractor>,
}

impl<'de> Deserialize<'de> for ApiRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawRequest::deserialize(d)?;
        let body = match (r.form, r.json) {
            (Some(_), Some(_)) => {
                return Err(de::Error::custom(
                    "a request has a form or a json body, not both",
                ));
            }
            (Some(f), None) => Some(ApiBody::Form(f)),
            (None, Some(j)) => Some(ApiBody::Json(j)),
            (None, None) => None,
        };
        Ok(Self {
            name: r.name,
            method: r.method,
            url: r.url,
            headers: r.headers,
            body,
            expect_status: r.expect_status.map(|s| s.0).unwrap_or_default(),
            extract: r.extract,
        })
    }
}

impl ApiRequest {
    /// Every template of the request, in the order it is rendered.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = vec![&self.url];
        out.extend(self.headers.values());
        match &self.body {
            Some(ApiBody::Form(f)) => out.extend(f.values()),
            Some(ApiBody::Json(j)) => out.extend(j.templates()),
            None => {}
        }
        out
    }
}

impl ApiRequest {
    /// The templates that may hold a credential: all but a user name field's.
    fn secret_templates(&self) -> Vec<&Template> {
        let mut out = vec![&self.url];
        out.extend(self.headers.values());
        match &self.body {
            Some(ApiBody::Form(f)) => out.extend(
                f.iter()
                    .filter(|(name, _)| !names_a_user(name))
                    .map(|(_, t)| t),
            ),
            Some(ApiBody::Json(j)) => out.extend(j.secret_templates(None)),
            None => {}
        }
        out
    }
}

/// Methods an API call may use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ApiMethod {
    /// GET
    #[default]
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

/// A request body: a form or a JSON document.
#[derive(Debug, Clone)]
pub enum ApiBody {
    /// `application/x-www-form-urlencoded`, fields by name.
    Form(BTreeMap<String, Template>),
    /// `application/json`; every string in it is a template.
    Json(JsonTemplate),
}

/// A JSON document whose strings are templates.
#[derive(Debug, Clone, schemars::JsonSchema)]
#[schemars(with = "serde_json::Value")]
pub enum JsonTemplate {
    /// A string: rendered.
    String(Template),
    /// An array.
    Array(Vec<JsonTemplate>),
    /// An object.
    Object(BTreeMap<String, JsonTemplate>),
    /// A number, boolean or null: as written.
    Other(serde_json::Value),
}

impl<'de> Deserialize<'de> for JsonTemplate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        fn convert(v: serde_json::Value) -> Result<JsonTemplate, TemplateError> {
            Ok(match v {
                serde_json::Value::String(s) => JsonTemplate::String(Template::parse(&s)?),
                serde_json::Value::Array(a) => {
                    JsonTemplate::Array(a.into_iter().map(convert).collect::<Result<_, _>>()?)
                }
                serde_json::Value::Object(o) => JsonTemplate::Object(
                    o.into_iter()
                        .map(|(k, v)| Ok((k, convert(v)?)))
                        .collect::<Result<_, TemplateError>>()?,
                ),
                other => JsonTemplate::Other(other),
            })
        }
        convert(serde_json::Value::deserialize(d)?).map_err(de::Error::custom)
    }
}

impl JsonTemplate {
    fn templates(&self) -> Vec<&Template> {
        match self {
            Self::String(t) => vec![t],
            Self::Array(a) => a.iter().flat_map(Self::templates).collect(),
            Self::Object(o) => o.values().flat_map(Self::templates).collect(),
            Self::Other(_) => Vec::new(),
        }
    }

    /// Its templates but those under a member that names the user.
    fn secret_templates(&self, key: Option<&str>) -> Vec<&Template> {
        match self {
            Self::String(_) if key.is_some_and(names_a_user) => Vec::new(),
            Self::String(t) => vec![t],
            Self::Array(a) => a.iter().flat_map(|v| v.secret_templates(key)).collect(),
            Self::Object(o) => o
                .iter()
                .flat_map(|(k, v)| v.secret_templates(Some(k)))
                .collect(),
            Self::Other(_) => Vec::new(),
        }
    }

    /// The document with every template rendered by `render`.
    pub fn render<E>(
        &self,
        render: &mut impl FnMut(&Template) -> Result<String, E>,
    ) -> Result<serde_json::Value, E> {
        Ok(match self {
            Self::String(t) => serde_json::Value::String(render(t)?),
            Self::Array(a) => serde_json::Value::Array(
                a.iter()
                    .map(|x| x.render(render))
                    .collect::<Result<_, _>>()?,
            ),
            Self::Object(o) => serde_json::Value::Object(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(render)?)))
                    .collect::<Result<_, E>>()?,
            ),
            Self::Other(v) => v.clone(),
        })
    }
}

/// Where a value for a later template comes from.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Extractor {
    /// A JSON pointer (RFC 6901) into the response body: `/ticket`, `/data/0/id`.
    Json(String),
    /// A response header.
    Header(String),
    /// A query parameter of the response's `Location`, or of the request URL when there is
    /// none.
    Query(String),
    /// The first capture group (or the whole match) of a regular expression on the body.
    Regex(Pattern),
}

/// A regular expression, compiled while the file loads.
#[derive(Debug, Clone, schemars::JsonSchema)]
#[schemars(with = "String")]
pub struct Pattern(pub regex_lite::Regex);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        regex_lite::Regex::new(&s)
            .map(Self)
            .map_err(|e| de::Error::custom(format!("{s:?} is not a regular expression: {e}")))
    }
}

/// The step that continues the authorization.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// The URL to follow (relative to the issuer, or absolute).
    pub url: Template,
    /// Query parameters added to it, or replaced when it has them.
    #[serde(default)]
    pub params: BTreeMap<String, Template>,
}

/// A string with `{{name}}` placeholders filled in while the login runs (`${env:NAME}` is
/// replaced while the file loads, as everywhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(pub Vec<Part>);

/// A piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text as written (after `${env:}`).
    Literal(String),
    /// A value known only while the login runs.
    Value(Source),
}

/// What a `{{...}}` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `{{client_id}}` of the flow.
    ClientId,
    /// `{{scope}}` of the authorization request (empty without one).
    Scope,
    /// `{{redirect_uri}}` of the flow.
    RedirectUri,
    /// `{{state}}` of the authorization request.
    State,
    /// `{{url}}`: the page the authorization request landed on.
    Url,
    /// `{{query:NAME}}`: a query parameter of that page's URL.
    Query(String),
    /// `{{authorize:NAME}}`: a query parameter of the authorization request.
    Authorize(String),
    /// `{{NAME}}`: a value an earlier step extracted.
    Extracted(String),
}

impl Source {
    /// The names a template may use besides extracted values.
    pub const NAMES: [&'static str; 7] = [
        "client_id",
        "scope",
        "redirect_uri",
        "state",
        "url",
        "query:NAME",
        "authorize:NAME",
    ];

    fn parse(name: &str) -> Result<Self, TemplateError> {
        Ok(match name {
            "client_id" => Self::ClientId,
            "scope" => Self::Scope,
            "redirect_uri" => Self::RedirectUri,
            "state" => Self::State,
            "url" => Self::Url,
            _ => match name.split_once(':') {
                Some(("query", p)) if !p.is_empty() => Self::Query(p.to_owned()),
                Some(("authorize", p)) if !p.is_empty() => Self::Authorize(p.to_owned()),
                None if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    Self::Extracted(name.to_owned())
                }
                _ => return Err(TemplateError::Name(name.to_owned())),
            },
        })
    }
}

/// Why a login step's template is not one the driver can fill in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `${env:NAME}` that cannot be substituted.
    #[error(transparent)]
    Interpolate(#[from] super::InterpolateError),
    /// `{{` without its `}}`.
    #[error("unclosed {{{{ in {0:?}")]
    Unclosed(String),
    /// A name that is neither a known value nor a name an `extract` could give.
    #[error(
        "{{{{{0}}}}} is not a template name: use one of {names} or a name from `extract`",
        names = Source::NAMES.join(", ")
    )]
    Name(String),
}

impl Template {
    /// Parses `{{name}}` placeholders after replacing `${env:NAME}`.
    pub fn parse(s: &str) -> Result<Self, TemplateError> {
        let s = super::interpolate(s)?;
        let mut parts = Vec::new();
        let mut rest = s.as_str();
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| TemplateError::Unclosed(s.clone()))?;
            parts.push(Part::Value(Source::parse(after[..end].trim())?));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Self(parts))
    }

    /// Renders the template with `value` for each placeholder.
    pub fn render<E>(
        &self,
        value: &mut impl FnMut(&Source) -> Result<String, E>,
    ) -> Result<String, E> {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Value(v) => out.push_str(&value(v)?),
            }
        }
        Ok(out)
    }

    fn unknown_name<'a>(&'a self, known: &[&str]) -> Option<&'a str> {
        self.0.iter().find_map(|p| match p {
            Part::Value(Source::Extracted(n)) if !known.contains(&n.as_str()) => Some(n.as_str()),
            _ => None,
        })
    }

    /// Literal text long enough to be a credential: kept out of evidence like a form field.
    fn secret_literals(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|p| match p {
                Part::Literal(s) if s.len() >= 4 && !s.contains('/') => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// The browser driver's settings.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserLogin {
    /// Typed into the user name field the driver finds (by type and name) on a page no
    /// `pages` entry matches.
    #[serde(default)]
    pub username: Option<ConfigSecret>,
    /// Typed into the password field it finds.
    #[serde(default)]
    pub password: Option<ConfigSecret>,
    /// Chromium's executable; `$PKCE_HARNESS_BROWSER`, else `chromium` or `chromium-browser` on PATH, by
    /// default.
    #[serde(default)]
    pub executable: Option<ConfigString>,
    /// What to do on pages whose URL matches, in the OpenID Foundation suite's terms; the first
    /// entry that matches a page wins.
    #[serde(default)]
    pub pages: Vec<BrowserPage>,
    /// How long one login may take, in seconds (1 to 120).
    #[serde(
        default = "browser_timeout",
        deserialize_with = "crate::bounds::browser_seconds"
    )]
    #[schemars(range(min = 1, max = 120))]
    pub timeout_seconds: u64,
}

fn browser_timeout() -> u64 {
    15
}

/// The tasks for pages whose URL matches a pattern.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserPage {
    /// A URL pattern, `*` matching any run of characters (`*/login*`).
    #[serde(rename = "match")]
    pub url: UrlPattern,
    /// What to do there, in order.
    pub tasks: Vec<Task>,
}

/// A browser task.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Task {
    /// Type `value` into the element `selector` finds.
    Text {
        /// A CSS selector.
        selector: CssSelector,
        /// What to type.
        value: ConfigSecret,
    },
    /// Click the element `selector` finds.
    Click(CssSelector),
    /// Wait until an element matches `selector`, or the URL matches `url`.
    Wait(WaitFor),
}

/// What a `wait` task waits for.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WaitFor {
    /// An element.
    Selector(CssSelector),
    /// The page's URL.
    Url(UrlPattern),
}

/// A URL pattern: `*` matches any run of characters, everything else itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct UrlPattern(pub String);

impl UrlPattern {
    /// Whether `url` matches the whole pattern.
    pub fn matches(&self, url: &str) -> bool {
        let mut pieces = self.0.split('*');
        let first = pieces.next().unwrap_or_default();
        let Some(mut rest) = url.strip_prefix(first) else {
            return false;
        };
        let pieces: Vec<&str> = pieces.collect();
        for (i, piece) in pieces.iter().enumerate() {
            if i + 1 == pieces.len() {
                return rest.ends_with(piece);
            }
            match rest.find(piece) {
                Some(at) => rest = &rest[at + piece.len()..],
                None => return false,
            }
        }
        rest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_patterns_match_whole_urls() {
        let p = UrlPattern("*/login*".into());
        assert!(p.matches("http://h/login?tx=1"));
        assert!(!p.matches("http://h/consent"));
        assert!(UrlPattern("http://h/a".into()).matches("http://h/a"));
        assert!(!UrlPattern("http://h/a".into()).matches("http://h/ab"));
        assert!(UrlPattern("*".into()).matches(""));
        assert!(UrlPattern("a*b*c".into()).matches("aXbYc"));
        assert!(!UrlPattern("a*b*c".into()).matches("aXcYb"));
    }

    #[test]
    fn templates_name_their_sources() {
        let t = Template::parse("/api/{{ query:tx }}/{{client_id}}?t={{ticket}}").expect("ok");
        let mut seen = Vec::new();
        let out: Result<String, ()> = t.render(&mut |s| {
            seen.push(s.clone());
            Ok("x".into())
        });
        assert_eq!(out.as_deref(), Ok("/api/x/x?t=x"));
        assert_eq!(
            seen,
            [
                Source::Query("tx".into()),
                Source::ClientId,
                Source::Extracted("ticket".into())
            ]
        );
        assert!(Template::parse("{{nope:x}}").is_err());
        assert!(Template::parse("{{open").is_err());
    }

    fn script(yaml: &str) -> Result<ScriptLogin, String> {
        serde_saphyr::from_str::<ScriptLogin>(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn steps_end_with_one_resume_and_use_only_earlier_extracts() {
        let ok = script(
            "- request: {method: POST, url: /api, json: {u: '{{query:tx}}', n: 1}, extract: {t: {json: /t}}}\n- resume: {url: '{{query:return_to}}', params: {t: '{{t}}'}}\n",
        )
        .expect("valid");
        assert_eq!(ok.requests.len(), 1);
        assert!(matches!(ok.requests[0].body, Some(ApiBody::Json(_))));
        let e = script("- request: {url: /a}\n").expect_err("no resume");
        assert!(e.contains("must be a `resume`"), "{e}");
        let e = script("- request: {url: '/a/{{t}}'}\n- resume: {url: /r}\n").expect_err("unknown");
        assert!(e.contains("{{t}} is not extracted"), "{e}");
        let e = script("- resume: {url: /r}\n- resume: {url: /r}\n").expect_err("two");
        assert!(e.contains("only the last"), "{e}");
        let e = script("- request: {url: /a, extract: {t: {regex: '('}}}\n- resume: {url: /r}\n")
            .expect_err("bad regex");
        assert!(e.contains("not a regular expression"), "{e}");
    }
}
