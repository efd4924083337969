//! Link operations: creation, deletion, flags, masters and moves.

use crate::model::{validate_mtu, validate_name, Link, LinkAddr, Net, NsId};
use cni_core::net::{
    BridgeSpec, IpvlanSpec, LinkInfo, LinkKind, MacAddr, MacvlanSpec, NetError, NetErrorKind,
    NetResult, VethPair, VethSpec, VlanSpec, VLAN_ID_MAX,
};

pub(crate) fn ensure_name_free(net: &Net, ns: &NsId, name: &str) -> NetResult<()> {
    validate_name(name)?;
    if net.ns(ns)?.index_of(name).is_some() {
        return Err(NetError::exists(format!(
            "a link named {name:?} already exists in {}",
            ns.label()
        )));
    }
    Ok(())
}

pub(crate) fn check_mac(mac: Option<MacAddr>, what: &str) -> NetResult<()> {
    if let Some(m) = mac {
        if m.is_zero() || m.0[0] & 1 == 1 {
            return Err(NetError::invalid(format!(
                "{what}: {m} is not a unicast address"
            )));
        }
    }
    Ok(())
}

fn check_qlen(qlen: Option<u32>) -> u32 {
    // The kernel's default for these link kinds; a spec never yields 0 here.
    match qlen {
        Some(q) if q > 0 => q,
        _ => 1000,
    }
}

pub(crate) fn insert_link(
    net: &mut Net,
    ns: &NsId,
    name: &str,
    kind: LinkKind,
    mtu: u32,
    mac: Option<MacAddr>,
    qlen: Option<u32>,
) -> NetResult<u32> {
    let random = net.next_mac();
    let space = net.ns_mut(ns)?;
    let index = space.alloc_index();
    let mut link = Link::new(index, name, kind, mac.unwrap_or(random), mtu);
    link.mac_set = mac.is_some();
    link.qlen = check_qlen(qlen);
    space.links.insert(index, link);
    Ok(index)
}

pub(crate) fn info(net: &Net, ns: &NsId, index: u32) -> NetResult<LinkInfo> {
    let link = net.ns(ns)?.link(index)?;
    Ok(net.link_info(ns, link))
}

pub(crate) fn create_bridge(net: &mut Net, ns: &NsId, spec: &BridgeSpec) -> NetResult<LinkInfo> {
    ensure_name_free(net, ns, &spec.name)?;
    let mtu = spec.mtu.unwrap_or(1500);
    validate_mtu(mtu)?;
    check_mac(spec.mac, "bridge mac")?;
    let index = insert_link(
        net,
        ns,
        &spec.name,
        LinkKind::Bridge,
        mtu,
        spec.mac,
        spec.txqueuelen,
    )?;
    info(net, ns, index)
}

pub(crate) fn create_veth(
    net: &mut Net,
    ns: &NsId,
    spec: &VethSpec,
    peer_ns: &NsId,
) -> NetResult<VethPair> {
    net.ns(peer_ns)?;
    ensure_name_free(net, ns, &spec.name)?;
    ensure_name_free(net, peer_ns, &spec.peer_name)?;
    if ns == peer_ns && spec.name == spec.peer_name {
        return Err(NetError::exists(format!(
            "veth ends both named {:?} in one namespace",
            spec.name
        )));
    }
    let mtu = spec.mtu.unwrap_or(1500);
    validate_mtu(mtu)?;
    check_mac(spec.mac, "veth mac")?;
    check_mac(spec.peer_mac, "veth peer mac")?;
    // Linux registers the peer first, so it takes the lower index.
    let peer_index = insert_link(
        net,
        peer_ns,
        &spec.peer_name,
        LinkKind::Veth,
        mtu,
        spec.peer_mac,
        spec.txqueuelen,
    )?;
    let index = insert_link(
        net,
        ns,
        &spec.name,
        LinkKind::Veth,
        mtu,
        spec.mac,
        spec.txqueuelen,
    )?;
    if let Some(l) = net.link_at_mut(&(ns.clone(), index)) {
        l.peer = Some((peer_ns.clone(), peer_index));
    }
    if let Some(l) = net.link_at_mut(&(peer_ns.clone(), peer_index)) {
        l.peer = Some((ns.clone(), index));
    }
    Ok(VethPair {
        local: info(net, ns, index)?,
        peer: info(net, peer_ns, peer_index)?,
    })
}

pub(crate) fn create_macvlan(
    net: &mut Net,
    ns: &NsId,
    spec: &MacvlanSpec,
    target: &NsId,
) -> NetResult<LinkInfo> {
    net.ns(target)?;
    let parent = net.ns(ns)?.links.get(&spec.parent).ok_or_else(|| {
        NetError::not_found(format!(
            "macvlan parent index {} not found in {}",
            spec.parent,
            ns.label()
        ))
    })?;
    if matches!(parent.kind, LinkKind::Loopback | LinkKind::Macvlan) {
        return Err(NetError::invalid(format!(
            "macvlan parent {:?} cannot carry a macvlan",
            parent.name
        )));
    }
    if parent.master.is_some() {
        // Linux refuses a macvlan on a bridge port with EBUSY.
        return Err(NetError::new(
            NetErrorKind::Busy,
            format!("macvlan parent {:?} is a bridge port", parent.name),
        ));
    }
    refuse_other_rx_handler(net, ns, spec.parent, LinkKind::Macvlan)?;
    let parent_mtu = parent.mtu;
    ensure_name_free(net, target, &spec.name)?;
    let mtu = spec.mtu.unwrap_or(parent_mtu);
    validate_mtu(mtu)?;
    if mtu > parent_mtu {
        return Err(NetError::invalid(format!(
            "macvlan mtu {mtu} exceeds its parent's mtu {parent_mtu}"
        )));
    }
    check_mac(spec.mac, "macvlan mac")?;
    let index = insert_link(
        net,
        target,
        &spec.name,
        LinkKind::Macvlan,
        mtu,
        spec.mac,
        spec.txqueuelen,
    )?;
    if let Some(l) = net.link_at_mut(&(target.clone(), index)) {
        l.parent = Some((ns.clone(), spec.parent));
        l.macvlan_mode = Some(spec.mode);
        l.bc_queue_len = Some(spec.bc_queue_len.unwrap_or(MACVLAN_DEFAULT_BC_QUEUE_LEN));
    }
    info(net, target, index)
}

/// Macvlan and ipvlan take over the parent's receive handler, so a parent
/// carries one kind of them only (Linux: EBUSY).
fn refuse_other_rx_handler(net: &Net, ns: &NsId, parent: u32, kind: LinkKind) -> NetResult<()> {
    let at = (ns.clone(), parent);
    let taken = net
        .namespaces
        .values()
        .flat_map(|s| s.links.values())
        .find(|l| {
            l.parent.as_ref() == Some(&at)
                && matches!(l.kind, LinkKind::Macvlan | LinkKind::Ipvlan)
                && l.kind != kind
        });
    match taken {
        Some(l) => Err(NetError::new(
            NetErrorKind::Busy,
            format!(
                "link #{parent} in {} already carries the {:?} {:?}",
                ns.label(),
                l.kind,
                l.name
            ),
        )),
        None => Ok(()),
    }
}

/// The parent of a stacked link (ipvlan, vlan) in `ns`, with the checks
/// Linux makes for both: it exists, is not the loopback, and the new link's
/// MTU (default: the parent's) is not above the parent's. Returns the
/// parent's MAC (the new link takes it) and the MTU.
fn stacked_parent(
    net: &Net,
    ns: &NsId,
    parent: u32,
    mtu: Option<u32>,
    kind: &str,
) -> NetResult<(MacAddr, u32)> {
    let p = net.ns(ns)?.links.get(&parent).ok_or_else(|| {
        NetError::not_found(format!(
            "{kind} parent index {parent} not found in {}",
            ns.label()
        ))
    })?;
    if p.kind == LinkKind::Loopback {
        return Err(NetError::invalid(format!(
            "{kind} parent {:?} cannot carry a {kind}",
            p.name
        )));
    }
    let mtu = mtu.unwrap_or(p.mtu);
    validate_mtu(mtu)?;
    if mtu > p.mtu {
        return Err(NetError::invalid(format!(
            "{kind} mtu {mtu} exceeds its parent's mtu {}",
            p.mtu
        )));
    }
    Ok((p.mac, mtu))
}

/// Inserts a stacked link on `parent` (in `ns`) into `target`.
fn insert_stacked(
    net: &mut Net,
    target: &NsId,
    name: &str,
    kind: LinkKind,
    (mac, mtu): (MacAddr, u32),
    qlen: Option<u32>,
    parent: LinkAddr,
) -> NetResult<u32> {
    let index = insert_link(net, target, name, kind, mtu, Some(mac), qlen)?;
    if let Some(l) = net.link_at_mut(&(target.clone(), index)) {
        l.parent = Some(parent);
        // The parent's MAC, not one the user chose.
        l.mac_set = false;
    }
    Ok(index)
}

pub(crate) fn create_ipvlan(
    net: &mut Net,
    ns: &NsId,
    spec: &IpvlanSpec,
    target: &NsId,
) -> NetResult<LinkInfo> {
    net.ns(target)?;
    let parent = stacked_parent(net, ns, spec.parent, spec.mtu, "ipvlan")?;
    if net.ns(ns)?.link(spec.parent)?.master.is_some() {
        // The bridge holds the receive handler ipvlan needs (EBUSY).
        return Err(NetError::new(
            NetErrorKind::Busy,
            format!("ipvlan parent #{} is a bridge port", spec.parent),
        ));
    }
    refuse_other_rx_handler(net, ns, spec.parent, LinkKind::Ipvlan)?;
    ensure_name_free(net, target, &spec.name)?;
    let index = insert_stacked(
        net,
        target,
        &spec.name,
        LinkKind::Ipvlan,
        parent,
        spec.txqueuelen,
        (ns.clone(), spec.parent),
    )?;
    if let Some(l) = net.link_at_mut(&(target.clone(), index)) {
        l.ipvlan_mode = Some(spec.mode);
    }
    info(net, target, index)
}

pub(crate) fn create_vlan(
    net: &mut Net,
    ns: &NsId,
    spec: &VlanSpec,
    target: &NsId,
) -> NetResult<LinkInfo> {
    net.ns(target)?;
    if spec.vlan_id > VLAN_ID_MAX {
        // Linux: ERANGE.
        return Err(NetError::invalid(format!(
            "vlan id {} is above {VLAN_ID_MAX}",
            spec.vlan_id
        )));
    }
    let parent = stacked_parent(net, ns, spec.parent, spec.mtu, "vlan")?;
    let at = (ns.clone(), spec.parent);
    let same_id = net
        .namespaces
        .values()
        .flat_map(|s| s.links.values())
        .find(|l| l.parent.as_ref() == Some(&at) && l.vlan_id == Some(spec.vlan_id));
    if let Some(l) = same_id {
        return Err(NetError::exists(format!(
            "parent #{} already has vlan id {} ({:?})",
            spec.parent, spec.vlan_id, l.name
        )));
    }
    ensure_name_free(net, target, &spec.name)?;
    let index = insert_stacked(
        net,
        target,
        &spec.name,
        LinkKind::Vlan,
        parent,
        spec.txqueuelen,
        at,
    )?;
    if let Some(l) = net.link_at_mut(&(target.clone(), index)) {
        l.vlan_id = Some(spec.vlan_id);
    }
    info(net, target, index)
}

/// Removes a link and everything that cannot outlive it: its addresses and
/// routes, its veth peer, the macvlans on it; a bridge's ports are released.
pub(crate) fn remove_link(net: &mut Net, at: &LinkAddr) {
    let Some(space) = net.namespaces.get_mut(&at.0) else {
        return;
    };
    let Some(link) = space.links.remove(&at.1) else {
        return;
    };
    space.addrs.retain(|a| a.index != at.1);
    space.routes.retain(|r| r.oif != Some(at.1));
    space.qdiscs.remove(&at.1);
    let mut released = Vec::new();
    for l in space.links.values_mut() {
        if l.master == Some(at.1) {
            l.master = None;
            l.hairpin = false;
            l.isolated = false;
            released.push(l.index);
        }
    }
    if link.kind == LinkKind::Vrf {
        for port in &released {
            crate::l3mdev::cycle_port(space, *port);
        }
    }
    if let Some(master) = link.master {
        recalc_bridge(net, &at.0, master);
    }
    if let Some(peer) = link.peer {
        remove_link(net, &peer);
    }
    let children: Vec<LinkAddr> = net
        .namespaces
        .iter()
        .flat_map(|(id, s)| {
            s.links
                .values()
                .filter(|l| l.parent.as_ref() == Some(at))
                .map(move |l| (id.clone(), l.index))
        })
        .collect();
    for child in children {
        remove_link(net, &child);
    }
}

pub(crate) fn delete_link(net: &mut Net, ns: &NsId, index: u32) -> NetResult<()> {
    let link = net.ns(ns)?.link(index)?;
    if link.kind == LinkKind::Loopback {
        return Err(NetError::invalid("the loopback link cannot be deleted"));
    }
    remove_link(net, &(ns.clone(), index));
    Ok(())
}

/// A bridge without a user-set MAC takes the lowest MAC of its ports; one
/// without a user-set MTU takes the lowest MTU of its ports, or 1500 when it
/// has none (Linux's br_mtu_auto_adjust).
pub(crate) fn recalc_bridge(net: &mut Net, ns: &NsId, bridge: u32) {
    let Some(space) = net.namespaces.get_mut(ns) else {
        return;
    };
    let ports = || space.links.values().filter(|l| l.master == Some(bridge));
    let lowest_mac = ports().map(|l| l.mac).min();
    let lowest_mtu = ports().map(|l| l.mtu).min().unwrap_or(1500);
    if let Some(b) = space.links.get_mut(&bridge) {
        if !b.mac_set {
            if let Some(mac) = lowest_mac {
                b.mac = mac;
            }
        }
        if !b.mtu_set {
            b.mtu = lowest_mtu;
        }
    }
}

pub(crate) fn set_up(net: &mut Net, ns: &NsId, index: u32, up: bool) -> NetResult<()> {
    let space = net.ns_mut(ns)?;
    let link = space.link_mut(index)?;
    if link.up == up {
        return Ok(());
    }
    link.up = up;
    if up {
        crate::addrs::on_link_up(space, index);
    } else {
        link.link_local_done = false;
        crate::addrs::on_link_down(space, index);
    }
    Ok(())
}

pub(crate) fn set_master(
    net: &mut Net,
    ns: &NsId,
    index: u32,
    master: Option<u32>,
) -> NetResult<()> {
    let space = net.ns_mut(ns)?;
    let link = space.link(index)?;
    let old = link.master;
    if master == old {
        return Ok(());
    }
    let to_vrf = master.is_some_and(|m| crate::l3mdev::is_vrf(space, m));
    let from_vrf = old.is_some_and(|o| crate::l3mdev::is_vrf(space, o));
    if let Some(m) = master {
        if to_vrf {
            crate::l3mdev::check_port(space, index, m)?;
        } else {
            let bridge = space.link(m)?;
            if bridge.kind != LinkKind::Bridge {
                return Err(NetError::invalid(format!(
                    "master {:?} is not a bridge",
                    bridge.name
                )));
            }
            if matches!(link.kind, LinkKind::Bridge | LinkKind::Loopback) || m == index {
                return Err(NetError::invalid(format!(
                    "link {:?} cannot be a bridge port",
                    link.name
                )));
            }
        }
    }
    // Linux moves a port from its old master to the new one in one call.
    let link = space.link_mut(index)?;
    link.master = master;
    link.hairpin = false;
    link.isolated = false;
    if to_vrf || from_vrf {
        crate::l3mdev::cycle_port(space, index);
    }
    if let Some(m) = master.filter(|_| !to_vrf) {
        space.link_mut(m)?.had_ports = true;
        recalc_bridge(net, ns, m);
    }
    if let Some(o) = old.filter(|_| !from_vrf) {
        recalc_bridge(net, ns, o);
    }
    Ok(())
}

pub(crate) fn set_mtu(net: &mut Net, ns: &NsId, index: u32, mtu: u32) -> NetResult<()> {
    let link = net.ns(ns)?.link(index)?;
    if link.kind != LinkKind::Loopback {
        validate_mtu(mtu)?;
    }
    if link.kind == LinkKind::Tap && mtu > crate::tap::TAP_MAX_MTU {
        return Err(NetError::invalid(format!(
            "mtu {mtu} is above a tap's largest, {}",
            crate::tap::TAP_MAX_MTU
        )));
    }
    if let Some(parent) = link.parent.as_ref().and_then(|p| net.link_at(p)) {
        if mtu > parent.mtu {
            return Err(NetError::invalid(format!(
                "mtu {mtu} exceeds the macvlan parent's mtu {}",
                parent.mtu
            )));
        }
    }
    let link = net.ns_mut(ns)?.link_mut(index)?;
    link.mtu = mtu;
    link.mtu_set = link.kind == LinkKind::Bridge;
    // A port's MTU change re-derives its bridge's (NETDEV_CHANGEMTU).
    if let Some(master) = link.master {
        recalc_bridge(net, ns, master);
    }
    Ok(())
}

pub(crate) fn set_mac(net: &mut Net, ns: &NsId, index: u32, mac: MacAddr) -> NetResult<()> {
    check_mac(Some(mac), "mac")?;
    let space = net.ns_mut(ns)?;
    let link = space.link_mut(index)?;
    if link.kind == LinkKind::Loopback {
        return Err(NetError::invalid("the loopback MAC cannot be changed"));
    }
    link.mac = mac;
    link.mac_set = true;
    if let Some(m) = link.master {
        recalc_bridge(net, ns, m);
    }
    Ok(())
}

pub(crate) fn set_txqueuelen(net: &mut Net, ns: &NsId, index: u32, qlen: u32) -> NetResult<()> {
    net.ns_mut(ns)?.link_mut(index)?.qlen = qlen;
    Ok(())
}

pub(crate) fn set_promisc(net: &mut Net, ns: &NsId, index: u32, on: bool) -> NetResult<()> {
    net.ns_mut(ns)?.link_mut(index)?.promisc = on;
    Ok(())
}

pub(crate) fn set_allmulti(net: &mut Net, ns: &NsId, index: u32, on: bool) -> NetResult<()> {
    net.ns_mut(ns)?.link_mut(index)?.allmulti = on;
    Ok(())
}

pub(crate) fn set_hairpin(net: &mut Net, ns: &NsId, index: u32, on: bool) -> NetResult<()> {
    let link = net.ns_mut(ns)?.link_mut(index)?;
    if link.master.is_none() {
        return Err(NetError::invalid(format!(
            "hairpin: link {:?} is not a bridge port",
            link.name
        )));
    }
    link.hairpin = on;
    Ok(())
}

/// What the kernel asks for a macvlan's broadcast queue unless told otherwise.
pub(crate) const MACVLAN_DEFAULT_BC_QUEUE_LEN: u32 = 1000;

pub(crate) fn set_port_isolated(net: &mut Net, ns: &NsId, index: u32, on: bool) -> NetResult<()> {
    let link = net.ns_mut(ns)?.link_mut(index)?;
    if link.master.is_none() {
        return Err(NetError::invalid(format!(
            "isolation: link {:?} is not a bridge port",
            link.name
        )));
    }
    link.isolated = on;
    Ok(())
}

pub(crate) fn rename(net: &mut Net, ns: &NsId, index: u32, name: &str) -> NetResult<()> {
    let current = net.ns(ns)?.link(index)?;
    if current.name == name {
        return Ok(());
    }
    if current.kind == LinkKind::Loopback {
        return Err(NetError::invalid("the loopback link cannot be renamed"));
    }
    // Linux >= 6.2 renames links that are up too (checked on 6.18), so no Busy.
    ensure_name_free(net, ns, name)?;
    net.ns_mut(ns)?.link_mut(index)?.name = name.to_string();
    Ok(())
}

/// The kernel's IFALIASZ: an alias holds at most 255 bytes.
const IFALIASZ: usize = 256;

pub(crate) fn set_alias(net: &mut Net, ns: &NsId, index: u32, alias: &str) -> NetResult<()> {
    if alias.len() >= IFALIASZ {
        return Err(NetError::invalid(format!(
            "alias {alias:?}: longer than {} bytes",
            IFALIASZ - 1
        )));
    }
    net.ns_mut(ns)?.link_mut(index)?.alias = alias.to_string();
    Ok(())
}

pub(crate) fn move_to(net: &mut Net, ns: &NsId, index: u32, target: &NsId) -> NetResult<LinkInfo> {
    let link = net.ns(ns)?.link(index)?;
    if matches!(link.kind, LinkKind::Loopback | LinkKind::Bridge) {
        return Err(NetError::invalid(format!(
            "link {:?} is local to its namespace",
            link.name
        )));
    }
    let name = link.name.clone();
    if target == ns {
        return info(net, ns, index);
    }
    ensure_name_free(net, target, &name)?;
    set_up(net, ns, index, false)?;
    set_master(net, ns, index, None)?;
    let space = net.ns_mut(ns)?;
    let mut link = space
        .links
        .remove(&index)
        .ok_or_else(|| NetError::not_found(format!("no link with index {index}")))?;
    space.addrs.retain(|a| a.index != index);
    space.routes.retain(|r| r.oif != Some(index));
    let dest = net.ns_mut(target)?;
    // The kernel keeps the index when it is free in the target namespace.
    let new_index = if dest.links.contains_key(&index) {
        dest.alloc_index()
    } else {
        index
    };
    link.index = new_index;
    link.conf = crate::model::LINK_SYSCTL_DEFAULTS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    dest.links.insert(new_index, link.clone());
    let old: LinkAddr = (ns.clone(), index);
    let new: LinkAddr = (target.clone(), new_index);
    if let Some(peer) = link.peer.as_ref().and_then(|p| net.link_at_mut(p)) {
        peer.peer = Some(new.clone());
    }
    for space in net.namespaces.values_mut() {
        for l in space.links.values_mut() {
            if l.parent.as_ref() == Some(&old) {
                l.parent = Some(new.clone());
            }
        }
    }
    info(net, target, new_index)
}
