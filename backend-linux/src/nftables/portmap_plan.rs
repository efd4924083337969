//! What each port-mapping operation sends, decided from what our table
//! holds: pure functions, as `plan.rs` is for masquerade.
//!
//! DNAT rules sit in two base chains (`prerouting` for traffic from outside
//! and from containers, `output` for the host's own), each with its own
//! `fib daddr type local`: no shared jump rule, so concurrent first ADDs
//! cannot duplicate anything. Masquerade rules sit in `postrouting`.

use super::portmap_rule::expressions;
use super::rule::{create_nat_chain, create_table, del_rule_in, new_rule_in};
use super::wire::NfMsg;
use cni_core::net::{ParsedMasqTag, PortMapRule};

pub const TABLE: &str = "cni_rs_portmap";

/// One of our base chains: name, netfilter hook, priority.
pub(super) struct ChainDef {
    pub name: &'static str,
    hook: u32,
    priority: i32,
}

const NF_INET_PRE_ROUTING: u32 = 0;
const NF_INET_LOCAL_OUT: u32 = 3;
const NF_INET_POST_ROUTING: u32 = 4;
const DSTNAT: i32 = -100;
const SRCNAT: i32 = 100;

pub(super) const CHAINS: [ChainDef; 3] = [
    ChainDef {
        name: "prerouting",
        hook: NF_INET_PRE_ROUTING,
        priority: DSTNAT,
    },
    ChainDef {
        name: "output",
        hook: NF_INET_LOCAL_OUT,
        priority: DSTNAT,
    },
    ChainDef {
        name: "postrouting",
        hook: NF_INET_POST_ROUTING,
        priority: SRCNAT,
    },
];

/// The chains (indexes into [`CHAINS`]) a rule is installed in.
pub(super) fn chains_for(rule: &PortMapRule) -> &'static [usize] {
    match rule {
        PortMapRule::Dnat { .. } => &[0, 1],
        PortMapRule::Masquerade { .. } => &[2],
    }
}

/// One of our rules as a look-up found it.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub chain: usize,
    pub handle: u64,
    pub tag: ParsedMasqTag,
    pub rule: PortMapRule,
}

/// Our table as a look-up found it.
#[derive(Debug, Default)]
pub(super) struct Table {
    /// Whether each of [`CHAINS`] exists.
    pub present: [bool; 3],
    pub rules: Vec<Found>,
}

impl Table {
    pub fn rules_of<'a>(
        &'a self,
        network: &'a str,
        container_id: &'a str,
    ) -> impl Iterator<Item = &'a Found> + 'a {
        self.rules
            .iter()
            .filter(move |f| f.tag.is_of(network, container_id))
    }
}

/// (chain, rule) pairs for `rules`, sorted, without repeats.
pub(super) fn placed(rules: &[PortMapRule]) -> Vec<(usize, PortMapRule)> {
    let mut out: Vec<(usize, PortMapRule)> = rules
        .iter()
        .flat_map(|r| chains_for(r).iter().map(move |c| (*c, r.clone())))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// ADD: nothing when the attachment already has exactly these rules; else
/// one transaction replacing whatever it had, creating the table and the
/// chains only where missing.
pub(super) fn add(
    table: &Table,
    network: &str,
    container_id: &str,
    tag: &str,
    rules: &[PortMapRule],
) -> Vec<NfMsg> {
    let wanted = placed(rules);
    let mine: Vec<&Found> = table.rules_of(network, container_id).collect();
    let mut have: Vec<(usize, PortMapRule)> =
        mine.iter().map(|f| (f.chain, f.rule.clone())).collect();
    have.sort();
    if have == wanted && mine.iter().all(|f| f.tag.is_current_format()) {
        return Vec::new();
    }
    let mut msgs = Vec::new();
    if table.present.iter().any(|p| !p) {
        msgs.push(create_table(TABLE));
    }
    for (def, _) in CHAINS.iter().zip(table.present).filter(|(_, p)| !p) {
        msgs.push(create_nat_chain(TABLE, def.name, def.hook, def.priority));
    }
    msgs.extend(delete(mine.into_iter()));
    msgs.extend(
        wanted
            .iter()
            .map(|(c, r)| new_rule_in(TABLE, CHAINS[*c].name, &expressions(r), tag)),
    );
    msgs
}

/// DEL, GC: one transaction deleting the chosen rules by handle.
pub(super) fn delete<'a>(rules: impl Iterator<Item = &'a Found>) -> Vec<NfMsg> {
    rules
        .map(|f| del_rule_in(TABLE, CHAINS[f.chain].name, f.handle))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nftables::wire::{
        NFT_MSG_DELRULE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE,
    };
    use cni_core::net::{masq_tag, PortProtocol};

    fn kinds(msgs: &[NfMsg]) -> Vec<u8> {
        msgs.iter().map(|m| m.kind).collect()
    }

    fn rules() -> Vec<PortMapRule> {
        vec![
            PortMapRule::Dnat {
                protocol: PortProtocol::Tcp,
                host_ip: None,
                host_port: 8080,
                to: "10.1.0.5:80".parse().unwrap(),
            },
            PortMapRule::Masquerade {
                from: Some("10.1.0.0/24".parse().unwrap()),
                to: "10.1.0.5".parse().unwrap(),
            },
        ]
    }

    fn installed(id: &str) -> Table {
        let tag = ParsedMasqTag::parse(&masq_tag("n", id)).unwrap();
        Table {
            present: [true; 3],
            rules: placed(&rules())
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

    #[test]
    fn first_add_creates_the_table_and_each_chain_then_the_rules() {
        let msgs = add(&Table::default(), "n", "c", &masq_tag("n", "c"), &rules());
        let mut want = vec![
            NFT_MSG_NEWTABLE,
            NFT_MSG_NEWCHAIN,
            NFT_MSG_NEWCHAIN,
            NFT_MSG_NEWCHAIN,
        ];
        want.extend([NFT_MSG_NEWRULE; 3]);
        assert_eq!(kinds(&msgs), want);
    }

    #[test]
    fn add_beside_another_attachment_only_adds_rules_and_a_repeat_sends_nothing() {
        let table = installed("other");
        let msgs = add(&table, "n", "c", &masq_tag("n", "c"), &rules());
        assert_eq!(kinds(&msgs), [NFT_MSG_NEWRULE; 3]);
        let table = installed("c");
        assert!(add(&table, "n", "c", &masq_tag("n", "c"), &rules()).is_empty());
        let changed = &rules()[..1];
        let msgs = add(&table, "n", "c", &masq_tag("n", "c"), changed);
        assert_eq!(
            kinds(&msgs),
            [
                NFT_MSG_DELRULE,
                NFT_MSG_DELRULE,
                NFT_MSG_DELRULE,
                NFT_MSG_NEWRULE,
                NFT_MSG_NEWRULE
            ]
        );
    }

    #[test]
    fn delete_takes_only_the_chosen_attachments_rules() {
        let mut table = installed("c");
        table.rules.extend(installed("other").rules);
        assert_eq!(delete(table.rules_of("n", "c")).len(), 3);
        assert!(delete(Table::default().rules_of("n", "c")).is_empty());
    }
}
