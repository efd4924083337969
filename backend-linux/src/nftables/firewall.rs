//! The `firewall` plugin's forwarding rules in our own nftables table
//! (`table inet cni_rs_firewall`), one set per attachment (see
//! `tagged_sets`): here only where the rules go and how one is written and
//! read back.
//!
//! One base chain, `forward`, hooked at forward with priority filter - 10
//! (-10), so it runs before the usual `filter` chains (priority 0). Drop
//! rules are inserted at the chain's head and accept rules appended, so
//! every drop runs before every accept whatever the order concurrent ADDs
//! commit in.

use super::firewall_rule::{expressions, parse_expressions};
use super::tagged_plan::ChainDef;
use super::tagged_sets::NftRule;
use super::wire::Attrs;
use cni_core::net::FirewallRule;

const NF_INET_FORWARD: u32 = 2;
/// `filter - 10`: before a `filter`-priority chain's drop policy.
const PRIORITY: i32 = -10;

impl NftRule for FirewallRule {
    const TABLE: &'static str = "cni_rs_firewall";
    const CHAINS: &'static [ChainDef] = &[ChainDef {
        name: "forward",
        kind: "filter",
        hook: NF_INET_FORWARD,
        priority: PRIORITY,
    }];

    fn chains(&self) -> &'static [usize] {
        &[0]
    }
    fn expressions(&self) -> Attrs {
        expressions(self)
    }
    fn parse_expressions(list: &[u8]) -> Option<FirewallRule> {
        parse_expressions(list)
    }
    fn at_head(&self) -> bool {
        self.is_drop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nftables::tagged_plan::testing::{installed, set};
    use crate::nftables::tagged_plan::{add, delete, Table};
    use crate::nftables::wire::{
        kinds, NFT_MSG_DELRULE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE,
    };
    use cni_core::net::masq_tag;
    use netlink_packet_core::NLM_F_APPEND;

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

    #[test]
    fn first_add_creates_the_table_and_chain_and_puts_drops_at_the_head() {
        let msgs = add(&Table::missing(1), &set("c", &rules()), &masq_tag("n", "c"));
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
        let tag = masq_tag("n", "c");
        let mut table = installed(&set("c", &rules()));
        assert!(add(&table, &set("c", &rules()), &tag).is_empty());
        table.rules.extend(installed(&set("other", &rules())).rules);
        let msgs = add(&table, &set("c", &rules()[..1]), &tag);
        assert_eq!(
            kinds(&msgs),
            [NFT_MSG_DELRULE, NFT_MSG_DELRULE, NFT_MSG_NEWRULE]
        );
        assert_eq!(
            delete::<FirewallRule>(table.rules_of("n", "other")).len(),
            2
        );
    }
}
