//! Network configurations: one plugin's (`NetConf`) and a list (`NetConfList`).
//!
//! The whole JSON object is kept in `raw` (key order preserved), so a config
//! handed on to a delegate or the next plugin of a chain carries every
//! plugin-specific and unknown key unchanged. The typed fields are read from
//! `raw`; on output a typed field is written back only when it was changed.

use super::result::{CniResult, Dns, ResultError};
use super::version::DEFAULT_CONFIG_VERSION;
use super::wire::WireDns;
use crate::error::{code, CniError};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("error parsing network config: {0}")]
    Malformed(String),
    #[error("network config must be a JSON object")]
    NotAnObject,
    #[error("invalid field {field:?} in network config: {reason}")]
    Field { field: String, reason: String },
    #[error("missing field {0:?} in network config")]
    Missing(String),
}

impl From<ConfigError> for CniError {
    fn from(e: ConfigError) -> Self {
        let c = match e {
            ConfigError::Missing(_) => code::INVALID_NETWORK_CONFIG,
            _ => code::DECODING_FAILURE,
        };
        CniError::new(c, e.to_string())
    }
}

fn object_from_bytes(bytes: &[u8]) -> Result<Map<String, Value>, ConfigError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ConfigError::NotAnObject),
        Err(e) => Err(ConfigError::Malformed(e.to_string())),
    }
}

/// Reads `key` as `T`; absent and `null` are `None`.
fn field<T: DeserializeOwned>(
    map: &Map<String, Value>,
    key: &str,
) -> Result<Option<T>, ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| ConfigError::Field {
                field: key.to_string(),
                reason: e.to_string(),
            }),
    }
}

/// Writes `value` at `key` unless it equals what `raw` already says there
/// (so untouched fields stay byte for byte as received).
fn write_back<T: serde::Serialize + PartialEq>(
    map: &mut Map<String, Value>,
    key: &str,
    value: &T,
    as_received: &T,
    is_unset: bool,
) {
    if value == as_received {
        return;
    }
    if is_unset {
        map.shift_remove(key);
    } else if let Ok(v) = serde_json::to_value(value) {
        map.insert(key.to_string(), v);
    }
}

/// The `ipam` section: its `type` and everything else the IPAM plugin reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IpamConf {
    pub ipam_type: String,
    pub raw: Map<String, Value>,
}

/// One plugin's configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetConf {
    pub cni_version: String,
    pub name: String,
    pub plugin_type: String,
    pub capabilities: BTreeMap<String, bool>,
    pub ipam: Option<IpamConf>,
    pub dns: Option<Dns>,
    pub runtime_config: Option<Map<String, Value>>,
    pub args: Option<Map<String, Value>>,
    /// Kept raw: its shape depends on `cni_version`; see [`NetConf::prev_result`].
    pub prev_result: Option<Value>,
    /// The whole object as received.
    pub raw: Map<String, Value>,
}

impl NetConf {
    pub fn parse(bytes: &[u8]) -> Result<NetConf, ConfigError> {
        Self::from_map(object_from_bytes(bytes)?)
    }

    pub fn from_map(raw: Map<String, Value>) -> Result<NetConf, ConfigError> {
        let ipam = match field::<Map<String, Value>>(&raw, "ipam")? {
            None => None,
            Some(m) => Some(IpamConf {
                ipam_type: field::<String>(&m, "type")
                    .map_err(|e| prefix_field(e, "ipam"))?
                    .unwrap_or_default(),
                raw: m,
            }),
        };
        Ok(NetConf {
            cni_version: field(&raw, "cniVersion")?.unwrap_or_default(),
            name: field(&raw, "name")?.unwrap_or_default(),
            plugin_type: field(&raw, "type")?.unwrap_or_default(),
            capabilities: field(&raw, "capabilities")?.unwrap_or_default(),
            ipam,
            dns: field::<WireDns>(&raw, "dns")?.map(Dns::from),
            runtime_config: field(&raw, "runtimeConfig")?,
            args: field(&raw, "args")?,
            prev_result: raw.get("prevResult").filter(|v| !v.is_null()).cloned(),
            raw,
        })
    }

    /// `cniVersion`, with the spec's default for a config that has none.
    pub fn effective_version(&self) -> &str {
        if self.cni_version.is_empty() {
            DEFAULT_CONFIG_VERSION
        } else {
            &self.cni_version
        }
    }

    /// The object to send on: `raw` with changed typed fields written back.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = self.raw.clone();
        let received = NetConf::from_map(self.raw.clone()).unwrap_or_default();
        write_back(
            &mut map,
            "cniVersion",
            &self.cni_version,
            &received.cni_version,
            self.cni_version.is_empty(),
        );
        write_back(
            &mut map,
            "name",
            &self.name,
            &received.name,
            self.name.is_empty(),
        );
        write_back(
            &mut map,
            "type",
            &self.plugin_type,
            &received.plugin_type,
            self.plugin_type.is_empty(),
        );
        write_back(
            &mut map,
            "capabilities",
            &self.capabilities,
            &received.capabilities,
            self.capabilities.is_empty(),
        );
        if self.ipam != received.ipam {
            match &self.ipam {
                None => {
                    map.shift_remove("ipam");
                }
                Some(ipam) => {
                    let mut m = ipam.raw.clone();
                    if !ipam.ipam_type.is_empty() {
                        m.insert("type".into(), Value::String(ipam.ipam_type.clone()));
                    }
                    map.insert("ipam".into(), Value::Object(m));
                }
            }
        }
        let dns = self.dns.as_ref().map(WireDns::from);
        let received_dns = received.dns.as_ref().map(WireDns::from);
        write_back(&mut map, "dns", &dns, &received_dns, dns.is_none());
        write_back(
            &mut map,
            "runtimeConfig",
            &self.runtime_config,
            &received.runtime_config,
            self.runtime_config.is_none(),
        );
        write_back(
            &mut map,
            "args",
            &self.args,
            &received.args,
            self.args.is_none(),
        );
        write_back(
            &mut map,
            "prevResult",
            &self.prev_result,
            &received.prev_result,
            self.prev_result.is_none(),
        );
        map
    }

    /// Compact JSON of [`NetConf::to_map`].
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_map()).unwrap_or_default()
    }

    /// `prevResult` parsed in the shape of this config's version (the reference
    /// parses it as the config's version whatever it says itself).
    pub fn prev_result(&self) -> Result<Option<CniResult>, ResultError> {
        let Some(v) = &self.prev_result else {
            return Ok(None);
        };
        let mut v = v.clone();
        if let Value::Object(m) = &mut v {
            m.insert(
                "cniVersion".into(),
                Value::String(self.effective_version().to_string()),
            );
        }
        CniResult::from_value(v, self.effective_version()).map(Some)
    }

    /// Sets `prevResult` to `result` rendered at this config's version.
    pub fn set_prev_result(&mut self, result: &CniResult) -> Result<(), ResultError> {
        self.prev_result = Some(result.to_value_at(self.effective_version())?);
        Ok(())
    }

    /// The whole config read as a plugin's own config struct.
    pub fn plugin_config<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        serde_json::from_value(Value::Object(self.to_map()))
            .map_err(|e| ConfigError::Malformed(e.to_string()))
    }
}

fn prefix_field(e: ConfigError, parent: &str) -> ConfigError {
    match e {
        ConfigError::Field { field, reason } => ConfigError::Field {
            field: format!("{parent}.{field}"),
            reason,
        },
        other => other,
    }
}

/// A network configuration list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetConfList {
    pub cni_version: String,
    /// 1.1.0: every version this list may be read as.
    pub cni_versions: Vec<String>,
    pub name: String,
    pub disable_check: bool,
    pub disable_gc: bool,
    pub plugins: Vec<NetConf>,
    pub raw: Map<String, Value>,
}

/// `disableCheck`/`disableGC` may be a bool or a "true"/"false" string in
/// any case (the reference compares `strings.ToLower`); `null` is neither,
/// as the reference's libcni finds.
pub(crate) fn flag(map: &Map<String, Value>, key: &str) -> Result<bool, ConfigError> {
    match map.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(ConfigError::Field {
                field: key.to_string(),
                reason: format!("{s:?} is not a boolean"),
            }),
        },
        Some(other) => Err(ConfigError::Field {
            field: key.to_string(),
            reason: format!("{other} is not a boolean"),
        }),
    }
}

impl NetConfList {
    /// Parses a list; `name` and a non-empty `plugins` are required.
    pub fn parse(bytes: &[u8]) -> Result<NetConfList, ConfigError> {
        let raw = object_from_bytes(bytes)?;
        let name: String = field(&raw, "name")?.unwrap_or_default();
        if name.is_empty() {
            return Err(ConfigError::Missing("name".into()));
        }
        let plugin_values: Vec<Value> = field(&raw, "plugins")?.unwrap_or_default();
        if plugin_values.is_empty() {
            return Err(ConfigError::Missing("plugins".into()));
        }
        let mut plugins = Vec::with_capacity(plugin_values.len());
        for (i, v) in plugin_values.into_iter().enumerate() {
            let Value::Object(m) = v else {
                return Err(ConfigError::Field {
                    field: format!("plugins[{i}]"),
                    reason: "not an object".into(),
                });
            };
            plugins
                .push(NetConf::from_map(m).map_err(|e| prefix_field(e, &format!("plugins[{i}]")))?);
        }
        Ok(NetConfList {
            cni_version: field(&raw, "cniVersion")?.unwrap_or_default(),
            cni_versions: field(&raw, "cniVersions")?.unwrap_or_default(),
            name,
            disable_check: flag(&raw, "disableCheck")?,
            disable_gc: flag(&raw, "disableGC")?,
            plugins,
            raw,
        })
    }

    /// The list as JSON: `raw` with changed typed fields and plugins written back.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = self.raw.clone();
        let received = NetConfList::parse(&serde_json::to_vec(&self.raw).unwrap_or_default())
            .unwrap_or_default();
        write_back(
            &mut map,
            "cniVersion",
            &self.cni_version,
            &received.cni_version,
            self.cni_version.is_empty(),
        );
        write_back(
            &mut map,
            "cniVersions",
            &self.cni_versions,
            &received.cni_versions,
            self.cni_versions.is_empty(),
        );
        write_back(
            &mut map,
            "name",
            &self.name,
            &received.name,
            self.name.is_empty(),
        );
        write_back(
            &mut map,
            "disableCheck",
            &self.disable_check,
            &received.disable_check,
            !self.disable_check,
        );
        write_back(
            &mut map,
            "disableGC",
            &self.disable_gc,
            &received.disable_gc,
            !self.disable_gc,
        );
        let plugins: Vec<Value> = self
            .plugins
            .iter()
            .map(|p| Value::Object(p.to_map()))
            .collect();
        let received_plugins: Vec<Value> = received
            .plugins
            .iter()
            .map(|p| Value::Object(p.to_map()))
            .collect();
        write_back(
            &mut map,
            "plugins",
            &plugins,
            &received_plugins,
            plugins.is_empty(),
        );
        map
    }

    /// Compact JSON of [`NetConfList::to_map`].
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(&self.to_map()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BRIDGE: &str = r#"{"cniVersion":"1.0.0","name":"net","type":"bridge","bridge":"cni0","isGateway":true,
        "ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0/24"}]]},"dns":{"nameservers":["1.1.1.1"]},
        "capabilities":{"portMappings":true},"runtimeConfig":{"portMappings":[]},"zzz":1}"#;

    #[test]
    fn reads_common_fields_and_keeps_the_rest() {
        let c = NetConf::parse(BRIDGE.as_bytes()).unwrap();
        assert_eq!(
            (
                c.cni_version.as_str(),
                c.name.as_str(),
                c.plugin_type.as_str()
            ),
            ("1.0.0", "net", "bridge")
        );
        assert_eq!(c.ipam.as_ref().unwrap().ipam_type, "host-local");
        assert!(c.ipam.as_ref().unwrap().raw.contains_key("ranges"));
        assert_eq!(c.dns.as_ref().unwrap().nameservers, vec!["1.1.1.1"]);
        assert_eq!(c.capabilities.get("portMappings"), Some(&true));
        assert!(c.runtime_config.is_some());
        let out = c.to_map();
        let keys: Vec<&String> = out.keys().collect();
        let orig: Vec<&String> = c.raw.keys().collect();
        assert_eq!(keys, orig, "key order is kept");
        assert_eq!(c.to_map(), c.raw);
    }

    #[test]
    fn changed_fields_are_written_back_in_place() {
        let mut c = NetConf::parse(BRIDGE.as_bytes()).unwrap();
        c.name = "other".into();
        c.runtime_config = None;
        let m = c.to_map();
        assert_eq!(m["name"], "other");
        assert!(!m.contains_key("runtimeConfig"));
        assert_eq!(m.keys().position(|k| k == "name"), Some(1));
        assert_eq!(m["zzz"], 1);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let e = NetConf::parse(br#"{"name":5}"#).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Field { field, .. } if field == "name"),
            "{e}"
        );
        let e = NetConf::parse(br#"{"ipam":{"type":1}}"#).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Field { field, .. } if field == "ipam.type"),
            "{e}"
        );
        assert_eq!(CniError::from(NetConf::parse(b"").unwrap_err()).code, 6);
        assert_eq!(CniError::from(NetConf::parse(b"[]").unwrap_err()).code, 6);
    }

    #[test]
    fn prev_result_is_read_at_the_config_version() {
        let c = NetConf::parse(
            br#"{"cniVersion":"0.4.0","name":"n","type":"x",
            "prevResult":{"ips":[{"version":"4","address":"10.0.0.2/24"}]}}"#,
        )
        .unwrap();
        let r = c.prev_result().unwrap().unwrap();
        assert_eq!(r.cni_version, "0.4.0");
        assert_eq!(r.ips[0].address.to_string(), "10.0.0.2/24");
        let mut c2 = c.clone();
        c2.cni_version = "0.2.0".into();
        c2.set_prev_result(&r).unwrap();
        assert_eq!(c2.to_map()["prevResult"]["ip4"]["ip"], "10.0.0.2/24");
    }

    #[test]
    fn lists() {
        let l = NetConfList::parse(br#"{"cniVersion":"1.1.0","cniVersions":["1.0.0","1.1.0"],"name":"l",
            "disableCheck":"true","plugins":[{"type":"bridge"},{"type":"portmap","capabilities":{"portMappings":true}}]}"#).unwrap();
        assert!(l.disable_check && !l.disable_gc);
        assert_eq!(l.plugins.len(), 2);
        assert_eq!(l.cni_versions, vec!["1.0.0", "1.1.0"]);
        assert_eq!(l.to_map(), l.raw);
        let mut changed = l.clone();
        changed.disable_check = false;
        changed.plugins[0].plugin_type = "ptp".into();
        let m = changed.to_map();
        assert!(!m.contains_key("disableCheck"));
        assert_eq!(m["plugins"][0]["type"], "ptp");
        assert_eq!(m["plugins"][1], l.raw["plugins"][1]);
        assert_eq!(
            NetConfList::parse(br#"{"name":"l","plugins":[]}"#).unwrap_err(),
            ConfigError::Missing("plugins".into())
        );
        assert_eq!(
            CniError::from(NetConfList::parse(br#"{"plugins":[{}]}"#).unwrap_err()).code,
            7
        );
        assert!(NetConfList::parse(br#"{"name":"l","disableGC":3,"plugins":[{}]}"#).is_err());
    }

    #[test]
    fn flags_read_their_strings_in_any_case_and_refuse_null() {
        let l = NetConfList::parse(
            br#"{"name":"l","disableCheck":"TRUE","disableGC":"False","plugins":[{}]}"#,
        )
        .unwrap();
        assert!(l.disable_check && !l.disable_gc);
        let e = NetConfList::parse(br#"{"name":"l","disableGC":null,"plugins":[{}]}"#).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Field { field, .. } if field == "disableGC"),
            "{e}"
        );
    }
}
