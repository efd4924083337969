//! What each masquerade operation sends, decided from what the chain holds:
//! pure functions, so the batches can be checked message by message.

use super::rule::{create_table_and_chain, del_rule, new_rule, Existing};
use super::wire::NfMsg;
use ipnet::IpNet;

/// Our chain as a look-up found it.
#[derive(Debug)]
pub(super) enum Chain {
    /// No table or no chain: the batch has to create them.
    Missing,
    /// The chain exists, with these of our rules (any attachment's).
    Present(Vec<Existing>),
}

impl Chain {
    pub fn rules(&self) -> &[Existing] {
        match self {
            Chain::Missing => &[],
            Chain::Present(rules) => rules,
        }
    }

    /// Rules of (`network`, `container_id`), in either tag format.
    pub fn rules_of<'a>(
        &'a self,
        network: &'a str,
        container_id: &'a str,
    ) -> impl Iterator<Item = &'a Existing> + 'a {
        self.rules()
            .iter()
            .filter(move |e| e.tag.is_of(network, container_id))
    }
}

fn sorted_unique(addrs: &[IpNet]) -> Vec<IpNet> {
    let mut addrs = addrs.to_vec();
    addrs.sort();
    addrs.dedup();
    addrs
}

/// ADD: nothing when the attachment already has exactly these addresses in
/// the current format; else one transaction that replaces whatever it had.
/// The table and chain are created only when missing.
pub(super) fn add(
    chain: &Chain,
    network: &str,
    container_id: &str,
    tag: &str,
    addrs: &[IpNet],
) -> Vec<NfMsg> {
    let wanted = sorted_unique(addrs);
    let mine: Vec<&Existing> = chain.rules_of(network, container_id).collect();
    let mut have: Vec<IpNet> = mine.iter().map(|e| e.addr).collect();
    have.sort();
    let current_format = mine.iter().all(|e| e.tag.is_current_format());
    if have == wanted && current_format {
        return Vec::new();
    }
    let mut msgs = Vec::new();
    if matches!(chain, Chain::Missing) {
        msgs.extend(create_table_and_chain());
    }
    msgs.extend(mine.iter().map(|e| del_rule(e.handle)));
    msgs.extend(wanted.into_iter().map(|a| new_rule(a, tag)));
    msgs
}

/// DEL, GC: one transaction deleting the chosen rules by handle.
pub(super) fn delete<'a>(rules: impl Iterator<Item = &'a Existing>) -> Vec<NfMsg> {
    rules.map(|e| del_rule(e.handle)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nftables::wire::{
        kinds, NFT_MSG_DELRULE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE,
    };
    use cni_core::net::{masq_tag, ParsedMasqTag};

    fn existing(handle: u64, comment: &str, addr: &str) -> Existing {
        Existing {
            handle,
            tag: ParsedMasqTag::parse(comment).unwrap(),
            addr: addr.parse().unwrap(),
        }
    }

    const ADDR: &str = "10.1.0.5/24";

    #[test]
    fn first_add_creates_table_and_chain_then_adds_the_rule() {
        let tag = masq_tag("n", "c1");
        let msgs = add(&Chain::Missing, "n", "c1", &tag, &[ADDR.parse().unwrap()]);
        assert_eq!(
            kinds(&msgs),
            [NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE]
        );
    }

    #[test]
    fn add_to_an_existing_chain_sends_no_table_or_chain() {
        let chain = Chain::Present(vec![existing(7, &masq_tag("n", "c1"), ADDR)]);
        let tag = masq_tag("n", "c2");
        let msgs = add(&chain, "n", "c2", &tag, &["10.1.0.6/24".parse().unwrap()]);
        assert_eq!(kinds(&msgs), [NFT_MSG_NEWRULE]);
        // Even an empty chain exists: nothing to create.
        let msgs = add(
            &Chain::Present(vec![]),
            "n",
            "c2",
            &tag,
            &["10.1.0.6/24".parse().unwrap()],
        );
        assert_eq!(kinds(&msgs), [NFT_MSG_NEWRULE]);
    }

    #[test]
    fn repeated_add_sends_nothing_and_changed_addresses_replace_the_old_rules() {
        let tag = masq_tag("n", "c1");
        let chain = Chain::Present(vec![existing(7, &tag, ADDR)]);
        assert!(add(&chain, "n", "c1", &tag, &[ADDR.parse().unwrap()]).is_empty());
        let msgs = add(&chain, "n", "c1", &tag, &["10.1.0.9/24".parse().unwrap()]);
        assert_eq!(kinds(&msgs), [NFT_MSG_DELRULE, NFT_MSG_NEWRULE]);
    }

    #[test]
    fn add_over_previous_format_rules_rewrites_them_with_the_hashed_tag() {
        let chain = Chain::Present(vec![existing(7, "net=n id=c1", ADDR)]);
        let msgs = add(
            &chain,
            "n",
            "c1",
            &masq_tag("n", "c1"),
            &[ADDR.parse().unwrap()],
        );
        assert_eq!(kinds(&msgs), [NFT_MSG_DELRULE, NFT_MSG_NEWRULE]);
    }

    #[test]
    fn delete_takes_only_the_chosen_attachments_rules_in_both_formats() {
        let chain = Chain::Present(vec![
            existing(1, &masq_tag("n", "c1"), ADDR),
            existing(2, "net=n id=c1", "fd00::5/64"),
            existing(3, &masq_tag("n", "c2"), "10.1.0.6/24"),
        ]);
        let msgs = delete(chain.rules_of("n", "c1"));
        assert_eq!(kinds(&msgs), [NFT_MSG_DELRULE, NFT_MSG_DELRULE]);
        assert!(delete(Chain::Missing.rules_of("n", "c1")).is_empty());
    }
}
