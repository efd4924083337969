//! One plugin's network configuration (a `.conf`) run on its own, as
//! runtimes that embed libcni use the reference's `AddNetwork`,
//! `CheckNetwork`, `DelNetwork` and `ValidateNetwork`.
//!
//! A single configuration runs exactly as a one-plugin list would, with one
//! difference the reference also makes: the result cache records the
//! `.conf` as written, not a list wrapped around it.

use super::api::{CniConfig, RuntimeConf};
use super::error::LibcniError;
use super::load::{conf_files, single_conf_from_file};
use super::raw_conf::{NetworkConfigList, PluginConfig};
use serde_json::{Map, Value};
use std::path::Path;

/// A single-plugin network configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfig {
    /// The configuration as a one-plugin list whose `bytes` are the `.conf`.
    list: NetworkConfigList,
}

impl NetworkConfig {
    /// Parses a `.conf` document; without `cniVersion` it is 0.1.0.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self, LibcniError> {
        let mut list = NetworkConfigList::from_single_conf_bytes(bytes, origin)?;
        list.bytes = bytes.to_vec();
        Ok(NetworkConfig { list })
    }

    pub fn name(&self) -> &str {
        &self.list.name
    }

    pub fn cni_version(&self) -> &str {
        &self.list.cni_version
    }

    pub fn plugin(&self) -> &PluginConfig {
        // A one-plugin list by construction (`from_single_conf_bytes`).
        &self.list.plugins[0]
    }

    /// The configuration as it was read.
    pub fn bytes(&self) -> &[u8] {
        &self.list.bytes
    }

    /// The same configuration as a one-plugin list.
    pub fn as_list(&self) -> &NetworkConfigList {
        &self.list
    }
}

/// The single configuration called `name` among the `.conf`/`.json` files
/// of `dir`, in file-name order (the reference's `LoadConf`). As there, an
/// invalid file met before the match is an error naming that file.
pub fn load_conf(dir: &Path, name: &str) -> Result<NetworkConfig, LibcniError> {
    let files = conf_files(dir, &["conf", "json"])?;
    if files.is_empty() {
        return Err(LibcniError::NoConfigsFound {
            dir: dir.to_path_buf(),
        });
    }
    for file in &files {
        let conf = single_conf_from_file(file)?;
        if conf.name() == name {
            return Ok(conf);
        }
    }
    Err(LibcniError::NetworkNotFound {
        dir: dir.to_path_buf(),
        name: name.to_string(),
    })
}

impl CniConfig<'_> {
    /// ADD the one plugin; its result is cached and returned.
    pub fn add_network(
        &self,
        net: &NetworkConfig,
        rt: &RuntimeConf,
    ) -> Result<Map<String, Value>, LibcniError> {
        self.add_network_list(net.as_list(), rt)
    }

    /// CHECK the plugin against the cached result (0.4.0 and later).
    pub fn check_network(&self, net: &NetworkConfig, rt: &RuntimeConf) -> Result<(), LibcniError> {
        self.check_network_list(net.as_list(), rt)
    }

    /// DEL the plugin (with the cached result from 0.4.0) and drop the cache entry.
    pub fn del_network(&self, net: &NetworkConfig, rt: &RuntimeConf) -> Result<(), LibcniError> {
        self.del_network_list(net.as_list(), rt)
    }

    /// The plugin exists and supports the configuration's version; returns
    /// the capabilities it declares.
    pub fn validate_network(&self, net: &NetworkConfig) -> Result<Vec<String>, LibcniError> {
        self.validate_network_list(net.as_list())
    }

    /// The cached result of the last ADD, at the configuration's version.
    pub fn get_network_cached_result(
        &self,
        net: &NetworkConfig,
        rt: &RuntimeConf,
    ) -> Result<Option<Map<String, Value>>, LibcniError> {
        self.get_network_list_cached_result(net.as_list(), rt)
    }

    /// The cached configuration bytes and `rt` with the cached arguments.
    pub fn get_network_cached_config(
        &self,
        net: &NetworkConfig,
        rt: &RuntimeConf,
    ) -> Result<Option<(Vec<u8>, RuntimeConf)>, LibcniError> {
        self.get_network_list_cached_config(net.as_list(), rt)
    }
}
