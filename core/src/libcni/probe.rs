//! Plugin discovery and version negotiation: VERSION probes (the shared
//! `invoke::get_version_info`) and the reference's `ValidateNetworkList`.

use super::api::{into_result, CniConfig};
use super::error::LibcniError;
use super::raw_conf::NetworkConfigList;
use super::RuntimeConf;
use crate::invoke::get_version_info_with_env;
use crate::spec::VersionInfo;

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
                Ok(info) if info.supports(&list.cni_version) => {}
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

    /// Asks a plugin which spec versions it supports (VERSION), with this
    /// config's environment. A plugin that does not know VERSION predates it
    /// and supports only 0.1.0.
    pub fn get_version_info(&self, plugin_type: &str) -> Result<VersionInfo, LibcniError> {
        let wrap = |source| LibcniError::Plugin {
            plugin: format!("type={plugin_type:?}"),
            verb: "version",
            source,
        };
        let path = self
            .exec
            .find_in_path(plugin_type, &self.path)
            .map_err(wrap)?;
        let env = self.env("VERSION", &RuntimeConf::default());
        get_version_info_with_env(&path, self.exec, &env).map_err(wrap)
    }
}
