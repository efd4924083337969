//! The few nf_tables netlink messages masquerading needs, on a
//! NETLINK_NETFILTER socket opened inside the namespace: one transaction
//! (batch) per change, and a rule dump.

use crate::error::{errno_error, io_error};
use crate::netlink::socket::{extack_message, read_i32};
use crate::netns::{run_here_or_in, NetnsFile};
use cni_core::net::{NetError, NetErrorKind, NetResult};
use netlink_packet_core::{
    NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_sys::{protocols::NETLINK_NETFILTER, Socket};
use nix::errno::Errno;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

const NLMSG_HDRLEN: usize = 16;
const NFGENMSG_LEN: usize = 4;
const NLA_F_NESTED: u16 = 0x8000;
const NLA_TYPE_MASK: u16 = 0x3fff;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const RECV_BUF: usize = 64 * 1024;
const DUMP_ATTEMPTS: usize = 10;

pub const NFT_MSG_NEWTABLE: u8 = 0;
pub const NFT_MSG_NEWCHAIN: u8 = 3;
pub const NFT_MSG_NEWRULE: u8 = 6;
pub const NFT_MSG_GETRULE: u8 = 7;
pub const NFT_MSG_DELRULE: u8 = 8;
pub const NFPROTO_INET: u8 = 1;

/// Netlink attributes being built: type-length-value, 4-byte aligned.
#[derive(Default, Clone, Debug)]
pub struct Attrs(pub Vec<u8>);

impl Attrs {
    pub fn put(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let len = 4 + value.len();
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&kind.to_ne_bytes());
        self.0.extend_from_slice(value);
        self.0.resize(self.0.len() + ((4 - len % 4) % 4), 0);
        self
    }
    pub fn put_str(&mut self, kind: u16, s: &str) -> &mut Self {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.put(kind, &v)
    }
    pub fn put_be32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.put(kind, &v.to_be_bytes())
    }
    pub fn put_be64(&mut self, kind: u16, v: u64) -> &mut Self {
        self.put(kind, &v.to_be_bytes())
    }
    pub fn put_nested(&mut self, kind: u16, build: impl FnOnce(&mut Attrs)) -> &mut Self {
        let mut inner = Attrs::default();
        build(&mut inner);
        self.put(kind | NLA_F_NESTED, &inner.0)
    }
}

/// The attributes in `buf`, as (type without flags, value).
pub fn parse_attrs(buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 4 <= buf.len() {
        let len = u16::from_ne_bytes([buf[off], buf[off + 1]]) as usize;
        let kind = u16::from_ne_bytes([buf[off + 2], buf[off + 3]]) & NLA_TYPE_MASK;
        if len < 4 || off + len > buf.len() {
            break;
        }
        out.push((kind, &buf[off + 4..off + len]));
        off += (len + 3) & !3;
    }
    out
}

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

fn push_message(
    buf: &mut Vec<u8>,
    kind: u16,
    flags: u16,
    seq: u32,
    family: u8,
    res_id: u16,
    attrs: &[u8],
) {
    let len = NLMSG_HDRLEN + NFGENMSG_LEN + attrs.len();
    buf.extend_from_slice(&(len as u32).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(&flags.to_ne_bytes());
    buf.extend_from_slice(&seq.to_ne_bytes());
    buf.extend_from_slice(&0u32.to_ne_bytes());
    buf.extend_from_slice(&[family, 0]);
    buf.extend_from_slice(&res_id.to_be_bytes());
    buf.extend_from_slice(attrs);
}

fn nft_type(kind: u8) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | u16::from(kind)
}

pub struct NfSocket {
    sock: Socket,
    seq: AtomicU32,
    /// One request at a time: replies of interleaved requests would be
    /// dropped as stale by the other waiter.
    busy: Mutex<()>,
}

impl NfSocket {
    pub fn open_in(ns: &NetnsFile) -> NetResult<Self> {
        let sock = run_here_or_in(ns, || -> std::io::Result<Socket> {
            let mut sock = Socket::new(NETLINK_NETFILTER)?;
            sock.bind_auto()?;
            Ok(sock)
        })?
        .map_err(|e| {
            io_error(
                format!("open nftables socket in netns {}", ns.path().display()),
                &e,
            )
        })?;
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        Ok(NfSocket {
            sock,
            seq: AtomicU32::new(1),
            busy: Mutex::new(()),
        })
    }

    fn next_seq(&self, n: u32) -> u32 {
        self.seq.fetch_add(n, Ordering::Relaxed)
    }

    /// Applies `msgs` as one transaction: all or nothing.
    pub fn transact(&self, family: u8, msgs: &[NfMsg], what: &str) -> NetResult<()> {
        if msgs.is_empty() {
            return Ok(()); // nothing would acknowledge an empty batch
        }
        let _one_at_a_time = self
            .busy
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let first = self.next_seq(msgs.len() as u32 + 2);
        let mut buf = Vec::new();
        push_message(
            &mut buf,
            NFNL_MSG_BATCH_BEGIN,
            NLM_F_REQUEST,
            first,
            0,
            NFNL_SUBSYS_NFTABLES,
            &[],
        );
        for (i, m) in msgs.iter().enumerate() {
            let flags = NLM_F_REQUEST | NLM_F_ACK | m.flags;
            push_message(
                &mut buf,
                nft_type(m.kind),
                flags,
                first + 1 + i as u32,
                family,
                0,
                &m.attrs.0,
            );
        }
        let last = first + 1 + msgs.len() as u32;
        push_message(
            &mut buf,
            NFNL_MSG_BATCH_END,
            NLM_F_REQUEST,
            last,
            0,
            NFNL_SUBSYS_NFTABLES,
            &[],
        );
        self.sock.send(&buf, 0).map_err(|e| io_error(what, &e))?;
        let mut acked = 0;
        self.receive(what, |seq, kind, flags, msg| {
            if seq <= first || seq >= last || kind != NLMSG_ERROR {
                return Ok(false);
            }
            let code = read_i32(msg, NLMSG_HDRLEN);
            if code != 0 {
                return Err(errno_error(
                    what,
                    Errno::from_raw(-code),
                    extack_message(msg, flags).as_deref(),
                ));
            }
            acked += 1;
            Ok(acked == msgs.len())
        })
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
        let _one_at_a_time = self
            .busy
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for _ in 0..DUMP_ATTEMPTS {
            let seq = self.next_seq(1);
            let mut attrs = Attrs::default();
            attrs.put_str(1, table).put_str(2, chain);
            let mut buf = Vec::new();
            push_message(
                &mut buf,
                nft_type(NFT_MSG_GETRULE),
                NLM_F_REQUEST | NLM_F_DUMP,
                seq,
                family,
                0,
                &attrs.0,
            );
            self.sock.send(&buf, 0).map_err(|e| io_error(what, &e))?;
            let mut rules = Vec::new();
            let mut interrupted = false;
            let result = self.receive(what, |s, kind, flags, msg| {
                if s != seq {
                    return Ok(false);
                }
                interrupted |= flags & NLM_F_DUMP_INTR != 0;
                match kind {
                    NLMSG_DONE => Ok(true),
                    NLMSG_ERROR => {
                        let code = read_i32(msg, NLMSG_HDRLEN);
                        Err(errno_error(
                            what,
                            Errno::from_raw(-code),
                            extack_message(msg, flags).as_deref(),
                        ))
                    }
                    k if k == nft_type(NFT_MSG_NEWRULE) => {
                        rules.push(
                            msg.get(NLMSG_HDRLEN + NFGENMSG_LEN..)
                                .unwrap_or_default()
                                .to_vec(),
                        );
                        Ok(false)
                    }
                    _ => Ok(false),
                }
            });
            match result {
                Ok(()) if !interrupted => return Ok(rules),
                Ok(()) => continue,
                Err(e) if e.kind == NetErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            }
        }
        Err(NetError::new(
            NetErrorKind::Busy,
            format!("{what}: dump interrupted {DUMP_ATTEMPTS} times by concurrent changes"),
        ))
    }

    /// Feeds each received message (seq, type, flags, bytes) to `on_msg` until it returns true.
    fn receive(
        &self,
        what: &str,
        mut on_msg: impl FnMut(u32, u16, u16, &[u8]) -> NetResult<bool>,
    ) -> NetResult<()> {
        let mut buf: Vec<u8> = Vec::with_capacity(RECV_BUF);
        loop {
            buf.clear();
            let n = self
                .sock
                .recv(&mut buf, 0)
                .map_err(|e| io_error(what, &e))?;
            if n > buf.len() {
                return Err(NetError::other(format!(
                    "{what}: reply of {n} bytes truncated"
                )));
            }
            let mut off = 0;
            while off + NLMSG_HDRLEN <= buf.len() {
                let chunk = &buf[off..];
                let len = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as usize;
                if len < NLMSG_HDRLEN || len > chunk.len() {
                    return Err(NetError::other(format!(
                        "{what}: bad netlink message length {len}"
                    )));
                }
                let msg = &chunk[..len];
                off += (len + 3) & !3;
                let kind = u16::from_ne_bytes([msg[4], msg[5]]);
                let flags = u16::from_ne_bytes([msg[6], msg[7]]);
                let seq = u32::from_ne_bytes([msg[8], msg[9], msg[10], msg[11]]);
                if on_msg(seq, kind, flags, msg)? {
                    return Ok(());
                }
            }
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
