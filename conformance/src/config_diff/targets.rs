//! The targets by plugin name, ours from `crate::realns::plugin_dir`, the
//! reference's from /usr/lib/cni.

use super::chained::Chained;
use super::host_local::HostLocal;
use super::main_plugins::MainPlugins;
use super::static_ipam::StaticIpam;
use super::Target;
use crate::realns::our_plugin;
use std::path::PathBuf;

pub const REFERENCE_DIR: &str = "/usr/lib/cni";

/// Every plugin the fuzzer knows; all but the first two need root.
pub const ALL: [&str; 10] = [
    "host-local",
    "static",
    "bridge",
    "ptp",
    "macvlan",
    "portmap",
    "firewall",
    "tuning",
    "bandwidth",
    "sbr",
];

/// The target for `name`; the main plugins make their namespaces here.
pub fn by_name(name: &str) -> Result<Box<dyn Target>, String> {
    let reference = |plugin: &str| PathBuf::from(REFERENCE_DIR).join(plugin);
    Ok(match name {
        "host-local" => Box::new(HostLocal::new(
            our_plugin("host-local"),
            reference("host-local"),
        )),
        "static" => Box::new(StaticIpam::new(our_plugin("static"), reference("static"))),
        "bridge" => Box::new(MainPlugins::new("bridge")),
        "ptp" => Box::new(MainPlugins::new("ptp")),
        "macvlan" => Box::new(MainPlugins::new("macvlan")),
        "portmap" => Box::new(Chained::new("portmap")),
        "firewall" => Box::new(Chained::new("firewall")),
        "tuning" => Box::new(Chained::new("tuning")),
        "bandwidth" => Box::new(Chained::new("bandwidth")),
        "sbr" => Box::new(Chained::new("sbr")),
        other => return Err(format!("unknown plugin {other:?} (known: {ALL:?})")),
    })
}
