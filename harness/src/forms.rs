//! HTML as a browser reads it, for the pages between the authorization request and the
//! client: the `form_post` response mode (OAuth 2.0 Form Post Response Mode) and the login and
//! consent pages the form driver fills in.
//!
//! The page is parsed by html5ever (through `scraper`), the WHATWG parser browsers implement, so
//! what the harness submits is what a browser would: every named character reference decoded,
//! misnested and unclosed tags repaired, `<select>`, checkboxes, radios, `<textarea>`, disabled
//! controls, `form=` owners and the pressed button's `formaction` handled as the HTML standard's
//! "constructing the entry list" says. It is bounded (body size, forms, controls) and never
//! panics; the fuzz target `callback_parse` runs it.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Selector};

/// The largest body read; the rest is ignored.
pub const MAX_BODY: usize = 1 << 20;
const MAX_FORMS: usize = 64;
const MAX_CONTROLS: usize = 256;

/// A page, parsed once: what the login drivers and the error messages need of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// The `<title>` text.
    pub title: Option<String>,
    /// The first `<h1>`..`<h3>` text: what an error page says.
    pub heading: Option<String>,
    /// The first paragraph-like text that is neither title nor heading: where an error page
    /// behind a generic heading ("Oops! Something went wrong") names the cause. Bounded, with
    /// whitespace collapsed and control characters dropped.
    pub message: Option<String>,
    /// Every form, in document order.
    pub forms: Vec<Form>,
    /// Whether the page runs script (`<script>` elements): a page without a form that runs
    /// script logs in through JavaScript, which only the browser or scripted driver can follow.
    pub has_script: bool,
}

/// A `<form>` and the controls it owns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Form {
    /// The `action` attribute, undecoded as a URL (resolve it against the page URL).
    pub action: Option<String>,
    /// The `method`, lower-cased; `get` when absent (the HTML default).
    pub method: String,
    /// The `id` attribute.
    pub id: Option<String>,
    /// Whether the form matched the configured CSS selector (always `false` without one).
    pub selected: bool,
    /// Named controls in tree order.
    pub controls: Vec<Control>,
}

/// A named, enabled form control and what it would submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// The `name` attribute.
    pub name: String,
    /// What it submits: the value of an input, the selected options of a select (several when
    /// `multiple`), a textarea's text. Empty for an unchecked checkbox or radio.
    pub values: Vec<String>,
    /// What kind of control it is.
    pub kind: ControlKind,
}

/// Kinds of control, as far as submission is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlKind {
    /// A text-like input (text, email, hidden, ...), with its `type`, lower-cased.
    Input(String),
    /// `type=password`.
    Password,
    /// A checkbox or radio: submitted only when checked (`values` is then its value).
    Checkable {
        /// Whether it is checked.
        checked: bool,
    },
    /// A `<select>`.
    Select,
    /// A `<textarea>`.
    TextArea,
    /// A submit button (`<button>`, `type=submit` or `type=image`): submitted only when pressed.
    Submit {
        /// The button's `formaction`, which wins over the form's `action`.
        formaction: Option<String>,
        /// An image button submits `name.x` and `name.y`.
        image: bool,
        /// What it says: a `<button>`'s text, an input's `value` or `alt`.
        label: String,
    },
}

impl Form {
    /// Whether the form has a password field: a login form.
    pub fn is_login(&self) -> bool {
        self.controls
            .iter()
            .any(|c| c.kind == ControlKind::Password)
    }

    /// The first submit button: the one a user presses.
    pub fn submitter(&self) -> Option<&Control> {
        self.controls
            .iter()
            .find(|c| matches!(c.kind, ControlKind::Submit { .. }))
    }

    /// The index among [`Form::controls`] of a submit button that declines (deny, cancel,
    /// reject, decline, refuse, no), by its label, value or name.
    pub fn declining_button(&self) -> Option<usize> {
        self.controls.iter().position(|c| {
            let ControlKind::Submit { label, .. } = &c.kind else {
                return false;
            };
            let said = format!("{label} {} {}", c.values.concat(), c.name).to_lowercase();
            ["deny", "cancel", "reject", "decline", "refuse"]
                .iter()
                .any(|w| said.contains(w))
                || said
                    .split(|ch: char| !ch.is_alphanumeric())
                    .any(|w| w == "no")
        })
    }

    /// The action the first submit button posts to: its `formaction`, else the form's.
    pub fn action_with_submitter(&self) -> Option<&str> {
        self.action_pressing(None)
    }

    /// The action the button at `pressed` (the first submit button when `None`) posts to.
    pub fn action_pressing(&self, pressed: Option<usize>) -> Option<&str> {
        let button = match pressed {
            Some(i) => self.controls.get(i),
            None => self.submitter(),
        };
        match button.map(|c| &c.kind) {
            Some(ControlKind::Submit {
                formaction: Some(a),
                ..
            }) => Some(a),
            _ => self.action.as_deref(),
        }
    }

    /// The entry list a browser builds when the first submit button is pressed: controls in
    /// tree order, `fill` replacing values by name (a filled checkbox is submitted checked),
    /// unchecked boxes and the other buttons left out.
    pub fn entries(&self, fill: &BTreeMap<&str, &str>) -> Vec<(String, String)> {
        self.entries_pressing(fill, None)
    }

    /// [`Form::entries`] with the button at `pressed` pressed (the first submit button when
    /// `None`).
    pub fn entries_pressing(
        &self,
        fill: &BTreeMap<&str, &str>,
        pressed: Option<usize>,
    ) -> Vec<(String, String)> {
        let pressed = pressed.or_else(|| {
            self.controls
                .iter()
                .position(|c| matches!(c.kind, ControlKind::Submit { .. }))
        });
        let mut out = Vec::new();
        for (i, c) in self.controls.iter().enumerate() {
            let filled = fill.get(c.name.as_str()).copied();
            match &c.kind {
                ControlKind::Submit { image, .. } => {
                    if Some(i) != pressed {
                        continue;
                    }
                    if *image {
                        out.push((format!("{}.x", c.name), "0".into()));
                        out.push((format!("{}.y", c.name), "0".into()));
                    } else {
                        out.push((c.name.clone(), c.values.concat()));
                    }
                }
                ControlKind::Checkable { checked } => match filled {
                    Some(v) => out.push((c.name.clone(), v.to_owned())),
                    None if *checked => out.push((c.name.clone(), c.values.concat())),
                    None => {}
                },
                _ => match filled {
                    Some(v) => out.push((c.name.clone(), v.to_owned())),
                    None => out.extend(c.values.iter().map(|v| (c.name.clone(), v.clone()))),
                },
            }
        }
        // A filled radio group submits once, with the filled value.
        let mut seen_filled = std::collections::BTreeSet::new();
        out.retain(|(n, _)| !fill.contains_key(n.as_str()) || seen_filled.insert(n.clone()));
        out
    }
}

impl Page {
    /// Parses `html` (its first [`MAX_BODY`] bytes); `form_css` marks the forms it matches
    /// (an invalid selector marks none: target files validate theirs when they load).
    pub fn parse(html: &str, form_css: Option<&str>) -> Self {
        let html = &html[..floor_char_boundary(html, MAX_BODY)];
        let doc = Html::parse_document(html);
        let wanted: Vec<ElementRef> = form_css
            .and_then(|css| Selector::parse(css).ok())
            .map(|s| doc.select(&s).collect())
            .unwrap_or_default();
        let forms = doc
            .select(&sel("form"))
            .take(MAX_FORMS)
            .map(|f| read_form(&doc, f, wanted.contains(&f)))
            .collect();
        let title = doc.select(&sel("title")).next().map(|t| text(t, 160));
        let heading = doc
            .select(&sel("h1, h2, h3"))
            .map(|h| text(h, 160))
            .find(|t| !t.is_empty());
        let message = doc
            .select(&sel(
                "[role=alert], .error, .alert, p, li, pre, dd, td, label, span, div",
            ))
            .filter(|e| !e.children().any(|c| c.value().is_element()) || e.value().name() == "p")
            .map(|e| text(e, 200))
            .find(|t| !t.is_empty() && Some(t) != title.as_ref() && Some(t) != heading.as_ref());
        Self {
            title,
            heading,
            message,
            forms,
            has_script: doc.select(&sel("script")).next().is_some(),
        }
    }

    /// What the page holds, for a login drive that ended on it.
    pub fn kind(&self) -> PageKind {
        if self.forms.iter().any(Form::is_login) {
            PageKind::LoginForm
        } else if self.forms.iter().any(|f| f.method == "post") {
            PageKind::Form
        } else if self.has_script {
            PageKind::Script
        } else {
            PageKind::Plain
        }
    }
}

/// What a page that ended a login drive holds: it tells which login driver would get past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// Text only: an error page, or a page the harness cannot act on.
    #[default]
    Plain,
    /// A form with a password field: the form driver fills it.
    LoginForm,
    /// A POST form without a password field (consent, account choice): the form driver
    /// submits it.
    Form,
    /// No POST form, but script: the page logs in through JavaScript, which the browser
    /// driver runs and the scripted driver replays.
    Script,
}

impl PageKind {
    /// Whether this is the `Plain` kind (for serde's `skip_serializing_if`).
    pub fn is_plain(&self) -> bool {
        *self == Self::Plain
    }
}

/// A selector the code spells as a constant.
fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|_| unreachable!("constant selector {css} parses"))
}

/// An element's text, whitespace collapsed, at most `max` characters.
fn text(e: ElementRef, max: usize) -> String {
    let joined: String = e.text().collect();
    joined
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect()
}

fn read_form(doc: &Html, form: ElementRef, selected: bool) -> Form {
    let a = |n: &str| form.value().attr(n).map(str::to_owned);
    let id = a("id");
    // The controls the form owns: its descendants without a `form=` pointing elsewhere, and
    // any control elsewhere whose `form=` names it (HTML §4.10.17.3), in tree order.
    let owned = doc
        .select(&sel("input, button, select, textarea"))
        .filter(|c| match c.value().attr("form") {
            Some(owner) => id.as_deref() == Some(owner),
            None => c.ancestors().any(|n| n.id() == form.id()),
        })
        .filter(|c| !disabled(*c))
        .filter_map(control)
        .take(MAX_CONTROLS)
        .collect();
    Form {
        action: a("action"),
        method: a("method").map_or("get".into(), |m| m.to_ascii_lowercase()),
        id,
        selected,
        controls: owned,
    }
}

/// A control is disabled by its own attribute or by a disabled `<fieldset>` around it.
fn disabled(c: ElementRef) -> bool {
    c.value().attr("disabled").is_some()
        || c.ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| a.value().name() == "fieldset" && a.value().attr("disabled").is_some())
}

fn control(c: ElementRef) -> Option<Control> {
    let e = c.value();
    let name = e.attr("name").filter(|n| !n.is_empty())?.to_owned();
    let value = || e.attr("value").unwrap_or_default().to_owned();
    let kind_attr = e.attr("type").map(str::to_ascii_lowercase);
    let (kind, values) = match e.name() {
        "button" => match kind_attr.as_deref().unwrap_or("submit") {
            "submit" => (submit(c, false), vec![value()]),
            _ => return None,
        },
        "select" => (ControlKind::Select, selected_options(c)),
        "textarea" => (ControlKind::TextArea, vec![c.text().collect()]),
        _ => match kind_attr.as_deref().unwrap_or("text") {
            "submit" => (submit(c, false), vec![value()]),
            "image" => (submit(c, true), Vec::new()),
            "checkbox" | "radio" => (
                ControlKind::Checkable {
                    checked: e.attr("checked").is_some(),
                },
                vec![e.attr("value").unwrap_or("on").to_owned()],
            ),
            "password" => (ControlKind::Password, vec![value()]),
            "button" | "reset" | "file" => return None,
            other => (ControlKind::Input(other.to_owned()), vec![value()]),
        },
    };
    Some(Control { name, values, kind })
}

fn submit(c: ElementRef, image: bool) -> ControlKind {
    let e = c.value();
    let label = if e.name() == "button" {
        text(c, 200)
    } else {
        e.attr("value")
            .or(e.attr("alt"))
            .unwrap_or_default()
            .to_owned()
    };
    ControlKind::Submit {
        formaction: e.attr("formaction").map(str::to_owned),
        image,
        label,
    }
}

/// The options a `<select>` submits: the selected ones; none selected, the first enabled one
/// of a single-choice list (what a browser displays and posts).
fn selected_options(select: ElementRef) -> Vec<String> {
    let options: Vec<ElementRef> = select
        .select(&sel("option"))
        .filter(|o| !disabled(*o))
        .collect();
    let value = |o: &ElementRef| {
        o.value()
            .attr("value")
            .map_or_else(|| text(*o, usize::MAX), str::to_owned)
    };
    let chosen: Vec<String> = options
        .iter()
        .filter(|o| o.value().attr("selected").is_some())
        .map(value)
        .collect();
    let multiple = select.value().attr("multiple").is_some();
    match (chosen.is_empty(), multiple) {
        (true, false) => options.first().map(value).into_iter().collect(),
        (true, true) => Vec::new(),
        (false, false) => chosen.into_iter().last().into_iter().collect(),
        (false, true) => chosen,
    }
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

    fn entries(html: &str, fill: &[(&str, &str)]) -> Vec<(String, String)> {
        let page = Page::parse(html, None);
        page.forms[0].entries(&fill.iter().copied().collect())
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn finds_forms_hidden_inputs_and_buttons() {
        let html = r#"<html><title>Sign in &amp; go</title><!-- <form action="/no"> -->
          <form method="POST" action="/login?x=1&amp;y=2" id=login>
            <input type="hidden" name="csrf" value='t&#x3D;k'>
            <input name=username><input type="password" name="password" />
            <button type="submit" name="submit" value="yes">OK</button>
          </form><input name="outside">"#;
        let page = Page::parse(html, None);
        assert_eq!(page.forms.len(), 1);
        let f = &page.forms[0];
        assert_eq!(f.action.as_deref(), Some("/login?x=1&y=2"));
        assert_eq!(f.method, "post");
        assert_eq!(f.id.as_deref(), Some("login"));
        assert!(f.is_login());
        assert_eq!(
            f.entries(&[("username", "alice"), ("password", "pw")].into()),
            pairs(&[
                ("csrf", "t=k"),
                ("username", "alice"),
                ("password", "pw"),
                ("submit", "yes")
            ])
        );
        assert_eq!(page.title.as_deref(), Some("Sign in & go"));
    }

    #[test]
    fn select_checkbox_radio_and_textarea_submit_as_a_browser_does() {
        let html = r#"<form method=post>
            <select name=account><option value=a>A<option selected>  Work
              account </option></select>
            <select name=first><option disabled>x<option value=y>Y</select>
            <select name=many multiple><option selected value=1><option value=2><option selected value=3></select>
            <input type=checkbox name=remember checked>
            <input type=checkbox name=marketing value=yes>
            <input type=radio name=r value=one><input type=radio name=r value=two checked>
            <textarea name=note>line &hellip; two</textarea>
            <input name=off value=x disabled>
            <fieldset disabled><input name=off2 value=y></fieldset>
            <input type=button name=js value=no><input type=reset name=rst>
            <button name=decision value=approve>Allow</button><button name=decision value=deny>Deny</button>
          </form>"#;
        assert_eq!(
            entries(html, &[]),
            pairs(&[
                ("account", "Work account"),
                ("first", "y"),
                ("many", "1"),
                ("many", "3"),
                ("remember", "on"),
                ("r", "two"),
                ("note", "line \u{2026} two"),
                ("decision", "approve"),
            ])
        );
    }

    /// Declining presses the button that says no, by its text, value or name, and submits it
    /// alone; approving still presses the first.
    #[test]
    fn the_declining_button_is_found_and_pressed() {
        let page = Page::parse(
            r#"<form method=post action=/consent><input type=hidden name=tx value=t>
            <button name=decision value=approve>Allow</button><button name=decision value=deny>Deny</button></form>
            <form method=post action=/x><button name=go>Continue</button><input type=submit name=n value="No thanks"></form>
            <form method=post action=/y><button name=ok>Allow</button><button name=back>Back</button><button name=abort formaction=/cancel>Cancel</button></form>"#,
            None,
        );
        let pressed = page.forms[0].declining_button();
        assert_eq!(
            page.forms[0].entries_pressing(&BTreeMap::new(), pressed),
            pairs(&[("tx", "t"), ("decision", "deny")])
        );
        assert_eq!(
            page.forms[0].entries(&BTreeMap::new()),
            pairs(&[("tx", "t"), ("decision", "approve")])
        );
        // "No" as a word, in a value.
        assert_eq!(page.forms[1].declining_button(), Some(1));
        // The pressed button's formaction wins, and a button that says nothing of the kind
        // ("Back") is not taken for one that declines.
        let cancel = page.forms[2].declining_button();
        assert_eq!(cancel, Some(2));
        assert_eq!(page.forms[2].action_pressing(cancel), Some("/cancel"));
    }

    #[test]
    fn every_named_entity_is_decoded() {
        let html = "<form><input name=a value='caf&eacute; &ndash; &euro;&nbsp;&copy &NotEqualTilde;'></form>";
        assert_eq!(
            entries(html, &[]),
            pairs(&[("a", "café – €\u{a0}© \u{2242}\u{338}")])
        );
    }

    #[test]
    fn formaction_of_the_pressed_button_and_form_owners() {
        let html = r#"<form id=f action=/a method=post><button formaction=/b name=go>Go</button></form>
            <input form=f name=outside value=1>"#;
        let page = Page::parse(html, None);
        let f = &page.forms[0];
        assert_eq!(f.action_with_submitter(), Some("/b"));
        assert_eq!(
            f.entries(&BTreeMap::new()),
            pairs(&[("go", ""), ("outside", "1")])
        );
    }

    #[test]
    fn a_css_selector_marks_the_form_to_submit() {
        let html =
            "<form id=search></form><div class=box><form method=post id=consent></form></div>";
        let page = Page::parse(html, Some("div.box > form"));
        let marked: Vec<_> = page.forms.iter().map(|f| f.selected).collect();
        assert_eq!(marked, [false, true]);
    }

    #[test]
    fn script_pages_and_headings() {
        let page = Page::parse(
            "<title>App</title><h2> Could  not <b>sign</b> in</h2><div id=root></div><script src=/app.js></script>",
            None,
        );
        assert!(page.has_script && page.forms.is_empty());
        assert_eq!(page.heading.as_deref(), Some("Could not sign in"));
    }

    #[test]
    fn truncated_markup_does_not_panic() {
        for html in [
            "<form",
            "<form action=\"",
            "<input name=a value='",
            "&#xFFFFFFFF;",
            "<\u{e9}",
            "<form><form><input name=a></form></form>",
        ] {
            let _ = Page::parse(html, Some("form"));
            let _ = Page::parse(html, Some("::bad"));
        }
    }
}
