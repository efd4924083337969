//! Running a network list: ADD/CHECK/DEL/GC/STATUS, the result cache, plugin
//! version probing. Mirrors the reference's `libcni.CNIConfig`; plugins run
//! only through the [`Exec`] trait.

use super::cache::{self, CachedInfo};
use super::error::LibcniError;
use super::inject::{build_one_config, build_with};
use super::raw_conf::{NetworkConfigList, PluginConfig};
use super::result::{at_version, parse_add_output};
use super::validate;
use super::version;
use crate::invoke::Exec;
use crate::spec::args::CniArgs;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// One invocation's runtime side (the reference's `RuntimeConf`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeConf {
    pub container_id: String,
    pub netns: String,
    pub ifname: String,
    /// `CNI_ARGS`, in order.
    pub args: Vec<(String, String)>,
    /// Capability arguments; a plugin gets in `runtimeConfig` only those it declares.
    pub capability_args: Map<String, Value>,
    /// Deprecated in the reference: used only when the `CniConfig` has no cache directory.
    pub cache_dir: Option<PathBuf>,
}

/// An attachment the runtime still wants (GC keeps these).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GcAttachment {
    #[serde(rename = "containerID")]
    pub container_id: String,
    #[serde(rename = "ifname")]
    pub ifname: String,
}

/// The runtime's handle: where plugins are, how to run them, where the cache is.
pub struct CniConfig<'e> {
    pub path: Vec<PathBuf>,
    pub(super) exec: &'e dyn Exec,
    cache_dir: Option<PathBuf>,
    base_env: Vec<(String, String)>,
    /// `TRACEPARENT`/`TRACESTATE` (W3C trace context) handed to every plugin.
    trace: Vec<(String, String)>,
}

/// The W3C trace context variables: taken from the runtime's environment and
/// passed to every plugin, as current upstream libcni does, so a plugin's
/// logs join the runtime's trace.
pub const TRACE_VARS: &[&str] = &["TRACEPARENT", "TRACESTATE"];

/// The variables libcni sets itself; never taken from the base environment.
const CNI_VARS: &[&str] = &[
    "CNI_COMMAND",
    "CNI_CONTAINERID",
    "CNI_NETNS",
    "CNI_ARGS",
    "CNI_IFNAME",
    "CNI_PATH",
];

impl<'e> CniConfig<'e> {
    pub fn new(path: Vec<PathBuf>, exec: &'e dyn Exec) -> Self {
        CniConfig {
            path,
            exec,
            cache_dir: None,
            base_env: Vec::new(),
            trace: TRACE_VARS
                .iter()
                .filter_map(|k| Some((k.to_string(), non_empty_var(k)?)))
                .collect(),
        }
    }

    /// The trace context for the plugins this config runs, replacing the one
    /// taken from the process environment (a runtime serving many requests
    /// has one per request). `None`s pass no trace context.
    pub fn with_trace_context(
        mut self,
        traceparent: Option<String>,
        tracestate: Option<String>,
    ) -> Self {
        self.trace = TRACE_VARS
            .iter()
            .zip([traceparent, tracestate])
            .filter_map(|(k, v)| Some((k.to_string(), v.filter(|v| !v.is_empty())?)))
            .collect();
        self
    }

    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Variables every plugin gets besides the `CNI_*` ones (the reference
    /// passes its whole process environment; a runtime passes e.g. `PATH`).
    /// A trace context in `env` replaces the one this config holds.
    pub fn with_base_env(mut self, env: Vec<(String, String)>) -> Self {
        let (trace, rest): (Vec<_>, Vec<_>) = env
            .into_iter()
            .filter(|(k, _)| !CNI_VARS.contains(&k.as_str()))
            .partition(|(k, _)| TRACE_VARS.contains(&k.as_str()));
        if trace.iter().any(|(_, v)| !v.is_empty()) {
            self.trace = trace.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        }
        self.base_env = rest;
        self
    }

    /// The cache directory: this config's, else the runtime config's, else the default.
    pub fn cache_dir(&self, rt: Option<&RuntimeConf>) -> PathBuf {
        self.cache_dir
            .clone()
            .or_else(|| rt.and_then(|rt| rt.cache_dir.clone()))
            .unwrap_or_else(|| PathBuf::from(cache::DEFAULT_CACHE_DIR))
    }

    fn cache_path(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<PathBuf, LibcniError> {
        cache::cache_file_path(
            &self.cache_dir(Some(rt)),
            &list.name,
            &rt.container_id,
            &rt.ifname,
        )
    }

    /// ADD every plugin in order, each getting the previous one's result as
    /// `prevResult`; the last result is cached and returned.
    pub fn add_network_list(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<Map<String, Value>, LibcniError> {
        validate::container_id(&rt.container_id)?;
        validate::network_name(&list.name)?;
        validate::interface_name(&rt.ifname)?;
        let cache_path = self.cache_path(list, rt)?;
        let mut result: Option<Map<String, Value>> = None;
        for plugin in &list.plugins {
            let stdin = build_one_config(list, plugin, result.as_ref(), Some(rt))?;
            let stdout = self.run(plugin, "add", &stdin, self.env("ADD", rt))?;
            let parsed = parse_add_output(&stdout, &list.cni_version).map_err(|e| {
                LibcniError::BadResult {
                    plugin: plugin.description(),
                    verb: "add",
                    reason: e.msg,
                }
            })?;
            result = Some(parsed);
        }
        let result = result.unwrap_or_default();
        let info = CachedInfo {
            kind: cache::CACHE_KIND_V1.to_string(),
            container_id: rt.container_id.clone(),
            config: list.bytes.clone(),
            ifname: rt.ifname.clone(),
            network_name: list.name.clone(),
            netns: rt.netns.clone(),
            cni_args: rt.args.clone(),
            capability_args: rt.capability_args.clone(),
            result: Some(result.clone()),
        };
        cache::write(&cache_path, &info)?;
        Ok(result)
    }

    /// CHECK every plugin in order against the cached result (0.4.0 and later).
    pub fn check_network_list(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<(), LibcniError> {
        require_version(list, "CHECK", version::CHECK_MIN_VERSION)?;
        if list.disable_check {
            return Ok(());
        }
        let cached = self
            .cached_result_at_list_version(list, rt)?
            .ok_or_else(|| LibcniError::NoCachedResult {
                network: list.name.clone(),
                container_id: rt.container_id.clone(),
                ifname: rt.ifname.clone(),
            })?;
        for plugin in &list.plugins {
            let stdin = build_one_config(list, plugin, Some(&cached), Some(rt))?;
            self.run(plugin, "check", &stdin, self.env("CHECK", rt))?;
        }
        Ok(())
    }

    /// DEL every plugin in reverse order. From 0.4.0 each gets the cached
    /// result as `prevResult` (none if there is no usable cache entry); the
    /// cache entry is removed once every plugin succeeded.
    pub fn del_network_list(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<(), LibcniError> {
        let cache_path = self.cache_path(list, rt)?;
        let cached = if version::at_least(&list.cni_version, version::CHECK_MIN_VERSION) {
            match self.cached_result_at_list_version(list, rt) {
                Ok(r) => r,
                Err(e) => {
                    // An unreadable entry must not block teardown; it is dropped.
                    tracing::warn!("ignoring unusable cached result: {e}");
                    cache::remove(&cache_path)?;
                    None
                }
            }
        } else {
            None
        };
        for plugin in list.plugins.iter().rev() {
            let stdin = build_one_config(list, plugin, cached.as_ref(), Some(rt))?;
            self.run(plugin, "delete", &stdin, self.env("DEL", rt))?;
        }
        cache::remove(&cache_path)
    }

    /// STATUS (1.1.0): every plugin in order; the first failure is returned.
    pub fn get_status_network_list(&self, list: &NetworkConfigList) -> Result<(), LibcniError> {
        require_version(list, "STATUS", version::GC_STATUS_MIN_VERSION)?;
        for plugin in &list.plugins {
            let stdin = build_with(list, plugin, Map::new())?;
            self.run(
                plugin,
                "status",
                &stdin,
                self.env("STATUS", &RuntimeConf::default()),
            )?;
        }
        Ok(())
    }

    /// The cached result of the last ADD, converted to the list's version.
    pub fn get_network_list_cached_result(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<Option<Map<String, Value>>, LibcniError> {
        self.cached_result_at_list_version(list, rt)
    }

    /// The cached configuration bytes, and `rt` with the cached `CNI_ARGS`
    /// and capability arguments.
    pub fn get_network_list_cached_config(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<Option<(Vec<u8>, RuntimeConf)>, LibcniError> {
        let path = self.cache_path(list, rt)?;
        match cache::read(&path)? {
            Some(cache::CacheEntry::V1(info)) => {
                let mut new_rt = rt.clone();
                if !info.cni_args.is_empty() {
                    new_rt.args = info.cni_args;
                }
                new_rt.capability_args = info.capability_args.clone();
                Ok(Some((info.config, new_rt)))
            }
            Some(cache::CacheEntry::LegacyResult(_)) => Err(LibcniError::Cache {
                path,
                reason: "is not a cniCacheV1 entry; it holds no configuration".into(),
            }),
            None => Ok(None),
        }
    }

    /// Every cached attachment (of `container_id`, if not empty).
    pub fn get_cached_attachments(
        &self,
        container_id: &str,
    ) -> Result<Vec<CachedInfo>, LibcniError> {
        let all = cache::attachments(&self.cache_dir(None))?;
        Ok(all
            .into_iter()
            .filter(|a| container_id.is_empty() || a.container_id == container_id)
            .collect())
    }

    fn cached_result_at_list_version(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<Option<Map<String, Value>>, LibcniError> {
        let path = self.cache_path(list, rt)?;
        let Some(entry) = cache::read(&path)? else {
            return Ok(None);
        };
        let Some(result) = entry.result() else {
            return Ok(None);
        };
        at_version(result, &list.cni_version)
            .map(Some)
            .map_err(|reason| LibcniError::Cache {
                path,
                reason: format!(
                    "cannot convert to config version {}: {reason}",
                    list.cni_version
                ),
            })
    }

    pub(super) fn run(
        &self,
        plugin: &PluginConfig,
        verb: &'static str,
        stdin: &[u8],
        env: Vec<(String, String)>,
    ) -> Result<Vec<u8>, LibcniError> {
        let wrap = |source| LibcniError::Plugin {
            plugin: plugin.description(),
            verb,
            source,
        };
        let path = self
            .exec
            .find_in_path(plugin.plugin_type(), &self.path)
            .map_err(wrap)?;
        self.exec.exec_plugin(&path, stdin, &env).map_err(wrap)
    }

    /// The environment as the reference's `invoke.Args` builds it: all six
    /// variables always set (empty where the verb has no value), then the
    /// base environment, then the trace context.
    pub(super) fn env(&self, command: &str, rt: &RuntimeConf) -> Vec<(String, String)> {
        let args = CniArgs::from_pairs(rt.args.clone()).to_env_string();
        let path = self
            .path
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(":");
        let mut env = vec![
            ("CNI_COMMAND".to_string(), command.to_string()),
            ("CNI_CONTAINERID".to_string(), rt.container_id.clone()),
            ("CNI_NETNS".to_string(), rt.netns.clone()),
            ("CNI_ARGS".to_string(), args),
            ("CNI_IFNAME".to_string(), rt.ifname.clone()),
            ("CNI_PATH".to_string(), path),
        ];
        env.extend(self.base_env.iter().cloned());
        env.extend(self.trace.iter().cloned());
        env
    }
}

pub(super) fn require_version(
    list: &NetworkConfigList,
    verb: &'static str,
    min: &'static str,
) -> Result<(), LibcniError> {
    if version::at_least(&list.cni_version, min) {
        Ok(())
    } else {
        Err(LibcniError::VerbNotSupported {
            network: list.name.clone(),
            version: list.cni_version.clone(),
            verb,
            min,
        })
    }
}

fn non_empty_var(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

pub(super) fn into_result(mut errors: Vec<LibcniError>) -> Result<(), LibcniError> {
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(LibcniError::Multiple(errors)),
    }
}
