//! The per-namespace port-mapping rules (see `tagged_sets`).

use crate::model::{Net, NsId};
use crate::tagged_sets::{self, TaggedSet};
use cni_core::net::{NetResult, PortMapRule, PortMapSet};

impl TaggedSet for PortMapSet {
    type Rule = PortMapRule;
    const WHAT: &'static str = "port mappings";
    fn network(&self) -> &str {
        &self.network
    }
    fn container_id(&self) -> &str {
        &self.container_id
    }
    fn rules(&self) -> &[PortMapRule] {
        &self.rules
    }
    fn rules_mut(&mut self) -> &mut Vec<PortMapRule> {
        &mut self.rules
    }
    fn validate_rule(rule: &PortMapRule) -> Result<(), String> {
        rule.validate()
    }
    fn renamed(&self, network: String, container_id: String) -> Self {
        PortMapSet {
            network,
            container_id,
            rules: self.rules.clone(),
        }
    }
    fn missing(&self, rule: &PortMapRule) -> String {
        format!(
            "port-mapping rule {rule} of container {} (network {}) not found",
            self.container_id, self.network
        )
    }
}

pub(crate) fn add(net: &mut Net, ns: &NsId, set: &PortMapSet) -> NetResult<()> {
    tagged_sets::add(&mut net.ns_mut(ns)?.portmaps, set)
}

pub(crate) fn check(net: &Net, ns: &NsId, set: &PortMapSet) -> NetResult<()> {
    tagged_sets::check(&net.ns(ns)?.portmaps, set)
}

pub(crate) fn del(net: &mut Net, ns: &NsId, network: &str, container_id: &str) -> NetResult<()> {
    tagged_sets::del(&mut net.ns_mut(ns)?.portmaps, network, container_id);
    Ok(())
}

pub(crate) fn gc(net: &mut Net, ns: &NsId, network: &str, live: &[String]) -> NetResult<()> {
    tagged_sets::gc(&mut net.ns_mut(ns)?.portmaps, network, live);
    Ok(())
}

pub(crate) fn list(net: &Net, ns: &NsId) -> NetResult<Vec<PortMapSet>> {
    Ok(tagged_sets::list(&net.ns(ns)?.portmaps))
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
