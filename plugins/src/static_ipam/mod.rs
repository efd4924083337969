//! static: IPAM that hands back the addresses, routes and DNS it is given
//! (in the config, CNI_ARGS, `args` or the `ips` capability) and holds
//! nothing, so DEL, GC and STATUS have nothing to do. The module is not
//! called `static`, a Rust keyword; the binary is.
//!
//! Where we differ from the reference (containernetworking/plugins 1.1.1),
//! see docs/DIFFERENCES.md: bad input is code 7 (CNI_ARGS: 4, wrong JSON
//! types: 6) naming the field, every source is validated even when a higher
//! one replaces it, a gateway of the wrong family or a `GATEWAY=` that fits no
//! `IP=` address is refused, CHECK also fails when a configured address is
//! missing from `prevResult`, and spec 1.1.0 (GC, STATUS, the route fields).

pub mod config;
pub mod fuzz;

use cni_core::error::code;
use cni_core::ipam::addr::canonical;
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::spec::IpConfig;
use cni_core::{CniError, CniResult};
use config::StaticAddress;
use ipnet::IpNet;
use std::net::IpAddr;
use thiserror::Error;

#[derive(Debug, Default, Clone, Copy)]
pub struct StaticIpam;

/// What CHECK finds wrong in `prevResult`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckError {
    #[error("static: address {address} is missing from prevResult (interface {ifname})")]
    Missing { address: IpNet, ifname: String },
    #[error(
        "static: Failed to match addr {address} on interface {ifname}: gateway {found}, configured {configured}"
    )]
    Gateway {
        address: IpNet,
        ifname: String,
        configured: IpAddr,
        found: String,
    },
}

impl From<CheckError> for CniError {
    /// As the reference: the spec has no code for "CHECK found a difference".
    fn from(e: CheckError) -> Self {
        CniError::new(code::GENERIC, e.to_string())
    }
}

/// Every configured address must be in `prevResult`, with the configured
/// gateway when there is one.
pub fn check_prev(
    configured: &[StaticAddress],
    prev: &[IpConfig],
    ifname: &str,
) -> Result<(), CheckError> {
    for want in configured {
        let found = prev
            .iter()
            .find(|ip| canonical(ip.address.addr()) == want.address.addr());
        let Some(found) = found else {
            return Err(CheckError::Missing {
                address: want.address,
                ifname: ifname.to_string(),
            });
        };
        let Some(configured) = want.gateway else {
            continue;
        };
        if found.gateway.map(canonical) != Some(configured) {
            return Err(CheckError::Gateway {
                address: want.address,
                ifname: ifname.to_string(),
                configured,
                found: found
                    .gateway
                    .map_or_else(|| "none".to_string(), |g| g.to_string()),
            });
        }
    }
    Ok(())
}

impl Plugin for StaticIpam {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = config::parse(&args.stdin, &args.args)?;
        Ok(CniResult {
            cni_version: conf.common.version().to_string(),
            interfaces: Vec::new(),
            ips: conf
                .addresses
                .iter()
                .map(|a| IpConfig {
                    address: a.address,
                    gateway: a.gateway,
                    interface: None,
                })
                .collect(),
            routes: conf.routes,
            dns: conf.dns,
        })
    }

    /// Nothing was allocated, so nothing is read: a config ADD would now
    /// refuse still deletes.
    fn del(&self, _args: &CmdArgs) -> Result<(), CniError> {
        Ok(())
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = config::parse(&args.stdin, &args.args)?;
        let prev = conf.common.prev_result()?;
        check_prev(&conf.addresses, &prev.ips, &args.ifname).map_err(CniError::from)
    }

    fn about(&self) -> String {
        format!(
            "{} supporting spec versions {}",
            cni_core::skel::about_text("static IPAM plugin"),
            cni_core::spec::version::ALL.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(a: &str, gw: Option<&str>) -> StaticAddress {
        StaticAddress {
            address: a.parse().unwrap(),
            gateway: gw.map(|g| g.parse().unwrap()),
        }
    }

    fn prev(a: &str, gw: Option<&str>) -> IpConfig {
        IpConfig {
            address: a.parse().unwrap(),
            gateway: gw.map(|g| g.parse().unwrap()),
            interface: Some(0),
        }
    }

    #[test]
    fn check_accepts_configured_addresses_with_their_gateways_among_others() {
        let configured = [
            address("10.1.0.5/24", Some("10.1.0.1")),
            address("fd00::5/64", None),
        ];
        let found = [
            prev("192.168.0.2/24", None),
            prev("fd00::5/64", Some("fd00::1")),
            prev("10.1.0.5/24", Some("10.1.0.1")),
        ];
        assert_eq!(check_prev(&configured, &found, "eth0"), Ok(()));
    }

    #[test]
    fn check_refuses_a_missing_address_and_a_different_or_absent_gateway() {
        let configured = [address("10.1.0.5/24", Some("10.1.0.1"))];
        let e = check_prev(&configured, &[prev("10.1.0.6/24", None)], "eth0").unwrap_err();
        assert!(matches!(e, CheckError::Missing { .. }), "{e}");
        let e = check_prev(
            &configured,
            &[prev("10.1.0.5/24", Some("10.1.0.2"))],
            "eth0",
        )
        .unwrap_err();
        assert!(e.to_string().contains("gateway 10.1.0.2"), "{e}");
        let e = check_prev(&configured, &[prev("10.1.0.5/24", None)], "eth1").unwrap_err();
        assert!(e.to_string().contains("gateway none"), "{e}");
        assert_eq!(CniError::from(e).code, code::GENERIC);
    }
}
