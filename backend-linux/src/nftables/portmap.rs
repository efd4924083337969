//! Port mappings in our own nftables table (`table inet cni_rs_portmap`):
//! DNAT from host ports to containers and the masquerade that hairpin and
//! localhost connections need, every rule tagged as the masquerade rules are
//! (`cni_core::net::masq_tag`), so DEL and GC remove exactly one
//! attachment's. See `portmap_plan` for where each rule goes.

use super::portmap_plan::{self, placed, Found, Table, CHAINS, TABLE};
use super::portmap_rule::parse_expressions;
use super::rule::{parse_comment, NFTA_RULE_EXPRESSIONS, NFTA_RULE_HANDLE, NFTA_RULE_USERDATA};
use super::wire::{be64, parse_attrs, NFPROTO_INET};
use super::{apply_planned, group_by_tag, is_stale, validate_tag_names, NfSocket};
use crate::netns::NetnsFile;
use cni_core::net::{masq_tag, NetError, NetResult, ParsedMasqTag, PortMapSet};

const WHAT: &str = "port mappings";

pub(super) fn parse_found(chain: usize, payload: &[u8]) -> Option<Found> {
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
        chain,
        handle: handle?,
        tag: tag?,
        rule: rule?,
    })
}

/// One dump per chain; an empty one asks whether the chain is there at all.
fn look_up(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Table> {
    let what = format!("list port-mapping rules in netns {}", ns.path().display());
    let mut table = Table::default();
    for (i, def) in CHAINS.iter().enumerate() {
        let dumped = sock.dump_rules(NFPROTO_INET, TABLE, def.name, &what)?;
        table.present[i] =
            !dumped.is_empty() || sock.chain_exists(NFPROTO_INET, TABLE, def.name, &what)?;
        table
            .rules
            .extend(dumped.iter().filter_map(|r| parse_found(i, r)));
    }
    Ok(table)
}

fn validate(set: &PortMapSet) -> NetResult<()> {
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

pub fn add(sock: &NfSocket, ns: &NetnsFile, set: &PortMapSet) -> NetResult<()> {
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
        |table| portmap_plan::add(table, &set.network, &set.container_id, &tag, &set.rules),
    )
}

pub fn check(sock: &NfSocket, ns: &NetnsFile, set: &PortMapSet) -> NetResult<()> {
    validate(set)?;
    let table = look_up(sock, ns)?;
    for (chain, rule) in placed(&set.rules) {
        if !table
            .rules_of(&set.network, &set.container_id)
            .any(|f| f.chain == chain && f.rule == rule)
        {
            return Err(NetError::not_found(format!(
                "port-mapping rule {rule} of container {} (network {}) not found in chain {} of table inet {TABLE} in netns {}",
                set.container_id,
                set.network,
                CHAINS[chain].name,
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
        |table| portmap_plan::delete(table.rules_of(network, container_id)),
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
        |table| {
            portmap_plan::delete(
                table
                    .rules
                    .iter()
                    .filter(|f| is_stale(&f.tag, network, live)),
            )
        },
    )
}

pub fn list(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Vec<PortMapSet>> {
    let found = look_up(sock, ns)?
        .rules
        .into_iter()
        .map(|f| (f.tag, f.rule));
    Ok(group_by_tag(found, |tag, rules| PortMapSet {
        network: tag.network.clone(),
        container_id: tag.container_id.clone(),
        rules,
    }))
}
