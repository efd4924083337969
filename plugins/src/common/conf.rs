//! The configuration fields every main plugin reads, besides its own: core's
//! one config model, and its parse with the network name a plugin requires.

use cni_core::net::MacAddr;
pub use cni_core::spec::config::{plugin_input as parse, NetConf as CommonConf};
use cni_core::spec::config::{ConfigError, Fields};
use cni_core::CniError;

/// The config's own `mac` key (the last of a plugin's MAC sources), parsed
/// as an address an interface can take.
pub fn config_mac(mac: Option<&str>) -> Result<Option<MacAddr>, CniError> {
    mac.map(|m| {
        MacAddr::parse_for_interface(m).map_err(|e| CniError::invalid_config(format!("mac: {e}")))
    })
    .transpose()
}

/// A backend option (`backend`, `ipMasqBackend`): the reference chooses
/// among iptables, firewalld and nftables; cni-rs `does` its work with
/// nftables only, so any other choice is refused, naming the field, rather
/// than ignored.
pub fn nftables_only(f: &Fields, key: &str, does: &str) -> Result<(), ConfigError> {
    match f.string(key)?.as_deref() {
        None | Some("nftables") => Ok(()),
        Some(other) => Err(ConfigError::invalid(
            f.path_of(key),
            format!("{other:?} is not supported: cni-rs {does} with nftables only (use \"nftables\" or leave it out)"),
        )),
    }
}
