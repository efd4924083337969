//! Masquerade rules in our own nftables table (`table inet cni_rs_nat`, chain
//! `postrouting`, a nat hook), one rule per container address, tagged in the
//! rule comment with a hash of the network and container ID and as much of
//! the names as fits (see `cni_core::net::masq_tag`):
//!
//! `ip saddr 10.1.0.5 ip daddr != 10.1.0.0/24 ip daddr != 224.0.0.0/4 masquerade comment "h=… net=N id=C"`
//!
//! Built as nf_tables netlink messages (exactly what `nft` sends for that rule,
//! so `nft list` shows it as above) on a socket inside the namespace.
//!
//! Cost: the kernel frees what a transaction replaced or deleted after an RCU
//! grace period, and a nfnetlink socket closing while that is pending waits
//! for it (10-40 ms). Re-sending an existing table and base chain counts as
//! replacing them, so ADD looks the chain up and creates it only when it is
//! missing: a plain ADD's transaction then only adds rules, which free nothing.

mod firewall;
mod firewall_rule;
pub mod fuzz;
mod plan;
mod portmap;
mod portmap_rule;
mod rule;
mod spoof;
mod spoof_rule;
mod tagged_plan;
pub(crate) mod tagged_sets;
mod wire;

use crate::netns::NetnsFile;
use cni_core::net::{masq_tag, validate_tag_names, MasqRule, NetError, NetResult, ParsedMasqTag};
use plan::Chain;
use rule::parse_rule;
pub use spoof::{spoof_add, spoof_del, spoof_gc, spoof_list};
pub use spoof_rule::{SPOOF_CHAIN, SPOOF_TABLE};
use wire::{NfMsg, NFPROTO_INET};
pub use wire::{NfSocket, Nftables};

pub const TABLE: &str = "cni_rs_nat";
pub const CHAIN: &str = "postrouting";
/// A transaction refused because a rule it deletes (or the chain) vanished
/// since the look-up is planned again; more than this many times is an error.
const ATTEMPTS: usize = 3;

pub(crate) fn validate_names(network: &str, container_id: &str) -> NetResult<()> {
    validate_tag_names("masquerade", network, container_id)
}

fn validate_addrs(rule: &MasqRule) -> NetResult<()> {
    if let Some(a) = rule.addrs.iter().find(|a| a.prefix_len() == 0) {
        return Err(NetError::invalid(format!(
            "masquerade for {}: address {a} has prefix /0, so nothing lies outside its subnet",
            rule.container_id
        )));
    }
    Ok(())
}

/// One rule dump; an empty one asks whether the chain is there at all.
fn look_up(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Chain> {
    let what = format!("list masquerade rules in netns {}", ns.path().display());
    let dumped = sock.dump_rules(NFPROTO_INET, TABLE, CHAIN, &what)?;
    if dumped.is_empty() && !sock.chain_exists(NFPROTO_INET, TABLE, CHAIN, &what)? {
        return Ok(Chain::Missing);
    }
    Ok(Chain::Present(
        dumped.iter().filter_map(|r| parse_rule(r)).collect(),
    ))
}

/// Looks the chain up, plans a batch from it and applies it; a batch the
/// kernel refuses with ENOENT (a concurrent change) is planned again.
fn apply_planned<C>(
    sock: &NfSocket,
    family: u8,
    what: &str,
    look: impl Fn() -> NetResult<C>,
    plan: impl Fn(&C) -> Vec<NfMsg>,
) -> NetResult<()> {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let msgs = plan(&look()?);
        match sock.transact(family, &msgs, what) {
            Err(e) if e.is_not_found() => last = Some(e),
            done => return done,
        }
    }
    Err(last.unwrap_or_else(|| NetError::other(what.to_string())))
}

fn apply(
    sock: &NfSocket,
    ns: &NetnsFile,
    what: &str,
    plan: impl Fn(&Chain) -> Vec<NfMsg>,
) -> NetResult<()> {
    apply_planned(sock, NFPROTO_INET, what, || look_up(sock, ns), plan)
}

pub fn add(sock: &NfSocket, ns: &NetnsFile, rule: &MasqRule) -> NetResult<()> {
    validate_names(&rule.network, &rule.container_id)?;
    validate_addrs(rule)?;
    let tag = masq_tag(&rule.network, &rule.container_id);
    let what = format!(
        "add masquerade for {} (network {}) in netns {}",
        rule.container_id,
        rule.network,
        ns.path().display()
    );
    apply(sock, ns, &what, |chain| {
        plan::add(chain, &rule.network, &rule.container_id, &tag, &rule.addrs)
    })
}

pub fn check(sock: &NfSocket, ns: &NetnsFile, rule: &MasqRule) -> NetResult<()> {
    validate_names(&rule.network, &rule.container_id)?;
    let chain = look_up(sock, ns)?;
    for addr in &rule.addrs {
        if !chain
            .rules_of(&rule.network, &rule.container_id)
            .any(|e| e.addr == *addr)
        {
            return Err(NetError::not_found(format!(
                "masquerade rule for {addr} of container {} (network {}) not found in table inet {TABLE} of netns {}",
                rule.container_id,
                rule.network,
                ns.path().display()
            )));
        }
    }
    Ok(())
}

/// Names ADD would refuse cannot be on any rule: nothing to delete, so DEL
/// succeeds rather than failing on every retry.
pub fn del(sock: &NfSocket, ns: &NetnsFile, network: &str, container_id: &str) -> NetResult<()> {
    if validate_names(network, container_id).is_err() {
        return Ok(());
    }
    let what = format!(
        "delete masquerade for {container_id} (network {network}) in netns {}",
        ns.path().display()
    );
    apply(sock, ns, &what, |chain| {
        plan::delete(chain.rules_of(network, container_id))
    })
}

pub fn gc(sock: &NfSocket, ns: &NetnsFile, network: &str, live: &[String]) -> NetResult<()> {
    let what = format!(
        "remove stale masquerade of network {network} in netns {}",
        ns.path().display()
    );
    apply(sock, ns, &what, |chain| {
        plan::delete(
            chain
                .rules()
                .iter()
                .filter(|e| is_stale(&e.tag, network, live)),
        )
    })
}

pub fn list(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Vec<MasqRule>> {
    // Grouped by the whole tag: two long names may show the same cut prefix.
    let mut groups: Vec<(&ParsedMasqTag, MasqRule)> = Vec::new();
    let chain = look_up(sock, ns)?;
    for e in chain.rules() {
        match groups.iter_mut().find(|(tag, _)| **tag == e.tag) {
            Some((_, r)) => r.addrs.push(e.addr),
            None => groups.push((
                &e.tag,
                MasqRule {
                    network: e.tag.network.clone(),
                    container_id: e.tag.container_id.clone(),
                    addrs: vec![e.addr],
                },
            )),
        }
    }
    let mut rules: Vec<MasqRule> = groups.into_iter().map(|(_, r)| r).collect();
    for r in &mut rules {
        r.addrs.sort();
    }
    rules.sort();
    Ok(rules)
}

/// GC's question for a tagged rule (masquerade, spoof check, rule sets): of
/// `network`, but of no live container.
fn is_stale(tag: &ParsedMasqTag, network: &str, live: &[String]) -> bool {
    tag.is_of_network(network) && !live.iter().any(|id| tag.is_of(network, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_core::net::NetErrorKind;

    #[test]
    fn names_that_could_break_the_comment_are_refused() {
        validate_names("net1", "abc-1.2_3").unwrap();
        let long = "x".repeat(100);
        validate_names(&long, &long).unwrap();
        for (net, id) in [
            ("a b", "x"),
            ("a", "x\"; flush ruleset"),
            ("", "x"),
            ("a", ""),
        ] {
            assert_eq!(
                validate_names(net, id).unwrap_err().kind,
                NetErrorKind::Invalid,
                "{net:?} {id:?}"
            );
        }
    }
}
