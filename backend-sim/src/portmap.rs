//! The per-namespace port-mapping rules, modelled on the Linux backend's
//! table: keyed by the full names here, listed with the names as the kernel's
//! rule tag shows them (long ones cut, see `masq_tag`). One set per
//! attachment, replaced whole by an ADD, as the kernel's transaction does.

use crate::firewall::validate_names;
use crate::model::{Net, NsId};
use cni_core::net::{masq_tag_shown_names, NetError, NetResult, PortMapSet};

const WHAT: &str = "port mappings";

fn validate(set: &PortMapSet) -> NetResult<()> {
    validate_names(WHAT, &set.network, &set.container_id)?;
    if set.rules.is_empty() {
        return Err(NetError::invalid(format!(
            "{WHAT} of container {:?}: no rules",
            set.container_id
        )));
    }
    for rule in &set.rules {
        rule.validate().map_err(NetError::invalid)?;
    }
    Ok(())
}

fn owned_by(set: &PortMapSet, network: &str, id: &str) -> bool {
    set.network == network && set.container_id == id
}

pub(crate) fn add(net: &mut Net, ns: &NsId, set: &PortMapSet) -> NetResult<()> {
    validate(set)?;
    let table = &mut net.ns_mut(ns)?.portmaps;
    table.retain(|s| !owned_by(s, &set.network, &set.container_id));
    let mut set = set.clone();
    set.rules.sort();
    set.rules.dedup();
    table.push(set);
    Ok(())
}

pub(crate) fn check(net: &Net, ns: &NsId, set: &PortMapSet) -> NetResult<()> {
    validate(set)?;
    let present = net
        .ns(ns)?
        .portmaps
        .iter()
        .find(|s| owned_by(s, &set.network, &set.container_id));
    let have = present.map(|s| s.rules.as_slice()).unwrap_or_default();
    match set.rules.iter().find(|r| !have.contains(r)) {
        Some(missing) => Err(NetError::not_found(format!(
            "port-mapping rule {missing} of container {} (network {}) not found",
            set.container_id, set.network
        ))),
        None => Ok(()),
    }
}

pub(crate) fn del(net: &mut Net, ns: &NsId, network: &str, container_id: &str) -> NetResult<()> {
    net.ns_mut(ns)?
        .portmaps
        .retain(|s| !owned_by(s, network, container_id));
    Ok(())
}

pub(crate) fn gc(net: &mut Net, ns: &NsId, network: &str, live: &[String]) -> NetResult<()> {
    net.ns_mut(ns)?
        .portmaps
        .retain(|s| s.network != network || live.contains(&s.container_id));
    Ok(())
}

pub(crate) fn list(net: &Net, ns: &NsId) -> NetResult<Vec<PortMapSet>> {
    let mut sets: Vec<PortMapSet> = net
        .ns(ns)?
        .portmaps
        .iter()
        .map(|s| {
            let (network, container_id) = masq_tag_shown_names(&s.network, &s.container_id);
            PortMapSet {
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
