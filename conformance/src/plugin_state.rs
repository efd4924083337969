//! What a plugin run leaves behind, as text both backends produce alike: each
//! namespace's [`normalized_view`], its masquerade rules and the forwarding
//! sysctls plugins set, and host-local's leases by file name.
//!
//! Normalizations, beyond those of [`normalized_view`] (no ifindexes, no
//! MACs: the kernel chooses both; no IPv6 link-local addresses or routes: the
//! kernel derives them from its MACs and adds them on carrier; only the main
//! routing table: the simulator does not model the local one):
//! - namespaces by a label, not a path: the real ones carry a unique prefix;
//! - leases by file name under the `dataDir`: each run has its own scratch dir.

use crate::backend_suite::{link_name, normalized_view};
use crate::in_process::Attachment;
#[cfg(doc)]
use crate::in_process::InProcess;
use cni_core::net::{
    LinkKind, NetBackend, NetResult, Netns, NsRef, RuleInfo, Shaping, SpoofCheck, TABLE_MAIN,
};

/// The sysctls plugins change (forwarding, for a gateway or ipMasq).
const WATCHED_SYSCTLS: &[&str] = &["net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"];

/// One namespace: the normalized view, masquerade rules, watched sysctls.
pub fn namespace_state(ns: &dyn Netns) -> NetResult<String> {
    let mut lines = vec![normalized_view(ns)?];
    let mut rules = ns.masquerade_list()?;
    rules.sort_by(|a, b| (&a.network, &a.container_id).cmp(&(&b.network, &b.container_id)));
    for rule in rules {
        let mut addrs: Vec<String> = rule.addrs.iter().map(ToString::to_string).collect();
        addrs.sort();
        lines.push(format!(
            "masquerade {} {} from {}",
            rule.network,
            rule.container_id,
            addrs.join(",")
        ));
    }
    for check in ns.spoofcheck_list()? {
        lines.push(spoof_line(&check));
    }
    for key in WATCHED_SYSCTLS {
        lines.push(format!("sysctl {key} = {}", ns.sysctl_get(key)?.trim()));
    }
    Ok(lines.join("\n"))
}

/// One MAC spoof check; MACs are normalized away elsewhere, but the check's
/// MAC is the container's derived one, the same on both backends.
fn spoof_line(c: &SpoofCheck) -> String {
    format!(
        "MAC spoof check {} {} on {} only from {}",
        c.network, c.container_id, c.iface, c.mac
    )
}

/// Every labelled namespace, then the leases ([`InProcess::lease_names`]).
pub fn world_state(
    backend: &dyn NetBackend,
    namespaces: &[(&str, NsRef)],
    leases: &[String],
) -> NetResult<String> {
    let mut out = Vec::new();
    for (label, ns) in namespaces {
        out.push(format!("== {label}"));
        out.push(namespace_state(&*backend.open(ns)?)?);
    }
    out.push("== leases".to_string());
    out.extend(leases.iter().cloned());
    Ok(out.join("\n"))
}

/// The host (`NsRef::Current`) and each container's namespace, labelled by
/// container ID, then the leases.
pub fn host_and_containers(
    backend: &dyn NetBackend,
    containers: &[&Attachment],
    leases: &[String],
) -> NetResult<String> {
    let mut namespaces = vec![("host", NsRef::Current)];
    namespaces.extend(
        containers
            .iter()
            .map(|a| (a.container_id.as_str(), NsRef::path(&a.netns))),
    );
    world_state(backend, &namespaces, leases)
}

/// What a failed ADD must not leave, whatever it had done: the state of the
/// container namespaces, host links other than bridges (the bridge is shared
/// by the network's attachments and stays), masquerade rules, and leases.
/// Shared host state the plugins make idempotently and never undo (the
/// bridge, its gateway addresses, forwarding) is left out, so a failed ADD
/// on a cold host compares equal to the start.
pub fn attachment_owned(
    backend: &dyn NetBackend,
    containers: &[&Attachment],
    leases: &[String],
) -> NetResult<String> {
    let host = backend.open(&NsRef::Current)?;
    let mut out = vec!["== host links (bridges aside)".to_string()];
    let mut links: Vec<String> = host
        .links()?
        .into_iter()
        .filter(|l| l.kind != LinkKind::Bridge)
        .map(|l| l.name)
        .collect();
    links.sort();
    out.extend(links);
    out.push("== host MAC spoof checks".to_string());
    out.extend(host.spoofcheck_list()?.iter().map(spoof_line));
    out.push("== host masquerade".to_string());
    let mut rules: Vec<String> = host
        .masquerade_list()?
        .into_iter()
        .map(|r| format!("{} {}", r.network, r.container_id))
        .collect();
    rules.sort();
    out.extend(rules);
    for att in containers {
        out.push(format!("== {}", att.container_id));
        out.push(namespace_state(&*backend.open(&NsRef::path(&att.netns))?)?);
    }
    out.push("== leases".to_string());
    out.extend(leases.iter().cloned());
    Ok(out.join("\n"))
}

/// The kernel's local routing table (RT_TABLE_LOCAL).
const TABLE_LOCAL: u32 = 255;

/// The kernel's own policy rules (local, main, default), which no plugin
/// touches.
fn is_default_rule(r: &RuleInfo) -> bool {
    r.src.is_none() && matches!(r.priority, 0 | 32766 | 32767)
}

/// What the chained plugins change in one namespace, beyond
/// [`namespace_state`]: port mappings and forwarding rules by attachment,
/// each link's qdiscs other than the default (and where its ingress
/// redirects), policy rules other than the kernel's own, routes in tables
/// other than main and local, the MACs of links when `macs` (the kernel
/// chooses those of links it makes, so only where a plugin sets them), and
/// the sysctls named.
pub fn chained_namespace_state(ns: &dyn Netns, sysctls: &[&str], macs: bool) -> NetResult<String> {
    let links = ns.links()?;
    let name_of = |i: u32| link_name(&links, i);
    let mut lines = Vec::new();
    for set in ns.portmap_list()? {
        let rules: Vec<String> = set.rules.iter().map(ToString::to_string).collect();
        let (net, id) = (&set.network, &set.container_id);
        lines.push(format!("portmap {net} {id}: {}", rules.join("; ")));
    }
    for set in ns.firewall_list()? {
        let rules: Vec<String> = set.rules.iter().map(ToString::to_string).collect();
        let (net, id) = (&set.network, &set.container_id);
        lines.push(format!("firewall {net} {id}: {}", rules.join("; ")));
    }
    for link in &links {
        let shaping = ns.shaping(link.index)?;
        if shaping != Shaping::default() {
            let redirects = shaping
                .ingress_redirects
                .map(|to| to.into_iter().map(name_of).collect::<Vec<_>>());
            lines.push(format!(
                "qdiscs {}: root {:?}, ingress redirecting to {redirects:?}",
                link.name, shaping.root
            ));
        }
        if macs {
            lines.push(format!("mac {} {}", link.name, link.mac));
        }
    }
    for r in ns.rules()?.iter().filter(|r| !is_default_rule(r)) {
        let from = r.src.map_or("all".to_string(), |s| s.to_string());
        lines.push(format!(
            "rule ipv6={} {} from {from} lookup {}",
            r.ipv6, r.priority, r.table
        ));
    }
    for r in ns.routes()? {
        if r.table != TABLE_MAIN && r.table != TABLE_LOCAL {
            let via = r.gateway.map(|g| format!(" via {g}")).unwrap_or_default();
            let dev = r
                .oif
                .map(|o| format!(" dev {}", name_of(o)))
                .unwrap_or_default();
            lines.push(format!("route table {} {}{via}{dev}", r.table, r.dst));
        }
    }
    for key in sysctls {
        lines.push(format!("sysctl {key} = {}", ns.sysctl_get(key)?.trim()));
    }
    lines.sort();
    Ok(lines.join("\n"))
}

/// [`chained_namespace_state`] of the host (`NsRef::Current`, with
/// `host_sysctls`) and of each container (with `container_sysctls` and MACs).
pub fn chained_state(
    backend: &dyn NetBackend,
    containers: &[&Attachment],
    host_sysctls: &[&str],
    container_sysctls: &[&str],
) -> NetResult<String> {
    let host = backend.open(&NsRef::Current)?;
    let mut out = vec![
        "== host (chained)".to_string(),
        chained_namespace_state(&*host, host_sysctls, false)?,
    ];
    for att in containers {
        let ns = backend.open(&NsRef::path(&att.netns))?;
        out.push(format!("== {} (chained)", att.container_id));
        out.push(chained_namespace_state(&*ns, container_sysctls, true)?);
    }
    Ok(out.join("\n"))
}
