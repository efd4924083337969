//! Reading a configuration object field by field, the way the reference's Go
//! decoder reads it, with every error naming the field by its path
//! (`ipam.ranges[0][1].subnet`).
//!
//! Go's `encoding/json` matches object keys to struct fields ignoring case,
//! so hand-written configs with `"Subnet"` or `"rangeend"` work under the
//! reference; we accept them too and warn with the key's proper spelling.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use thiserror::Error;

/// A configuration the plugin cannot use. Code 6 when the bytes cannot be
/// decoded into the config's shape, 7 when they decode but mean nothing valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// Not JSON, or not a JSON object.
    #[error("{0}")]
    Undecodable(String),
    /// A field of the wrong JSON type.
    #[error("{field}: {reason}")]
    WrongType { field: String, reason: String },
    #[error("{field}: missing")]
    Missing { field: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

impl ConfigError {
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The field's path; empty for a document that is not an object at all.
    pub fn field(&self) -> &str {
        match self {
            ConfigError::Undecodable(_) => "",
            ConfigError::WrongType { field, .. }
            | ConfigError::Missing { field }
            | ConfigError::Invalid { field, .. } => field,
        }
    }

    /// What is wrong, without the field's name.
    pub fn reason(&self) -> String {
        match self {
            ConfigError::Undecodable(reason)
            | ConfigError::WrongType { reason, .. }
            | ConfigError::Invalid { reason, .. } => reason.clone(),
            ConfigError::Missing { .. } => "missing".to_string(),
        }
    }

    pub fn code(&self) -> u32 {
        use crate::error::code;
        match self {
            ConfigError::Undecodable(_) | ConfigError::WrongType { .. } => code::DECODING_FAILURE,
            ConfigError::Missing { .. } | ConfigError::Invalid { .. } => {
                code::INVALID_NETWORK_CONFIG
            }
        }
    }
}

impl From<ConfigError> for crate::CniError {
    fn from(e: ConfigError) -> Self {
        crate::CniError::new(e.code(), e.to_string())
    }
}

/// The JSON object in `bytes`.
pub fn object_from_bytes(bytes: &[u8]) -> Result<Map<String, Value>, ConfigError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(ConfigError::Undecodable(format!(
            "network configuration must be a JSON object, found {}",
            json_kind(&other)
        ))),
        Err(e) => Err(ConfigError::Undecodable(format!(
            "network configuration is not valid JSON: {e}"
        ))),
    }
}

/// `a number`, `an object`, ...: a JSON value's kind for messages.
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// One JSON value of a configuration and where it sits.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    pub value: &'a Value,
    pub path: String,
}

impl<'a> Field<'a> {
    fn wrong_type(&self, want: &str) -> ConfigError {
        ConfigError::WrongType {
            field: self.path.clone(),
            reason: format!("must be {want}, found {}", json_kind(self.value)),
        }
    }

    /// An error naming this field: the value is the right type but unusable.
    pub fn invalid(&self, reason: impl Into<String>) -> ConfigError {
        ConfigError::invalid(self.path.clone(), reason)
    }

    /// The value as `T`, through serde (for leaves: strings, numbers, flags).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        T::deserialize(self.value).map_err(|e| ConfigError::WrongType {
            field: self.path.clone(),
            reason: e.to_string(),
        })
    }

    pub fn str(&self) -> Result<&'a str, ConfigError> {
        self.value
            .as_str()
            .ok_or_else(|| self.wrong_type("a string"))
    }

    pub fn object(&self) -> Result<Fields<'a>, ConfigError> {
        match self.value {
            Value::Object(map) => Ok(Fields::at(map, self.path.clone())),
            _ => Err(self.wrong_type("an object")),
        }
    }

    /// The elements of an array, each named `path[i]`.
    pub fn items(&self) -> Result<Vec<Field<'a>>, ConfigError> {
        let Value::Array(items) = self.value else {
            return Err(self.wrong_type("an array"));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, value)| Field {
                value,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }
}

/// A configuration object read by key.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Fields<'a> {
    /// The top-level object.
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Self::at(map, String::new())
    }

    /// An object at `path` (`ipam`, `plugins[1]`).
    pub fn at(map: &'a Map<String, Value>, path: impl Into<String>) -> Self {
        Fields {
            map,
            path: path.into(),
        }
    }

    pub fn map(&self) -> &'a Map<String, Value> {
        self.map
    }

    pub fn path_of(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The value at `key`, `null` included, as Go's decoder finds it: every
    /// key equal to `key` ignoring case is assigned in document order, so the
    /// last wins.
    pub fn entry(&self, key: &str) -> Option<Field<'a>> {
        let (written, value) = self
            .map
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))?;
        if written != key {
            tracing::warn!(
                "network configuration key {:?} is spelled {:?}; read as {key:?}, as the reference does",
                self.path_of(written),
                self.path_of(key),
            );
        }
        Some(Field {
            value,
            path: self.path_of(key),
        })
    }

    /// The value at `key`; `null` is absent, as a nil Go field is.
    pub fn field(&self, key: &str) -> Option<Field<'a>> {
        self.entry(key).filter(|f| !f.value.is_null())
    }

    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, ConfigError> {
        self.field(key).map(|f| f.parse()).transpose()
    }

    pub fn required<T: DeserializeOwned>(&self, key: &str) -> Result<T, ConfigError> {
        self.get(key)?.ok_or_else(|| ConfigError::Missing {
            field: self.path_of(key),
        })
    }

    /// A string field; absent, `null` and `""` are all `None` (Go's zero value).
    pub fn string(&self, key: &str) -> Result<Option<String>, ConfigError> {
        Ok(self.get::<String>(key)?.filter(|s| !s.is_empty()))
    }

    /// A boolean field, false when absent.
    pub fn flag(&self, key: &str) -> Result<bool, ConfigError> {
        Ok(self.get(key)?.unwrap_or(false))
    }

    pub fn object(&self, key: &str) -> Result<Option<Fields<'a>>, ConfigError> {
        self.field(key).map(|f| f.object()).transpose()
    }

    /// The elements of an array field; absent is empty.
    pub fn items(&self, key: &str) -> Result<Vec<Field<'a>>, ConfigError> {
        Ok(self
            .field(key)
            .map(|f| f.items())
            .transpose()?
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn keys_match_ignoring_case_and_the_last_match_wins() {
        let m = object(json!({"Subnet": "10.0.0.0/8", "GATEWAY": "a", "gateway": "b"}));
        let f = Fields::new(&m);
        assert_eq!(f.string("subnet").unwrap().as_deref(), Some("10.0.0.0/8"));
        assert_eq!(f.string("gateway").unwrap().as_deref(), Some("b"));
        assert_eq!(f.string("rangeStart").unwrap(), None);
    }

    #[test]
    fn errors_name_the_nested_path_and_carry_their_code() {
        let m = object(json!({"ipam": {"ranges": [[{"subnet": 24}]]}, "mtu": "x"}));
        let f = Fields::new(&m);
        let ranges = f.object("ipam").unwrap().unwrap().items("ranges").unwrap();
        let range = ranges[0].items().unwrap()[0].object().unwrap();
        let e = range.string("subnet").unwrap_err();
        assert_eq!((e.field(), e.code()), ("ipam.ranges[0][0].subnet", 6));
        let e = f.get::<u32>("mtu").unwrap_err();
        assert!(e.to_string().starts_with("mtu: "), "{e}");
        let e = f.required::<String>("name").unwrap_err();
        assert_eq!((e.to_string().as_str(), e.code()), ("name: missing", 7));
    }

    #[test]
    fn null_and_empty_strings_are_absent() {
        let m = object(json!({"a": null, "b": ""}));
        let f = Fields::new(&m);
        assert!(f.field("a").is_none());
        assert_eq!(f.string("b").unwrap(), None);
        assert!(!f.flag("a").unwrap());
    }
}
