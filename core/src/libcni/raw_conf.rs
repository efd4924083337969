//! Network configurations as raw JSON objects (key order preserved), parsed
//! and validated just enough to run them, every error naming the exact field.
//!
//! Not the shared `spec::config::NetConfList`: it names only the containing
//! field (`cniVersions`, `plugins[0].capabilities`) where libcni names the
//! element (`cniVersions[1]`, `plugins[0].capabilities.mac`), it refuses a
//! non-object `runtimeConfig`/`args` that the reference's libcni loads and
//! passes on, and libcni needs no typed view beyond `type` and `capabilities`.
//! Versions, plugin types and the `disable*` flags use the shared rules.

use super::error::LibcniError;
use super::version;
use crate::invoke::validate_plugin_type;
use crate::spec::config::{flag, ConfigError};
use crate::spec::version::{Version, ALL};
use serde_json::{Map, Value};

/// One plugin's configuration inside a list (or a single-plugin `.conf`).
#[derive(Debug, Clone, PartialEq)]
pub struct PluginConfig {
    /// The configuration object as written.
    pub conf: Map<String, Value>,
}

impl PluginConfig {
    /// Validates one plugin object. `origin` and `field_prefix` (e.g. `plugins[1]`)
    /// name the place in errors.
    pub fn from_value(value: Value, origin: &str, field_prefix: &str) -> Result<Self, LibcniError> {
        let Value::Object(conf) = value else {
            return Err(LibcniError::config(
                origin,
                field_prefix,
                "must be a JSON object",
            ));
        };
        let field = |name: &str| {
            if field_prefix.is_empty() {
                name.to_string()
            } else {
                format!("{field_prefix}.{name}")
            }
        };
        match conf.get("type") {
            None => return Err(LibcniError::config(origin, field("type"), "missing")),
            Some(Value::String(t)) => validate_plugin_type(t)
                .map_err(|e| LibcniError::config(origin, field("type"), e.msg))?,
            Some(other) => {
                return Err(LibcniError::config(
                    origin,
                    field("type"),
                    format!("must be a string, found {}", json_kind(other)),
                ))
            }
        }
        if let Some(caps) = conf.get("capabilities") {
            let Value::Object(caps) = caps else {
                return Err(LibcniError::config(
                    origin,
                    field("capabilities"),
                    "must be an object of name: true/false",
                ));
            };
            if let Some((name, _)) = caps.iter().find(|(_, v)| !v.is_boolean()) {
                return Err(LibcniError::config(
                    origin,
                    field(&format!("capabilities.{name}")),
                    "must be true or false",
                ));
            }
        }
        Ok(PluginConfig { conf })
    }

    /// The plugin's `type` (validated at parse time).
    pub fn plugin_type(&self) -> &str {
        self.conf
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The capabilities the plugin declares as `true`, in declaration order.
    pub fn enabled_capabilities(&self) -> impl Iterator<Item = &str> {
        self.conf
            .get("capabilities")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|caps| caps.iter())
            .filter(|(_, on)| on.as_bool() == Some(true))
            .map(|(name, _)| name.as_str())
    }

    /// `type="bridge" name="x"`, as the reference describes plugins in errors.
    pub fn description(&self) -> String {
        let mut out = format!("type={:?}", self.plugin_type());
        if let Some(name) = self
            .conf
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
        {
            out.push_str(&format!(" name={name:?}"));
        }
        out
    }
}

/// A network: the list's top-level settings and its plugins in order.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfigList {
    pub name: String,
    /// The version the list runs at (after `cniVersions` negotiation).
    pub cni_version: String,
    pub disable_check: bool,
    pub disable_gc: bool,
    pub plugins: Vec<PluginConfig>,
    /// The list as it was read; what the result cache records.
    pub bytes: Vec<u8>,
}

impl NetworkConfigList {
    /// Parses a `.conflist` document.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self, LibcniError> {
        let top = parse_object(bytes, origin)?;
        let name = required_string(&top, "name", origin)?;
        let declared = match top.get("cniVersion") {
            None => None,
            Some(Value::String(v)) => Some(v.clone()),
            Some(other) => {
                return Err(LibcniError::config(
                    origin,
                    "cniVersion",
                    format!("must be a string, found {}", json_kind(other)),
                ))
            }
        };
        let cni_version = negotiate_version(declared, top.get("cniVersions"), origin)?;
        let disable_check = read_flag(&top, "disableCheck", origin)?;
        let disable_gc = read_flag(&top, "disableGC", origin)?;
        let plugins = match top.get("plugins") {
            None => return Err(LibcniError::config(origin, "plugins", "missing")),
            Some(Value::Array(items)) if items.is_empty() => {
                return Err(LibcniError::config(origin, "plugins", "no plugins in list"))
            }
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, p)| PluginConfig::from_value(p.clone(), origin, &format!("plugins[{i}]")))
                .collect::<Result<Vec<_>, _>>()?,
            Some(other) => {
                return Err(LibcniError::config(
                    origin,
                    "plugins",
                    format!("must be an array, found {}", json_kind(other)),
                ))
            }
        };
        Ok(NetworkConfigList {
            name,
            cni_version,
            disable_check,
            disable_gc,
            plugins,
            bytes: bytes.to_vec(),
        })
    }

    /// Parses a single-plugin `.conf`/`.json` and turns it into a one-plugin
    /// list, as the reference's `ConfListFromConf` does. A single config
    /// without `cniVersion` is the 0.1.0 format.
    pub fn from_single_conf_bytes(bytes: &[u8], origin: &str) -> Result<Self, LibcniError> {
        let conf = parse_object(bytes, origin)?;
        let name = required_string(&conf, "name", origin)?;
        let cni_version = match conf.get("cniVersion") {
            None => "0.1.0".to_string(),
            Some(Value::String(v)) => v.clone(),
            Some(other) => {
                return Err(LibcniError::config(
                    origin,
                    "cniVersion",
                    format!("must be a string, found {}", json_kind(other)),
                ))
            }
        };
        // Validated here too so that errors name the single file's own fields.
        let conf = PluginConfig::from_value(Value::Object(conf), origin, "")?.conf;
        let mut list = Map::new();
        list.insert("cniVersion".into(), Value::String(cni_version));
        list.insert("name".into(), Value::String(name));
        list.insert("plugins".into(), Value::Array(vec![Value::Object(conf)]));
        let list_bytes = serde_json::to_vec(&Value::Object(list)).map_err(|e| {
            LibcniError::config(origin, "plugins", format!("cannot re-encode: {e}"))
        })?;
        Self::from_bytes(&list_bytes, origin)
    }
}

/// The version to run: `cniVersion`, or with `cniVersions` (1.1.0) the highest
/// version listed (or declared) that this library supports.
fn negotiate_version(
    declared: Option<String>,
    versions: Option<&Value>,
    origin: &str,
) -> Result<String, LibcniError> {
    let Some(versions) = versions else {
        let v = declared.ok_or_else(|| LibcniError::config(origin, "cniVersion", "missing"))?;
        return check_supported(v, origin, "cniVersion");
    };
    let Value::Array(items) = versions else {
        return Err(LibcniError::config(
            origin,
            "cniVersions",
            format!("must be an array of strings, found {}", json_kind(versions)),
        ));
    };
    let mut candidates = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("cniVersions[{i}]");
        let Value::String(v) = item else {
            return Err(LibcniError::config(
                origin,
                field,
                format!("must be a string, found {}", json_kind(item)),
            ));
        };
        Version::parse(v).map_err(|e| LibcniError::config(origin, field, e.to_string()))?;
        candidates.push(v.clone());
    }
    if let Some(v) = &declared {
        Version::parse(v).map_err(|e| LibcniError::config(origin, "cniVersion", e.to_string()))?;
        candidates.push(v.clone());
    }
    // `ALL` is oldest first: the highest supported candidate has the highest index.
    candidates
        .iter()
        .filter_map(|v| ALL.iter().position(|known| known == v))
        .max()
        .map(|i| ALL[i].to_string())
        .ok_or_else(|| {
            LibcniError::config(
                origin,
                "cniVersions",
                format!(
                    "none of the listed versions is supported (supported: {})",
                    ALL.join(", ")
                ),
            )
        })
}

fn check_supported(v: String, origin: &str, field: &str) -> Result<String, LibcniError> {
    if version::is_supported(&v) {
        Ok(v)
    } else {
        Err(LibcniError::config(
            origin,
            field,
            format!("{v:?} is not supported (supported: {})", ALL.join(", ")),
        ))
    }
}

fn parse_object(bytes: &[u8], origin: &str) -> Result<Map<String, Value>, LibcniError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(LibcniError::config(
            origin,
            "(document)",
            format!("must be a JSON object, found {}", json_kind(&other)),
        )),
        Err(e) => Err(LibcniError::config(
            origin,
            "(document)",
            format!("not valid JSON: {e}"),
        )),
    }
}

fn required_string(
    obj: &Map<String, Value>,
    key: &str,
    origin: &str,
) -> Result<String, LibcniError> {
    match obj.get(key) {
        None => Err(LibcniError::config(origin, key, "missing")),
        Some(Value::String(s)) if s.is_empty() => {
            Err(LibcniError::config(origin, key, "must not be empty"))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(LibcniError::config(
            origin,
            key,
            format!("must be a string, found {}", json_kind(other)),
        )),
    }
}

/// A boolean that the reference also accepts as the strings "true"/"false".
fn read_flag(obj: &Map<String, Value>, key: &str, origin: &str) -> Result<bool, LibcniError> {
    flag(obj, key).map_err(|e| {
        let reason = match e {
            ConfigError::Field { reason, .. } => reason,
            other => other.to_string(),
        };
        LibcniError::config(origin, key, reason)
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
