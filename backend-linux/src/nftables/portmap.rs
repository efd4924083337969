//! Port mappings in our own nftables table (`table inet cni_rs_portmap`):
//! DNAT from host ports to containers and the masquerade that hairpin and
//! localhost connections need, one set per attachment (see `tagged_sets`):
//! here only where the rules go and how one is written and read back.
//!
//! DNAT rules sit in two base chains (`prerouting` for traffic from outside
//! and from containers, `output` for the host's own), each with its own
//! `fib daddr type local`: no shared jump rule, so concurrent first ADDs
//! cannot duplicate anything. Masquerade rules sit in `postrouting`.

use super::portmap_rule::{expressions, parse_expressions};
use super::tagged_plan::ChainDef;
use super::tagged_sets::NftRule;
use super::wire::Attrs;
use cni_core::net::PortMapRule;

const NF_INET_PRE_ROUTING: u32 = 0;
const NF_INET_LOCAL_OUT: u32 = 3;
const NF_INET_POST_ROUTING: u32 = 4;
const DSTNAT: i32 = -100;
const SRCNAT: i32 = 100;

impl NftRule for PortMapRule {
    const TABLE: &'static str = "cni_rs_portmap";
    const CHAINS: &'static [ChainDef] = &[
        ChainDef {
            name: "prerouting",
            kind: "nat",
            hook: NF_INET_PRE_ROUTING,
            priority: DSTNAT,
        },
        ChainDef {
            name: "output",
            kind: "nat",
            hook: NF_INET_LOCAL_OUT,
            priority: DSTNAT,
        },
        ChainDef {
            name: "postrouting",
            kind: "nat",
            hook: NF_INET_POST_ROUTING,
            priority: SRCNAT,
        },
    ];

    fn chains(&self) -> &'static [usize] {
        match self {
            PortMapRule::Dnat { .. } => &[0, 1],
            PortMapRule::Masquerade { .. } => &[2],
        }
    }
    fn expressions(&self) -> Attrs {
        expressions(self)
    }
    fn parse_expressions(list: &[u8]) -> Option<PortMapRule> {
        parse_expressions(list)
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
    use cni_core::net::{masq_tag, PortProtocol};

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

    #[test]
    fn first_add_creates_the_table_and_each_chain_then_the_rules() {
        let msgs = add(&Table::missing(3), &set("c", &rules()), &masq_tag("n", "c"));
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
        let tag = masq_tag("n", "c");
        let table = installed(&set("other", &rules()));
        let msgs = add(&table, &set("c", &rules()), &tag);
        assert_eq!(kinds(&msgs), [NFT_MSG_NEWRULE; 3]);
        let table = installed(&set("c", &rules()));
        assert!(add(&table, &set("c", &rules()), &tag).is_empty());
        let changed = set("c", &rules()[..1]);
        let msgs = add(&table, &changed, &tag);
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
        let mut table = installed(&set("c", &rules()));
        table.rules.extend(installed(&set("other", &rules())).rules);
        assert_eq!(delete::<PortMapRule>(table.rules_of("n", "c")).len(), 3);
        let empty = Table::<PortMapRule>::missing(3);
        assert!(delete::<PortMapRule>(empty.rules_of("n", "c")).is_empty());
    }
}
