//! The two links `bandwidth` shapes: the container's veth peer on the host
//! (found as the reference finds it) and the attachment's ifb.

use crate::common::{netns, NetContext};
use cni_core::net::{LinkInfo, NetBackend, Netns};
use cni_core::{CniError, CniResult};
use sha2::{Digest, Sha512};
use std::fmt::Write;

const IFB_PREFIX: &str = "bwp";
const IFNAME_MAX: usize = 15;

/// `bwp` and the start of the hex SHA-512 of network name and container ID,
/// the reference's name, so either implementation's DEL finds the other's.
pub fn ifb_name(network: &str, container_id: &str) -> String {
    let digest = Sha512::digest(format!("{network}{container_id}").as_bytes());
    let mut name = IFB_PREFIX.to_string();
    for byte in digest.iter() {
        let _ = write!(name, "{byte:02x}");
        if name.len() >= IFNAME_MAX {
            break;
        }
    }
    name.truncate(IFNAME_MAX);
    name
}

/// The host end of the container interface's veth: the link its peer index
/// names in the host, which `prevResult` must list as a host interface.
pub fn host_veth(
    backend: &dyn NetBackend,
    host: &dyn Netns,
    netns_path: &str,
    ifname: &str,
    prev: &CniResult,
) -> Result<LinkInfo, CniError> {
    let container = netns::container(backend, netns_path)?;
    let link = container
        .link_by_name(ifname)
        .ctx(&format!("looking up {ifname} in the container"))?;
    let peer = link.peer_index.ok_or_else(|| {
        CniError::invalid_config(format!(
            "container interface {ifname} has no veth peer: bandwidth shapes veth attachments only"
        ))
    })?;
    let host_link = host.link_by_index(peer).ctx(&format!(
        "looking up the veth peer (#{peer}) of {ifname} in the host"
    ))?;
    let listed = prev
        .interfaces
        .iter()
        .any(|i| i.sandbox.is_empty() && i.name == host_link.name);
    if !listed {
        return Err(CniError::invalid_config(format!(
            "prevResult: no host interface {} (the veth peer of {ifname})",
            host_link.name
        )));
    }
    Ok(host_link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifb_name_is_the_references() {
        // `printf netcontainer | sha512sum` starts with fe5df6e93339.
        assert_eq!(ifb_name("net", "container"), "bwpfe5df6e93339");
    }
}
