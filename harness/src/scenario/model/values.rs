//! Values a scenario sends: templates filled from the target, and lists written as one value
//! or many.

use serde::Deserialize;
use serde::de::{self, Deserializer};

/// A parameter value that may be left out: a string is sent as written (templates allowed), `~`
/// (null) leaves the parameter out, `""` sends it with an empty value.
#[derive(Debug, Clone)]
pub enum ValueSpec {
    /// Not sent.
    Omit,
    /// Sent with an empty value.
    Empty,
    /// This value (templates allowed).
    Literal(Template),
}

impl<'de> Deserialize<'de> for ValueSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = ValueSpec;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, \"\" for an empty value, or ~ to leave the parameter out")
            }
            fn visit_unit<E: de::Error>(self) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Omit)
            }
            fn visit_none<E: de::Error>(self) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Omit)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ValueSpec, E> {
                if v.is_empty() {
                    return Ok(ValueSpec::Empty);
                }
                Template::parse(v)
                    .map(ValueSpec::Literal)
                    .map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ValueSpec, E> {
                Ok(ValueSpec::Literal(Template::literal(&v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value or a list of values; a scalar reads as a one-element list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(OneOrMany(out))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(de::value::U64Deserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(de::value::I64Deserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A string with `{{name}}` placeholders, checked against the known names while it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

/// The placeholders a template may use.
pub const TEMPLATE_NAMES: &[&str] = &[
    "issuer",
    "redirect_uri",
    "client_id",
    "state",
    "code_challenge",
    "authorization_endpoint",
    "scope",
    "scope_reversed",
];

/// Why a scenario's value is not a template the harness can fill in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without its `}}`.
    #[error("unclosed {{{{ in template {0:?}")]
    Unclosed(String),
    /// A placeholder the harness has no value for.
    #[error(transparent)]
    Unknown(crate::diagnostics::UnknownName),
}

impl Template {
    /// A template without placeholders.
    pub fn literal(s: &str) -> Self {
        Self(s.to_owned())
    }
    /// Checks every placeholder of `s`.
    pub fn parse(s: &str) -> Result<Self, TemplateError> {
        let mut rest = s;
        while let Some(open) = rest.find("{{") {
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| TemplateError::Unclosed(s.to_owned()))?;
            let name = after[..close].trim();
            if !TEMPLATE_NAMES.contains(&name) {
                return Err(TemplateError::Unknown(
                    crate::diagnostics::UnknownName::new("template variable", name, TEMPLATE_NAMES),
                ));
            }
            rest = &after[close + 2..];
        }
        Ok(Self(s.to_owned()))
    }
    /// Fills the placeholders with `lookup`; every name was checked at load time.
    pub fn render(&self, lookup: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else { break };
            out.push_str(&lookup(after[..close].trim()));
            rest = &after[close + 2..];
        }
        out.push_str(rest);
        out
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(de::Error::custom)
    }
}
