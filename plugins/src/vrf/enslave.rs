//! Putting the interface into the VRF, as the reference's `addInterface`:
//! its global IPv6 addresses and its main-table routes of global scope are
//! read first, because enslaving cycles the link and the kernel drops them
//! (IPv6 addresses unless keep_addr_on_down); after it, the missing
//! addresses are added back and the routes go into the VRF's table
//! (replacing any the kernel made there itself). Connected IPv4 routes come
//! back in the VRF's table by themselves.

use crate::common::{NetContext, Undo};
use cni_core::net::{
    AddressInfo, AddressSpec, LinkInfo, NetError, NetErrorKind, NetResult, Netns, RouteInfo,
    RouteScope, RouteSpec, TABLE_MAIN,
};
use cni_core::CniError;

/// What the kernel drops when the port cycles, to be put back.
struct Kept {
    addrs: Vec<AddressInfo>,
    routes: Vec<RouteInfo>,
}

fn kept(ns: &dyn Netns, port: &LinkInfo) -> Result<Kept, CniError> {
    let addrs = ns
        .addresses(Some(port.index))
        .ctx(&format!("listing the addresses of {}", port.name))?
        .into_iter()
        .filter(|a| a.addr.addr().is_ipv6() && a.scope == RouteScope::Universe)
        .collect();
    let routes = ns
        .routes()
        .ctx("listing routes")?
        .into_iter()
        .filter(|r| {
            r.oif == Some(port.index) && r.table == TABLE_MAIN && r.scope == RouteScope::Universe
        })
        .collect();
    Ok(Kept { addrs, routes })
}

fn spec_of(r: &RouteInfo, table: Option<u32>) -> RouteSpec {
    let mut spec = RouteSpec::new(r.dst);
    spec.gateway = r.gateway;
    spec.oif = r.oif;
    spec.scope = r.scope;
    spec.table = table;
    spec.metric = r.metric;
    spec.mtu = r.mtu;
    spec.advmss = r.advmss;
    spec.src = r.src;
    spec.protocol = Some(r.protocol);
    spec
}

/// `ip route replace`: the route, whether or not one with its key exists.
fn replace(ns: &dyn Netns, spec: &RouteSpec) -> NetResult<()> {
    match ns.add_route(spec) {
        Err(e) if e.kind == NetErrorKind::Exists => {
            ns.del_route(spec)?;
            ns.add_route(spec)
        }
        other => other,
    }
}

/// Adds `kept` addresses the port lacks now; an address already there is fine.
fn restore_addresses(ns: &dyn Netns, port: u32, kept: &[AddressInfo]) -> NetResult<()> {
    let now = ns.addresses(Some(port))?;
    for a in kept
        .iter()
        .filter(|a| !now.iter().any(|n| n.addr == a.addr))
    {
        let spec = AddressSpec {
            addr: a.addr,
            nodad: a.nodad,
        };
        match ns.add_address(port, &spec) {
            Err(e) if e.kind != NetErrorKind::Exists => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Takes the port back out of the VRF with what it had in the main table.
fn release(ns: &dyn Netns, port: u32, kept: &Kept) -> Result<(), NetError> {
    ns.set_master(port, None)?;
    restore_addresses(ns, port, &kept.addrs)?;
    for r in &kept.routes {
        replace(ns, &spec_of(r, None))?;
    }
    Ok(())
}

/// Enslaves `port` to `vrf` (whose table is `table`); undone by releasing
/// it with its addresses and main-table routes restored.
pub fn add<'a>(
    ns: &'a dyn Netns,
    vrf: &LinkInfo,
    table: u32,
    port: &LinkInfo,
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    let kept = kept(ns, port)?;
    ns.set_master(port.index, Some(vrf.index)).ctx(&format!(
        "setting VRF {} as master of {}",
        vrf.name, port.name
    ))?;
    let index = port.index;
    let restore = Kept {
        addrs: kept.addrs.clone(),
        routes: kept.routes.clone(),
    };
    undo.push(format!("{} in VRF {}", port.name, vrf.name), move || {
        release(ns, index, &restore)
    });
    restore_addresses(ns, port.index, &kept.addrs).ctx(&format!(
        "restoring the IPv6 addresses of {} in VRF {}",
        port.name, vrf.name
    ))?;
    for r in &kept.routes {
        let spec = spec_of(r, Some(table));
        replace(ns, &spec).ctx(&format!(
            "moving the route to {} of {} into table {table}",
            r.dst, port.name
        ))?;
    }
    Ok(())
}
