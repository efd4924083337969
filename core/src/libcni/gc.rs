//! GC (spec 1.1.0): for one network list, as the reference's
//! `GCNetworkList`, and for many at once — one call a runtime can make for
//! the whole node (containernetworking/cni#1091, not done upstream).
//!
//! The plugins get the runtime's valid attachments under both
//! `cni.dev/valid-attachments` and the legacy `cni.dev/attachments` (the
//! spec's first wording, which older plugins read), as current upstream
//! libcni sends them.
//!
//! Across several lists, a plugin binary is exec'd once per distinct
//! configuration: identical GC requests (the same network given twice, or
//! the same plugin configuration twice in one list) run once. Requests that
//! differ are not merged: a plugin's GC is scoped by its configuration
//! (host-local collects the `dataDir` of its network's name), so one call per
//! binary would leave the other networks' leases behind.

use super::api::{into_result, require_version, CniConfig, GcAttachment, RuntimeConf};
use super::error::LibcniError;
use super::inject::build_with;
use super::raw_conf::NetworkConfigList;
use super::version;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::path::PathBuf;

/// The keys GC's valid attachments are sent under: the spec's, then the
/// legacy name.
pub const VALID_ATTACHMENTS_KEYS: [&str; 2] = ["cni.dev/valid-attachments", "cni.dev/attachments"];

impl CniConfig<'_> {
    /// GC one list: DEL every cached attachment of this network that is not
    /// in `valid`, then send GC to every plugin with the valid attachments
    /// (none when `valid` is None).
    pub fn gc_network_list(
        &self,
        list: &NetworkConfigList,
        valid: Option<&[GcAttachment]>,
    ) -> Result<(), LibcniError> {
        require_version(list, "GC", version::GC_STATUS_MIN_VERSION)?;
        self.gc_network_lists(&[list], valid)
    }

    /// GC every list in `lists` in one pass: the cache is read once, each
    /// network's stale attachments are DELeted (a network named twice only
    /// once, with the first list of that name), and each distinct GC request
    /// is sent once (see the module docs). A list below 1.1.0 is refused and
    /// one with `disableGC` skipped; every failure is reported after the
    /// other lists ran.
    pub fn gc_network_lists(
        &self,
        lists: &[&NetworkConfigList],
        valid: Option<&[GcAttachment]>,
    ) -> Result<(), LibcniError> {
        let mut errors = Vec::new();
        let mut eligible = Vec::new();
        for list in lists {
            match require_version(list, "GC", version::GC_STATUS_MIN_VERSION) {
                Err(e) => errors.push(e),
                Ok(()) if list.disable_gc => {}
                Ok(()) => eligible.push(*list),
            }
        }
        if eligible.is_empty() {
            return into_result(errors);
        }
        errors.extend(self.del_stale(&eligible, valid)?);
        let inject = gc_arguments(valid)?;
        let env = self.env("GC", &RuntimeConf::default());
        let mut sent: HashSet<(PathBuf, Vec<u8>)> = HashSet::new();
        for list in &eligible {
            for plugin in &list.plugins {
                let stdin = build_with(list, plugin, inject.clone())?;
                let wrap = |source| LibcniError::Plugin {
                    plugin: plugin.description(),
                    verb: "gc",
                    source,
                };
                let path = match self.exec.find_in_path(plugin.plugin_type(), &self.path) {
                    Ok(path) => path,
                    Err(e) => {
                        errors.push(wrap(e));
                        continue;
                    }
                };
                if !sent.insert((path.clone(), stdin.clone())) {
                    continue;
                }
                if let Err(e) = self.exec.exec_plugin(&path, &stdin, &env) {
                    errors.push(wrap(e));
                }
            }
        }
        into_result(errors)
    }

    /// DELs every cached attachment of the lists' networks that is not in
    /// `valid`; returns the failures.
    fn del_stale(
        &self,
        lists: &[&NetworkConfigList],
        valid: Option<&[GcAttachment]>,
    ) -> Result<Vec<LibcniError>, LibcniError> {
        let keep: HashSet<&GcAttachment> = valid.unwrap_or(&[]).iter().collect();
        let mut done_networks = HashSet::new();
        let cached = self.get_cached_attachments("")?;
        let mut errors = Vec::new();
        for list in lists {
            if !done_networks.insert(list.name.as_str()) {
                continue;
            }
            for stale in cached.iter().filter(|a| a.network_name == list.name) {
                let id = GcAttachment {
                    container_id: stale.container_id.clone(),
                    ifname: stale.ifname.clone(),
                };
                if keep.contains(&id) {
                    continue;
                }
                let rt = RuntimeConf {
                    container_id: stale.container_id.clone(),
                    netns: stale.netns.clone(),
                    ifname: stale.ifname.clone(),
                    args: stale.cni_args.clone(),
                    capability_args: stale.capability_args.clone(),
                    cache_dir: None,
                };
                if let Err(e) = self.del_network_list(list, &rt) {
                    errors.push(LibcniError::StaleAttachment {
                        container_id: rt.container_id,
                        ifname: rt.ifname,
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(errors)
    }
}

/// The keys GC adds to every plugin's configuration.
fn gc_arguments(valid: Option<&[GcAttachment]>) -> Result<Map<String, Value>, LibcniError> {
    let mut inject = Map::new();
    if let Some(valid) = valid {
        let attachments = serde_json::to_value(valid).map_err(|e| {
            LibcniError::config("GC arguments", VALID_ATTACHMENTS_KEYS[0], e.to_string())
        })?;
        for key in VALID_ATTACHMENTS_KEYS {
            inject.insert(key.into(), attachments.clone());
        }
    }
    Ok(inject)
}
