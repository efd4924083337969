//! The per-namespace masquerade rule table, modelled on the Linux backend's:
//! rules are keyed by the full names here, listed with the names as the
//! kernel's rule tag shows them (long ones cut, see `masq_tag`).

use crate::model::{Net, NsId};
use cni_core::net::{masq_tag_shown_names, validate_tag_names, MasqRule, NetError, NetResult};

fn validate(rule: &MasqRule) -> NetResult<()> {
    validate_tag_names("masquerade rule", &rule.network, &rule.container_id)?;
    if rule.addrs.is_empty() {
        return Err(NetError::invalid("masquerade rule: no addresses"));
    }
    Ok(())
}

fn owned_by<'a>(rule: &'a MasqRule, network: &'a str, id: &'a str) -> bool {
    rule.network == network && rule.container_id == id
}

/// Replaces whatever the attachment had with exactly these addresses, as the
/// kernel's transaction does.
pub(crate) fn add(net: &mut Net, ns: &NsId, rule: &MasqRule) -> NetResult<()> {
    validate(rule)?;
    let table = &mut net.ns_mut(ns)?.masq;
    table.retain(|r| !owned_by(r, &rule.network, &rule.container_id));
    let mut rule = rule.clone();
    rule.addrs.sort();
    rule.addrs.dedup();
    table.push(rule);
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

pub(crate) fn gc(net: &mut Net, ns: &NsId, network: &str, live: &[String]) -> NetResult<()> {
    net.ns_mut(ns)?
        .masq
        .retain(|r| r.network != network || live.contains(&r.container_id));
    Ok(())
}

pub(crate) fn list(net: &Net, ns: &NsId) -> NetResult<Vec<MasqRule>> {
    let mut rules: Vec<MasqRule> = net
        .ns(ns)?
        .masq
        .iter()
        .map(|r| {
            let (network, container_id) = masq_tag_shown_names(&r.network, &r.container_id);
            MasqRule {
                network,
                container_id,
                addrs: r.addrs.clone(),
            }
        })
        .collect();
    rules.sort();
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use crate::SimKernel;
    use cni_core::net::{MasqRule, NetBackend, NsRef};

    fn rule(network: &str, id: &str, addr: &str) -> MasqRule {
        MasqRule {
            network: network.into(),
            container_id: id.into(),
            addrs: vec![addr.parse().unwrap()],
        }
    }

    #[test]
    fn long_names_list_as_the_kernel_tag_shows_them_and_gc_keeps_only_live_ones() {
        let kernel = SimKernel::new();
        let host = kernel.open(&NsRef::Current).unwrap();
        let (network, other) = ("n".repeat(56), "m".repeat(56));
        let (live, stale) = ("a".repeat(64), "b".repeat(64));
        host.masquerade_add(&rule(&network, &live, "10.1.0.2/24"))
            .unwrap();
        host.masquerade_add(&rule(&network, &stale, "10.1.0.3/24"))
            .unwrap();
        host.masquerade_add(&rule(&other, &stale, "10.2.0.3/24"))
            .unwrap();
        let listed = host.masquerade_list().unwrap();
        assert!(listed
            .iter()
            .all(|r| r.network.ends_with('~') && r.container_id.ends_with('~')));
        host.masquerade_gc(&network, std::slice::from_ref(&live))
            .unwrap();
        host.masquerade_check(&rule(&network, &live, "10.1.0.2/24"))
            .unwrap();
        host.masquerade_check(&rule(&other, &stale, "10.2.0.3/24"))
            .unwrap();
        assert!(host
            .masquerade_check(&rule(&network, &stale, "10.1.0.3/24"))
            .is_err());
    }

    #[test]
    fn add_replaces_the_attachments_addresses_as_the_kernel_does() {
        let kernel = SimKernel::new();
        let host = kernel.open(&NsRef::Current).unwrap();
        host.masquerade_add(&rule("n", "c", "10.1.0.2/24")).unwrap();
        host.masquerade_add(&rule("n", "c", "10.1.0.9/24")).unwrap();
        let listed = host.masquerade_list().unwrap();
        assert_eq!(listed, vec![rule("n", "c", "10.1.0.9/24")]);
    }
}
