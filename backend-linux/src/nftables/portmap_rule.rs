//! One port-mapping rule as nf_tables expressions, built as `nft` builds the
//! same rule text, and read back from a rule dump:
//!
//! `meta nfproto ipv4 meta l4proto tcp [ip daddr H] th dport P fib daddr type local dnat ip to A:Q`
//! `meta nfproto ipv4 ct status dnat [ip saddr S/N] ip daddr A masquerade`

use super::rule::{
    cmp, ct_any, expr, expressions_of, header_offsets, ip_bytes, payload_at, prefix_match,
    NFPROTO_IPV4, NFPROTO_IPV6, NFTA_DATA_VALUE, NFT_CMP_EQ, NFT_META_NFPROTO,
    NFT_PAYLOAD_NETWORK_HEADER, NFT_REG_1,
};
use super::wire::{be32, parse_attrs, Attrs};
use cni_core::net::{PortMapRule, PortProtocol};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

const NFT_REG_2: u32 = 2;
const NFT_META_L4PROTO: u32 = 16;
const NFT_PAYLOAD_TRANSPORT_HEADER: u32 = 2;
const DPORT_OFFSET: u32 = 2;
const NFT_FIB_RESULT_ADDRTYPE: u32 = 3;
const NFTA_FIB_F_DADDR: u32 = 1 << 1;
const RTN_LOCAL: u32 = 2;
const NFT_CT_STATUS: u32 = 2;
const IPS_DST_NAT: u32 = 0x20;
const NFT_NAT_DNAT: u32 = 1;

pub(super) fn family(v4: bool) -> u8 {
    if v4 {
        NFPROTO_IPV4
    } else {
        NFPROTO_IPV6
    }
}

pub(super) fn load_meta(list: &mut Attrs, key: u32) {
    let mut d = Attrs::default();
    d.put_be32(1, NFT_REG_1).put_be32(2, key);
    expr(list, "meta", Some(d));
}

fn immediate(list: &mut Attrs, reg: u32, value: &[u8]) {
    let mut d = Attrs::default();
    d.put_be32(1, reg).put_nested(2, |v| {
        v.put(NFTA_DATA_VALUE, value);
    });
    expr(list, "immediate", Some(d));
}

/// `fib daddr type local`: the address is one of the host's own.
fn to_local_address(list: &mut Attrs) {
    let mut d = Attrs::default();
    d.put_be32(1, NFT_REG_1)
        .put_be32(2, NFT_FIB_RESULT_ADDRTYPE)
        .put_be32(3, NFTA_FIB_F_DADDR);
    expr(list, "fib", Some(d));
    cmp(list, NFT_CMP_EQ, &RTN_LOCAL.to_ne_bytes());
}

/// `ct status dnat`: only connections a DNAT rule redirected.
fn was_dnatted(list: &mut Attrs) {
    ct_any(list, NFT_CT_STATUS, IPS_DST_NAT);
}

/// The expressions of `rule` (which `PortMapRule::validate` accepted).
pub(super) fn expressions(rule: &PortMapRule) -> Attrs {
    let mut list = Attrs::default();
    match rule {
        PortMapRule::Dnat {
            protocol,
            host_ip,
            host_port,
            to,
        } => {
            let v4 = to.is_ipv4();
            load_meta(&mut list, NFT_META_NFPROTO);
            cmp(&mut list, NFT_CMP_EQ, &[family(v4)]);
            load_meta(&mut list, NFT_META_L4PROTO);
            cmp(&mut list, NFT_CMP_EQ, &[protocol.number()]);
            if let Some(ip) = host_ip {
                let host = IpNet::from(*ip);
                prefix_match(&mut list, header_offsets(v4).1, host, NFT_CMP_EQ);
            }
            payload_at(&mut list, NFT_PAYLOAD_TRANSPORT_HEADER, DPORT_OFFSET, 2);
            cmp(&mut list, NFT_CMP_EQ, &host_port.to_be_bytes());
            to_local_address(&mut list);
            immediate(&mut list, NFT_REG_1, &ip_bytes(to.ip()));
            immediate(&mut list, NFT_REG_2, &to.port().to_be_bytes());
            let mut nat = Attrs::default();
            nat.put_be32(1, NFT_NAT_DNAT)
                .put_be32(2, u32::from(family(v4)))
                .put_be32(3, NFT_REG_1)
                .put_be32(5, NFT_REG_2);
            expr(&mut list, "nat", Some(nat));
        }
        PortMapRule::Masquerade { from, to } => {
            let v4 = to.is_ipv4();
            let (src, dst) = header_offsets(v4);
            load_meta(&mut list, NFT_META_NFPROTO);
            cmp(&mut list, NFT_CMP_EQ, &[family(v4)]);
            was_dnatted(&mut list);
            if let Some(net) = from {
                prefix_match(&mut list, src, *net, NFT_CMP_EQ);
            }
            prefix_match(&mut list, dst, IpNet::from(*to), NFT_CMP_EQ);
            expr(&mut list, "masq", None);
        }
    }
    list
}

/// What the last load put in register 1.
#[derive(Clone, Copy, PartialEq)]
enum Loaded {
    Nothing,
    Meta(u32),
    Payload { base: u32, offset: u32, len: u32 },
    Other,
}

/// The matches and actions found in one rule's expressions.
#[derive(Default)]
struct Seen {
    v4: Option<bool>,
    protocol: Option<u8>,
    saddr: Option<IpNet>,
    daddr: Option<IpNet>,
    dport: Option<u16>,
    to_addr: Option<IpAddr>,
    to_port: Option<u16>,
    dnat: bool,
    masq: bool,
}

pub(super) fn ip_from(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

/// An address match: the compared bytes padded to the family's length, with
/// the prefix from the mask (or the load's length).
fn prefix_of(v4: bool, value: &[u8], bits: u32) -> Option<IpNet> {
    let mut full = value.to_vec();
    full.resize(if v4 { 4 } else { 16 }, 0);
    IpNet::new(ip_from(&full)?, u8::try_from(bits).ok()?).ok()
}

impl Seen {
    fn compared(&mut self, loaded: Loaded, mask_bits: Option<u32>, value: &[u8]) -> Option<()> {
        match loaded {
            Loaded::Meta(NFT_META_NFPROTO) => self.v4 = Some(*value.first()? == NFPROTO_IPV4),
            Loaded::Meta(NFT_META_L4PROTO) => self.protocol = Some(*value.first()?),
            Loaded::Payload { base, offset, len } if base == NFT_PAYLOAD_NETWORK_HEADER => {
                let v4 = self.v4?;
                let net = prefix_of(v4, value, mask_bits.unwrap_or(len * 8))?;
                let (src, dst) = header_offsets(v4);
                if offset == src {
                    self.saddr = Some(net);
                } else if offset == dst {
                    self.daddr = Some(net);
                }
            }
            Loaded::Payload { offset, len: 2, .. } if offset == DPORT_OFFSET => {
                self.dport = Some(u16::from_be_bytes(value.try_into().ok()?));
            }
            _ => {}
        }
        Some(())
    }

    fn into_rule(self) -> Option<PortMapRule> {
        if self.dnat {
            let host_ip = self.daddr.map(|n| n.addr());
            return Some(PortMapRule::Dnat {
                protocol: PortProtocol::from_number(self.protocol?)?,
                host_ip,
                host_port: self.dport?,
                to: SocketAddr::new(self.to_addr?, self.to_port?),
            });
        }
        if self.masq {
            return Some(PortMapRule::Masquerade {
                from: self.saddr,
                to: self.daddr?.addr(),
            });
        }
        None
    }
}

pub(super) fn first_value(attr: &[u8]) -> Option<&[u8]> {
    Some(parse_attrs(attr).first()?.1)
}

/// Reads back the rule [`expressions`] built; `None` for anything else.
pub(super) fn parse_expressions(list: &[u8]) -> Option<PortMapRule> {
    let mut seen = Seen::default();
    let mut loaded = Loaded::Nothing;
    let mut mask_bits = None;
    for elem in expressions_of(list) {
        let (name, data) = elem?;
        let get = |k: u16| data.get(k);
        match name {
            b"meta" => loaded = Loaded::Meta(be32(get(2)?)?),
            b"payload" => {
                let (base, offset, len) = (be32(get(2)?)?, be32(get(3)?)?, be32(get(4)?)?);
                loaded = Loaded::Payload { base, offset, len };
                mask_bits = None;
            }
            b"bitwise" => {
                mask_bits = Some(first_value(get(4)?)?.iter().map(|b| b.count_ones()).sum());
            }
            b"cmp" => seen.compared(loaded, mask_bits, first_value(get(3)?)?)?,
            b"immediate" => {
                let value = first_value(get(2)?)?;
                match be32(get(1)?)? {
                    NFT_REG_1 => seen.to_addr = ip_from(value),
                    NFT_REG_2 => seen.to_port = Some(u16::from_be_bytes(value.try_into().ok()?)),
                    _ => {}
                }
            }
            b"nat" => seen.dnat = be32(get(1)?)? == NFT_NAT_DNAT,
            b"masq" => seen.masq = true,
            _ => loaded = Loaded::Other,
        }
    }
    seen.into_rule()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_back_as_written() {
        let rules = [
            PortMapRule::Dnat {
                protocol: PortProtocol::Tcp,
                host_ip: None,
                host_port: 8080,
                to: "10.1.0.5:80".parse().unwrap(),
            },
            PortMapRule::Dnat {
                protocol: PortProtocol::Sctp,
                host_ip: Some("fd00::1".parse().unwrap()),
                host_port: 1,
                to: "[fd00:1::5]:65535".parse().unwrap(),
            },
            PortMapRule::Masquerade {
                from: Some("10.1.0.0/22".parse().unwrap()),
                to: "10.1.0.5".parse().unwrap(),
            },
            PortMapRule::Masquerade {
                from: Some("127.0.0.1/32".parse().unwrap()),
                to: "10.1.0.5".parse().unwrap(),
            },
            PortMapRule::Masquerade {
                from: None,
                to: "fd00:1::5".parse().unwrap(),
            },
        ];
        for rule in rules {
            assert_eq!(
                parse_expressions(&expressions(&rule).0),
                Some(rule.clone()),
                "{rule}"
            );
        }
    }
}
