//! Plugin discovery and version negotiation: VERSION probes and the
//! reference's `ValidateNetworkList`.

use super::api::{into_result, CniConfig};
use super::error::LibcniError;
use super::raw_conf::NetworkConfigList;
use super::version;
use super::RuntimeConf;
use serde::Deserialize;

/// What a plugin's VERSION answer says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PluginInfo {
    #[serde(rename = "cniVersion", default)]
    pub cni_version: String,
    #[serde(rename = "supportedVersions", default)]
    pub supported_versions: Vec<String>,
}

impl CniConfig<'_> {
    /// Every plugin of the list exists and supports the list's version.
    /// Returns the capabilities the list's plugins declare (sorted, unique).
    pub fn validate_network_list(
        &self,
        list: &NetworkConfigList,
    ) -> Result<Vec<String>, LibcniError> {
        let mut errors = Vec::new();
        let mut caps: Vec<String> = Vec::new();
        for plugin in &list.plugins {
            match self.get_version_info(plugin.plugin_type()) {
                Ok(info) if info.supported_versions.contains(&list.cni_version) => {}
                Ok(info) => errors.push(LibcniError::PluginVersion {
                    plugin: plugin.plugin_type().to_string(),
                    version: list.cni_version.clone(),
                    supported: info.supported_versions,
                }),
                Err(e) => errors.push(e),
            }
            caps.extend(plugin.enabled_capabilities().map(str::to_string));
        }
        into_result(errors)?;
        caps.sort();
        caps.dedup();
        Ok(caps)
    }

    /// Asks a plugin which spec versions it supports (VERSION). A plugin that
    /// does not know VERSION predates it and supports only 0.1.0.
    pub fn get_version_info(&self, plugin_type: &str) -> Result<PluginInfo, LibcniError> {
        let describe = || format!("type={plugin_type:?}");
        let wrap = |source| LibcniError::Plugin {
            plugin: describe(),
            verb: "version",
            source,
        };
        let path = self
            .exec
            .find_in_path(plugin_type, &self.path)
            .map_err(wrap)?;
        // Fake values keep plugins built on an old skel from refusing the call.
        let rt = RuntimeConf {
            netns: "dummy".into(),
            ifname: "dummy".into(),
            ..Default::default()
        };
        let mut env = self.env("VERSION", &rt);
        if let Some(p) = env.iter_mut().find(|(k, _)| k == "CNI_PATH") {
            p.1 = "dummy".into();
        }
        let stdin = format!("{{\"cniVersion\":\"{}\"}}", version::CURRENT_VERSION);
        let stdout = match self.exec.exec_plugin(&path, stdin.as_bytes(), &env) {
            Ok(out) => out,
            Err(e) if e.msg == "unknown CNI_COMMAND: VERSION" => {
                return Ok(PluginInfo {
                    cni_version: "0.1.0".into(),
                    supported_versions: vec!["0.1.0".into()],
                })
            }
            Err(e) => return Err(wrap(e)),
        };
        let mut info: PluginInfo =
            serde_json::from_slice(&stdout).map_err(|e| LibcniError::BadResult {
                plugin: describe(),
                verb: "version",
                reason: format!("not a VERSION answer: {e}"),
            })?;
        if info.supported_versions.is_empty() {
            let v = if info.cni_version.is_empty() {
                "0.1.0".to_string()
            } else {
                info.cni_version.clone()
            };
            info.supported_versions = vec![v];
        }
        Ok(info)
    }
}
