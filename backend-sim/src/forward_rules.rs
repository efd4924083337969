//! The per-namespace forwarding rules of the `firewall` plugin, modelled on
//! the Linux backend's table: keyed by the full names here, listed with the
//! names as the kernel's rule tag shows them. One set per attachment,
//! replaced whole by an ADD, as the kernel's transaction does.

use crate::firewall::validate_names;
use crate::model::{Net, NsId};
use cni_core::net::{masq_tag_shown_names, FirewallSet, NetError, NetResult};

const WHAT: &str = "forwarding rules";

fn validate(set: &FirewallSet) -> NetResult<()> {
    validate_names(WHAT, &set.network, &set.container_id)?;
    if set.rules.is_empty() {
        return Err(NetError::invalid(format!(
            "{WHAT} of container {:?}: no rules",
            set.container_id
        )));
    }
    set.rules
        .iter()
        .try_for_each(|r| r.validate().map_err(NetError::invalid))
}

fn owned_by(set: &FirewallSet, network: &str, id: &str) -> bool {
    set.network == network && set.container_id == id
}

pub(crate) fn add(net: &mut Net, ns: &NsId, set: &FirewallSet) -> NetResult<()> {
    validate(set)?;
    let table = &mut net.ns_mut(ns)?.forward_rules;
    table.retain(|s| !owned_by(s, &set.network, &set.container_id));
    let mut set = set.clone();
    set.rules.sort();
    set.rules.dedup();
    table.push(set);
    Ok(())
}

pub(crate) fn check(net: &Net, ns: &NsId, set: &FirewallSet) -> NetResult<()> {
    validate(set)?;
    let present = net
        .ns(ns)?
        .forward_rules
        .iter()
        .find(|s| owned_by(s, &set.network, &set.container_id));
    let have = present.map(|s| s.rules.as_slice()).unwrap_or_default();
    match set.rules.iter().find(|r| !have.contains(r)) {
        Some(missing) => Err(NetError::not_found(format!(
            "forwarding rule \"{missing}\" of container {} (network {}) not found",
            set.container_id, set.network
        ))),
        None => Ok(()),
    }
}

pub(crate) fn del(net: &mut Net, ns: &NsId, network: &str, container_id: &str) -> NetResult<()> {
    net.ns_mut(ns)?
        .forward_rules
        .retain(|s| !owned_by(s, network, container_id));
    Ok(())
}

pub(crate) fn gc(net: &mut Net, ns: &NsId, network: &str, live: &[String]) -> NetResult<()> {
    net.ns_mut(ns)?
        .forward_rules
        .retain(|s| s.network != network || live.contains(&s.container_id));
    Ok(())
}

pub(crate) fn list(net: &Net, ns: &NsId) -> NetResult<Vec<FirewallSet>> {
    let mut sets: Vec<FirewallSet> = net
        .ns(ns)?
        .forward_rules
        .iter()
        .map(|s| {
            let (network, container_id) = masq_tag_shown_names(&s.network, &s.container_id);
            FirewallSet {
                network,
                container_id,
                rules: s.rules.clone(),
            }
        })
        .collect();
    sets.sort();
    Ok(sets)
}
