//! The per-namespace masquerade rule table.

use crate::model::{Net, NsId};
use cni_core::net::{MasqRule, NetError, NetResult};

fn validate(rule: &MasqRule) -> NetResult<()> {
    if rule.network.is_empty() {
        return Err(NetError::invalid("masquerade rule: network name is empty"));
    }
    if rule.container_id.is_empty() {
        return Err(NetError::invalid("masquerade rule: container id is empty"));
    }
    if rule.addrs.is_empty() {
        return Err(NetError::invalid("masquerade rule: no addresses"));
    }
    Ok(())
}

fn owned_by<'a>(rule: &'a MasqRule, network: &'a str, id: &'a str) -> bool {
    rule.network == network && rule.container_id == id
}

pub(crate) fn add(net: &mut Net, ns: &NsId, rule: &MasqRule) -> NetResult<()> {
    validate(rule)?;
    let table = &mut net.ns_mut(ns)?.masq;
    match table
        .iter_mut()
        .find(|r| owned_by(r, &rule.network, &rule.container_id))
    {
        Some(existing) => {
            for a in &rule.addrs {
                if !existing.addrs.contains(a) {
                    existing.addrs.push(*a);
                }
            }
        }
        None => table.push(rule.clone()),
    }
    Ok(())
}

pub(crate) fn check(net: &Net, ns: &NsId, rule: &MasqRule) -> NetResult<()> {
    validate(rule)?;
    let table = &net.ns(ns)?.masq;
    let present = table
        .iter()
        .find(|r| owned_by(r, &rule.network, &rule.container_id))
        .ok_or_else(|| {
            NetError::not_found(format!(
                "no masquerade rule for network {:?} container {:?}",
                rule.network, rule.container_id
            ))
        })?;
    if let Some(missing) = rule.addrs.iter().find(|a| !present.addrs.contains(a)) {
        return Err(NetError::not_found(format!(
            "masquerade rule for network {:?} container {:?} lacks {missing}",
            rule.network, rule.container_id
        )));
    }
    Ok(())
}

pub(crate) fn del(net: &mut Net, ns: &NsId, network: &str, container_id: &str) -> NetResult<()> {
    net.ns_mut(ns)?
        .masq
        .retain(|r| !owned_by(r, network, container_id));
    Ok(())
}

pub(crate) fn list(net: &Net, ns: &NsId) -> NetResult<Vec<MasqRule>> {
    let mut rules = net.ns(ns)?.masq.clone();
    rules.sort();
    Ok(rules)
}
