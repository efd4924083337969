//! What each plugin gets on stdin: its configuration with the list's name
//! and version injected, `prevResult`, and `runtimeConfig` from capabilities.

use super::error::LibcniError;
use super::raw_conf::{NetworkConfigList, PluginConfig};
use super::RuntimeConf;
use serde_json::{Map, Value};

/// The stdin of one plugin: its configuration with the list's `name` and
/// `cniVersion`, `prevResult` when there is one, and a `runtimeConfig`
/// holding the capability arguments the plugin declares (only when there is
/// at least one; it then replaces any `runtimeConfig` in the file). Like the
/// reference, `capabilities` itself stays in the configuration.
pub fn build_one_config(
    list: &NetworkConfigList,
    plugin: &PluginConfig,
    prev_result: Option<&Map<String, Value>>,
    rt: Option<&RuntimeConf>,
) -> Result<Vec<u8>, LibcniError> {
    let mut inject = Map::new();
    if let Some(prev) = prev_result {
        inject.insert("prevResult".into(), Value::Object(prev.clone()));
    }
    if let Some(rt) = rt {
        let runtime_config: Map<String, Value> = plugin
            .enabled_capabilities()
            .filter_map(|cap| {
                rt.capability_args
                    .get(cap)
                    .map(|v| (cap.to_string(), v.clone()))
            })
            .collect();
        if !runtime_config.is_empty() {
            inject.insert("runtimeConfig".into(), Value::Object(runtime_config));
        }
    }
    build_with(list, plugin, inject)
}

pub(crate) fn build_with(
    list: &NetworkConfigList,
    plugin: &PluginConfig,
    extra: Map<String, Value>,
) -> Result<Vec<u8>, LibcniError> {
    let mut conf = plugin.conf.clone();
    conf.insert("name".into(), Value::String(list.name.clone()));
    conf.insert("cniVersion".into(), Value::String(list.cni_version.clone()));
    conf.extend(extra);
    serde_json::to_vec(&Value::Object(conf)).map_err(|e| {
        LibcniError::config(
            &list.name,
            "plugins",
            format!("cannot encode plugin configuration: {e}"),
        )
    })
}
