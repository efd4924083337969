//! Per-namespace sysctls under /proc/sys, with kernel defaults.

use crate::model::{Net, NsId};
use cni_core::net::{NetError, NetResult};

/// Splits `net/ipv4/conf/<if>/<leaf>` into (family, interface, leaf).
fn per_link_key(key: &str) -> Option<(&str, &str, &str)> {
    let rest = key.strip_prefix("net/")?;
    let (family, rest) = rest.split_once("/conf/")?;
    if family != "ipv4" && family != "ipv6" {
        return None;
    }
    let (iface, leaf) = rest.split_once('/')?;
    if iface == "all" || iface == "default" {
        return None;
    }
    Some((family, iface, leaf))
}

fn normalize_key(key: &str) -> String {
    key.trim_start_matches("/proc/sys/")
        .trim_start_matches('/')
        .replace('.', "/")
}

pub(crate) fn get(net: &Net, ns: &NsId, key: &str) -> NetResult<String> {
    let space = net.ns(ns)?;
    let key = normalize_key(key);
    if let Some((family, iface, leaf)) = per_link_key(&key) {
        let index = space
            .index_of(iface)
            .ok_or_else(|| NetError::not_found(format!("sysctl {key}: no link {iface:?}")))?;
        let link = space.link(index)?;
        return link
            .conf
            .get(&format!("{family}/{leaf}"))
            .cloned()
            .ok_or_else(|| NetError::not_found(format!("sysctl {key} not found")));
    }
    space
        .sysctls
        .get(&key)
        .cloned()
        .ok_or_else(|| NetError::not_found(format!("sysctl {key} not found")))
}

pub(crate) fn set(net: &mut Net, ns: &NsId, key: &str, value: &str) -> NetResult<()> {
    let key = normalize_key(key);
    let value = value.trim();
    if value.is_empty() || value.contains('\n') {
        return Err(NetError::invalid(format!(
            "sysctl {key}: invalid value {value:?}"
        )));
    }
    let current = get(net, ns, &key)?;
    let numeric = |v: &str| v.split_whitespace().all(|t| t.parse::<i64>().is_ok());
    if numeric(&current) && !numeric(value) {
        return Err(NetError::invalid(format!(
            "sysctl {key}: {value:?} is not a number"
        )));
    }
    let space = net.ns_mut(ns)?;
    if let Some((family, iface, leaf)) = per_link_key(&key) {
        let index = space
            .index_of(iface)
            .ok_or_else(|| NetError::not_found(format!("sysctl {key}: no link {iface:?}")))?;
        let link = space.link_mut(index)?;
        link.conf
            .insert(format!("{family}/{leaf}"), value.to_string());
        if family == "ipv6" && leaf == "disable_ipv6" && value != "0" {
            // Linux drops every IPv6 address and route of the link; enabling
            // it again brings a fresh link-local address.
            link.link_local_done = false;
            space
                .addrs
                .retain(|a| a.index != index || a.addr.addr().is_ipv4());
            space
                .routes
                .retain(|r| r.oif != Some(index) || r.dst.addr().is_ipv4());
        }
        return Ok(());
    }
    space.sysctls.insert(key.clone(), value.to_string());
    // ip_forward and conf/all/forwarding are one setting in Linux.
    let twin = match key.as_str() {
        "net/ipv4/ip_forward" => Some("net/ipv4/conf/all/forwarding"),
        "net/ipv4/conf/all/forwarding" => Some("net/ipv4/ip_forward"),
        _ => None,
    };
    if let Some(t) = twin {
        space.sysctls.insert(t.to_string(), value.to_string());
    }
    Ok(())
}
