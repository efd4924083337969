//! CHECK: each address of the interface still has its rule and, with a
//! table of sbr's choosing, that table still routes through the interface
//! (the default route via the gateway when there is one). The error names
//! what differs.

use super::config::SbrConf;
use super::plan::source_of;
use crate::common::iface::mismatch;
use crate::common::NetContext;
use cni_core::net::{Netns, RouteInfo};
use cni_core::spec::IpConfig;
use cni_core::CniError;

pub fn check(
    ns: &dyn Netns,
    conf: &SbrConf,
    ifname: &str,
    ips: &[&IpConfig],
) -> Result<(), CniError> {
    if ips.is_empty() {
        // ADD had nothing to do for this interface.
        return Ok(());
    }
    let rules = ns.rules().ctx("listing rules")?;
    let routes = ns.routes().ctx("listing routes")?;
    for ip in ips {
        let src = source_of(ip.address.addr());
        let rule = rules
            .iter()
            .find(|r| r.src == Some(src) && conf.table.is_none_or(|t| r.table == t))
            .ok_or_else(|| match conf.table {
                Some(t) => mismatch(format!("sbr: no rule from {src} lookup {t}")),
                None => mismatch(format!("sbr: no rule from {src}")),
            })?;
        if conf.table.is_none() {
            // Only a table of sbr's own routes through the interface.
            let link = ns
                .link_by_name(ifname)
                .ctx(&format!("looking up interface {ifname:?}"))?;
            let in_table: Vec<&RouteInfo> = routes
                .iter()
                .filter(|r| r.table == rule.table && r.oif == Some(link.index))
                .collect();
            table_routes(&in_table, rule.table, ifname, conf, ip)?;
        }
    }
    Ok(())
}

fn table_routes(
    in_table: &[&RouteInfo],
    table: u32,
    ifname: &str,
    conf: &SbrConf,
    ip: &IpConfig,
) -> Result<(), CniError> {
    if in_table.is_empty() {
        return Err(mismatch(format!(
            "sbr: table {table} has no route through {ifname}"
        )));
    }
    let addr = ip.address.addr();
    let Some(gw) = conf.gateways.for_family_of(addr).or(ip.gateway) else {
        return Ok(());
    };
    let default_route = in_table.iter().any(|r| {
        r.dst.prefix_len() == 0 && r.dst.addr().is_ipv4() == addr.is_ipv4() && r.gateway == Some(gw)
    });
    if default_route {
        Ok(())
    } else {
        Err(mismatch(format!(
            "sbr: table {table} has no default route via {gw} dev {ifname}"
        )))
    }
}
