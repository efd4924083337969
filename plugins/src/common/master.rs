//! The master (parent) link of macvlan, ipvlan and vlan: `master` if given,
//! else the interface of the default route, in the namespace the parent
//! lives in (the host, or the container with `linkInContainer`).

use super::errors::{AbsentOk, NetContext};
use cni_core::net::{LinkInfo, Netns};
use cni_core::CniError;

/// The parent link: `master` if given, else the interface of the default route.
pub fn find(ns: &dyn Netns, master: Option<&str>) -> Result<LinkInfo, CniError> {
    let name = match master {
        Some(m) => m.to_string(),
        None => {
            let routes = ns
                .routes()
                .ctx("listing routes to find the default interface")?;
            let default = routes
                .iter()
                .filter(|r| r.dst.prefix_len() == 0 && r.table == cni_core::net::TABLE_MAIN)
                .min_by_key(|r| (r.dst.addr().is_ipv6(), r.metric.unwrap_or(0)))
                .and_then(|r| r.oif)
                .ok_or_else(|| {
                    CniError::invalid_config(
                        "master: not set, and the host has no default route to take it from",
                    )
                })?;
            ns.link_by_index(default)
                .ctx("looking up the default route's interface")?
                .name
        }
    };
    ns.link_by_name(&name)
        .absent_ok(&format!("looking up master {name}"))?
        .ok_or_else(|| CniError::invalid_config(format!("master: link {name} not found")))
}
