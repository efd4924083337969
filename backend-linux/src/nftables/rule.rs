//! One masquerade rule as nf_tables expressions, built exactly as `nft`
//! builds them for the same rule text, and read back from a rule dump.

use super::wire::{self, be32, be64, parse_attrs, Attrs, NfMsg};
use super::{CHAIN, TABLE};
use cni_core::net::ParsedMasqTag;
use ipnet::IpNet;
use std::net::IpAddr;

/// One of our rules as found in the table.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Existing {
    pub handle: u64,
    pub tag: ParsedMasqTag,
    pub addr: IpNet,
}

// ---- rule encoding: the expressions nft generates for our rule text ----

const NFTA_LIST_ELEM: u16 = 1;
pub(super) const NFTA_EXPR_NAME: u16 = 1;
pub(super) const NFTA_EXPR_DATA: u16 = 2;
pub(super) const NFTA_DATA_VALUE: u16 = 1;
pub(super) const NFT_REG_1: u32 = 1;
pub(super) const NFT_META_NFPROTO: u32 = 15;
pub(super) const NFT_PAYLOAD_NETWORK_HEADER: u32 = 1;
pub(super) const NFT_CMP_EQ: u32 = 0;
pub(super) const NFT_CMP_NEQ: u32 = 1;
pub(super) const NFPROTO_IPV4: u8 = 2;
pub(super) const NFPROTO_IPV6: u8 = 10;
pub(super) const NFTA_RULE_TABLE: u16 = 1;
pub(super) const NFTA_RULE_CHAIN: u16 = 2;
pub(super) const NFTA_RULE_HANDLE: u16 = 3;
pub(super) const NFTA_RULE_EXPRESSIONS: u16 = 4;
pub(super) const NFTA_RULE_USERDATA: u16 = 7;
const NFTNL_UDATA_RULE_COMMENT: u8 = 0;
const NF_INET_POST_ROUTING: u32 = 4;
const NF_IP_PRI_NAT_SRC: u32 = 100;
const NF_ACCEPT: u32 = 1;

/// Where source and destination addresses sit in the IPv4 / IPv6 header.
pub(super) fn header_offsets(v4: bool) -> (u32, u32) {
    if v4 {
        (12, 16)
    } else {
        (8, 24)
    }
}

pub(super) fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

pub(super) fn expr(list: &mut Attrs, name: &str, data: Option<Attrs>) {
    list.put_nested(NFTA_LIST_ELEM, |e| {
        e.put_str(NFTA_EXPR_NAME, name);
        if let Some(d) = data {
            e.put(NFTA_EXPR_DATA | 0x8000, &d.0);
        }
    });
}

fn payload(list: &mut Attrs, offset: u32, len: u32) {
    payload_at(list, NFT_PAYLOAD_NETWORK_HEADER, offset, len);
}

/// Loads `len` bytes at `offset` of header `base` into register 1.
pub(super) fn payload_at(list: &mut Attrs, base: u32, offset: u32, len: u32) {
    let mut d = Attrs::default();
    d.put_be32(1, NFT_REG_1)
        .put_be32(2, base)
        .put_be32(3, offset)
        .put_be32(4, len);
    expr(list, "payload", Some(d));
}

pub(super) fn cmp(list: &mut Attrs, op: u32, value: &[u8]) {
    let mut d = Attrs::default();
    d.put_be32(1, NFT_REG_1).put_be32(2, op).put_nested(3, |v| {
        v.put(NFTA_DATA_VALUE, value);
    });
    expr(list, "cmp", Some(d));
}

/// `ct <key> <bits>`: any of `bits` set in the conntrack field `key`.
pub(super) fn ct_any(list: &mut Attrs, key: u32, bits: u32) {
    let mut ct = Attrs::default();
    ct.put_be32(1, NFT_REG_1).put_be32(2, key);
    expr(list, "ct", Some(ct));
    let mut d = Attrs::default();
    d.put_be32(1, NFT_REG_1)
        .put_be32(2, NFT_REG_1)
        .put_be32(3, 4)
        .put_nested(4, |v| {
            v.put(NFTA_DATA_VALUE, &bits.to_ne_bytes());
        })
        .put_nested(5, |v| {
            v.put(NFTA_DATA_VALUE, &[0; 4]);
        });
    expr(list, "bitwise", Some(d));
    cmp(list, NFT_CMP_NEQ, &[0; 4]);
}

/// `<field at offset> != net/prefix`, encoded as nft does: a shorter load for
/// byte-aligned prefixes, else a full load and a mask.
fn not_in_prefix(list: &mut Attrs, offset: u32, net: IpNet) {
    prefix_match(list, offset, net, NFT_CMP_NEQ);
}

/// `<field at offset> ==/!= net/prefix` (`op`), encoded as nft does.
pub(super) fn prefix_match(list: &mut Attrs, offset: u32, net: IpNet, op: u32) {
    let bytes = ip_bytes(net.trunc().addr());
    let bits = u32::from(net.prefix_len());
    if bits % 8 == 0 {
        payload(list, offset, bits / 8);
        cmp(list, op, &bytes[..(bits / 8) as usize]);
        return;
    }
    payload(list, offset, bytes.len() as u32);
    let mask: Vec<u8> = (0..bytes.len() as u32)
        .map(|i| {
            let take = bits.saturating_sub(i * 8).min(8);
            (0xffu16 << (8 - take)) as u8
        })
        .collect();
    let mut d = Attrs::default();
    d.put_be32(1, NFT_REG_1)
        .put_be32(2, NFT_REG_1)
        .put_be32(3, bytes.len() as u32)
        .put_nested(4, |v| {
            v.put(NFTA_DATA_VALUE, &mask);
        })
        .put_nested(5, |v| {
            v.put(NFTA_DATA_VALUE, &vec![0; bytes.len()]);
        });
    expr(list, "bitwise", Some(d));
    cmp(list, op, &bytes);
}

fn rule_expressions(addr: IpNet) -> Attrs {
    let v4 = addr.addr().is_ipv4();
    let (src_off, dst_off) = header_offsets(v4);
    let mut list = Attrs::default();
    let mut meta = Attrs::default();
    meta.put_be32(1, NFT_REG_1).put_be32(2, NFT_META_NFPROTO);
    expr(&mut list, "meta", Some(meta));
    cmp(
        &mut list,
        NFT_CMP_EQ,
        &[if v4 { NFPROTO_IPV4 } else { NFPROTO_IPV6 }],
    );
    let src = ip_bytes(addr.addr());
    payload(&mut list, src_off, src.len() as u32);
    cmp(&mut list, NFT_CMP_EQ, &src);
    not_in_prefix(&mut list, dst_off, addr.trunc());
    let multicast: IpNet = if v4 { "224.0.0.0/4" } else { "ff00::/8" }
        .parse()
        .unwrap_or(addr);
    not_in_prefix(&mut list, dst_off, multicast);
    expr(&mut list, "masq", None);
    list
}

pub(super) fn userdata(comment: &str) -> Vec<u8> {
    let mut v = vec![NFTNL_UDATA_RULE_COMMENT, (comment.len() + 1) as u8];
    v.extend_from_slice(comment.as_bytes());
    v.push(0);
    v
}

pub(super) fn new_rule(addr: IpNet, tag: &str) -> NfMsg {
    new_rule_in(TABLE, CHAIN, &rule_expressions(addr), tag)
}

/// Appends a rule of `exprs` with comment `tag` to `chain` of `table`.
pub(super) fn new_rule_in(table: &str, chain: &str, exprs: &Attrs, tag: &str) -> NfMsg {
    let mut attrs = Attrs::default();
    attrs
        .put_str(NFTA_RULE_TABLE, table)
        .put_str(NFTA_RULE_CHAIN, chain)
        .put(NFTA_RULE_EXPRESSIONS | 0x8000, &exprs.0)
        .put(NFTA_RULE_USERDATA, &userdata(tag));
    NfMsg {
        kind: wire::NFT_MSG_NEWRULE,
        flags: netlink_packet_core::NLM_F_CREATE | netlink_packet_core::NLM_F_APPEND,
        attrs,
    }
}

pub(super) fn del_rule(handle: u64) -> NfMsg {
    del_rule_in(TABLE, CHAIN, handle)
}

pub(super) fn del_rule_in(table: &str, chain: &str, handle: u64) -> NfMsg {
    let mut attrs = Attrs::default();
    attrs
        .put_str(NFTA_RULE_TABLE, table)
        .put_str(NFTA_RULE_CHAIN, chain)
        .put_be64(NFTA_RULE_HANDLE, handle);
    NfMsg {
        kind: wire::NFT_MSG_DELRULE,
        flags: 0,
        attrs,
    }
}

/// `add table` + `add chain ... { type nat hook postrouting priority srcnat; }`.
pub(super) fn create_table_and_chain() -> [NfMsg; 2] {
    [
        create_table(TABLE),
        create_nat_chain(TABLE, CHAIN, NF_INET_POST_ROUTING, NF_IP_PRI_NAT_SRC as i32),
    ]
}

/// `add table inet <table>`, without NLM_F_EXCL (see above).
pub(super) fn create_table(table: &str) -> NfMsg {
    let mut attrs = Attrs::default();
    attrs.put_str(1, table);
    NfMsg {
        kind: wire::NFT_MSG_NEWTABLE,
        flags: netlink_packet_core::NLM_F_CREATE,
        attrs,
    }
}

/// `add chain inet <table> <chain> { type nat hook <hook> priority <priority>; }`,
/// without NLM_F_EXCL (see above).
pub(super) fn create_nat_chain(table: &str, chain: &str, hook: u32, priority: i32) -> NfMsg {
    create_base_chain(table, chain, "nat", hook, priority)
}

/// `add chain inet <table> <chain> { type <kind> hook <hook> priority <priority>; policy accept; }`,
/// without NLM_F_EXCL (see above).
pub(super) fn create_base_chain(
    table: &str,
    chain: &str,
    kind: &str,
    hook: u32,
    priority: i32,
) -> NfMsg {
    let mut attrs = Attrs::default();
    attrs
        .put_str(1, table)
        .put_str(3, chain)
        .put_nested(4, |h| {
            h.put_be32(1, hook).put_be32(2, priority as u32);
        })
        .put_be32(5, NF_ACCEPT)
        .put_str(7, kind);
    NfMsg {
        kind: wire::NFT_MSG_NEWCHAIN,
        flags: netlink_packet_core::NLM_F_CREATE,
        attrs,
    }
}

/// Handle, tag and expressions of a rule carrying one of our tags.
pub(super) fn tagged_parts(payload: &[u8]) -> Option<(u64, ParsedMasqTag, &[u8])> {
    let mut handle = None;
    let mut comment = None;
    let mut exprs = None;
    for (kind, value) in parse_attrs(payload) {
        match kind {
            NFTA_RULE_HANDLE => handle = be64(value),
            NFTA_RULE_USERDATA => comment = parse_comment(value),
            NFTA_RULE_EXPRESSIONS => exprs = Some(value),
            _ => {}
        }
    }
    Some((handle?, ParsedMasqTag::parse(&comment?)?, exprs?))
}

// ---- rule decoding ----

/// Reads back a rule [`new_rule`] wrote; `None` for anything else.
pub(super) fn parse_rule(payload_bytes: &[u8]) -> Option<Existing> {
    let (handle, tag, exprs) = tagged_parts(payload_bytes)?;
    let (saddr, prefix) = parse_match(exprs)?;
    Some(Existing {
        handle,
        tag,
        addr: IpNet::new(saddr, prefix).ok()?,
    })
}

pub(super) fn parse_comment(udata: &[u8]) -> Option<String> {
    let mut off = 0;
    while off + 2 <= udata.len() {
        let (kind, len) = (udata[off], udata[off + 1] as usize);
        let value = udata.get(off + 2..off + 2 + len)?;
        if kind == NFTNL_UDATA_RULE_COMMENT {
            let text = value.split(|b| *b == 0).next().unwrap_or_default();
            return String::from_utf8(text.to_vec()).ok();
        }
        off += 2 + len;
    }
    None
}

/// One expression's data attributes, by type.
pub(super) struct ExprData<'a>(Vec<(u16, &'a [u8])>);

impl<'a> ExprData<'a> {
    pub fn get(&self, kind: u16) -> Option<&'a [u8]> {
        self.0.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v)
    }
}

/// Each expression of a rule as (name, data); `None` for one without a name.
pub(super) fn expressions_of(list: &[u8]) -> impl Iterator<Item = Option<(&[u8], ExprData<'_>)>> {
    parse_attrs(list).into_iter().map(|(_, elem)| {
        let attrs = parse_attrs(elem);
        let name = attrs.iter().find(|(k, _)| *k == NFTA_EXPR_NAME)?.1;
        let data = attrs
            .iter()
            .find(|(k, _)| *k == NFTA_EXPR_DATA)
            .map(|(_, d)| parse_attrs(d))
            .unwrap_or_default();
        Some((name.split(|b| *b == 0).next()?, ExprData(data)))
    })
}

/// (source address, own prefix length) from the expressions.
fn parse_match(list: &[u8]) -> Option<(IpAddr, u8)> {
    let mut family_v4 = None;
    let mut load: Option<(u32, u32)> = None;
    let mut mask_bits: Option<u32> = None;
    let mut saddr = None;
    let mut prefix = None;
    for elem in expressions_of(list) {
        let (name, data) = elem?;
        let get = |k: u16| data.get(k);
        match name {
            b"payload" => {
                load = Some((be32(get(3)?)?, be32(get(4)?)?));
                mask_bits = None;
            }
            b"bitwise" => {
                let mask = parse_attrs(get(4)?).first()?.1;
                mask_bits = Some(mask.iter().map(|b| b.count_ones()).sum());
            }
            b"cmp" => {
                let op = be32(get(2)?)?;
                let value = parse_attrs(get(3)?).first()?.1.to_vec();
                match (family_v4, load) {
                    (None, _) if value.len() == 1 => family_v4 = Some(value[0] == NFPROTO_IPV4),
                    (Some(v4), Some((off, _)))
                        if op == NFT_CMP_EQ && off == header_offsets(v4).0 =>
                    {
                        saddr = Some(if v4 {
                            IpAddr::from(<[u8; 4]>::try_from(value).ok()?)
                        } else {
                            IpAddr::from(<[u8; 16]>::try_from(value).ok()?)
                        });
                    }
                    (Some(v4), Some((off, len)))
                        if op == NFT_CMP_NEQ && off == header_offsets(v4).1 =>
                    {
                        // The first exclusion is the own subnet; the second multicast.
                        prefix.get_or_insert(mask_bits.unwrap_or(len * 8));
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Some((saddr?, u8::try_from(prefix?).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_back_as_written() {
        for addr in [
            "10.1.0.5/24",
            "10.1.0.5/22",
            "10.1.0.5/32",
            "fd00:1::5/64",
            "fd00:1::5/61",
            "fd00::5/128",
        ] {
            let addr: IpNet = addr.parse().unwrap();
            let msg = new_rule(addr, &cni_core::net::masq_tag("n", "c"));
            let mut reply = Attrs::default();
            reply.put_be64(NFTA_RULE_HANDLE, 42);
            reply.0.extend_from_slice(&msg.attrs.0);
            let got = parse_rule(&reply.0).unwrap();
            assert_eq!((got.handle, got.addr), (42, addr), "{addr}");
            assert!(got.tag.is_of("n", "c"));
        }
    }

    #[test]
    fn rules_of_others_are_ignored() {
        let mut other = new_rule("10.1.0.5/24".parse().unwrap(), "net=n id=c").attrs;
        other.put_be64(NFTA_RULE_HANDLE, 1);
        let mut untagged = Attrs::default();
        untagged.0.extend_from_slice(&other.0);
        // A foreign comment replaces ours: the later USERDATA attribute wins.
        untagged.put(NFTA_RULE_USERDATA, &userdata("someone else"));
        assert!(parse_rule(&untagged.0).is_none());
    }
}
