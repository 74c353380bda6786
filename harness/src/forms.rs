//! Just enough HTML to find forms: the `form_post` response mode (OAuth 2.0 Form Post Response
//! Mode) and the login and consent pages the form driver fills in.
//!
//! A tolerant scanner, not a parser: it reads `<form>`, `<input>` and named `<button>` tags with
//! their attributes, decodes character references, and ignores everything else. It is bounded
//! (body size, forms, inputs) and never panics; the fuzz target `callback_parse` runs it.

/// The largest body scanned; the rest is ignored.
pub const MAX_BODY: usize = 1 << 20;
const MAX_FORMS: usize = 64;
const MAX_INPUTS: usize = 256;

/// A `<form>` and the controls inside it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Form {
    /// The `action` attribute, undecoded as a URL (resolve it against the page URL).
    pub action: Option<String>,
    /// The `method`, lower-cased; `get` when absent (the HTML default).
    pub method: String,
    /// The `id` attribute.
    pub id: Option<String>,
    /// The `name` attribute.
    pub name: Option<String>,
    /// Named controls in document order.
    pub inputs: Vec<Input>,
}

/// A named `<input>` or `<button>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The `name` attribute.
    pub name: String,
    /// The `value` attribute, `""` when absent.
    pub value: String,
    /// The `type`, lower-cased (`text` when absent; `submit` for buttons without one).
    pub kind: String,
}

/// The `<title>` text, if any: used in "stuck on a page" errors.
pub fn title(html: &str) -> Option<String> {
    let html = &html[..floor_char_boundary(html, MAX_BODY)];
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    Some(decode_entities(html[open_end..close].trim()))
}

/// The first `<h1>`..`<h3>` text, tags stripped: what an error page says, for messages.
pub fn heading(html: &str) -> Option<String> {
    let html = &html[..floor_char_boundary(html, MAX_BODY)];
    let lower = html.to_ascii_lowercase();
    let start = ["<h1", "<h2", "<h3"]
        .iter()
        .filter_map(|t| lower.find(t))
        .min()?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</h")?;
    let mut text = String::new();
    let mut in_tag = false;
    for c in html[open_end..close].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = decode_entities(
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .as_str(),
    );
    (!text.is_empty()).then(|| text.chars().take(160).collect())
}

/// Whether the page holds a form with a password field: a login form.
pub fn has_login_form(html: &str) -> bool {
    forms(html)
        .iter()
        .any(|f| f.inputs.iter().any(|i| i.kind == "password"))
}

/// Every form of the page, in document order.
pub fn forms(html: &str) -> Vec<Form> {
    let html = &html[..floor_char_boundary(html, MAX_BODY)];
    let mut forms: Vec<Form> = Vec::new();
    let mut open = false;
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let closing = usize::from(rest.starts_with('/'));
        let name_len = closing
            + rest[closing..]
                .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
                .unwrap_or(rest.len() - closing);
        let tag = rest[..name_len].to_ascii_lowercase();
        let Some(gt) = tag_end(&rest[name_len..]) else {
            break;
        };
        let attrs = parse_attrs(&rest[name_len..name_len + gt]);
        rest = &rest[name_len + gt..];
        match tag.as_str() {
            "form" if forms.len() < MAX_FORMS => {
                forms.push(Form {
                    action: attr(&attrs, "action"),
                    method: attr(&attrs, "method").map_or("get".into(), |m| m.to_ascii_lowercase()),
                    id: attr(&attrs, "id"),
                    name: attr(&attrs, "name"),
                    inputs: Vec::new(),
                });
                open = true;
            }
            "/form" => open = false,
            "input" | "button" if open => {
                let Some(form) = forms.last_mut() else {
                    continue;
                };
                let Some(name) = attr(&attrs, "name") else {
                    continue;
                };
                if form.inputs.len() >= MAX_INPUTS {
                    continue;
                }
                let default_kind = if tag == "button" { "submit" } else { "text" };
                form.inputs.push(Input {
                    name,
                    value: attr(&attrs, "value").unwrap_or_default(),
                    kind: attr(&attrs, "type")
                        .map_or(default_kind.into(), |t| t.to_ascii_lowercase()),
                });
            }
            _ => {}
        }
    }
    forms
}

/// The offset of the `>` that ends a tag, skipping quoted attribute values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_attrs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        if start == i {
            i += 1;
            continue;
        }
        let name = s[start..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vstart = i + 1;
                let vend = b[vstart..]
                    .iter()
                    .position(|&c| c == q)
                    .map_or(b.len(), |p| vstart + p);
                value = decode_entities(&s[vstart..vend]);
                i = (vend + 1).min(b.len());
            } else {
                let vstart = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = decode_entities(&s[vstart..i]);
            }
        }
        out.push((name, value));
    }
    out
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

/// Decodes the character references a server is likely to emit in attribute values.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest[1..]
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| {
                let entity = &rest[1..=semi];
                let ch = match entity {
                    "amp" => Some('&'),
                    "lt" => Some('<'),
                    "gt" => Some('>'),
                    "quot" => Some('"'),
                    "apos" => Some('\''),
                    _ => entity.strip_prefix('#').and_then(|num| {
                        let code = match num.strip_prefix(['x', 'X']) {
                            Some(hex) => u32::from_str_radix(hex, 16).ok(),
                            None => num.parse().ok(),
                        };
                        code.and_then(char::from_u32)
                    }),
                };
                ch.map(|c| (c, semi + 2))
            });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The largest index ≤ `max` that is a char boundary of `s`.
fn floor_char_boundary(s: &str, max: usize) -> usize {
    if max >= s.len() {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_forms_hidden_inputs_and_buttons() {
        let html = r#"<html><title>Sign in &amp; go</title><!-- <form action="/no"> -->
          <form method="POST" action="/login?x=1&amp;y=2" id=login>
            <input type="hidden" name="csrf" value='t&#x3D;k'>
            <input name=username><input type="password" name="password" />
            <button type="submit" name="submit" value="yes">OK</button>
          </form><input name="outside">"#;
        let forms = forms(html);
        assert_eq!(forms.len(), 1);
        let f = &forms[0];
        assert_eq!(f.action.as_deref(), Some("/login?x=1&y=2"));
        assert_eq!(f.method, "post");
        assert_eq!(f.id.as_deref(), Some("login"));
        let names: Vec<_> = f
            .inputs
            .iter()
            .map(|i| (i.name.as_str(), i.value.as_str(), i.kind.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("csrf", "t=k", "hidden"),
                ("username", "", "text"),
                ("password", "", "password"),
                ("submit", "yes", "submit")
            ]
        );
        assert_eq!(title(html).as_deref(), Some("Sign in & go"));
    }

    #[test]
    fn truncated_markup_does_not_panic() {
        for html in [
            "<form",
            "<form action=\"",
            "<input name=a value='",
            "&#xFFFFFFFF;",
            "<\u{e9}",
        ] {
            let _ = forms(html);
            let _ = title(html);
        }
    }
}
