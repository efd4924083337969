//! Network configurations as raw JSON objects (key order preserved), read
//! through the shared configuration reader (`spec::config::Fields`): every
//! error names the exact field (`cniVersions[1]`, `plugins[0].capabilities.mac`)
//! and keys match ignoring case, as the reference's Go decoder matches them.
//! libcni needs no typed view beyond `type` and `capabilities`; everything
//! else reaches the plugin as written.

use super::error::LibcniError;
use super::version;
use crate::invoke::validate_plugin_type;
use crate::spec::config::{object_from_bytes, ConfigError, Field, Fields};
use crate::spec::version::{Version, ALL, DEFAULT_CONFIG_VERSION};
use serde_json::{Map, Value};

/// A reader's error as libcni reports it: the file and the field.
fn config_error(origin: &str) -> impl Fn(ConfigError) -> LibcniError + '_ {
    move |e| LibcniError::config(origin, field_or_document(e.field()), e.reason())
}

fn field_or_document(field: &str) -> &str {
    if field.is_empty() {
        "(document)"
    } else {
        field
    }
}

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
                field_or_document(field_prefix),
                "must be a JSON object",
            ));
        };
        check_plugin(&Fields::at(&conf, field_prefix)).map_err(config_error(origin))?;
        Ok(PluginConfig { conf })
    }

    /// The plugin's `type` (validated at parse time).
    pub fn plugin_type(&self) -> &str {
        Fields::new(&self.conf)
            .field("type")
            .and_then(|t| t.value.as_str())
            .unwrap_or_default()
    }

    /// The capabilities the plugin declares as `true`, in declaration order.
    pub fn enabled_capabilities(&self) -> impl Iterator<Item = &str> {
        Fields::new(&self.conf)
            .field("capabilities")
            .and_then(|caps| caps.value.as_object())
            .into_iter()
            .flat_map(|caps| caps.iter())
            .filter(|(_, on)| on.as_bool() == Some(true))
            .map(|(name, _)| name.as_str())
    }

    /// `type="bridge" name="x"`, as the reference describes plugins in errors.
    pub fn description(&self) -> String {
        let mut out = format!("type={:?}", self.plugin_type());
        if let Some(name) = Fields::new(&self.conf)
            .field("name")
            .and_then(|n| n.value.as_str())
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
    /// `loadOnlyInlinedPlugins`: when false (the default), loading the list
    /// from a directory also takes the plugins in `<dir>/<name>/*.conf`.
    pub load_only_inlined_plugins: bool,
    pub plugins: Vec<PluginConfig>,
    /// The list as it was read; what the result cache records.
    pub bytes: Vec<u8>,
}

impl NetworkConfigList {
    /// Parses a `.conflist` document that carries its plugins inline (the
    /// bytes alone must make a runnable list).
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self, LibcniError> {
        let list = Self::from_bytes_without_plugin_files(bytes, origin)?;
        if list.plugins.is_empty() {
            return Err(LibcniError::config(
                origin,
                "plugins",
                "missing (a list may leave its plugins to files under <confdir>/<name>/ \
                 only when it is loaded from a configuration directory)",
            ));
        }
        Ok(list)
    }

    /// Parses a `.conflist` document whose `plugins` may be absent: the
    /// caller adds the plugins from `<confdir>/<name>/*.conf` unless
    /// `load_only_inlined_plugins` (see `load::conf_list_from_file`).
    pub fn from_bytes_without_plugin_files(
        bytes: &[u8],
        origin: &str,
    ) -> Result<Self, LibcniError> {
        let top = object_from_bytes(bytes).map_err(config_error(origin))?;
        let read = || -> Result<_, ConfigError> {
            let f = Fields::new(&top);
            let name = required_name(&f)?;
            let declared = f.get::<String>("cniVersion")?;
            let versions = f.field("cniVersions");
            let flags = (
                lenient_flag(&f, "disableCheck")?,
                lenient_flag(&f, "disableGC")?,
                f.get::<bool>("loadOnlyInlinedPlugins")?.unwrap_or(false),
            );
            let items = match f.field("plugins") {
                Some(plugins) => Some(plugins.items()?),
                None => None,
            };
            Ok((name, declared, versions, flags, items))
        };
        let (name, declared, versions, (disable_check, disable_gc, only_inlined), items) =
            read().map_err(config_error(origin))?;
        let cni_version = negotiate_version(declared, versions, origin)?;
        let plugins = match items {
            Some(items) if items.is_empty() => {
                return Err(LibcniError::config(origin, "plugins", "no plugins in list"))
            }
            Some(items) => items
                .into_iter()
                .map(|p| PluginConfig::from_value(p.value.clone(), origin, &p.path))
                .collect::<Result<Vec<_>, _>>()?,
            None if only_inlined => {
                return Err(LibcniError::config(
                    origin,
                    "plugins",
                    "missing, and loadOnlyInlinedPlugins is true",
                ))
            }
            None => Vec::new(),
        };
        Ok(NetworkConfigList {
            name,
            cni_version,
            disable_check,
            disable_gc,
            load_only_inlined_plugins: only_inlined,
            plugins,
            bytes: bytes.to_vec(),
        })
    }

    /// Parses a single-plugin `.conf`/`.json` and turns it into a one-plugin
    /// list, as the reference's `ConfListFromConf` does. A single config
    /// without `cniVersion` is the 0.1.0 format.
    pub fn from_single_conf_bytes(bytes: &[u8], origin: &str) -> Result<Self, LibcniError> {
        let conf = object_from_bytes(bytes).map_err(config_error(origin))?;
        let read = || -> Result<_, ConfigError> {
            let f = Fields::new(&conf);
            let name = required_name(&f)?;
            let version = f.get::<String>("cniVersion")?;
            // Checked here too so that errors name the single file's own fields.
            check_plugin(&f)?;
            Ok((
                name,
                version.unwrap_or_else(|| DEFAULT_CONFIG_VERSION.to_string()),
            ))
        };
        let (name, cni_version) = read().map_err(config_error(origin))?;
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

/// `type` (a plugin name, never a path) and `capabilities` (name: bool).
fn check_plugin(f: &Fields<'_>) -> Result<(), ConfigError> {
    let plugin_type = f.field("type").ok_or_else(|| ConfigError::Missing {
        field: f.path_of("type"),
    })?;
    validate_plugin_type(plugin_type.str()?).map_err(|e| plugin_type.invalid(e.msg))?;
    if let Some(caps) = f.object("capabilities")? {
        if let Some((name, _)) = caps.map().iter().find(|(_, on)| !on.is_boolean()) {
            return Err(ConfigError::invalid(
                caps.path_of(name),
                "must be true or false",
            ));
        }
    }
    Ok(())
}

fn required_name(f: &Fields<'_>) -> Result<String, ConfigError> {
    let name: String = f.required("name")?;
    if name.is_empty() {
        return Err(ConfigError::invalid("name", "must not be empty"));
    }
    Ok(name)
}

/// `disableCheck`/`disableGC` may be a bool or a "true"/"false" string in
/// any case (the reference compares `strings.ToLower`); `null` is neither,
/// as the reference's libcni finds.
fn lenient_flag(f: &Fields<'_>, key: &str) -> Result<bool, ConfigError> {
    let Some(flag) = f.entry(key) else {
        return Ok(false);
    };
    match flag.value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(ConfigError::invalid(
            key,
            format!("{other} is not a boolean"),
        )),
    }
}

/// The version to run: `cniVersion`, or with `cniVersions` (1.1.0) the highest
/// version listed (or declared) that this library supports.
fn negotiate_version(
    declared: Option<String>,
    versions: Option<Field<'_>>,
    origin: &str,
) -> Result<String, LibcniError> {
    let Some(versions) = versions else {
        let v = declared.ok_or_else(|| LibcniError::config(origin, "cniVersion", "missing"))?;
        return check_supported(v, origin, "cniVersion");
    };
    let mut candidates = Vec::new();
    for item in versions.items().map_err(config_error(origin))? {
        let v = item.str().map_err(config_error(origin))?;
        Version::parse(v).map_err(|e| LibcniError::config(origin, &item.path, e.to_string()))?;
        candidates.push(v.to_string());
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
