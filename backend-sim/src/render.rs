//! Stable, sorted, human-readable text of the kernel state for snapshots.

use crate::model::{Link, Namespace, Net, NsId, GLOBAL_SYSCTL_DEFAULTS, LINK_SYSCTL_DEFAULTS};
use cni_core::net::{
    LinkKind, NetResult, RootQdisc, RouteInfo, RouteProtocol, RouteScope, RuleSet, TaggedRule,
    TABLE_MAIN,
};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    Full,
    /// Without ifindexes, MACs and MAC-derived link-local addresses.
    Normalized,
}

pub(crate) fn kernel(net: &Net, detail: Detail) -> String {
    net.namespaces
        .keys()
        .filter_map(|id| namespace(net, id, detail).ok())
        .collect::<Vec<_>>()
        .join("\n")
}

fn link_name(space: &Namespace, index: u32) -> String {
    space
        .links
        .get(&index)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| format!("if{index}"))
}

fn kind(k: &LinkKind) -> &str {
    match k {
        LinkKind::Loopback => "loopback",
        LinkKind::Bridge => "bridge",
        LinkKind::Veth => "veth",
        LinkKind::Macvlan => "macvlan",
        LinkKind::Ipvlan => "ipvlan",
        LinkKind::Vlan => "vlan",
        LinkKind::Tap => "tap",
        LinkKind::Dummy => "dummy",
        LinkKind::Vrf => "vrf",
        LinkKind::Other(s) => s,
    }
}

fn scope(s: RouteScope) -> &'static str {
    match s {
        RouteScope::Universe => "global",
        RouteScope::Site => "site",
        RouteScope::Link => "link",
        RouteScope::Host => "host",
        RouteScope::Nowhere => "nowhere",
    }
}

fn link_line(net: &Net, id: &NsId, space: &Namespace, l: &Link, detail: Detail) -> String {
    let mut s = String::new();
    if detail == Detail::Full {
        let _ = write!(s, "[{}] ", l.index);
    }
    let _ = write!(
        s,
        "{} {} mtu {} qlen {}",
        l.name,
        kind(&l.kind),
        l.mtu,
        l.qlen
    );
    if detail == Detail::Full {
        let _ = write!(s, " mac {}", l.mac);
    }
    let state = match (l.up, net.oper_up(id, l.index)) {
        (true, true) => "UP,LOWER_UP",
        (true, false) => "UP,NO-CARRIER",
        (false, _) => "DOWN",
    };
    let _ = write!(s, " {state}");
    if let Some(m) = l.master {
        let _ = write!(s, " master {}", link_name(space, m));
    }
    if let Some(p) = &l.peer {
        let name = net.link_at(p).map(|x| x.name.clone()).unwrap_or_default();
        let _ = write!(s, " peer {name}@{}", p.0.label());
    }
    if let Some(p) = &l.parent {
        let name = net.link_at(p).map(|x| x.name.clone()).unwrap_or_default();
        let _ = write!(s, " parent {name}@{}", p.0.label());
    }
    if let Some(m) = l.macvlan_mode {
        let _ = write!(s, " mode {m}");
    }
    if let Some(m) = l.ipvlan_mode {
        let _ = write!(s, " mode {m}");
    }
    if let Some(id) = l.vlan_id {
        let _ = write!(s, " id {id}");
    }
    if let Some(t) = &l.tap {
        crate::tap::render(&mut s, t);
    }
    if let Some(t) = l.vrf_table {
        let _ = write!(s, " table {t}");
    }
    if l.promisc {
        s.push_str(" promisc");
    }
    if l.allmulti {
        s.push_str(" allmulti");
    }
    if l.hairpin {
        s.push_str(" hairpin");
    }
    if l.isolated {
        s.push_str(" isolated");
    }
    if !l.alias.is_empty() {
        let _ = write!(s, " alias {:?}", l.alias);
    }
    if let Some(q) = l
        .bc_queue_len
        .filter(|q| *q != crate::links::MACVLAN_DEFAULT_BC_QUEUE_LEN)
    {
        let _ = write!(s, " bcqueuelen {q}");
    }
    s
}

fn is_link_local(a: &ipnet::IpNet) -> bool {
    matches!(a.addr(), std::net::IpAddr::V6(v6) if (v6.segments()[0] & 0xffc0) == 0xfe80)
}

pub(crate) fn namespace(net: &Net, id: &NsId, detail: Detail) -> NetResult<String> {
    let space = net.ns(id)?;
    let mut links: Vec<&Link> = space.links.values().collect();
    links.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = format!("netns {}\n", id.label());
    // Links are listed even when there are none; the other sections only
    // when they hold something.
    out.push_str("  links:\n");
    push_lines(
        &mut out,
        links.iter().map(|l| link_line(net, id, space, l, detail)),
    );
    push_section(&mut out, "addresses", address_lines(space, detail));
    push_section(&mut out, "routes", route_lines(space));
    push_section(
        &mut out,
        "sysctls (non-default)",
        sysctl_lines(space, &links),
    );
    push_section(&mut out, "masquerade", masquerade_lines(space));
    push_section(&mut out, "port mappings", set_lines(&space.portmaps));
    push_section(
        &mut out,
        "forwarding rules",
        set_lines(&space.forward_rules),
    );
    push_section(&mut out, "MAC spoof checks", spoof_lines(space));
    push_section(&mut out, "rules", crate::rules::lines(&space.rules));
    push_section(&mut out, "qdiscs", qdisc_lines(space));
    Ok(out)
}

fn push_lines(out: &mut String, lines: impl IntoIterator<Item = String>) {
    for line in lines {
        let _ = writeln!(out, "    {line}");
    }
}

fn push_section(out: &mut String, title: &str, lines: Vec<String>) {
    if !lines.is_empty() {
        let _ = writeln!(out, "  {title}:");
        push_lines(out, lines);
    }
}

fn address_lines(space: &Namespace, detail: Detail) -> Vec<String> {
    let mut lines: Vec<String> = space
        .addrs
        .iter()
        .map(|a| {
            let shown = if detail == Detail::Normalized && is_link_local(&a.addr) {
                "fe80::(from mac)/64".to_string()
            } else {
                a.addr.to_string()
            };
            let nodad = if a.nodad { " nodad" } else { "" };
            format!(
                "{} {shown} scope {}{nodad}",
                link_name(space, a.index),
                scope(a.scope)
            )
        })
        .collect();
    lines.sort();
    lines
}

fn route_lines(space: &Namespace) -> Vec<String> {
    let mut lines: Vec<String> = space.routes.iter().map(|r| route_line(space, r)).collect();
    lines.sort();
    lines
}

fn route_line(space: &Namespace, r: &RouteInfo) -> String {
    let mut s = r.dst.to_string();
    if let Some(g) = r.gateway {
        let _ = write!(s, " via {g}");
    }
    if let Some(o) = r.oif {
        let _ = write!(s, " dev {}", link_name(space, o));
    }
    if r.protocol == RouteProtocol::Kernel {
        s.push_str(" proto kernel");
    }
    if r.scope != RouteScope::Universe {
        let _ = write!(s, " scope {}", scope(r.scope));
    }
    if let Some(src) = r.src {
        let _ = write!(s, " src {src}");
    }
    let numbers = [("metric", r.metric), ("mtu", r.mtu), ("advmss", r.advmss)];
    for (name, value) in numbers {
        if let Some(v) = value {
            let _ = write!(s, " {name} {v}");
        }
    }
    if r.table != TABLE_MAIN {
        let _ = write!(s, " table {}", r.table);
    }
    s
}

/// Sysctls that differ from the kernel's defaults, per-link ones named by link.
fn sysctl_lines(space: &Namespace, links: &[&Link]) -> Vec<String> {
    let mut lines: Vec<String> = space
        .sysctls
        .iter()
        .filter(|(k, v)| {
            GLOBAL_SYSCTL_DEFAULTS
                .iter()
                .find(|(dk, _)| dk == k)
                .is_none_or(|(_, dv)| dv != v)
        })
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    for l in links {
        for (k, v) in &l.conf {
            let default = LINK_SYSCTL_DEFAULTS.iter().find(|(dk, _)| dk == k);
            if default.is_none_or(|(_, dv)| dv != v) {
                let (family, leaf) = k.split_once('/').unwrap_or(("", k));
                lines.push(format!("net/{family}/conf/{}/{leaf} = {v}", l.name));
            }
        }
    }
    lines.sort();
    lines
}

fn spoof_lines(space: &Namespace) -> Vec<String> {
    let mut checks = space.spoof.clone();
    checks.sort();
    checks
        .iter()
        .map(|c| {
            format!(
                "network {:?} container {:?} on {} only from {}",
                c.network, c.container_id, c.iface, c.mac
            )
        })
        .collect()
}

fn masquerade_lines(space: &Namespace) -> Vec<String> {
    let mut rules = space.masq.clone();
    rules.sort();
    rules
        .iter()
        .map(|r| {
            let addrs: Vec<String> = r.addrs.iter().map(|a| a.to_string()).collect();
            format!(
                "network {:?} container {:?} from {}",
                r.network,
                r.container_id,
                addrs.join(",")
            )
        })
        .collect()
}

/// One line per rule of each attachment's set (port mappings, forwarding
/// rules), the sets in order.
fn set_lines<R: TaggedRule>(sets: &[RuleSet<R>]) -> Vec<String> {
    let mut sets: Vec<&RuleSet<R>> = sets.iter().collect();
    sets.sort();
    sets.into_iter()
        .flat_map(|s| {
            let (network, container_id) = (&s.network, &s.container_id);
            s.rules
                .iter()
                .map(move |r| format!("network {network:?} container {container_id:?}: {r}"))
        })
        .collect()
}

/// Only links whose qdiscs are not the kernel's defaults.
fn qdisc_lines(space: &Namespace) -> Vec<String> {
    let mut lines = Vec::new();
    for (index, shaping) in &space.qdiscs {
        let name = link_name(space, *index);
        match &shaping.root {
            RootQdisc::Default => {}
            RootQdisc::Tbf(bucket) => lines.push(format!("{name} root {bucket}")),
            RootQdisc::Other(kind) => lines.push(format!("{name} root {kind}")),
        }
        if let Some(to) = &shaping.ingress_redirects {
            let to: Vec<String> = to.iter().map(|i| link_name(space, *i)).collect();
            lines.push(format!("{name} ingress redirect to {}", to.join(",")));
        }
    }
    lines.sort();
    lines
}
