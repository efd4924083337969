//! What each operation on per-attachment rule sets sends, decided from what
//! our table holds: pure functions, as `plan.rs` is for masquerade, shared
//! by every kind of rule (see `tagged_sets`).
//!
//! The table and its base chains are created only where missing; an ADD
//! that finds the attachment's rules exactly as wanted sends nothing.

use super::rule::{create_base_chain, create_table, del_rule_in, new_rule_in};
use super::tagged_sets::NftRule;
use super::wire::NfMsg;
use cni_core::net::{ParsedMasqTag, RuleSet};

/// One of our base chains: name, type (`nat`, `filter`), netfilter hook,
/// priority.
pub(crate) struct ChainDef {
    pub name: &'static str,
    pub kind: &'static str,
    pub hook: u32,
    pub priority: i32,
}

/// One of our rules as a look-up found it.
#[derive(Debug, Clone)]
pub(super) struct Found<R> {
    /// Index into the kind's chains.
    pub chain: usize,
    pub handle: u64,
    pub tag: ParsedMasqTag,
    pub rule: R,
}

/// Our table as a look-up found it.
#[derive(Debug)]
pub(super) struct Table<R> {
    /// Whether each of the kind's chains exists.
    pub present: Vec<bool>,
    pub rules: Vec<Found<R>>,
}

impl<R> Table<R> {
    /// No table: every one of `chains` chains is missing.
    pub fn missing(chains: usize) -> Self {
        Table {
            present: vec![false; chains],
            rules: Vec::new(),
        }
    }

    pub fn rules_of<'a>(
        &'a self,
        network: &'a str,
        container_id: &'a str,
    ) -> impl Iterator<Item = &'a Found<R>> + 'a {
        self.rules
            .iter()
            .filter(move |f| f.tag.is_of(network, container_id))
    }
}

/// (chain, rule) pairs for `rules`, in the order of `rules`.
pub(super) fn placed_in_order<R: NftRule>(rules: &[R]) -> Vec<(usize, R)> {
    rules
        .iter()
        .flat_map(|r| r.chains().iter().map(move |c| (*c, r.clone())))
        .collect()
}

/// (chain, rule) pairs for `rules`, sorted, without repeats.
pub(super) fn placed<R: NftRule>(rules: &[R]) -> Vec<(usize, R)> {
    let mut out = placed_in_order(rules);
    out.sort();
    out.dedup();
    out
}

fn new_rule<R: NftRule>(chain: usize, rule: &R, tag: &str) -> NfMsg {
    let mut msg = new_rule_in(R::TABLE, R::CHAINS[chain].name, &rule.expressions(), tag);
    if rule.at_head() {
        // Without NLM_F_APPEND the kernel inserts at the head of the chain.
        msg.flags &= !netlink_packet_core::NLM_F_APPEND;
    }
    msg
}

/// ADD: nothing when the attachment already has exactly these rules; else
/// one transaction replacing whatever it had, creating the table and the
/// chains only where missing.
pub(super) fn add<R: NftRule>(table: &Table<R>, set: &RuleSet<R>, tag: &str) -> Vec<NfMsg> {
    let wanted = placed(&set.rules);
    let mine: Vec<&Found<R>> = table.rules_of(&set.network, &set.container_id).collect();
    let mut have: Vec<(usize, R)> = mine.iter().map(|f| (f.chain, f.rule.clone())).collect();
    have.sort();
    if have == wanted && mine.iter().all(|f| f.tag.is_current_format()) {
        return Vec::new();
    }
    let mut msgs = Vec::new();
    if table.present.iter().any(|p| !p) {
        msgs.push(create_table(R::TABLE));
    }
    for (def, _) in R::CHAINS.iter().zip(&table.present).filter(|(_, p)| !**p) {
        msgs.push(create_base_chain(
            R::TABLE,
            def.name,
            def.kind,
            def.hook,
            def.priority,
        ));
    }
    msgs.extend(delete(mine.into_iter()));
    msgs.extend(wanted.iter().map(|(c, r)| new_rule(*c, r, tag)));
    msgs
}

/// DEL, GC: one transaction deleting the chosen rules by handle.
pub(super) fn delete<'a, R: NftRule + 'a>(rules: impl Iterator<Item = &'a Found<R>>) -> Vec<NfMsg> {
    rules
        .map(|f| del_rule_in(R::TABLE, R::CHAINS[f.chain].name, f.handle))
        .collect()
}

/// What the kinds' planning tests start from.
#[cfg(test)]
pub(super) mod testing {
    use super::*;
    use cni_core::net::masq_tag;

    /// Container `id`'s set on network `n`.
    pub fn set<R: Clone>(id: &str, rules: &[R]) -> RuleSet<R> {
        RuleSet {
            network: "n".into(),
            container_id: id.into(),
            rules: rules.to_vec(),
        }
    }

    /// A table holding what an ADD of `set` installs, handles from 1.
    pub fn installed<R: NftRule>(set: &RuleSet<R>) -> Table<R> {
        let tag = ParsedMasqTag::parse(&masq_tag(&set.network, &set.container_id))
            .expect("our own tag parses");
        Table {
            present: vec![true; R::CHAINS.len()],
            rules: placed(&set.rules)
                .into_iter()
                .enumerate()
                .map(|(i, (chain, rule))| Found {
                    chain,
                    handle: i as u64 + 1,
                    tag: tag.clone(),
                    rule,
                })
                .collect(),
        }
    }
}
