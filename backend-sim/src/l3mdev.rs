//! Dummy links and VRF devices. A VRF binds its ports to its routing
//! table: as Linux does (`do_vrf_add_slave`/`do_vrf_del_slave`), enslaving
//! or releasing a port cycles it (down and up again if it was up), so its
//! routes go, its IPv6 addresses go (unless keep_addr_on_down), and its
//! connected routes come back in the table of its new master, or in main.
//! Not modelled: the l3mdev policy rule Linux adds with the first VRF.

use crate::addrs;
use crate::links::{ensure_name_free, insert_link};
use crate::model::{Namespace, Net, NsId};
use cni_core::net::{DummySpec, LinkInfo, LinkKind, NetError, NetResult, VrfSpec};

/// What a new VRF device gets from Linux: its MTU (IP6_MAX_MTU + headroom).
pub(crate) const VRF_MTU: u32 = 65575;

pub(crate) fn create_dummy(net: &mut Net, ns: &NsId, spec: &DummySpec) -> NetResult<LinkInfo> {
    ensure_name_free(net, ns, &spec.name)?;
    if let Some(m) = spec.mac {
        if m.is_zero() || m.is_multicast() {
            return Err(NetError::invalid(format!(
                "dummy mac: {m} is not a unicast address"
            )));
        }
    }
    let index = insert_link(
        net,
        ns,
        &spec.name,
        LinkKind::Dummy,
        1500,
        spec.mac,
        spec.txqueuelen,
    )?;
    crate::links::info(net, ns, index)
}

pub(crate) fn create_vrf(net: &mut Net, ns: &NsId, spec: &VrfSpec) -> NetResult<LinkInfo> {
    ensure_name_free(net, ns, &spec.name)?;
    if spec.table == 0 {
        // Linux: "Invalid VRF table id" (EINVAL).
        return Err(NetError::invalid("vrf table 0 is not a table"));
    }
    let index = insert_link(net, ns, &spec.name, LinkKind::Vrf, VRF_MTU, None, None)?;
    let space = net.ns_mut(ns)?;
    space.link_mut(index)?.vrf_table = Some(spec.table);
    crate::links::info(net, ns, index)
}

pub(crate) fn is_vrf(space: &Namespace, index: u32) -> bool {
    space
        .links
        .get(&index)
        .is_some_and(|l| l.kind == LinkKind::Vrf)
}

/// Refuses what Linux refuses as a VRF port: another VRF (EINVAL),
/// loopback, the VRF itself.
pub(crate) fn check_port(space: &Namespace, port: u32, vrf: u32) -> NetResult<()> {
    let link = space.link(port)?;
    if matches!(link.kind, LinkKind::Vrf | LinkKind::Loopback) || port == vrf {
        return Err(NetError::invalid(format!(
            "link {:?} cannot be a VRF port",
            link.name
        )));
    }
    Ok(())
}

/// Cycles a port whose master changed to or from a VRF (after the change).
pub(crate) fn cycle_port(space: &mut Namespace, port: u32) {
    let Some(link) = space.links.get_mut(&port) else {
        return;
    };
    if !link.up {
        return;
    }
    link.link_local_done = false;
    addrs::on_link_down(space, port);
    addrs::on_link_up(space, port);
}
