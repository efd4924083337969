//! ADD: a rule per address into a table of its own, the interface's routes
//! moved there from the main table, each step with its undo beside it.

use super::config::{SbrConf, StaticGateways};
use super::plan::{follows, next_free_table, source_of, FIRST_TABLE};
use crate::common::{NetContext, Undo};
use cni_core::net::{NetErrorKind, Netns, RouteInfo, RouteScope, RouteSpec, RuleSpec, TABLE_MAIN};
use cni_core::spec::IpConfig;
use cni_core::CniError;
use ipnet::IpNet;

/// With `table` configured: only the rules; the operator fills the table.
pub fn rules_only<'a>(
    ns: &'a dyn Netns,
    ips: &[&IpConfig],
    table: u32,
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    for ip in ips {
        add_rule(ns, source_of(ip.address.addr()), table, undo)?;
    }
    Ok(())
}

/// Without `table`: each address gets the next free table from 100, holding
/// the default route via its gateway and copies of the interface's routes
/// that belong to it; then the main table gives the interface's routes up.
pub fn tables_per_address<'a>(
    ns: &'a dyn Netns,
    conf: &SbrConf,
    ifname: &str,
    ips: &[&IpConfig],
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    let rules = ns.rules().ctx("listing rules")?;
    let routes = ns.routes().ctx("listing routes")?;
    let link = ns
        .link_by_name(ifname)
        .ctx(&format!("looking up interface {ifname:?}"))?;
    let link_routes: Vec<RouteInfo> = routes
        .iter()
        .filter(|r| r.table == TABLE_MAIN && r.oif == Some(link.index))
        .cloned()
        .collect();
    let mut table = next_free_table(&rules, &routes, FIRST_TABLE);
    for ip in ips {
        let fill = TableFill {
            ns,
            table,
            oif: link.index,
            gateways: conf.gateways,
        };
        fill.fill(ip, &link_routes, undo)?;
        // As the reference: later candidates are checked against the rules
        // found at the start and the interface's main-table routes.
        table = next_free_table(&rules, &link_routes, table + 1);
    }
    if conf.add_source_hints {
        keep_subnet_routes(ns, ips, link.index, &link_routes, undo);
        Ok(())
    } else {
        remove_from_main(ns, &link_routes, undo)
    }
}

struct TableFill<'a> {
    ns: &'a dyn Netns,
    table: u32,
    oif: u32,
    gateways: StaticGateways,
}

impl<'a> TableFill<'a> {
    fn fill(
        &self,
        ip: &IpConfig,
        link_routes: &[RouteInfo],
        undo: &mut Undo<'a>,
    ) -> Result<(), CniError> {
        let addr = ip.address.addr();
        add_rule(self.ns, source_of(addr), self.table, undo)?;
        if let Some(gw) = self.gateways.for_family_of(addr).or(ip.gateway) {
            let mut default =
                RouteSpec::new(IpNet::new(unspecified_like(addr), 0).unwrap_or(ip.address))
                    .via(gw)
                    .dev(self.oif);
            default.table = Some(self.table);
            add_route(self.ns, default, undo)?;
        }
        for route in link_routes.iter().filter(|r| follows(&ip.address, r)) {
            add_route(self.ns, route.to_spec_in(self.table), undo)?;
        }
        Ok(())
    }
}

fn unspecified_like(addr: std::net::IpAddr) -> std::net::IpAddr {
    match addr {
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
    }
}

fn add_rule<'a>(
    ns: &'a dyn Netns,
    src: IpNet,
    table: u32,
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    let spec = RuleSpec {
        src,
        table,
        priority: None,
    };
    ns.add_rule(&spec).ctx(&format!("adding rule {spec}"))?;
    undo.push(format!("rule {spec}"), move || ns.del_rule(&spec));
    Ok(())
}

/// The reference replaces: a route already there (the default route it just
/// added, met again among the copies) counts as done and is not ours to undo.
fn add_route<'a>(ns: &'a dyn Netns, spec: RouteSpec, undo: &mut Undo<'a>) -> Result<(), CniError> {
    let step = format!("adding route {}", describe(&spec));
    match ns.add_route(&spec) {
        Err(e) if e.kind == NetErrorKind::Exists => Ok(()),
        added => {
            added.ctx(&step)?;
            undo.push(step, move || ns.del_route(&spec));
            Ok(())
        }
    }
}

fn describe(spec: &RouteSpec) -> String {
    let table = spec.table.unwrap_or(TABLE_MAIN);
    format!("{} table {table}", crate::common::iface::describe(spec))
}

fn remove_route<'a>(
    ns: &'a dyn Netns,
    route: &RouteInfo,
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    let spec = route.to_spec_in(route.table);
    let step = format!("removing route {}", describe(&spec));
    ns.del_route(&spec).ctx(&step)?;
    undo.push(step, move || ns.add_route(&spec));
    Ok(())
}

/// Routes via a gateway go first, so an undo (in reverse) brings the
/// connected routes back before the gateways that need them.
fn remove_from_main<'a>(
    ns: &'a dyn Netns,
    link_routes: &[RouteInfo],
    undo: &mut Undo<'a>,
) -> Result<(), CniError> {
    let (via, connected): (Vec<&RouteInfo>, Vec<&RouteInfo>) =
        link_routes.iter().partition(|r| r.gateway.is_some());
    for route in via.into_iter().chain(connected) {
        remove_route(ns, route, undo)?;
    }
    Ok(())
}

/// `addSourceHints`: each subnet route stays in the main table with the
/// address as its source, every other route of the interface leaves it.
/// Failures only warn, as in the reference.
fn keep_subnet_routes<'a>(
    ns: &'a dyn Netns,
    ips: &[&IpConfig],
    oif: u32,
    link_routes: &[RouteInfo],
    undo: &mut Undo<'a>,
) {
    for ip in ips {
        let (subnet, addr) = (ip.address.trunc(), ip.address.addr());
        let hinted = link_routes
            .iter()
            .any(|r| r.dst == subnet && r.src == Some(addr));
        if hinted {
            continue;
        }
        let mut spec = RouteSpec::new(subnet).dev(oif).scope(RouteScope::Link);
        spec.src = Some(addr);
        if let Err(e) = add_route(ns, spec, undo) {
            tracing::warn!("sbr: subnet route with source hint {addr}: {}", e.msg);
        }
    }
    let mut others: Vec<&RouteInfo> = link_routes
        .iter()
        .filter(|r| r.scope != RouteScope::Link)
        .collect();
    others.sort_by_key(|r| r.gateway.is_none());
    for route in others {
        if let Err(e) = remove_route(ns, route, undo) {
            tracing::warn!("sbr: {}", e.msg);
        }
    }
}
