//! What each forwarding-rule operation sends, decided from what our table
//! holds: pure functions, as `portmap_plan.rs` is for port mappings.
//!
//! One base chain, `forward` in `table inet cni_rs_firewall`, hooked at
//! forward with priority filter - 10 (-10), so it runs before the usual
//! `filter` chains (priority 0). Drop rules are inserted at the chain's head
//! and accept rules appended, so every drop runs before every accept
//! whatever the order concurrent ADDs commit in.

use super::firewall_rule::expressions;
use super::rule::{create_base_chain, create_table, del_rule_in, new_rule_in};
use super::wire::NfMsg;
use cni_core::net::{FirewallRule, ParsedMasqTag};

pub const TABLE: &str = "cni_rs_firewall";
pub const CHAIN: &str = "forward";
const NF_INET_FORWARD: u32 = 2;
/// `filter - 10`: before a `filter`-priority chain's drop policy.
pub const PRIORITY: i32 = -10;

/// One of our rules as a look-up found it.
#[derive(Debug, Clone)]
pub(super) struct Found {
    pub handle: u64,
    pub tag: ParsedMasqTag,
    pub rule: FirewallRule,
}

/// Our chain as a look-up found it.
#[derive(Debug, Default)]
pub(super) struct Chain {
    pub present: bool,
    pub rules: Vec<Found>,
}

impl Chain {
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

fn sorted(mut rules: Vec<FirewallRule>) -> Vec<FirewallRule> {
    rules.sort();
    rules.dedup();
    rules
}

fn new_rule(rule: &FirewallRule, tag: &str) -> NfMsg {
    let mut msg = new_rule_in(TABLE, CHAIN, &expressions(rule), tag);
    if rule.is_drop() {
        // Without NLM_F_APPEND the kernel inserts at the head of the chain.
        msg.flags &= !netlink_packet_core::NLM_F_APPEND;
    }
    msg
}

/// ADD: nothing when the attachment already has exactly these rules; else
/// one transaction replacing whatever it had, creating the table and the
/// chain only where missing.
pub(super) fn add(
    chain: &Chain,
    network: &str,
    container_id: &str,
    tag: &str,
    rules: &[FirewallRule],
) -> Vec<NfMsg> {
    let wanted = sorted(rules.to_vec());
    let mine: Vec<&Found> = chain.rules_of(network, container_id).collect();
    let have = sorted(mine.iter().map(|f| f.rule.clone()).collect());
    if have == wanted
        && mine.len() == wanted.len()
        && mine.iter().all(|f| f.tag.is_current_format())
    {
        return Vec::new();
    }
    let mut msgs = Vec::new();
    if !chain.present {
        msgs.push(create_table(TABLE));
        msgs.push(create_base_chain(
            TABLE,
            CHAIN,
            "filter",
            NF_INET_FORWARD,
            PRIORITY,
        ));
    }
    msgs.extend(delete(mine.into_iter()));
    msgs.extend(wanted.iter().map(|r| new_rule(r, tag)));
    msgs
}

/// DEL, GC: one transaction deleting the chosen rules by handle.
pub(super) fn delete<'a>(rules: impl Iterator<Item = &'a Found>) -> Vec<NfMsg> {
    rules.map(|f| del_rule_in(TABLE, CHAIN, f.handle)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nftables::wire::{
        NFT_MSG_DELRULE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE,
    };
    use cni_core::net::masq_tag;
    use netlink_packet_core::NLM_F_APPEND;

    fn kinds(msgs: &[NfMsg]) -> Vec<u8> {
        msgs.iter().map(|m| m.kind).collect()
    }

    fn rules() -> Vec<FirewallRule> {
        let ip = "10.1.0.5".parse().unwrap();
        vec![
            FirewallRule::AcceptFrom(ip),
            FirewallRule::DropNewTo {
                to: ip,
                except_in: Some("cni0".into()),
            },
        ]
    }

    fn installed(id: &str) -> Chain {
        let tag = ParsedMasqTag::parse(&masq_tag("n", id)).unwrap();
        Chain {
            present: true,
            rules: sorted(rules())
                .into_iter()
                .enumerate()
                .map(|(i, rule)| Found {
                    handle: i as u64 + 1,
                    tag: tag.clone(),
                    rule,
                })
                .collect(),
        }
    }

    #[test]
    fn first_add_creates_the_table_and_chain_and_puts_drops_at_the_head() {
        let msgs = add(&Chain::default(), "n", "c", &masq_tag("n", "c"), &rules());
        assert_eq!(
            kinds(&msgs),
            [
                NFT_MSG_NEWTABLE,
                NFT_MSG_NEWCHAIN,
                NFT_MSG_NEWRULE,
                NFT_MSG_NEWRULE
            ]
        );
        // Sorted: the drop rule comes first and is inserted, the accept appended.
        assert_eq!(msgs[2].flags & NLM_F_APPEND, 0);
        assert_ne!(msgs[3].flags & NLM_F_APPEND, 0);
    }

    #[test]
    fn a_repeat_sends_nothing_and_a_change_replaces_only_this_attachments_rules() {
        let mut chain = installed("c");
        assert!(add(&chain, "n", "c", &masq_tag("n", "c"), &rules()).is_empty());
        chain.rules.extend(installed("other").rules);
        let msgs = add(&chain, "n", "c", &masq_tag("n", "c"), &rules()[..1]);
        assert_eq!(
            kinds(&msgs),
            [NFT_MSG_DELRULE, NFT_MSG_DELRULE, NFT_MSG_NEWRULE]
        );
        assert_eq!(delete(chain.rules_of("n", "other")).len(), 2);
    }
}
