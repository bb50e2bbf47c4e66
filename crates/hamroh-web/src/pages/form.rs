//! What a form sent, and the problems found in it: so that a refused form comes back with every
//! value as typed and each problem next to its field.

use std::collections::HashMap;

#[derive(Debug, Clone, Default)]
pub struct FormState {
    values: HashMap<String, Vec<String>>,
    errors: HashMap<String, String>,
}

impl FormState {
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        for (k, v) in pairs {
            values.entry(k.clone()).or_default().push(v.clone());
        }
        Self { values, errors: HashMap::new() }
    }

    pub fn val(&self, name: &str) -> &str {
        self.values.get(name).and_then(|v| v.first()).map_or("", |s| s.as_str())
    }

    /// Whether the (first) value of `name` is `value`: for `selected` options.
    pub fn is(&self, name: &str, value: &str) -> bool {
        self.val(name) == value
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    pub fn checked(&self, name: &str, value: &str) -> bool {
        self.values.get(name).is_some_and(|v| v.iter().any(|x| x == value))
    }

    pub fn set(&mut self, name: &str, value: &str) {
        self.values.insert(name.to_owned(), vec![value.to_owned()]);
    }

    pub fn error(&mut self, name: &str, message: String) {
        self.errors.insert(name.to_owned(), message);
    }

    pub fn has_err(&self, name: &str) -> bool {
        self.errors.contains_key(name)
    }

    pub fn err(&self, name: &str) -> &str {
        self.errors.get(name).map_or("", |s| s.as_str())
    }

    pub fn any_error(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// The `key=value` pairs of an `application/x-www-form-urlencoded` body, decoded; unlike the
/// `Form` extractor this keeps repeated keys (checkbox groups).
pub fn form_pairs(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}
