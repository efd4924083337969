//! libcni's inputs: conf and conflist files, result cache files, the base64
//! inside them, and the configuration it builds for each plugin.

use super::split_at_nul;
use crate::libcni::base64::{decode, encode};
use crate::libcni::cache::{self, CacheEntry, CACHE_KIND_V1};
use crate::libcni::{build_one_config, NetworkConfigList, PluginConfig, RuntimeConf};
use serde_json::{json, Map, Value};

/// Keys libcni sets in a plugin's configuration; every other key is the file's.
const INJECTED: [&str; 4] = ["name", "cniVersion", "prevResult", "runtimeConfig"];

/// The bytes as a `.conflist` and as a single `.conf`: an accepted list has
/// plugins with types, reads back from the bytes it records, and gives each
/// plugin its own keys with the list's name and version.
pub fn conf_files(data: &[u8]) -> bool {
    let lists = [
        NetworkConfigList::from_bytes(data, "fuzz.conflist"),
        NetworkConfigList::from_single_conf_bytes(data, "fuzz.conf"),
    ];
    let mut accepted = false;
    for list in lists.iter().flatten() {
        accepted = true;
        assert!(
            !list.name.is_empty() && !list.plugins.is_empty(),
            "{list:?}"
        );
        let again = NetworkConfigList::from_bytes(&list.bytes, "fuzz.conflist");
        assert_eq!(again.as_ref().ok(), Some(list), "recorded bytes re-read");
        for plugin in &list.plugins {
            assert!(!plugin.plugin_type().is_empty(), "{plugin:?}");
            injected_config(list, plugin, None, None);
        }
    }
    accepted
}

/// Capability arguments (JSON), a NUL, then a conflist: each plugin's stdin
/// holds `runtimeConfig` with exactly the capabilities it enables that the
/// runtime passed, `prevResult` as given, and otherwise its own keys untouched.
pub fn config_inject(data: &[u8]) -> bool {
    let (cap_args, conflist) = split_at_nul(data);
    let Ok(list) = NetworkConfigList::from_bytes(conflist, "fuzz.conflist") else {
        return false;
    };
    let rt = RuntimeConf {
        capability_args: serde_json::from_slice(cap_args).unwrap_or_default(),
        ..RuntimeConf::default()
    };
    let prev = json!({"cniVersion": list.cni_version, "ips": []});
    for plugin in &list.plugins {
        let conf = injected_config(&list, plugin, prev.as_object(), Some(&rt));
        assert_eq!(conf.get("prevResult"), Some(&prev));
        let wanted: Map<String, Value> = plugin
            .enabled_capabilities()
            .filter_map(|cap| Some((cap.to_string(), rt.capability_args.get(cap)?.clone())))
            .collect();
        let runtime_config = conf.get("runtimeConfig");
        if wanted.is_empty() {
            assert_eq!(runtime_config, plugin.conf.get("runtimeConfig"));
        } else {
            assert_eq!(runtime_config, Some(&Value::Object(wanted)));
        }
    }
    true
}

/// The stdin libcni builds for `plugin`, checked for what every one holds.
fn injected_config(
    list: &NetworkConfigList,
    plugin: &PluginConfig,
    prev: Option<&Map<String, Value>>,
    rt: Option<&RuntimeConf>,
) -> Map<String, Value> {
    let bytes = build_one_config(list, plugin, prev, rt).expect("a parsed list builds");
    let conf: Map<String, Value> = serde_json::from_slice(&bytes).expect("built stdin is JSON");
    assert_eq!(conf.get("name"), Some(&Value::from(list.name.as_str())));
    assert_eq!(
        conf.get("cniVersion"),
        Some(&Value::from(list.cni_version.as_str()))
    );
    for (key, value) in &conf {
        if !INJECTED.contains(&key.as_str()) {
            assert_eq!(plugin.conf.get(key), Some(value), "{key} changed or added");
        }
    }
    for key in plugin.conf.keys() {
        assert!(conf.contains_key(key), "{key} dropped");
    }
    conf
}

/// A result cache file: an accepted entry, written again, reads back equal,
/// and the configuration it recorded never panics the list parser.
pub fn result_cache(data: &[u8]) -> bool {
    let Ok(entry) = cache::parse(data) else {
        return false;
    };
    let printed = match &entry {
        CacheEntry::V1(info) => {
            assert_eq!(info.kind, CACHE_KIND_V1);
            let _ = NetworkConfigList::from_bytes(&info.config, "cache");
            serde_json::to_vec(info)
        }
        CacheEntry::LegacyResult(result) => serde_json::to_vec(result),
    }
    .expect("a cache entry serializes");
    assert_eq!(cache::parse(&printed).as_ref(), Ok(&entry));
    true
}

/// Any bytes encode and decode back; text that decodes re-encodes to text
/// of the same length that decodes to the same bytes.
pub fn base64_text(data: &[u8]) -> bool {
    assert_eq!(decode(&encode(data)).as_deref(), Ok(data));
    let Some(bytes) = std::str::from_utf8(data).ok().and_then(|t| decode(t).ok()) else {
        return false;
    };
    let again = encode(&bytes);
    assert_eq!(again.len(), data.len());
    assert_eq!(decode(&again), Ok(bytes));
    true
}
