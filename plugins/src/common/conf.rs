//! The configuration fields every main plugin reads, besides its own: core's
//! one config model, and its parse with the network name a plugin requires.

pub use cni_core::spec::config::{plugin_input as parse, NetConf as CommonConf};
use cni_core::spec::config::{ConfigError, Fields};

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
