//! JSON Schemas of the scenario and target file formats, generated from the types the loaders
//! deserialize into, so editors (`# yaml-language-server: $schema=...`) validate and complete
//! the same format the harness accepts. The committed copies in `fixtures/schemas/` are checked
//! current by a test. Types with hand-written deserializers get hand-written schemas here.

use std::borrow::Cow;

mod reference;

pub use reference::target_reference;

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};

use crate::defect::Defect;
use crate::scenario::model::{
    FormatVersion, OneOrMany, RequirementId, ScenarioFile, TEMPLATE_NAMES, Template, ValueSpec,
};
use crate::target::{
    ConfigSecret, ConfigString, ConfigUrl, CssSelector, RedirectUri, TargetFile,
    Template as LoginTemplate,
};

/// The scenario file schema, pretty JSON with a final newline.
pub fn scenario_schema() -> String {
    render::<ScenarioFile>("pkce-harness scenario file")
}

/// The client scenario schema (`scenarios/client/`), pretty JSON with a final newline.
pub fn client_scenario_schema() -> String {
    render::<crate::scenario::client::ClientScenarioFile>("pkce-harness client scenario file")
}

/// The client file schema (`pkce-harness client --target`), pretty JSON with a final newline.
pub fn client_schema() -> String {
    render::<crate::client_file::ClientFile>("pkce-harness client file")
}

/// The target file schema, pretty JSON with a final newline.
pub fn target_schema() -> String {
    render::<TargetFile>("pkce-harness target file")
}

fn render<T: JsonSchema>(title: &str) -> String {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

impl JsonSchema for FormatVersion {
    fn schema_name() -> Cow<'static, str> {
        "FormatVersion".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"description": "The file format version; only 1 exists.", "const": 1})
    }
}

impl JsonSchema for RequirementId {
    fn schema_name() -> Cow<'static, str> {
        "RequirementId".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A requirement (REQ-n) or catalogued bug (BUG-n) of REQUIREMENTS.md.",
            "type": "string",
            "pattern": "^(REQ|BUG)-[0-9]+$"
        })
    }
}

impl JsonSchema for Defect {
    fn schema_name() -> Cow<'static, str> {
        "Defect".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Defect::ALL.iter().map(|d| d.name()).collect();
        json_schema!({
            "description": "A defect switch of the reference server this scenario must catch.",
            "enum": names
        })
    }
}

impl JsonSchema for crate::client_defect::ClientDefect {
    fn schema_name() -> Cow<'static, str> {
        "ClientDefect".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Self::ALL.iter().map(|d| d.name()).collect();
        json_schema!({
            "description": "A defect switch of the reference client this client scenario must catch.",
            "enum": names
        })
    }
}

impl JsonSchema for Template {
    fn schema_name() -> Cow<'static, str> {
        "Template".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names = TEMPLATE_NAMES.join(", ");
        json_schema!({
            "description": format!("A string; {{{{name}}}} inserts a captured value, name one of: {names}."),
            "type": "string"
        })
    }
}

impl JsonSchema for ValueSpec {
    fn schema_name() -> Cow<'static, str> {
        "ValueSpec".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A parameter value: a string as written (templates allowed), \"\" for an empty value, ~ (null) to leave the parameter out.",
            "type": ["string", "integer", "null"]
        })
    }
}

impl JsonSchema for crate::pkce::Method {
    fn schema_name() -> Cow<'static, str> {
        "Method".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A PKCE method, case-sensitive (RFC 7636 §4.3).",
            "enum": ["S256", "plain"]
        })
    }
}

impl<T: JsonSchema> JsonSchema for OneOrMany<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrMany_{}", T::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<T>();
        json_schema!({"anyOf": [one, {"type": "array", "items": one, "minItems": 1}]})
    }
}

/// `${env:NAME}` is replaced from the environment while loading, so no `format` is claimed: a
/// URL like `http://127.0.0.1:${env:PORT}/` is only a URL after loading.
fn config_string(description: &str) -> Schema {
    json_schema!({
        "description": format!("{description} `${{env:NAME}}` is replaced from the environment."),
        "type": "string"
    })
}

impl JsonSchema for ConfigString {
    fn schema_name() -> Cow<'static, str> {
        "ConfigString".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        config_string("A string.")
    }
}

impl JsonSchema for ConfigSecret {
    fn schema_name() -> Cow<'static, str> {
        "ConfigSecret".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        config_string("A secret; better given as ${env:NAME} than written here.")
    }
}

impl JsonSchema for ConfigUrl {
    fn schema_name() -> Cow<'static, str> {
        "ConfigUrl".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        config_string("An absolute http or https URL without fragment.")
    }
}

impl JsonSchema for RedirectUri {
    fn schema_name() -> Cow<'static, str> {
        "RedirectUri".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        config_string("An absolute URL without fragment (RFC 6749 §3.1.2); any scheme.")
    }
}

impl JsonSchema for CssSelector {
    fn schema_name() -> Cow<'static, str> {
        "CssSelector".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A CSS selector (`#consent`, `form[action*=login]`), checked while the file loads.",
            "type": "string"
        })
    }
}

impl JsonSchema for LoginTemplate {
    fn schema_name() -> Cow<'static, str> {
        "LoginTemplate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names = crate::target::Source::NAMES.join(", ");
        json_schema!({
            "description": format!("A string; `${{env:NAME}}` is replaced while loading, {{{{name}}}} while the login runs, name one of: {names}, or a value an earlier step extracted."),
            "type": "string"
        })
    }
}
