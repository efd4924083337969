//! DEL: the ifb and the host veth's qdiscs go; everything already gone
//! counts as done, every step runs, the first error is reported.

use super::host_side::ifb_name;
use crate::common::{conf, netns, AbsentOk};
use cni_core::net::{LinkInfo, NetBackend, Netns, RootQdisc};
use cni_core::skel::CmdArgs;
use cni_core::CniError;

pub fn del(backend: &dyn NetBackend, args: &CmdArgs) -> Result<(), CniError> {
    let common = conf::parse(&args.stdin)?;
    let host = netns::host(backend)?;
    let host = &*host;
    let name = ifb_name(&common.name, &args.container_id);
    let ifb = host
        .link_by_name(&name)
        .absent_ok(&format!("looking up ifb {name}"))?;
    let mut results = vec![];
    match host_veth_if_present(backend, host, args) {
        Ok(Some(veth)) => results.push(unshape(host, &veth, ifb.as_ref())),
        Ok(None) => {}
        Err(e) => results.push(Err(e)),
    }
    if let Some(ifb) = &ifb {
        let removed = host
            .delete_link(ifb.index)
            .absent_ok(&format!("deleting ifb {name}"));
        results.push(removed.map(drop));
    }
    results.into_iter().collect()
}

/// Without the container's namespace or interface the veth is gone too.
fn host_veth_if_present(
    backend: &dyn NetBackend,
    host: &dyn Netns,
    args: &CmdArgs,
) -> Result<Option<LinkInfo>, CniError> {
    let Some(container) = netns::container_if_present(backend, &args.netns)? else {
        return Ok(None);
    };
    let link = container
        .link_by_name(&args.ifname)
        .absent_ok(&format!("looking up {} in the container", args.ifname))?;
    let Some(peer) = link.and_then(|l| l.peer_index) else {
        return Ok(None);
    };
    host.link_by_index(peer)
        .absent_ok(&format!("looking up the veth peer (#{peer}) in the host"))
}

/// Only what ADD makes: a tbf root qdisc, and the ingress qdisc when it
/// redirects to this attachment's ifb.
fn unshape(host: &dyn Netns, veth: &LinkInfo, ifb: Option<&LinkInfo>) -> Result<(), CniError> {
    let Some(shaping) = host
        .shaping(veth.index)
        .absent_ok(&format!("reading the qdiscs of {}", veth.name))?
    else {
        return Ok(());
    };
    let mut results = vec![];
    if matches!(shaping.root, RootQdisc::Tbf(_)) {
        let removed = host.root_qdisc_del(veth.index);
        results.push(removed.absent_ok(&format!("removing the tbf of {}", veth.name)));
    }
    let redirects = shaping.ingress_redirects.unwrap_or_default();
    if ifb.is_some_and(|ifb| redirects.contains(&ifb.index)) {
        let removed = host.ingress_qdisc_del(veth.index);
        results.push(removed.absent_ok(&format!("removing the ingress qdisc of {}", veth.name)));
    }
    results.into_iter().try_for_each(|r| r.map(drop))
}
