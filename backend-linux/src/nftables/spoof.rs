//! MAC spoof checks (bridge's `macspoofchk`) in `table bridge cni_rs_spoof`:
//! one drop rule per attachment (see `spoof_rule`), tagged like masquerade
//! rules. The table and chain are created only when missing, as for
//! masquerade, and are shared: DEL and GC remove rules only.

use super::spoof_rule::{
    create_table_and_chain, del_check, new_check, parse_check, ExistingCheck, SPOOF_CHAIN,
    SPOOF_TABLE,
};
use super::wire::{NfMsg, NfSocket, NFPROTO_BRIDGE};
use super::{apply_planned, is_stale, validate_names};
use crate::netlink::validate_ifname;
use crate::netns::NetnsFile;
use cni_core::net::{masq_tag, NetResult, SpoofCheck};

/// Our chain as a look-up found it: `None` when table or chain is missing.
type Checks = Option<Vec<ExistingCheck>>;

fn look_up(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Checks> {
    let what = format!("list MAC spoof checks in netns {}", ns.path().display());
    let dumped = sock.dump_rules(NFPROTO_BRIDGE, SPOOF_TABLE, SPOOF_CHAIN, &what)?;
    if dumped.is_empty() && !sock.chain_exists(NFPROTO_BRIDGE, SPOOF_TABLE, SPOOF_CHAIN, &what)? {
        return Ok(None);
    }
    Ok(Some(dumped.iter().filter_map(|r| parse_check(r)).collect()))
}

fn apply(
    sock: &NfSocket,
    ns: &NetnsFile,
    what: &str,
    plan: impl Fn(&Checks) -> Vec<NfMsg>,
) -> NetResult<()> {
    apply_planned(sock, NFPROTO_BRIDGE, what, || look_up(sock, ns), plan)
}

fn of<'a>(
    checks: &'a Checks,
    keep: impl Fn(&ExistingCheck) -> bool + 'a,
) -> impl Iterator<Item = &'a ExistingCheck> + 'a {
    checks.iter().flatten().filter(move |e| keep(e))
}

/// ADD: nothing when exactly this check is there; else one transaction that
/// replaces the attachment's checks on the same interface.
fn plan_add(checks: &Checks, check: &SpoofCheck, tag: &str) -> Vec<NfMsg> {
    let same_port = |e: &ExistingCheck| {
        e.tag.is_of(&check.network, &check.container_id) && e.iface == check.iface
    };
    let mine: Vec<&ExistingCheck> = of(checks, same_port).collect();
    if let [only] = mine.as_slice() {
        if only.mac == check.mac && only.tag.is_current_format() {
            return Vec::new();
        }
    }
    let mut msgs = Vec::new();
    if checks.is_none() {
        msgs.extend(create_table_and_chain());
    }
    msgs.extend(mine.iter().map(|e| del_check(e.handle)));
    msgs.push(new_check(&check.iface, check.mac, tag));
    msgs
}

pub fn spoof_add(sock: &NfSocket, ns: &NetnsFile, check: &SpoofCheck) -> NetResult<()> {
    validate_names(&check.network, &check.container_id)?;
    validate_ifname(&check.iface)?;
    let tag = masq_tag(&check.network, &check.container_id);
    let what = format!(
        "add MAC spoof check {} on {} for {} (network {}) in netns {}",
        check.mac,
        check.iface,
        check.container_id,
        check.network,
        ns.path().display()
    );
    apply(sock, ns, &what, |checks| plan_add(checks, check, &tag))
}

/// Names ADD would refuse cannot be on any rule: nothing to delete.
pub fn spoof_del(
    sock: &NfSocket,
    ns: &NetnsFile,
    network: &str,
    container_id: &str,
) -> NetResult<()> {
    if validate_names(network, container_id).is_err() {
        return Ok(());
    }
    let what = format!(
        "delete MAC spoof checks of {container_id} (network {network}) in netns {}",
        ns.path().display()
    );
    apply(sock, ns, &what, |checks| {
        of(checks, |e| e.tag.is_of(network, container_id))
            .map(|e| del_check(e.handle))
            .collect()
    })
}

pub fn spoof_gc(sock: &NfSocket, ns: &NetnsFile, network: &str, live: &[String]) -> NetResult<()> {
    let what = format!(
        "remove stale MAC spoof checks of network {network} in netns {}",
        ns.path().display()
    );
    apply(sock, ns, &what, |checks| {
        of(checks, |e| is_stale(&e.tag, network, live))
            .map(|e| del_check(e.handle))
            .collect()
    })
}

pub fn spoof_list(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Vec<SpoofCheck>> {
    let mut checks: Vec<SpoofCheck> = look_up(sock, ns)?
        .unwrap_or_default()
        .into_iter()
        .map(|e| SpoofCheck {
            network: e.tag.network,
            container_id: e.tag.container_id,
            iface: e.iface,
            mac: e.mac,
        })
        .collect();
    checks.sort();
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nftables::wire::{
        kinds, NFT_MSG_DELRULE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE, NFT_MSG_NEWTABLE,
    };
    use cni_core::net::ParsedMasqTag;

    fn check(iface: &str, mac: &str) -> SpoofCheck {
        SpoofCheck {
            network: "n".into(),
            container_id: "c1".into(),
            iface: iface.into(),
            mac: mac.parse().unwrap(),
        }
    }

    fn existing(handle: u64, c: &SpoofCheck) -> ExistingCheck {
        ExistingCheck {
            handle,
            tag: ParsedMasqTag::parse(&masq_tag(&c.network, &c.container_id)).unwrap(),
            iface: c.iface.clone(),
            mac: c.mac,
        }
    }

    #[test]
    fn first_add_creates_table_and_chain_repeat_sends_nothing_change_replaces() {
        let c = check("veth1", "0a:58:0a:01:00:05");
        let tag = masq_tag("n", "c1");
        assert_eq!(
            kinds(&plan_add(&None, &c, &tag)),
            [NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE]
        );
        let present = Some(vec![existing(4, &c)]);
        assert!(plan_add(&present, &c, &tag).is_empty());
        let moved = check("veth1", "0a:58:0a:01:00:09");
        assert_eq!(
            kinds(&plan_add(&present, &moved, &tag)),
            [NFT_MSG_DELRULE, NFT_MSG_NEWRULE]
        );
        // Another interface of the same attachment keeps its own check.
        let other_port = check("veth2", "0a:58:0a:01:00:05");
        assert_eq!(
            kinds(&plan_add(&present, &other_port, &tag)),
            [NFT_MSG_NEWRULE]
        );
    }
}
