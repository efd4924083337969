//! One forwarding rule of the `firewall` plugin as nf_tables expressions,
//! built as `nft` builds the same rule text, and read back from a dump:
//!
//! `meta nfproto ipv4 ip daddr A [iifname != "B"] ct state new drop`
//! `meta nfproto ipv4 ip saddr A accept`
//! `meta nfproto ipv4 ip daddr A ct state established,related accept`

use super::portmap_rule::{family, first_value, ip_from, load_meta};
use super::rule::{
    cmp, ct_any, expr, expressions_of, header_offsets, ip_bytes, payload_at, NFPROTO_IPV4,
    NFT_CMP_EQ, NFT_CMP_NEQ, NFT_META_NFPROTO, NFT_PAYLOAD_NETWORK_HEADER,
};
use super::wire::{be32, parse_attrs, Attrs};
use cni_core::net::FirewallRule;
use std::net::IpAddr;

const NFT_META_IIFNAME: u32 = 6;
const IFNAMSIZ: usize = 16;
const NFT_CT_STATE: u32 = 0;
const CT_ESTABLISHED_RELATED: u32 = 0x2 | 0x4;
const CT_NEW: u32 = 0x8;
const NFT_REG_VERDICT: u32 = 0;
const NFTA_DATA_VERDICT: u16 = 2;
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;

fn address(list: &mut Attrs, ip: IpAddr, source: bool) {
    let (src, dst) = header_offsets(ip.is_ipv4());
    let bytes = ip_bytes(ip);
    let offset = if source { src } else { dst };
    payload_at(list, NFT_PAYLOAD_NETWORK_HEADER, offset, bytes.len() as u32);
    cmp(list, NFT_CMP_EQ, &bytes);
}

/// `ct state <bits>`: any of `bits` set.
fn ct_state(list: &mut Attrs, bits: u32) {
    ct_any(list, NFT_CT_STATE, bits);
}

fn iifname_bytes(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.resize(IFNAMSIZ, 0);
    bytes
}

fn verdict(list: &mut Attrs, code: u32) {
    let mut d = Attrs::default();
    d.put_be32(1, NFT_REG_VERDICT).put_nested(2, |data| {
        data.put_nested(NFTA_DATA_VERDICT, |v| {
            v.put_be32(1, code);
        });
    });
    expr(list, "immediate", Some(d));
}

/// The expressions of `rule` (which `FirewallRule::validate` accepted).
pub(super) fn expressions(rule: &FirewallRule) -> Attrs {
    let mut list = Attrs::default();
    let ip = match rule {
        FirewallRule::DropNewTo { to, .. } => *to,
        FirewallRule::AcceptFrom(ip) | FirewallRule::AcceptRepliesTo(ip) => *ip,
    };
    load_meta(&mut list, NFT_META_NFPROTO);
    cmp(&mut list, NFT_CMP_EQ, &[family(ip.is_ipv4())]);
    match rule {
        FirewallRule::DropNewTo { to, except_in } => {
            address(&mut list, *to, false);
            if let Some(bridge) = except_in {
                load_meta(&mut list, NFT_META_IIFNAME);
                cmp(&mut list, NFT_CMP_NEQ, &iifname_bytes(bridge));
            }
            ct_state(&mut list, CT_NEW);
            verdict(&mut list, NF_DROP);
        }
        FirewallRule::AcceptFrom(from) => {
            address(&mut list, *from, true);
            verdict(&mut list, NF_ACCEPT);
        }
        FirewallRule::AcceptRepliesTo(to) => {
            address(&mut list, *to, false);
            ct_state(&mut list, CT_ESTABLISHED_RELATED);
            verdict(&mut list, NF_ACCEPT);
        }
    }
    list
}

/// The matches and the verdict found in one rule's expressions.
#[derive(Default)]
struct Seen {
    v4: Option<bool>,
    saddr: Option<IpAddr>,
    daddr: Option<IpAddr>,
    not_iifname: Option<String>,
    ct_bits: Option<u32>,
    verdict: Option<u32>,
}

impl Seen {
    fn compared(&mut self, loaded: Option<(&[u8], u32, u32)>, op: u32, value: &[u8]) {
        match loaded {
            Some((b"meta", NFT_META_NFPROTO, _)) => {
                self.v4 = value.first().map(|f| *f == NFPROTO_IPV4)
            }
            Some((b"meta", NFT_META_IIFNAME, _)) if op == NFT_CMP_NEQ => {
                let name = value.split(|b| *b == 0).next().unwrap_or_default();
                self.not_iifname = String::from_utf8(name.to_vec()).ok();
            }
            Some((b"payload", offset, _)) if op == NFT_CMP_EQ => {
                let Some(v4) = self.v4 else { return };
                let (src, dst) = header_offsets(v4);
                if offset == src {
                    self.saddr = ip_from(value);
                } else if offset == dst {
                    self.daddr = ip_from(value);
                }
            }
            _ => {}
        }
    }

    fn into_rule(self) -> Option<FirewallRule> {
        match (self.verdict?, self.ct_bits, self.saddr, self.daddr) {
            (NF_DROP, Some(CT_NEW), None, Some(to)) => Some(FirewallRule::DropNewTo {
                to,
                except_in: self.not_iifname,
            }),
            (NF_ACCEPT, None, Some(from), None) => Some(FirewallRule::AcceptFrom(from)),
            (NF_ACCEPT, Some(CT_ESTABLISHED_RELATED), None, Some(to)) => {
                Some(FirewallRule::AcceptRepliesTo(to))
            }
            _ => None,
        }
    }
}

fn verdict_code(data: &[u8]) -> Option<u32> {
    let (_, verdict) = parse_attrs(data)
        .into_iter()
        .find(|(k, _)| *k & 0x7fff == NFTA_DATA_VERDICT)?;
    be32(first_value(verdict)?)
}

/// Reads back the rule [`expressions`] built; `None` for anything else.
pub(super) fn parse_expressions(list: &[u8]) -> Option<FirewallRule> {
    let mut seen = Seen::default();
    let mut loaded: Option<(&[u8], u32, u32)> = None;
    for elem in expressions_of(list) {
        let (name, data) = elem?;
        let get = |k: u16| data.get(k);
        match name {
            b"meta" => loaded = Some((b"meta", be32(get(2)?)?, 0)),
            b"payload" => loaded = Some((b"payload", be32(get(3)?)?, be32(get(4)?)?)),
            b"ct" => loaded = Some((b"ct", be32(get(2)?)?, 0)),
            b"bitwise" if matches!(loaded, Some((b"ct", NFT_CT_STATE, _))) => {
                let mask = first_value(get(4)?)?;
                seen.ct_bits = Some(u32::from_ne_bytes(mask.try_into().ok()?));
            }
            b"cmp" => seen.compared(loaded, be32(get(2)?)?, first_value(get(3)?)?),
            b"immediate" if be32(get(1)?)? == NFT_REG_VERDICT => {
                seen.verdict = verdict_code(get(2)?);
            }
            _ => loaded = None,
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
            FirewallRule::DropNewTo {
                to: "10.1.0.5".parse().unwrap(),
                except_in: Some("cni0".into()),
            },
            FirewallRule::DropNewTo {
                to: "fd00::5".parse().unwrap(),
                except_in: None,
            },
            FirewallRule::AcceptFrom("10.1.0.5".parse().unwrap()),
            FirewallRule::AcceptRepliesTo("fd00::5".parse().unwrap()),
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
