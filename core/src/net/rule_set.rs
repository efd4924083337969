//! One attachment's set of tagged rules in the host (portmap's port
//! mappings, firewall's forwarding rules): what plugins hand to a backend
//! and a listing gives back, and what a kind of rule says about itself.
//! Both backends keep the sets as the same model (replaced whole by an ADD,
//! removed by DEL and GC by their tag, see [`super::masq_tag`]).

use super::masq_tag::validate_tag_names;
use super::{NetError, NetResult};
use std::fmt;

/// A kind of rule kept in per-attachment sets.
pub trait TaggedRule: Clone + Ord + fmt::Display {
    /// The set, for messages: "port mappings", "forwarding rules".
    const SET: &'static str;
    /// One rule, for messages: "port-mapping rule", "forwarding rule".
    const ONE: &'static str;
    /// Why the rule cannot be installed, if it cannot: what both backends
    /// require before anything changes.
    fn validate(&self) -> Result<(), String>;
    /// The rule as CHECK names it when it is missing.
    fn describe(&self) -> String {
        format!("{} {self}", Self::ONE)
    }
}

/// Every rule of one attachment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleSet<R> {
    pub network: String,
    pub container_id: String,
    pub rules: Vec<R>,
}

impl<R: TaggedRule> RuleSet<R> {
    /// What ADD and CHECK require: names a tag can carry, at least one
    /// rule, every rule valid.
    pub fn validate(&self) -> NetResult<()> {
        validate_tag_names(R::SET, &self.network, &self.container_id)?;
        if self.rules.is_empty() {
            return Err(NetError::invalid(format!(
                "{} of container {:?}: no rules",
                R::SET,
                self.container_id
            )));
        }
        self.rules
            .iter()
            .try_for_each(|r| r.validate().map_err(NetError::invalid))
    }

    /// CHECK's message for `rule` of this set, which is not there (a
    /// backend may add where it looked).
    pub fn missing(&self, rule: &R) -> String {
        format!(
            "{} of container {} (network {}) not found",
            rule.describe(),
            self.container_id,
            self.network
        )
    }
}
