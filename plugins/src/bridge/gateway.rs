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
pub fn serve(
    host: &dyn Netns,
    br: &LinkInfo,
    result: &CniResult,
    conf: &BridgeConf,
) -> Result<(), CniError> {
    if !conf.is_gateway || result.ips.is_empty() {
        return Ok(());
    }
    for ip in &result.ips {
        if let Some(gw) = ip.gateway {
            let want = IpNet::new(gw, ip.address.prefix_len())
                .map_err(|e| CniError::invalid_config(format!("gateway {gw}: {e}")))?;
            ensure_on_bridge(host, br, want, conf.force_address)?;
        }
    }
    let v4 = result.ips.iter().any(|ip| ip.address.addr().is_ipv4());
    let v6 = result.ips.iter().any(|ip| ip.address.addr().is_ipv6());
    crate::common::sysctl::enable_forwarding(host, v4, v6)
}

/// Puts the gateway `want` on the bridge with the prefix of its subnet. An
/// address of the bridge in the same subnet that is not the gateway is an
/// error, or is replaced with `forceAddress`.
fn ensure_on_bridge(
    host: &dyn Netns,
    br: &LinkInfo,
    want: IpNet,
    force: bool,
) -> Result<(), CniError> {
    let gw = want.addr();
    let have = host
        .addresses(Some(br.index))
        .ctx(&format!("listing addresses of {}", br.name))?;
    if have.iter().any(|a| a.addr == want) {
        return Ok(());
    }
    let clash = have.iter().find(|a| {
        a.addr.addr().is_ipv4() == gw.is_ipv4()
            && (a.addr.contains(&gw) || want.contains(&a.addr.addr()))
    });
    if let Some(old) = clash {
        if !force {
            return Err(CniError::invalid_config(format!(
                "forceAddress: bridge {} already has address {} in the subnet of gateway {want}; set forceAddress to replace it",
                br.name, old.addr
            )));
        }
        host.del_address(br.index, old.addr)
            .ctx(&format!("removing {} from {}", old.addr, br.name))?;
    }
    let spec = AddressSpec {
        addr: want,
        nodad: want.addr().is_ipv6(),
    };
    match host.add_address(br.index, &spec) {
        // A concurrent ADD put the same gateway there since we looked.
        Err(e) if e.is_exists() => Ok(()),
        other => other.ctx(&format!("adding gateway address {want} to {}", br.name)),
    }
}
