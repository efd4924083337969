//! One MAC spoof check as nf_tables messages, in our own bridge-family table:
//!
//! `table bridge cni_rs_spoof { chain prerouting { type filter hook prerouting priority -300; policy accept;`
//! `  iifname "vethX" ether saddr != 0a:58:0a:01:00:05 drop comment "h=… net=N id=C" } }`
//!
//! The reference builds a `bridge nat` table with two chains per interface;
//! one rule per attachment in a table of our own does the same filtering,
//! and nothing of another program's shares our table.

use super::rule::{
    cmp, create_base_chain, create_table, del_rule_in, expr, new_rule_in, tagged_parts,
    NFTA_DATA_VALUE, NFTA_EXPR_DATA, NFTA_EXPR_NAME, NFT_CMP_EQ, NFT_CMP_NEQ, NFT_REG_1,
};
use super::wire::{be32, parse_attrs, Attrs, NfMsg};
use cni_core::net::{MacAddr, ParsedMasqTag};

pub const SPOOF_TABLE: &str = "cni_rs_spoof";
pub const SPOOF_CHAIN: &str = "prerouting";

const NFT_META_IIFNAME: u32 = 6;
const NFT_PAYLOAD_LL_HEADER: u32 = 0;
/// The source address in an Ethernet header.
const ETHER_SADDR_OFFSET: u32 = 6;
const IFNAMSIZ: usize = 16;
const NFTA_IMMEDIATE_DREG: u16 = 1;
const NFTA_IMMEDIATE_DATA: u16 = 2;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFT_REG_VERDICT: u32 = 0;
const NF_DROP: u32 = 0;
const NF_BR_PRE_ROUTING: u32 = 0;
/// NF_BR_PRI_NAT_DST_BRIDGED, as the reference's chain: before anything else.
const PRIORITY: i32 = -300;

/// One of our checks as found in the chain.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ExistingCheck {
    pub handle: u64,
    pub tag: ParsedMasqTag,
    pub iface: String,
    pub mac: MacAddr,
}

fn rule_expressions(iface: &str, mac: MacAddr) -> Attrs {
    let mut list = Attrs::default();
    let mut meta = Attrs::default();
    meta.put_be32(1, NFT_REG_1).put_be32(2, NFT_META_IIFNAME);
    expr(&mut list, "meta", Some(meta));
    // The kernel compares the whole IFNAMSIZ buffer, zero padded.
    let mut name = iface.as_bytes().to_vec();
    name.resize(IFNAMSIZ, 0);
    cmp(&mut list, NFT_CMP_EQ, &name);
    let mut load = Attrs::default();
    load.put_be32(1, NFT_REG_1)
        .put_be32(2, NFT_PAYLOAD_LL_HEADER)
        .put_be32(3, ETHER_SADDR_OFFSET)
        .put_be32(4, 6);
    expr(&mut list, "payload", Some(load));
    cmp(&mut list, NFT_CMP_NEQ, &mac.0);
    let mut verdict = Attrs::default();
    verdict
        .put_be32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT)
        .put_nested(NFTA_IMMEDIATE_DATA, |d| {
            d.put_nested(NFTA_DATA_VERDICT, |v| {
                v.put_be32(NFTA_VERDICT_CODE, NF_DROP);
            });
        });
    expr(&mut list, "immediate", Some(verdict));
    list
}

pub(super) fn new_check(iface: &str, mac: MacAddr, tag: &str) -> NfMsg {
    new_rule_in(SPOOF_TABLE, SPOOF_CHAIN, &rule_expressions(iface, mac), tag)
}

pub(super) fn del_check(handle: u64) -> NfMsg {
    del_rule_in(SPOOF_TABLE, SPOOF_CHAIN, handle)
}

/// `add table bridge cni_rs_spoof` + its base chain; only sent when missing.
pub(super) fn create_table_and_chain() -> [NfMsg; 2] {
    [
        create_table(SPOOF_TABLE),
        create_base_chain(
            SPOOF_TABLE,
            SPOOF_CHAIN,
            "filter",
            NF_BR_PRE_ROUTING,
            PRIORITY,
        ),
    ]
}

/// Reads back a rule [`new_check`] wrote; `None` for anything else.
pub(super) fn parse_check(payload: &[u8]) -> Option<ExistingCheck> {
    let (handle, tag, exprs) = tagged_parts(payload)?;
    let (iface, mac) = parse_match(exprs)?;
    Some(ExistingCheck {
        handle,
        tag,
        iface,
        mac,
    })
}

/// The compared values in order: the interface name, then the MAC.
fn parse_match(list: &[u8]) -> Option<(String, MacAddr)> {
    let mut compared = Vec::new();
    for (_, elem) in parse_attrs(list) {
        let attrs = parse_attrs(elem);
        let name = attrs.iter().find(|(k, _)| *k == NFTA_EXPR_NAME)?.1;
        if name.split(|b| *b == 0).next()? != b"cmp" {
            continue;
        }
        let data = parse_attrs(attrs.iter().find(|(k, _)| *k == NFTA_EXPR_DATA)?.1);
        let op = be32(data.iter().find(|(k, _)| *k == 2)?.1)?;
        let value = parse_attrs(data.iter().find(|(k, _)| *k == 3)?.1);
        let value = value.iter().find(|(k, _)| *k == NFTA_DATA_VALUE)?.1;
        compared.push((op, value.to_vec()));
    }
    match compared.as_slice() {
        [(NFT_CMP_EQ, name), (NFT_CMP_NEQ, mac)] if mac.len() == 6 => {
            let name = name.split(|b| *b == 0).next()?;
            Some((
                String::from_utf8(name.to_vec()).ok()?,
                MacAddr(mac.as_slice().try_into().ok()?),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nftables::rule::NFTA_RULE_HANDLE;
    use cni_core::net::masq_tag;

    #[test]
    fn checks_read_back_as_written() {
        let mac: MacAddr = "0a:58:0a:01:00:05".parse().unwrap();
        let msg = new_check("veth0123abcd", mac, &masq_tag("n", "c"));
        let mut reply = Attrs::default();
        reply.put_be64(NFTA_RULE_HANDLE, 9);
        reply.0.extend_from_slice(&msg.attrs.0);
        let got = parse_check(&reply.0).unwrap();
        assert_eq!(
            (got.handle, got.iface.as_str(), got.mac),
            (9, "veth0123abcd", mac)
        );
        assert!(got.tag.is_of("n", "c"));
    }

    #[test]
    fn rules_without_our_tag_are_ignored() {
        let mac: MacAddr = "0a:58:0a:01:00:05".parse().unwrap();
        let mut other = new_check("veth0", mac, "someone else").attrs;
        other.put_be64(NFTA_RULE_HANDLE, 1);
        assert!(parse_check(&other.0).is_none());
    }
}
