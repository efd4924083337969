//! What the plugins' fuzz targets in `fuzz/` check, shared with the replay
//! of their corpora (`tests/fuzz_corpus.rs`); see `cni_core::fuzz` for the
//! shape of an oracle. (static's is `static_ipam::fuzz`, host-local's in
//! `tests/host_local_fuzz`.)

mod cnitool_args;
mod plugin_configs;

use cni_core::fuzz::Oracle;
pub use cnitool_args::cni_and_cap_args;
pub use plugin_configs::{bridge, macvlan, portmap, ptp, tap};

/// The targets whose oracles live in this crate, by corpus directory name.
pub const TARGETS: &[(&str, Oracle)] = &[
    ("bridge_config", plugin_configs::bridge),
    ("ptp_config", plugin_configs::ptp),
    ("macvlan_config", plugin_configs::macvlan),
    ("tap_config", plugin_configs::tap),
    ("portmap_config", plugin_configs::portmap),
    ("cnitool_args", cnitool_args::cni_and_cap_args),
];
