//! Per-attachment rule sets in a namespace, as the Linux backend keeps them in
//! its nftables tables (port mappings, forwarding rules): keyed by the full
//! names here, listed with the names as the kernel's rule tag shows them
//! (long ones cut, see `masq_tag`). One set per attachment, replaced whole by
//! an ADD, as the kernel's transaction does.

use crate::firewall::validate_names;
use cni_core::net::{masq_tag_shown_names, NetError, NetResult};
use std::fmt::Display;

/// What a kind of rule set says about itself.
pub(crate) trait TaggedSet: Clone + Ord {
    type Rule: Clone + Ord + Display;
    /// For messages: "port mappings", "forwarding rules".
    const WHAT: &'static str;
    fn network(&self) -> &str;
    fn container_id(&self) -> &str;
    fn rules(&self) -> &[Self::Rule];
    fn rules_mut(&mut self) -> &mut Vec<Self::Rule>;
    fn validate_rule(rule: &Self::Rule) -> Result<(), String>;
    /// The same set under other names (as a listing shows them).
    fn renamed(&self, network: String, container_id: String) -> Self;
    /// CHECK's message for a rule of this set that is not present.
    fn missing(&self, rule: &Self::Rule) -> String;
}

fn validate<S: TaggedSet>(set: &S) -> NetResult<()> {
    validate_names(S::WHAT, set.network(), set.container_id())?;
    if set.rules().is_empty() {
        return Err(NetError::invalid(format!(
            "{} of container {:?}: no rules",
            S::WHAT,
            set.container_id()
        )));
    }
    set.rules()
        .iter()
        .try_for_each(|r| S::validate_rule(r).map_err(NetError::invalid))
}

fn owned_by<S: TaggedSet>(set: &S, network: &str, id: &str) -> bool {
    set.network() == network && set.container_id() == id
}

pub(crate) fn add<S: TaggedSet>(table: &mut Vec<S>, set: &S) -> NetResult<()> {
    validate(set)?;
    table.retain(|s| !owned_by(s, set.network(), set.container_id()));
    let mut set = set.clone();
    set.rules_mut().sort();
    set.rules_mut().dedup();
    table.push(set);
    Ok(())
}

pub(crate) fn check<S: TaggedSet>(table: &[S], set: &S) -> NetResult<()> {
    validate(set)?;
    let present = table
        .iter()
        .find(|s| owned_by(*s, set.network(), set.container_id()));
    let have = present.map(|s| s.rules()).unwrap_or_default();
    match set.rules().iter().find(|r| !have.contains(r)) {
        Some(missing) => Err(NetError::not_found(set.missing(missing))),
        None => Ok(()),
    }
}

pub(crate) fn del<S: TaggedSet>(table: &mut Vec<S>, network: &str, container_id: &str) {
    table.retain(|s| !owned_by(s, network, container_id));
}

pub(crate) fn gc<S: TaggedSet>(table: &mut Vec<S>, network: &str, live: &[String]) {
    table.retain(|s| s.network() != network || live.iter().any(|id| id == s.container_id()));
}

pub(crate) fn list<S: TaggedSet>(table: &[S]) -> Vec<S> {
    let mut sets: Vec<S> = table
        .iter()
        .map(|s| {
            let (network, container_id) = masq_tag_shown_names(s.network(), s.container_id());
            s.renamed(network, container_id)
        })
        .collect();
    sets.sort();
    sets
}
