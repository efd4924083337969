//! The bridge as the containers' gateway: gateways filled in, the default
//! route for `isDefaultGateway`, and the gateway addresses on the bridge.

use super::config::BridgeConf;
use crate::common::NetContext;
use cni_core::net::{AddressSpec, LinkInfo, Netns};
use cni_core::spec::Route;
use cni_core::{CniError, CniResult};
use ipnet::IpNet;
use std::net::IpAddr;

/// With `isGateway`, an address without a gateway gets the first address of
/// its subnet (as the reference). With `isDefaultGateway`, each family gets a
/// default route via its gateway; an IPAM default route via another gateway
/// is a conflict the operator must resolve.
pub fn complete(result: &mut CniResult, conf: &BridgeConf) -> Result<(), CniError> {
    if !conf.is_gateway {
        return Ok(());
    }
    for ip in &mut result.ips {
        if ip.gateway.is_none() {
            ip.gateway = first_host(&ip.address);
        }
    }
    if !conf.is_default_gateway {
        return Ok(());
    }
    let mut defaults = Vec::new();
    for ip in &result.ips {
        let Some(gw) = ip.gateway else { continue };
        let default_dst = default_net(gw);
        if defaults.iter().any(|r: &Route| r.dst == default_dst) {
            continue;
        }
        match result.routes.iter().find(|r| r.dst == default_dst) {
            Some(r) if r.gw.is_some_and(|g| g != gw) => {
                return Err(CniError::invalid_config(format!(
                    "isDefaultGateway: IPAM already sets default route {default_dst} via {}, not via the bridge gateway {gw}",
                    r.gw.map(|g| g.to_string()).unwrap_or_default()
                )));
            }
            Some(_) => {}
            None => defaults.push(Route::new(default_dst, Some(gw))),
        }
    }
    result.routes.extend(defaults);
    Ok(())
}

fn default_net(gw: IpAddr) -> IpNet {
    match gw {
        IpAddr::V4(_) => "0.0.0.0/0".parse().unwrap_or_default(),
        IpAddr::V6(_) => IpNet::V6(ipnet::Ipv6Net::default()),
    }
}

fn first_host(addr: &IpNet) -> Option<IpAddr> {
    match addr.network() {
        IpAddr::V4(n) => Some(IpAddr::V4((u32::from(n) + 1).into())),
        IpAddr::V6(n) => Some(IpAddr::V6((u128::from(n) + 1).into())),
    }
}

/// With `isGateway`: the gateways on the bridge and forwarding on for each
/// family present. Nothing when there is no address (yet).
///
/// Both are shared by every attachment of the network: made idempotently,
/// since many ADDs race to make them, and never taken back by one
/// attachment's failed ADD, since others may already route through them.
/// Every clash is found before the bridge's addresses change.
pub fn serve(
    host: &dyn Netns,
    br: &LinkInfo,
    result: &CniResult,
    conf: &BridgeConf,
) -> Result<(), CniError> {
    if !conf.is_gateway || result.ips.is_empty() {
        return Ok(());
    }
    let mut wanted = Vec::new();
    for ip in &result.ips {
        if let Some(gw) = ip.gateway {
            let want = IpNet::new(gw, ip.address.prefix_len())
                .map_err(|e| CniError::invalid_config(format!("gateway {gw}: {e}")))?;
            wanted.push(want);
        }
    }
    // IPv4 first, as the reference puts them (stable within a family).
    wanted.sort_by_key(|w| w.addr().is_ipv6());
    let have: Vec<IpNet> = host
        .addresses(Some(br.index))
        .ctx(&format!("listing addresses of {}", br.name))?
        .into_iter()
        .map(|a| a.addr)
        .collect();
    let (remove, add) = plan_addresses(&have, &wanted, conf.force_address, &br.name)?;
    for old in remove {
        match host.del_address(br.index, old) {
            // A concurrent ADD replaced it since we looked.
            Err(e) if e.is_not_found() => {}
            other => other.ctx(&format!("removing {old} from {}", br.name))?,
        }
    }
    for want in add {
        let spec = AddressSpec {
            addr: want,
            nodad: want.addr().is_ipv6(),
        };
        match host.add_address(br.index, &spec) {
            // A concurrent ADD put the same gateway there since we looked.
            Err(e) if e.is_exists() => {}
            other => other.ctx(&format!("adding gateway address {want} to {}", br.name))?,
        }
    }
    let v4 = result.ips.iter().any(|ip| ip.address.addr().is_ipv4());
    let v6 = result.ips.iter().any(|ip| ip.address.addr().is_ipv6());
    crate::common::sysctl::enable_forwarding(host, v4, v6)
}

/// The reference's `ensureAddr` for each gateway in turn, played on the
/// bridge's addresses `have` before anything changes: a gateway already
/// there (address and prefix) is kept; otherwise an IPv4 gateway clashes
/// with every other IPv4 address of the bridge, an IPv6 one with the
/// addresses whose subnet overlaps its own. A clash is an error, or with
/// `forceAddress` the old address goes. Returns the addresses to remove
/// and those to add.
fn plan_addresses(
    have: &[IpNet],
    wanted: &[IpNet],
    force: bool,
    bridge: &str,
) -> Result<(Vec<IpNet>, Vec<IpNet>), CniError> {
    let mut now = have.to_vec();
    for &want in wanted {
        if now.contains(&want) {
            continue;
        }
        let gw = want.addr();
        let clashes = |a: &IpNet| {
            a.addr().is_ipv4() == gw.is_ipv4()
                && (gw.is_ipv4() || a.contains(&gw) || want.contains(&a.addr()))
        };
        match now.iter().find(|a| clashes(a)) {
            Some(old) if !force && have.contains(old) => {
                return Err(CniError::invalid_config(format!(
                    "forceAddress: bridge {bridge:?} already has an IP address ({old}) different from gateway {want}; set forceAddress to replace it"
                )));
            }
            Some(old) if !force => {
                return Err(CniError::invalid_config(format!(
                    "forceAddress: gateways {old} and {want} cannot both be on bridge {bridge:?} (it holds one IPv4 address, and one IPv6 address per subnet); set forceAddress to keep the last"
                )));
            }
            _ => {}
        }
        now.retain(|a| !clashes(a));
        now.push(want);
    }
    let remove = have.iter().filter(|a| !now.contains(a)).copied().collect();
    let add = now.iter().filter(|a| !have.contains(a)).copied().collect();
    Ok((remove, add))
}

#[cfg(test)]
mod tests {
    use super::plan_addresses;
    use ipnet::IpNet;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn plan(
        have: &[&str],
        wanted: &[&str],
        force: bool,
    ) -> Result<(Vec<IpNet>, Vec<IpNet>), String> {
        plan_addresses(&nets(have), &nets(wanted), force, "cni0").map_err(|e| e.msg)
    }

    #[test]
    fn an_ipv4_bridge_holds_one_address_as_in_the_reference() {
        // The same gateway again changes nothing; the first one goes on.
        assert_eq!(
            plan(&["10.0.0.1/24"], &["10.0.0.1/24"], false),
            Ok((vec![], vec![]))
        );
        assert_eq!(
            plan(&[], &["10.0.0.1/24"], false),
            Ok((vec![], nets(&["10.0.0.1/24"])))
        );
        // Any other IPv4 address clashes, in the subnet or not, or with another prefix.
        for other in ["10.0.0.254/24", "192.168.5.1/16", "10.0.0.1/16"] {
            let e = plan(&[other], &["10.0.0.1/24"], false).unwrap_err();
            assert!(
                e.starts_with("forceAddress:") && e.contains("different from"),
                "{e}"
            );
            assert_eq!(
                plan(&[other], &["10.0.0.1/24"], true),
                Ok((nets(&[other]), nets(&["10.0.0.1/24"]))),
                "replaced with forceAddress"
            );
        }
        // Two IPv4 gateways of one result: refused before anything changes,
        // or with forceAddress the last stays.
        let e = plan(&[], &["10.0.0.1/24", "10.1.0.1/24"], false).unwrap_err();
        assert!(e.contains("cannot both be on bridge"), "{e}");
        assert_eq!(
            plan(&["10.0.0.1/24"], &["10.0.0.1/24", "10.1.0.1/24"], true),
            Ok((nets(&["10.0.0.1/24"]), nets(&["10.1.0.1/24"])))
        );
    }

    #[test]
    fn ipv6_gateways_clash_only_with_overlapping_subnets() {
        let have = ["fe80::1/64", "fd00:1::1/64", "10.0.0.1/24"];
        assert_eq!(
            plan(&have, &["fd00:2::1/64"], false),
            Ok((vec![], nets(&["fd00:2::1/64"])))
        );
        assert!(plan(&have, &["fd00:1::2/64"], false).is_err());
        assert!(
            plan(&have, &["fd00::1/16"], false).is_err(),
            "a wider subnet overlaps"
        );
        assert_eq!(
            plan(&have, &["fd00:1::2/64"], true),
            Ok((nets(&["fd00:1::1/64"]), nets(&["fd00:1::2/64"])))
        );
        // One IPv4 and one IPv6 gateway never clash with each other.
        assert_eq!(
            plan(&[], &["10.0.0.1/24", "fd00:1::1/64"], false).map(|(r, a)| (r.len(), a.len())),
            Ok((0, 2))
        );
    }
}
