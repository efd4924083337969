//! Per-attachment rule sets in a namespace, as the Linux backend keeps them in
//! its nftables tables (port mappings, forwarding rules): keyed by the full
//! names here, listed with the names as the kernel's rule tag shows them
//! (long ones cut, see `masq_tag`). One set per attachment, replaced whole by
//! an ADD, as the kernel's transaction does.

use crate::model::{Namespace, Net, NsId};
use cni_core::net::{
    masq_tag_shown_names, FirewallRule, NetError, NetResult, PortMapRule, RuleSet, TaggedRule,
};

/// Where a namespace keeps the sets of a kind of rule.
pub(crate) trait SimRuleTable: TaggedRule {
    fn sets(ns: &Namespace) -> &Vec<RuleSet<Self>>;
    fn sets_mut(ns: &mut Namespace) -> &mut Vec<RuleSet<Self>>;
}

impl SimRuleTable for PortMapRule {
    fn sets(ns: &Namespace) -> &Vec<RuleSet<Self>> {
        &ns.portmaps
    }
    fn sets_mut(ns: &mut Namespace) -> &mut Vec<RuleSet<Self>> {
        &mut ns.portmaps
    }
}

impl SimRuleTable for FirewallRule {
    fn sets(ns: &Namespace) -> &Vec<RuleSet<Self>> {
        &ns.forward_rules
    }
    fn sets_mut(ns: &mut Namespace) -> &mut Vec<RuleSet<Self>> {
        &mut ns.forward_rules
    }
}

fn owned_by<R>(set: &RuleSet<R>, network: &str, id: &str) -> bool {
    set.network == network && set.container_id == id
}

pub(crate) fn add<R: SimRuleTable>(net: &mut Net, ns: &NsId, set: &RuleSet<R>) -> NetResult<()> {
    let table = R::sets_mut(net.ns_mut(ns)?);
    set.validate()?;
    table.retain(|s| !owned_by(s, &set.network, &set.container_id));
    let mut set = set.clone();
    set.rules.sort();
    set.rules.dedup();
    table.push(set);
    Ok(())
}

pub(crate) fn check<R: SimRuleTable>(net: &Net, ns: &NsId, set: &RuleSet<R>) -> NetResult<()> {
    let table = R::sets(net.ns(ns)?);
    set.validate()?;
    let present = table
        .iter()
        .find(|s| owned_by(s, &set.network, &set.container_id));
    let have = present.map(|s| s.rules.as_slice()).unwrap_or_default();
    match set.rules.iter().find(|r| !have.contains(r)) {
        Some(missing) => Err(NetError::not_found(set.missing(missing))),
        None => Ok(()),
    }
}

pub(crate) fn del<R: SimRuleTable>(
    net: &mut Net,
    ns: &NsId,
    network: &str,
    container_id: &str,
) -> NetResult<()> {
    R::sets_mut(net.ns_mut(ns)?).retain(|s| !owned_by(s, network, container_id));
    Ok(())
}

pub(crate) fn gc<R: SimRuleTable>(
    net: &mut Net,
    ns: &NsId,
    network: &str,
    live: &[String],
) -> NetResult<()> {
    R::sets_mut(net.ns_mut(ns)?).retain(|s| s.network != network || live.contains(&s.container_id));
    Ok(())
}

pub(crate) fn list<R: SimRuleTable>(net: &Net, ns: &NsId) -> NetResult<Vec<RuleSet<R>>> {
    let mut sets: Vec<RuleSet<R>> = R::sets(net.ns(ns)?)
        .iter()
        .map(|s| {
            let (network, container_id) = masq_tag_shown_names(&s.network, &s.container_id);
            RuleSet {
                network,
                container_id,
                rules: s.rules.clone(),
            }
        })
        .collect();
    sets.sort();
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use crate::SimKernel;
    use cni_core::net::{NetBackend, NetErrorKind, NsRef, PortMapRule, PortMapSet, PortProtocol};

    fn set(network: &str, id: &str, host_port: u16) -> PortMapSet {
        PortMapSet {
            network: network.into(),
            container_id: id.into(),
            rules: vec![
                PortMapRule::Dnat {
                    protocol: PortProtocol::Tcp,
                    host_ip: None,
                    host_port,
                    to: "10.1.0.2:80".parse().unwrap(),
                },
                PortMapRule::Masquerade {
                    from: Some("10.1.0.0/24".parse().unwrap()),
                    to: "10.1.0.2".parse().unwrap(),
                },
            ],
        }
    }

    #[test]
    fn add_replaces_the_attachments_rules_and_check_names_the_missing_one() {
        let kernel = SimKernel::new();
        let host = kernel.open(&NsRef::Current).unwrap();
        host.portmap_add(&set("n", "c", 8080)).unwrap();
        host.portmap_add(&set("n", "c", 9090)).unwrap();
        assert_eq!(host.portmap_list().unwrap(), vec![set("n", "c", 9090)]);
        let err = host.portmap_check(&set("n", "c", 8080)).unwrap_err();
        assert_eq!(err.kind, NetErrorKind::NotFound);
        assert!(
            err.to_string().contains("tcp port 8080 to 10.1.0.2:80"),
            "{err}"
        );
    }

    #[test]
    fn gc_keeps_live_attachments_and_other_networks() {
        let kernel = SimKernel::new();
        let host = kernel.open(&NsRef::Current).unwrap();
        for (net, id) in [("n", "live"), ("n", "stale"), ("m", "stale")] {
            host.portmap_add(&set(net, id, 8080)).unwrap();
        }
        host.portmap_gc("n", &["live".to_string()]).unwrap();
        let left: Vec<_> = host
            .portmap_list()
            .unwrap()
            .into_iter()
            .map(|s| (s.network, s.container_id))
            .collect();
        assert_eq!(
            left,
            [("m".into(), "stale".into()), ("n".into(), "live".into())]
        );
    }

    #[test]
    fn mixed_families_and_empty_sets_are_refused_before_anything_changes() {
        let kernel = SimKernel::new();
        let host = kernel.open(&NsRef::Current).unwrap();
        let mut bad = set("n", "c", 8080);
        bad.rules.push(PortMapRule::Masquerade {
            from: Some("::1/128".parse().unwrap()),
            to: "10.1.0.2".parse().unwrap(),
        });
        assert_eq!(
            host.portmap_add(&bad).unwrap_err().kind,
            NetErrorKind::Invalid
        );
        let empty = PortMapSet {
            rules: vec![],
            ..set("n", "c", 1)
        };
        assert_eq!(
            host.portmap_add(&empty).unwrap_err().kind,
            NetErrorKind::Invalid
        );
        assert!(host.portmap_list().unwrap().is_empty());
    }
}
