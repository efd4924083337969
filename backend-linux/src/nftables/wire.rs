//! The few nf_tables netlink messages masquerading needs, on a
//! NETLINK_NETFILTER socket of the shared transport opened inside the
//! namespace: one transaction (batch) per change, and a rule dump.

use crate::transport::{Exchange, Family, NlHeaderRepr, NlMsg, NlSocket};
use cni_core::net::{NetErrorKind, NetResult};
use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_sys::protocols::NETLINK_NETFILTER;

pub use crate::transport::wire::{parse_attrs, Attrs};

const NFGENMSG_LEN: usize = 4;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;

pub const NFT_MSG_NEWTABLE: u8 = 0;
pub const NFT_MSG_NEWCHAIN: u8 = 3;
pub const NFT_MSG_GETCHAIN: u8 = 4;
pub const NFT_MSG_NEWRULE: u8 = 6;
pub const NFT_MSG_GETRULE: u8 = 7;
pub const NFT_MSG_DELRULE: u8 = 8;
pub const NFPROTO_INET: u8 = 1;
pub const NFPROTO_BRIDGE: u8 = 7;

pub fn be32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(v.get(..4)?.try_into().ok()?))
}

pub fn be64(v: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(v.get(..8)?.try_into().ok()?))
}

/// One nf_tables request of a transaction.
pub struct NfMsg {
    pub kind: u8,
    pub flags: u16,
    pub attrs: Attrs,
}

/// A transaction's message types in order, for the planners' tests.
#[cfg(test)]
pub(crate) fn kinds(msgs: &[NfMsg]) -> Vec<u8> {
    msgs.iter().map(|m| m.kind).collect()
}

/// NETLINK_NETFILTER, nf_tables subsystem; replies kept are rules, as their
/// attributes after the nfgenmsg header.
pub struct Nftables;

impl Family for Nftables {
    const PROTOCOL: isize = NETLINK_NETFILTER;
    const NAME: &'static str = "nftables";
    type Reply = Vec<u8>;

    fn decode(msg: &NlMsg<&[u8]>) -> Result<Option<Vec<u8>>, String> {
        if msg.kind() != nft_type(NFT_MSG_NEWRULE) {
            return Ok(None);
        }
        match msg.payload().get(NFGENMSG_LEN..) {
            Some(attrs) => Ok(Some(attrs.to_vec())),
            None => Err(format!("rule of {} bytes", msg.length())),
        }
    }
}

pub type NfSocket = NlSocket<Nftables>;

/// Appends one message: the netlink header, nfgenmsg (family, version 0,
/// resource id big-endian), the attributes.
fn push_message(out: &mut Vec<u8>, header: NlHeaderRepr, family: u8, res_id: u16, attrs: &[u8]) {
    let payload = header.emit(out, NFGENMSG_LEN + attrs.len());
    payload[0] = family;
    payload[2..4].copy_from_slice(&res_id.to_be_bytes());
    payload[NFGENMSG_LEN..].copy_from_slice(attrs);
}

fn nft_type(kind: u8) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | u16::from(kind)
}

/// BATCH_BEGIN, `msgs` each with NLM_F_ACK, BATCH_END, numbered from `first`.
fn batch(first: u32, family: u8, msgs: &[NfMsg]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut header = NlHeaderRepr {
        kind: NFNL_MSG_BATCH_BEGIN,
        flags: NLM_F_REQUEST,
        seq: first,
    };
    push_message(&mut out, header, 0, NFNL_SUBSYS_NFTABLES, &[]);
    for m in msgs {
        header.seq += 1;
        header.kind = nft_type(m.kind);
        header.flags = NLM_F_REQUEST | NLM_F_ACK | m.flags;
        push_message(&mut out, header, family, 0, &m.attrs.0);
    }
    header.seq += 1;
    header.kind = NFNL_MSG_BATCH_END;
    header.flags = NLM_F_REQUEST;
    push_message(&mut out, header, 0, NFNL_SUBSYS_NFTABLES, &[]);
    out
}

impl NlSocket<Nftables> {
    /// Applies `msgs` as one transaction: all or nothing.
    pub fn transact(&self, family: u8, msgs: &[NfMsg], what: &str) -> NetResult<()> {
        if msgs.is_empty() {
            return Ok(()); // nothing would acknowledge an empty batch
        }
        let count = msgs.len() as u32;
        let first = self.reserve_seqs(count + 2);
        let exchange = Exchange::batch(first..first + count + 2, count);
        self.exchange(&batch(first, family, msgs), exchange, &|| what.to_string())
            .map(drop)
    }

    /// Whether `chain` exists in `table`: one GETCHAIN, answered with the
    /// chain or ENOENT.
    pub fn chain_exists(
        &self,
        family: u8,
        table: &str,
        chain: &str,
        what: &str,
    ) -> NetResult<bool> {
        let mut attrs = Attrs::default();
        attrs.put_str(1, table).put_str(3, chain);
        let seq = self.reserve_seqs(1);
        let header = NlHeaderRepr {
            kind: nft_type(NFT_MSG_GETCHAIN),
            flags: NLM_F_REQUEST | NLM_F_ACK,
            seq,
        };
        let mut request = Vec::new();
        push_message(&mut request, header, family, 0, &attrs.0);
        match self.exchange(&request, Exchange::acked(seq), &|| what.to_string()) {
            Ok(_) => Ok(true),
            Err(e) if e.kind == NetErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every rule of `chain` in `table` (raw message payloads after the
    /// nfgenmsg header); empty when the table does not exist.
    pub fn dump_rules(
        &self,
        family: u8,
        table: &str,
        chain: &str,
        what: &str,
    ) -> NetResult<Vec<Vec<u8>>> {
        let mut attrs = Attrs::default();
        attrs.put_str(1, table).put_str(2, chain);
        let build = |seq| {
            let mut out = Vec::new();
            let header = NlHeaderRepr {
                kind: nft_type(NFT_MSG_GETRULE),
                flags: NLM_F_REQUEST | NLM_F_DUMP,
                seq,
            };
            push_message(&mut out, header, family, 0, &attrs.0);
            out
        };
        match self.dump_retrying(build, &|| what.to_string()) {
            Err(e) if e.kind == NetErrorKind::NotFound => Ok(Vec::new()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_round_trip_with_padding_and_nesting() {
        let mut a = Attrs::default();
        a.put_str(1, "abc").put_be32(2, 7).put_nested(3, |n| {
            n.put(1, &[9]);
        });
        assert_eq!(a.0.len() % 4, 0);
        let parsed = parse_attrs(&a.0);
        assert_eq!(parsed[0], (1, &b"abc\0"[..]));
        assert_eq!(be32(parsed[1].1), Some(7));
        assert_eq!(parsed[2].0, 3);
        assert_eq!(parse_attrs(parsed[2].1), vec![(1, &[9u8][..])]);
    }
}
