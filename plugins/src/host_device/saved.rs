//! What the host loses when its device moves into a container, saved for
//! DEL: the device's name (also kept in its alias, where the reference looks
//! for it), its alias before, whether it was up, and its addresses (a link
//! moved to another namespace leaves them behind). One file per attachment
//! under `dataDir` (`common::state_file`).

use crate::common::state_file;
use cni_core::fsio::FileOps;
use cni_core::net::{AddressInfo, AddressSpec, LinkInfo, RouteScope};
use cni_core::CniError;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostState {
    /// The network that saved it.
    pub network: String,
    /// The device's name in the host.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub up: bool,
    #[serde(default)]
    pub addresses: Vec<SavedAddress>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAddress {
    /// With its prefix: `192.0.2.5/24`.
    pub address: String,
    #[serde(default)]
    pub nodad: bool,
}

impl HostState {
    /// The device as the host has it now. IPv6 link-local addresses are the
    /// kernel's own and come back by themselves when the link is up.
    pub fn of(network: &str, link: &LinkInfo, addresses: &[AddressInfo]) -> HostState {
        HostState {
            network: network.to_string(),
            name: link.name.clone(),
            alias: link.alias.clone(),
            up: link.up,
            addresses: addresses
                .iter()
                .filter(|a| !(a.addr.addr().is_ipv6() && a.scope == RouteScope::Link))
                .map(|a| SavedAddress {
                    address: a.addr.to_string(),
                    nodad: a.nodad,
                })
                .collect(),
        }
    }

    /// The addresses to add back; one that does not parse is named.
    pub fn address_specs(&self) -> Result<Vec<AddressSpec>, CniError> {
        self.addresses
            .iter()
            .map(|a| {
                a.address
                    .parse()
                    .map(|addr| AddressSpec {
                        addr,
                        nodad: a.nodad,
                    })
                    .map_err(|e| {
                        CniError::decode(format!(
                            "saved host address {:?} of {}: {e}",
                            a.address, self.name
                        ))
                    })
            })
            .collect()
    }
}

pub fn write(
    fs: &dyn FileOps,
    data_dir: &Path,
    file: &Path,
    state: &HostState,
) -> Result<(), CniError> {
    let bytes = serde_json::to_vec_pretty(state)
        .map_err(|e| CniError::io(format!("encoding the saved host state: {e}")))?;
    state_file::write(fs, data_dir, file, &bytes, "the device's host state")
}

/// `Ok(None)` when absent; `Err` with the reason when unreadable or not ours.
pub fn read(fs: &dyn FileOps, file: &Path) -> Result<Option<HostState>, String> {
    let Some(bytes) = state_file::read(fs, file)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("{} is not a saved host-device state: {e}", file.display()))
}
