//! Putting a result's addresses and routes on a container interface, and
//! checking later that they are still there.

use super::errors::{AbsentOk, NetContext};
use super::sysctl;
use cni_core::net::{AddressSpec, LinkInfo, NetResult, Netns, RouteScope, RouteSpec};
use cni_core::spec::{CniResult, Interface, IpConfig, Route};
use cni_core::CniError;
use ipnet::IpNet;
use std::net::IpAddr;

/// The addresses of `result` that belong to interface number `iface`.
pub fn ips_of(result: &CniResult, iface: usize) -> impl Iterator<Item = &IpConfig> {
    result
        .ips
        .iter()
        .filter(move |ip| ip.interface.is_none_or(|i| i == iface))
}

/// Whether the container's IPv6 addresses go through duplicate address detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dad {
    /// Added with `nodad`: the address was allocated to us, and waiting for
    /// DAD would stall the ADD.
    Skip,
    /// Bridge's `enabledad`: the kernel runs DAD as usual.
    Run,
}

/// Adds the addresses, brings the link up, then adds the routes (a route via a
/// gateway needs the connected route the address brings).
pub fn configure(
    ns: &dyn Netns,
    link: &LinkInfo,
    result: &CniResult,
    iface: usize,
    dad: Dad,
) -> Result<(), CniError> {
    add_addresses_and_up(ns, link, result, iface, dad)?;
    add_routes(ns, link, result, iface)
}

/// The addresses of interface `iface`, then the link up. Before the first
/// IPv6 address, IPv6 is switched on and told to keep addresses on down.
pub fn add_addresses_and_up(
    ns: &dyn Netns,
    link: &LinkInfo,
    result: &CniResult,
    iface: usize,
    dad: Dad,
) -> Result<(), CniError> {
    if ips_of(result, iface).any(|ip| ip.address.addr().is_ipv6()) {
        sysctl::prepare_ipv6(ns, &link.name)?;
    }
    for ip in ips_of(result, iface) {
        let spec = AddressSpec {
            addr: ip.address,
            nodad: ip.address.addr().is_ipv6() && dad == Dad::Skip,
        };
        ns.add_address(link.index, &spec)
            .ctx(&format!("adding address {} to {}", ip.address, link.name))?;
    }
    ns.set_up(link.index, true)
        .ctx(&format!("setting {} up", link.name))
}

/// The result's routes on the link; one without a gateway takes the gateway
/// of interface `iface`'s first address of its family.
pub fn add_routes(
    ns: &dyn Netns,
    link: &LinkInfo,
    result: &CniResult,
    iface: usize,
) -> Result<(), CniError> {
    for route in &result.routes {
        let spec = route_spec(
            route,
            link.index,
            default_gateway(result, iface, route.dst.addr()),
        )?;
        ns.add_route(&spec).ctx(&format!(
            "adding route {} to {}",
            describe(&spec),
            link.name
        ))?;
    }
    Ok(())
}

/// The gateway of the first address of the same family, used for routes that
/// name none (as the reference's `ConfigureIface`).
pub fn default_gateway(result: &CniResult, iface: usize, family_of: IpAddr) -> Option<IpAddr> {
    ips_of(result, iface)
        .filter(|ip| ip.address.addr().is_ipv4() == family_of.is_ipv4())
        .find_map(|ip| ip.gateway)
}

pub fn route_spec(
    route: &Route,
    oif: u32,
    fallback_gw: Option<IpAddr>,
) -> Result<RouteSpec, CniError> {
    Ok(RouteSpec {
        dst: route.dst.trunc(),
        gateway: route.gw.or(fallback_gw),
        oif: Some(oif),
        scope: route_scope(route)?.unwrap_or_default(),
        table: route.table,
        metric: route.priority,
        mtu: route.mtu,
        advmss: route.advmss,
        src: None,
        protocol: None,
    })
}

/// The kernel's scope is one byte; a wider value from an IPAM result is
/// refused rather than cut to a different scope.
fn route_scope(route: &Route) -> Result<Option<RouteScope>, CniError> {
    route
        .scope
        .map(|scope| {
            u8::try_from(scope).map(RouteScope::from_u8).map_err(|_| {
                CniError::invalid_config(format!(
                    "route {}: field \"scope\" is {scope}, must be 0..=255",
                    route.dst
                ))
            })
        })
        .transpose()
}

pub fn describe(r: &RouteSpec) -> String {
    match r.gateway {
        Some(gw) => format!("{} via {gw}", r.dst),
        None => r.dst.to_string(),
    }
}

/// CHECK: the interface still has the MAC, addresses and routes of the
/// previous result. The error says what differs.
pub fn check(
    ns: &dyn Netns,
    ifname: &str,
    prev: &CniResult,
    iface: usize,
) -> Result<LinkInfo, CniError> {
    let link = ns
        .link_by_name(ifname)
        .absent_ok(&format!("looking up {ifname}"))?
        .ok_or_else(|| mismatch(format!("interface {ifname} not found")))?;
    if let Some(expected) = prev.interfaces.get(iface) {
        if !expected.mac.is_empty() && !expected.mac.eq_ignore_ascii_case(&link.mac.to_string()) {
            return Err(mismatch(format!(
                "interface {ifname} has MAC {}, prevResult says {}",
                link.mac, expected.mac
            )));
        }
    }
    let have: Vec<IpNet> = ns
        .addresses(Some(link.index))
        .ctx(&format!("listing addresses of {ifname}"))?
        .into_iter()
        .map(|a| a.addr)
        .collect();
    for ip in ips_of(prev, iface) {
        if !have.contains(&ip.address) {
            return Err(mismatch(format!(
                "interface {ifname} lacks address {}",
                ip.address
            )));
        }
    }
    let routes = ns.routes().ctx("listing routes")?;
    for route in &prev.routes {
        let want = route_spec(
            route,
            link.index,
            default_gateway(prev, iface, route.dst.addr()),
        )?;
        let found = routes.iter().any(|r| {
            r.dst == want.dst
                && r.oif == Some(link.index)
                && (want.gateway.is_none() || r.gateway == want.gateway)
        });
        if !found {
            return Err(mismatch(format!(
                "route {} on {ifname} from prevResult is missing",
                describe(&want)
            )));
        }
    }
    Ok(link)
}

/// CHECK found the namespace differing from what it should be. No kernel
/// operation failed, so this is the generic code, as the reference answers.
pub fn mismatch(msg: String) -> CniError {
    CniError::new(cni_core::error::code::GENERIC, msg)
}

/// CHECK's reading of a backend check: a NotFound (whose message names what
/// is missing) is a mismatch, anything else a failed `step`.
pub fn checked(outcome: NetResult<()>, step: &str) -> Result<(), CniError> {
    match outcome {
        Err(e) if e.is_not_found() => Err(mismatch(e.to_string())),
        other => other.ctx(step),
    }
}

/// A host-side interface of the result.
pub fn host_interface(link: &LinkInfo) -> Interface {
    Interface {
        name: link.name.clone(),
        mac: link.mac.to_string(),
        ..Default::default()
    }
}

/// The container's interface of the result: it names its namespace.
pub fn container_interface(link: &LinkInfo, netns: &str) -> Interface {
    Interface {
        sandbox: netns.to_string(),
        ..host_interface(link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route_with_scope(scope: u32) -> Route {
        Route {
            scope: Some(scope),
            ..Route::new("10.20.0.0/16".parse().unwrap(), None)
        }
    }

    #[test]
    fn route_scope_above_255_is_refused_naming_the_route_and_field() {
        let e = route_spec(&route_with_scope(256 + 253), 7, None).unwrap_err();
        assert_eq!(e.code, cni_core::error::code::INVALID_NETWORK_CONFIG);
        assert!(e.msg.contains("10.20.0.0/16"), "{}", e.msg);
        assert!(
            e.msg.contains("\"scope\"") && e.msg.contains("509"),
            "{}",
            e.msg
        );
    }

    #[test]
    fn route_scope_within_a_byte_is_kept() {
        for scope in [0u8, 253, 255] {
            let spec = route_spec(&route_with_scope(scope.into()), 7, None).unwrap();
            assert_eq!(spec.scope, RouteScope::from_u8(scope));
        }
    }
}
