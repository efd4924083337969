//! The per-namespace forwarding rules of the `firewall` plugin (see
//! `tagged_sets`).

use crate::model::{Net, NsId};
use crate::tagged_sets::{self, TaggedSet};
use cni_core::net::{FirewallRule, FirewallSet, NetResult};

impl TaggedSet for FirewallSet {
    type Rule = FirewallRule;
    const WHAT: &'static str = "forwarding rules";
    fn network(&self) -> &str {
        &self.network
    }
    fn container_id(&self) -> &str {
        &self.container_id
    }
    fn rules(&self) -> &[FirewallRule] {
        &self.rules
    }
    fn rules_mut(&mut self) -> &mut Vec<FirewallRule> {
        &mut self.rules
    }
    fn validate_rule(rule: &FirewallRule) -> Result<(), String> {
        rule.validate()
    }
    fn renamed(&self, network: String, container_id: String) -> Self {
        FirewallSet {
            network,
            container_id,
            rules: self.rules.clone(),
        }
    }
    fn missing(&self, rule: &FirewallRule) -> String {
        format!(
            "forwarding rule \"{rule}\" of container {} (network {}) not found",
            self.container_id, self.network
        )
    }
}

pub(crate) fn add(net: &mut Net, ns: &NsId, set: &FirewallSet) -> NetResult<()> {
    tagged_sets::add(&mut net.ns_mut(ns)?.forward_rules, set)
}

pub(crate) fn check(net: &Net, ns: &NsId, set: &FirewallSet) -> NetResult<()> {
    tagged_sets::check(&net.ns(ns)?.forward_rules, set)
}

pub(crate) fn del(net: &mut Net, ns: &NsId, network: &str, container_id: &str) -> NetResult<()> {
    tagged_sets::del(&mut net.ns_mut(ns)?.forward_rules, network, container_id);
    Ok(())
}

pub(crate) fn gc(net: &mut Net, ns: &NsId, network: &str, live: &[String]) -> NetResult<()> {
    tagged_sets::gc(&mut net.ns_mut(ns)?.forward_rules, network, live);
    Ok(())
}

pub(crate) fn list(net: &Net, ns: &NsId) -> NetResult<Vec<FirewallSet>> {
    Ok(tagged_sets::list(&net.ns(ns)?.forward_rules))
}
