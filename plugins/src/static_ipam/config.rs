//! static's input: the addresses, routes and DNS it hands back as written,
//! gathered in the reference's precedence. `runtimeConfig.ips` (the `ips`
//! capability) replaces every other address; without it `args.cni.ips` does;
//! without both, the addresses are `ipam.addresses` followed by CNI_ARGS
//! `IP=`, whose addresses take their gateways from `GATEWAY=`.
//!
//! Every source is validated, also one that a higher source replaces: a
//! config that is wrong is refused whatever the runtime passes, before
//! anything is returned.

use crate::host_local::config::route;
use cni_core::error::code;
use cni_core::ipam::addr::{canonical, same_family};
use cni_core::spec::args::CniArgs;
use cni_core::spec::config::{read_dns, ConfigError, Field, Fields, NetConf};
use cni_core::spec::version::version_at_least;
use cni_core::spec::{Dns, Route};
use cni_core::CniError;
use ipnet::{IpNet, Ipv4Net};
use std::net::IpAddr;

/// One address static hands out and the gateway that goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticAddress {
    pub address: IpNet,
    pub gateway: Option<IpAddr>,
}

impl StaticAddress {
    fn bare(address: IpNet) -> Self {
        StaticAddress {
            address,
            gateway: None,
        }
    }
}

/// Everything ADD and CHECK read, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticConf {
    pub common: NetConf,
    pub addresses: Vec<StaticAddress>,
    pub routes: Vec<Route>,
    pub dns: Dns,
}

const CNI_ARGS_IP: &str = "CNI_ARGS IP";
const CNI_ARGS_GATEWAY: &str = "CNI_ARGS GATEWAY";

pub fn parse(stdin: &[u8], cni_args: &str) -> Result<StaticConf, CniError> {
    let common = NetConf::parse(stdin)?;
    let top = common.fields();
    let ipam = top.object("ipam")?.ok_or_else(|| ConfigError::Missing {
        field: "ipam".to_string(),
    })?;
    let from_config = config_addresses(&ipam)?;
    let with_route_extras = version_at_least(common.version(), "1.1.0").unwrap_or(false);
    let routes = ipam
        .items("routes")?
        .iter()
        .map(|r| static_route(r, with_route_extras))
        .collect::<Result<Vec<_>, _>>()?;
    let dns = match ipam.object("dns")? {
        Some(d) => read_dns(&d)?,
        None => Dns::default(),
    };
    let from_env = env_addresses(cni_args)?;
    let args_cni = match top.object("args")? {
        Some(args) => args.object("cni")?,
        None => None,
    };
    let from_args = listed_ips(args_cni)?;
    let from_runtime = listed_ips(top.object("runtimeConfig")?)?;

    let (field, addresses) = if !from_runtime.is_empty() {
        ("runtimeConfig.ips", from_runtime)
    } else if !from_args.is_empty() {
        ("args.cni.ips", from_args)
    } else if from_config.is_empty() {
        (CNI_ARGS_IP, from_env)
    } else {
        ("ipam.addresses", [from_config, from_env].concat())
    };
    check_one_address_per_family(common.version(), field, &addresses)?;
    Ok(StaticConf {
        common,
        addresses,
        routes,
        dns,
    })
}

/// A CIDR as Go's `net.ParseCIDR` reads it (the host bits kept, the prefix
/// digits only), then made canonical as the reference's `To4` makes it.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let invalid = || format!("expected an address in CIDR notation, got {text:?}");
    let (addr, prefix) = text.split_once('/').ok_or_else(invalid)?;
    let addr: IpAddr = addr.parse().map_err(|_| invalid())?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
    let net = IpNet::new(addr, prefix).map_err(|_| invalid())?;
    canonical_net(net)
}

/// An IPv4-mapped IPv6 network is the IPv4 network it maps (the reference
/// counts and prints it as IPv4); one whose prefix stops inside the mapping
/// bits means nothing as IPv4.
fn canonical_net(net: IpNet) -> Result<IpNet, String> {
    let IpNet::V6(v6) = net else {
        return Ok(net);
    };
    let Some(v4) = v6.addr().to_ipv4_mapped() else {
        return Ok(net);
    };
    v6.prefix_len()
        .checked_sub(96)
        .and_then(|prefix| Ipv4Net::new(v4, prefix).ok())
        .map(IpNet::V4)
        .ok_or_else(|| {
            format!("{net} is IPv4-mapped: its prefix must cover the ::ffff:0:0/96 mapping")
        })
}

fn cidr_field(f: &Field<'_>) -> Result<IpNet, ConfigError> {
    parse_cidr(f.str()?).map_err(|reason| f.invalid(reason))
}

/// `ipam.addresses`: each `{address, gateway}`.
fn config_addresses(ipam: &Fields<'_>) -> Result<Vec<StaticAddress>, ConfigError> {
    let read = |item: &Field<'_>| {
        let entry = item.object()?;
        let address_field = entry.field("address").ok_or_else(|| ConfigError::Missing {
            field: entry.path_of("address"),
        })?;
        let address = cidr_field(&address_field)?;
        let gateway = match entry.string("gateway")? {
            Some(text) => Some(config_gateway(&entry.path_of("gateway"), &text, address)?),
            None => None,
        };
        Ok(StaticAddress { address, gateway })
    };
    ipam.items("addresses")?.iter().map(read).collect()
}

fn config_gateway(field: &str, text: &str, address: IpNet) -> Result<IpAddr, ConfigError> {
    let gateway = text
        .parse::<IpAddr>()
        .map(canonical)
        .map_err(|_| ConfigError::invalid(field, format!("invalid IP address {text:?}")))?;
    if !same_family(gateway, address.addr()) {
        return Err(ConfigError::invalid(
            field,
            format!("gateway {gateway} is not of the family of its address {address}"),
        ));
    }
    Ok(gateway)
}

/// A route as host-local reads it, its addresses made canonical.
fn static_route(f: &Field<'_>, with_extras: bool) -> Result<Route, ConfigError> {
    let mut r = route(f, with_extras)?;
    r.dst = canonical_net(r.dst)
        .map_err(|reason| ConfigError::invalid(format!("{}.dst", f.path), reason))?;
    r.gw = r.gw.map(canonical);
    Ok(r)
}

/// An `ips` list (`args.cni.ips`, `runtimeConfig.ips`), empty when absent.
fn listed_ips(parent: Option<Fields<'_>>) -> Result<Vec<StaticAddress>, ConfigError> {
    let Some(parent) = parent else {
        return Ok(Vec::new());
    };
    parent
        .items("ips")?
        .iter()
        .map(|item| cidr_field(item).map(StaticAddress::bare))
        .collect()
}

fn env_error(field: &str, reason: impl std::fmt::Display) -> CniError {
    CniError::new(code::INVALID_ENVIRONMENT, format!("{field}: {reason}"))
}

/// The comma-separated items of a CNI_ARGS value; an absent or empty value has none.
fn items(value: Option<&str>) -> impl Iterator<Item = &str> {
    value
        .filter(|v| !v.is_empty())
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// CNI_ARGS `IP=` and `GATEWAY=`. A gateway goes to every `IP=` address whose
/// subnet holds it (the last one given wins); one that fits none is refused,
/// where the reference drops it silently. Other keys belong to other plugins.
fn env_addresses(cni_args: &str) -> Result<Vec<StaticAddress>, CniError> {
    let env = CniArgs::parse(cni_args)?;
    let mut addresses = items(env.get("IP"))
        .map(|item| parse_cidr(item).map(StaticAddress::bare))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|reason| env_error(CNI_ARGS_IP, reason))?;
    for item in items(env.get("GATEWAY")) {
        let gateway = item
            .parse::<IpAddr>()
            .map(canonical)
            .map_err(|_| env_error(CNI_ARGS_GATEWAY, format!("invalid IP address {item:?}")))?;
        let mut paired = false;
        for a in addresses
            .iter_mut()
            .filter(|a| a.address.contains(&gateway))
        {
            a.gateway = Some(gateway);
            paired = true;
        }
        if !paired {
            return Err(env_error(
                CNI_ARGS_GATEWAY,
                format!("{gateway} is in the subnet of no {CNI_ARGS_IP} address"),
            ));
        }
    }
    Ok(addresses)
}

/// Results before 0.3.0 carry one address per family.
fn check_one_address_per_family(
    version: &str,
    field: &str,
    addresses: &[StaticAddress],
) -> Result<(), ConfigError> {
    if version_at_least(version, "0.3.0").unwrap_or(true) {
        return Ok(());
    }
    let v4 = addresses
        .iter()
        .filter(|a| a.address.addr().is_ipv4())
        .count();
    if v4 > 1 || addresses.len() - v4 > 1 {
        return Err(ConfigError::invalid(
            field,
            format!("CNI version {version} does not support more than 1 address per family"),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
