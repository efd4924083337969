//! The `firewall` plugin's forwarding rules in our own nftables table
//! (`table inet cni_rs_firewall`, see `firewall_plan`), every rule tagged as
//! the masquerade rules are (`cni_core::net::masq_tag`), so DEL and GC
//! remove exactly one attachment's.

use super::firewall_plan::{self, Chain, Found, CHAIN, TABLE};
use super::firewall_rule::parse_expressions;
use super::rule::{parse_comment, NFTA_RULE_EXPRESSIONS, NFTA_RULE_HANDLE, NFTA_RULE_USERDATA};
use super::wire::{be64, parse_attrs, NFPROTO_INET};
use super::{apply_planned, group_by_tag, is_stale, validate_tag_names, NfSocket};
use crate::netns::NetnsFile;
use cni_core::net::{masq_tag, FirewallSet, NetError, NetResult, ParsedMasqTag};

const WHAT: &str = "forwarding rules";

fn parse_found(payload: &[u8]) -> Option<Found> {
    let (mut handle, mut tag, mut rule) = (None, None, None);
    for (kind, value) in parse_attrs(payload) {
        match kind {
            NFTA_RULE_HANDLE => handle = be64(value),
            NFTA_RULE_USERDATA => tag = parse_comment(value).and_then(|c| ParsedMasqTag::parse(&c)),
            NFTA_RULE_EXPRESSIONS => rule = parse_expressions(value),
            _ => {}
        }
    }
    Some(Found {
        handle: handle?,
        tag: tag?,
        rule: rule?,
    })
}

/// One dump; an empty one asks whether the chain is there at all.
fn look_up(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Chain> {
    let what = format!("list forwarding rules in netns {}", ns.path().display());
    let dumped = sock.dump_rules(NFPROTO_INET, TABLE, CHAIN, &what)?;
    Ok(Chain {
        present: !dumped.is_empty() || sock.chain_exists(NFPROTO_INET, TABLE, CHAIN, &what)?,
        rules: dumped.iter().filter_map(|r| parse_found(r)).collect(),
    })
}

fn validate(set: &FirewallSet) -> NetResult<()> {
    validate_tag_names(WHAT, &set.network, &set.container_id)?;
    if set.rules.is_empty() {
        return Err(NetError::invalid(format!(
            "{WHAT} of container {:?}: no rules",
            set.container_id
        )));
    }
    set.rules
        .iter()
        .try_for_each(|r| r.validate().map_err(NetError::invalid))
}

pub fn add(sock: &NfSocket, ns: &NetnsFile, set: &FirewallSet) -> NetResult<()> {
    validate(set)?;
    let tag = masq_tag(&set.network, &set.container_id);
    let what = format!(
        "add {WHAT} for {} (network {}) in netns {}",
        set.container_id,
        set.network,
        ns.path().display()
    );
    apply_planned(
        sock,
        NFPROTO_INET,
        &what,
        || look_up(sock, ns),
        |chain| firewall_plan::add(chain, &set.network, &set.container_id, &tag, &set.rules),
    )
}

pub fn check(sock: &NfSocket, ns: &NetnsFile, set: &FirewallSet) -> NetResult<()> {
    validate(set)?;
    let chain = look_up(sock, ns)?;
    for rule in &set.rules {
        if !chain
            .rules_of(&set.network, &set.container_id)
            .any(|f| f.rule == *rule)
        {
            return Err(NetError::not_found(format!(
                "forwarding rule \"{rule}\" of container {} (network {}) not found in chain {CHAIN} of table inet {TABLE} in netns {}",
                set.container_id,
                set.network,
                ns.path().display()
            )));
        }
    }
    Ok(())
}

/// Names ADD would refuse cannot be on any rule: nothing to delete.
pub fn del(sock: &NfSocket, ns: &NetnsFile, network: &str, container_id: &str) -> NetResult<()> {
    if validate_tag_names(WHAT, network, container_id).is_err() {
        return Ok(());
    }
    let what = format!(
        "delete {WHAT} for {container_id} (network {network}) in netns {}",
        ns.path().display()
    );
    apply_planned(
        sock,
        NFPROTO_INET,
        &what,
        || look_up(sock, ns),
        |chain| firewall_plan::delete(chain.rules_of(network, container_id)),
    )
}

pub fn gc(sock: &NfSocket, ns: &NetnsFile, network: &str, live: &[String]) -> NetResult<()> {
    let what = format!(
        "remove stale {WHAT} of network {network} in netns {}",
        ns.path().display()
    );
    apply_planned(
        sock,
        NFPROTO_INET,
        &what,
        || look_up(sock, ns),
        |chain| {
            firewall_plan::delete(
                chain
                    .rules
                    .iter()
                    .filter(|f| is_stale(&f.tag, network, live)),
            )
        },
    )
}

pub fn list(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Vec<FirewallSet>> {
    let found = look_up(sock, ns)?
        .rules
        .into_iter()
        .map(|f| (f.tag, f.rule));
    Ok(group_by_tag(found, |tag, rules| FirewallSet {
        network: tag.network.clone(),
        container_id: tag.container_id.clone(),
        rules,
    }))
}
