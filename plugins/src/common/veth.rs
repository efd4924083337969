//! The veth pair of bridge and ptp: host end in the host, container end
//! created directly in the container namespace as `CNI_IFNAME`.

use super::{iface, names, sysctl, NetContext, Undo};
use cni_core::net::{LinkInfo, MacAddr, NetResult, Netns, NsRef, VethPair, VethSpec};
use cni_core::skel::CmdArgs;
use cni_core::CniError;

/// How many host names (salts) to try before giving up.
const NAME_TRIES: u32 = 4;

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
    let mut salt = 0;
    loop {
        let spec = VethSpec {
            name: names::host_veth_name(&args.container_id, &args.ifname, salt),
            peer_name: args.ifname.clone(),
            mtu,
            mac: host_mac,
            peer_mac: container_mac,
            txqueuelen: None,
        };
        let created: NetResult<VethPair> = host.create_veth(&spec, &container_ns);
        salt += 1;
        let name_taken =
            matches!(&created, Err(e) if e.is_exists()) && host.link_by_name(&spec.name).is_ok();
        if name_taken && salt < NAME_TRIES {
            continue;
        }
        let pair = created.ctx(&format!(
            "creating veth {} <-> {} in {}",
            spec.name, spec.peer_name, args.netns
        ))?;
        let index = pair.local.index;
        undo.push(format!("veth {}", spec.name), move || {
            host.delete_link(index)
        });
        // The plugin owns this link's routes.
        sysctl::refuse_router_ads(host, &pair.local.name)?;
        return Ok(pair);
    }
}

/// CHECK: the container end's peer is still in the host.
pub fn host_peer(host: &dyn Netns, container_end: &LinkInfo) -> Result<LinkInfo, CniError> {
    container_end
        .peer_index
        .and_then(|i| host.link_by_index(i).ok())
        .ok_or_else(|| {
            iface::mismatch(format!(
                "{} has no veth peer in the host",
                container_end.name
            ))
        })
}
