//! Tap devices: persistent, with the flags, owner and group they were made
//! with. No process holds one open, so a tap has no carrier (as a
//! persistent tap on Linux before a VM attaches).

use crate::links::{check_mac, ensure_name_free, info, insert_link};
use crate::model::{validate_mtu, Net, NsId};
use cni_core::net::{LinkInfo, LinkKind, NetError, NetResult, TapInfo, TapSpec};
use std::fmt::Write;

/// The tun driver's largest MTU for a tap (65535 less the Ethernet header).
pub(crate) const TAP_MAX_MTU: u32 = 65521;

pub(crate) fn create_tap(net: &mut Net, ns: &NsId, spec: &TapSpec) -> NetResult<LinkInfo> {
    ensure_name_free(net, ns, &spec.name)?;
    if let Some(ctx) = &spec.selinux_context {
        // The simulated kernel has no SELinux, as this project's test
        // machines: writing a context to /proc/thread-self/attr is EINVAL.
        return Err(NetError::invalid(format!(
            "set SELinux context {ctx:?} for tap {}: SELinux is not enabled",
            spec.name
        )));
    }
    let mtu = spec.mtu.unwrap_or(1500);
    validate_mtu(mtu)?;
    if mtu > TAP_MAX_MTU {
        return Err(NetError::invalid(format!(
            "mtu {mtu} is above a tap's largest, {TAP_MAX_MTU}"
        )));
    }
    check_mac(spec.mac, "tap mac")?;
    let index = insert_link(
        net,
        ns,
        &spec.name,
        LinkKind::Tap,
        mtu,
        spec.mac,
        spec.txqueuelen,
    )?;
    let link = net.ns_mut(ns)?.link_mut(index)?;
    link.tap = Some(TapInfo {
        multi_queue: spec.multi_queue,
        pi: !spec.no_pi,
        vnet_hdr: spec.vnet_hdr,
        persist: true,
        owner: spec.owner,
        group: spec.group,
    });
    info(net, ns, index)
}

/// ` tap multi_queue vnet_hdr user 1000 group 1000`, as `ip -d link` words it.
pub(crate) fn render(s: &mut String, t: &TapInfo) {
    s.push_str(if t.pi { " pi" } else { " no_pi" });
    if t.multi_queue {
        s.push_str(" multi_queue");
    }
    if t.vnet_hdr {
        s.push_str(" vnet_hdr");
    }
    if t.persist {
        s.push_str(" persist");
    }
    if let Some(u) = t.owner {
        let _ = write!(s, " user {u}");
    }
    if let Some(g) = t.group {
        let _ = write!(s, " group {g}");
    }
}
