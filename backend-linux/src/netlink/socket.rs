//! A synchronous NETLINK_ROUTE socket bound to one namespace: requests with
//! acknowledgement, single replies, and dumps retried when interrupted.

use crate::error::{errno_error, io_error};
use crate::netns::{run_here_or_in, NetnsFile};
use cni_core::net::{NetError, NetResult};
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NLMSG_OVERRUN, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use nix::errno::Errno;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

const NLMSG_HDRLEN: usize = 16;
const NLMSGERR_ATTR_MSG: u16 = 1;
/// Larger than the biggest dump chunk the kernel sends (32 KiB), so nothing truncates.
const RECV_BUF: usize = 64 * 1024;
/// A dump interrupted by concurrent changes is repeated this many times at most.
const DUMP_ATTEMPTS: usize = 10;

pub struct NlSocket {
    sock: Socket,
    seq: AtomicU32,
    /// One request at a time: replies of interleaved requests would be
    /// dropped as stale by the other waiter.
    busy: Mutex<()>,
}

/// What the kernel said went wrong.
struct KernelError {
    errno: Errno,
    extack: Option<String>,
}

impl NlSocket {
    /// Opens the socket on a thread inside `ns`; it keeps acting there
    /// whichever thread uses it afterwards.
    pub fn open_in(ns: &NetnsFile) -> NetResult<Self> {
        let what = || format!("open netlink socket in netns {}", ns.path().display());
        let sock = run_here_or_in(ns, || -> std::io::Result<Socket> {
            let mut sock = Socket::new(NETLINK_ROUTE)?;
            sock.bind_auto()?;
            Ok(sock)
        })?
        .map_err(|e| io_error(what(), &e))?;
        // Best effort: older kernels lack these, and they only improve messages and filtering.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        let _ = sock.set_netlink_get_strict_chk(true);
        Ok(NlSocket {
            sock,
            seq: AtomicU32::new(1),
            busy: Mutex::new(()),
        })
    }

    /// Sends `msg` with `flags` and waits for the acknowledgement.
    pub fn request(
        &self,
        msg: RouteNetlinkMessage,
        flags: u16,
        what: impl Fn() -> String,
    ) -> NetResult<()> {
        self.exchange(msg, NLM_F_REQUEST | NLM_F_ACK | flags)
            .map(drop)
            .map_err(|e| e.into_net_error(what()))
    }

    /// Sends a get request and returns the one object it answers with.
    pub fn get(
        &self,
        msg: RouteNetlinkMessage,
        what: impl Fn() -> String,
    ) -> NetResult<RouteNetlinkMessage> {
        let mut replies = self
            .exchange(msg, NLM_F_REQUEST | NLM_F_ACK)
            .map_err(|e| e.into_net_error(what()))?
            .unwrap_or_default();
        match replies.len() {
            1 => Ok(replies.remove(0)),
            n => Err(NetError::other(format!(
                "{}: expected one reply, got {n}",
                what()
            ))),
        }
    }

    /// Dumps every object matching `msg`, repeating the dump when the kernel
    /// flags it as interrupted by a concurrent change.
    pub fn dump(
        &self,
        msg: RouteNetlinkMessage,
        what: impl Fn() -> String,
    ) -> NetResult<Vec<RouteNetlinkMessage>> {
        for _ in 0..DUMP_ATTEMPTS {
            match self.exchange(msg.clone(), NLM_F_REQUEST | NLM_F_DUMP) {
                Ok(Some(all)) => return Ok(all),
                Ok(None) => continue,
                Err(e) => return Err(e.into_net_error(what())),
            }
        }
        Err(NetError::new(
            cni_core::net::NetErrorKind::Busy,
            format!(
                "{}: dump interrupted {DUMP_ATTEMPTS} times by concurrent changes",
                what()
            ),
        ))
    }

    fn send(&self, msg: RouteNetlinkMessage, flags: u16) -> Result<u32, Exchange> {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let mut buf = vec![0u8; packet.buffer_len()];
        packet.serialize(&mut buf);
        self.sock.send(&buf, 0).map_err(Exchange::Io)?;
        Ok(seq)
    }

    /// Returns the replies (dump: `None` when interrupted, to be retried). A
    /// request ends with its acknowledgement (we always ask for one), a dump with DONE.
    fn exchange(&self, msg: RouteNetlinkMessage, flags: u16) -> Result<Replies, Exchange> {
        let _one_at_a_time = self
            .busy
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let seq = self.send(msg, flags)?;
        let mut replies = Vec::new();
        let mut interrupted = false;
        let mut buf: Vec<u8> = Vec::with_capacity(RECV_BUF);
        loop {
            buf.clear();
            let n = self.sock.recv(&mut buf, 0).map_err(Exchange::Io)?;
            if n > buf.len() {
                return Err(Exchange::Decode(format!("reply of {n} bytes truncated")));
            }
            let mut off = 0;
            while off + NLMSG_HDRLEN <= buf.len() {
                let chunk = &buf[off..];
                let len = u32::from_ne_bytes(chunk[0..4].try_into().unwrap_or_default()) as usize;
                if len < NLMSG_HDRLEN || len > chunk.len() {
                    return Err(Exchange::Decode(format!("bad message length {len}")));
                }
                let msg = &chunk[..len];
                off += (len + 3) & !3;
                let kind = u16::from_ne_bytes([msg[4], msg[5]]);
                let msg_flags = u16::from_ne_bytes([msg[6], msg[7]]);
                let msg_seq = u32::from_ne_bytes([msg[8], msg[9], msg[10], msg[11]]);
                if msg_seq != seq {
                    continue; // a late reply to an earlier request
                }
                if msg_flags & NLM_F_DUMP_INTR != 0 {
                    interrupted = true;
                }
                match kind {
                    NLMSG_NOOP => {}
                    NLMSG_OVERRUN => return Err(Exchange::Decode("netlink overrun".into())),
                    NLMSG_ERROR => {
                        let code = read_i32(msg, NLMSG_HDRLEN);
                        if code == 0 {
                            return Ok(Some(replies)); // the acknowledgement
                        }
                        return Err(Exchange::Kernel(KernelError {
                            errno: Errno::from_raw(-code),
                            extack: extack_message(msg, msg_flags),
                        }));
                    }
                    NLMSG_DONE => {
                        let code = if msg.len() >= NLMSG_HDRLEN + 4 {
                            read_i32(msg, NLMSG_HDRLEN)
                        } else {
                            0
                        };
                        if code < 0 {
                            return Err(Exchange::Kernel(KernelError {
                                errno: Errno::from_raw(-code),
                                extack: None,
                            }));
                        }
                        return Ok(if interrupted { None } else { Some(replies) });
                    }
                    _ => {
                        let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(msg)
                            .map_err(|e| Exchange::Decode(format!("decode reply: {e}")))?;
                        if let NetlinkPayload::InnerMessage(inner) = parsed.payload {
                            replies.push(inner);
                        }
                    }
                }
            }
        }
    }
}

type Replies = Option<Vec<RouteNetlinkMessage>>;

enum Exchange {
    Io(std::io::Error),
    Kernel(KernelError),
    Decode(String),
}

impl Exchange {
    fn into_net_error(self, what: String) -> NetError {
        match self {
            Exchange::Io(e) => io_error(what, &e),
            Exchange::Kernel(k) => errno_error(what, k.errno, k.extack.as_deref()),
            Exchange::Decode(d) => NetError::other(format!("{what}: {d}")),
        }
    }
}

pub(crate) fn read_i32(msg: &[u8], at: usize) -> i32 {
    msg.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_ne_bytes)
        .unwrap_or(0)
}

/// The kernel's human-readable reason (NLMSGERR_ATTR_MSG), if it sent one.
pub(crate) fn extack_message(msg: &[u8], flags: u16) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let echoed = NLMSG_HDRLEN + 4;
    let echoed_len = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let l = u32::from_ne_bytes(msg.get(echoed..echoed + 4)?.try_into().ok()?) as usize;
        (l + 3) & !3
    };
    let mut off = echoed + echoed_len;
    while off + 4 <= msg.len() {
        let len = u16::from_ne_bytes([msg[off], msg[off + 1]]) as usize;
        let kind = u16::from_ne_bytes([msg[off + 2], msg[off + 3]]) & 0x3fff;
        if len < 4 || off + len > msg.len() {
            return None;
        }
        if kind == NLMSGERR_ATTR_MSG {
            let text = &msg[off + 4..off + len];
            let text = text.split(|b| *b == 0).next().unwrap_or_default();
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        off += (len + 3) & !3;
    }
    None
}
