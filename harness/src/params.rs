//! Ordered, repeatable key-value parameters: what a query string, a form body or a callback
//! holds. Kept as a list, not a map, because a repeated parameter is itself a finding
//! (RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").

/// Parameters in the order they came, repeats kept.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }
    /// Decodes `application/x-www-form-urlencoded` text (a query, a fragment or a form body).
    pub fn parse(encoded: &str) -> Self {
        Self(
            url::form_urlencoded::parse(encoded.as_bytes())
                .into_owned()
                .collect(),
        )
    }
    /// Appends a parameter, keeping any earlier one of the same name.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }
    /// Replaces every parameter called `name` with one holding `value`, where the first was.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter().position(|(n, _)| n == name) {
            Some(i) => {
                self.0[i].1 = value;
                let mut seen = 0;
                self.0.retain(|(n, _)| {
                    n != name || {
                        seen += 1;
                        seen == 1
                    }
                });
            }
            None => self.0.push((name.to_owned(), value)),
        }
    }
    /// Removes every parameter called `name`.
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| n != name);
    }
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// How many times `name` occurs.
    pub fn count(&self, name: &str) -> usize {
        self.0.iter().filter(|(n, _)| n == name).count()
    }
    /// Names that occur more than once, each once, in order of first occurrence.
    pub fn repeated(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (n, _) in &self.0 {
            if self.count(n) > 1 && !out.contains(&n.as_str()) {
                out.push(n);
            }
        }
        out
    }
    /// All pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Encodes as `application/x-www-form-urlencoded`.
    pub fn encode(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (n, v) in &self.0 {
            s.append_pair(n, v);
        }
        s.finish()
    }
}

/// Names only: a value may be a secret, and this module cannot tell (masking is `redact`'s).
impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, _)| n))
            .finish()
    }
}

impl FromIterator<(String, String)> for Params {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_replaces_all_repeats_in_place() {
        let mut p = Params::parse("a=1&b=2&a=3");
        assert_eq!(p.repeated(), vec!["a"]);
        p.set("a", "x");
        assert_eq!(p.encode(), "a=x&b=2");
    }

    #[test]
    fn debug_shows_names_only() {
        let p = Params::parse("code=abcdefgh&state=s1");
        assert_eq!(format!("{p:?}"), r#"["code", "state"]"#);
    }
}
