//! The veth pair of bridge and ptp: host end in the host, container end
//! created directly in the container namespace as `CNI_IFNAME`.

use super::{names, net_err, Undo};
use cni_core::error::code;
use cni_core::net::{MacAddr, Netns, NsRef, VethPair, VethSpec};
use cni_core::skel::CmdArgs;
use cni_core::CniError;

/// Creates the pair with a host name derived from the attachment, trying
/// another name if an unrelated link already holds it. Registers its removal.
pub fn create<'a>(
    host: &'a dyn Netns,
    args: &CmdArgs,
    mtu: Option<u32>,
    host_mac: Option<MacAddr>,
    container_mac: Option<MacAddr>,
    undo: &mut Undo<'a>,
) -> Result<VethPair, CniError> {
    let container_ns = NsRef::path(&args.netns);
    for salt in 0..4 {
        let spec = VethSpec {
            name: names::host_veth_name(&args.container_id, &args.ifname, salt),
            peer_name: args.ifname.clone(),
            mtu,
            mac: host_mac,
            peer_mac: container_mac,
            txqueuelen: None,
        };
        match host.create_veth(&spec, &container_ns) {
            Ok(pair) => {
                let index = pair.local.index;
                undo.push(format!("veth {}", spec.name), move || {
                    host.delete_link(index).map_err(|e| e.to_string())
                });
                return Ok(pair);
            }
            Err(e) if e.is_exists() && host.link_by_name(&spec.name).is_ok() => continue,
            Err(e) => {
                return Err(net_err(
                    &format!(
                        "creating veth {} <-> {} in {}",
                        spec.name, spec.peer_name, args.netns
                    ),
                    e,
                ))
            }
        }
    }
    Err(CniError::new(
        code::GENERIC,
        "could not find a free name for the host veth",
    ))
}

/// ADD refuses to take over an interface name already used in the container.
/// Only "not found" means free: a look-up that failed for another reason
/// proves nothing, and going on could clobber an existing interface.
pub fn ensure_ifname_free(container: &dyn Netns, args: &CmdArgs) -> Result<(), CniError> {
    match container.link_by_name(&args.ifname) {
        Ok(_) => Err(CniError::new(
            code::GENERIC,
            format!(
                "container interface {} already exists in {}",
                args.ifname, args.netns
            ),
        )),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(net_err(
            &format!("looking up {} in {}", args.ifname, args.netns),
            e,
        )),
    }
}
