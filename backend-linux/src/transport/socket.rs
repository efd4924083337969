//! A synchronous netlink socket of one family, bound inside one namespace:
//! sends a request, receives datagrams until its [`Exchange`] is finished.

use super::exchange::{Exchange, ExchangeError, Outcome};
use super::Family;
use crate::error::{errno_error, io_error};
use crate::netns::{run_here_or_in, InNetns, NetnsFile};
use cni_core::net::{NetError, NetErrorKind, NetResult};
use netlink_sys::Socket;
use nix::errno::Errno;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Larger than the dump chunks the kernel sends (at most 32 KiB), so one
/// recv per datagram is the normal case; a larger datagram grows it.
const RECV_BUF: usize = 64 * 1024;
/// A dump interrupted by concurrent changes is repeated this many times at most.
const DUMP_ATTEMPTS: usize = 10;

pub struct NlSocket<F: Family> {
    sock: Socket,
    seq: AtomicU32,
    /// Held for a whole exchange, one at a time: replies of interleaved
    /// exchanges would be dropped as stale by the other waiter.
    recv_buf: Mutex<Vec<u8>>,
    family: PhantomData<F>,
}

/// A bound socket of `F`'s protocol, in the calling thread's namespace.
fn new_socket<F: Family>() -> std::io::Result<Socket> {
    let mut sock = Socket::new(F::PROTOCOL)?;
    sock.bind_auto()?;
    Ok(sock)
}

/// Why an exchange failed, before the request is named.
enum Failure {
    Io(std::io::Error),
    /// A datagram larger than the buffer; the buffer has grown since.
    Truncated {
        len: usize,
        buffer: usize,
    },
    Exchange(ExchangeError),
}

impl<F: Family> NlSocket<F> {
    /// Opens the socket on a thread inside `ns`; it keeps acting there
    /// whichever thread uses it afterwards.
    pub fn open_in(ns: &NetnsFile) -> NetResult<Self> {
        Self::configured(run_here_or_in(ns, new_socket::<F>)?, ns.path())
    }

    /// As [`open_in`](Self::open_in), through the handle's [`InNetns`].
    pub fn open_on(ns: &InNetns) -> NetResult<Self>
    where
        F: 'static,
    {
        Self::configured(ns.run(new_socket::<F>)?, ns.file().path())
    }

    fn configured(opened: std::io::Result<Socket>, ns: &std::path::Path) -> NetResult<Self> {
        let sock = opened.map_err(|e| {
            let what = format!("open {} socket in netns {}", F::NAME, ns.display());
            io_error(what, &e)
        })?;
        // Best effort: older kernels lack these, and they only improve messages and filtering.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        let _ = sock.set_netlink_get_strict_chk(true);
        Ok(NlSocket {
            sock,
            seq: AtomicU32::new(1),
            recv_buf: Mutex::new(Vec::with_capacity(RECV_BUF)),
            family: PhantomData,
        })
    }

    /// Starts with a receive buffer of `bytes` instead of 64 KiB (it still
    /// grows when a reply needs more): for callers that expect small replies.
    pub fn with_receive_buffer(self, bytes: usize) -> Self {
        NlSocket {
            recv_buf: Mutex::new(Vec::with_capacity(bytes)),
            ..self
        }
    }

    /// `count` consecutive sequence numbers; a range never wraps past u32::MAX.
    pub fn reserve_seqs(&self, count: u32) -> u32 {
        let mut first = 1;
        let _always_some = self
            .seq
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                first = if s.checked_add(count).is_some() { s } else { 1 };
                Some(first + count)
            });
        first
    }

    /// Sends `request` and feeds every reply to `exchange` until it is over.
    pub fn exchange(
        &self,
        request: &[u8],
        exchange: Exchange<F>,
        what: &dyn Fn() -> String,
    ) -> NetResult<Outcome<F::Reply>> {
        self.run(request, exchange)
            .map_err(|failure| net_error::<F>(failure, &what()))
    }

    /// As [`exchange`](Self::exchange), with the replies decoded as family
    /// `G` decodes them: another view of the same protocol (rtnetlink
    /// messages the typed decoder does not know, kept as raw bytes).
    pub fn exchange_as<G: Family>(
        &self,
        request: &[u8],
        exchange: Exchange<G>,
        what: &dyn Fn() -> String,
    ) -> NetResult<Outcome<G::Reply>> {
        debug_assert_eq!(F::PROTOCOL, G::PROTOCOL, "one socket, one protocol");
        self.run(request, exchange)
            .map_err(|failure| net_error::<G>(failure, &what()))
    }

    /// Dumps what `build(seq)` asks for, asking again when the kernel flags
    /// the dump as interrupted or a datagram outgrew the buffer.
    pub fn dump_retrying(
        &self,
        build: impl Fn(u32) -> Vec<u8>,
        what: &dyn Fn() -> String,
    ) -> NetResult<Vec<F::Reply>> {
        for _ in 0..DUMP_ATTEMPTS {
            let seq = self.reserve_seqs(1);
            match self.run(&build(seq), Exchange::<F>::dump(seq)) {
                Ok(Outcome::Complete(all)) => return Ok(all),
                Ok(Outcome::Interrupted) | Err(Failure::Truncated { .. }) => continue,
                Err(failure) => return Err(net_error::<F>(failure, &what())),
            }
        }
        Err(NetError::new(
            NetErrorKind::Busy,
            format!(
                "{}: dump interrupted {DUMP_ATTEMPTS} times by concurrent changes",
                what()
            ),
        ))
    }

    fn run<G: Family>(
        &self,
        request: &[u8],
        mut exchange: Exchange<G>,
    ) -> Result<Outcome<G::Reply>, Failure> {
        let mut buf = self
            .recv_buf
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.sock.send(request, 0).map_err(Failure::Io)?;
        while !exchange.is_finished() {
            self.recv_whole(&mut buf)?;
            exchange.feed_datagram(&buf).map_err(Failure::Exchange)?;
        }
        Ok(exchange.outcome())
    }

    /// One datagram into `buf`. MSG_TRUNC makes the kernel report its real
    /// size, so one that did not fit is an error, never silently cut.
    fn recv_whole(&self, buf: &mut Vec<u8>) -> Result<(), Failure> {
        buf.clear();
        let capacity = buf.capacity();
        let len = self.sock.recv(buf, libc::MSG_TRUNC).map_err(Failure::Io)?;
        if len <= capacity {
            return Ok(());
        }
        buf.reserve(len.next_power_of_two());
        self.drain();
        Err(Failure::Truncated {
            len,
            buffer: capacity,
        })
    }

    /// Throws away whatever is queued, so the next request starts clean (each
    /// receive also lets the kernel finish a dump in progress).
    fn drain(&self) {
        let mut scrap: Vec<u8> = Vec::with_capacity(64);
        while self
            .sock
            .recv(&mut scrap, libc::MSG_TRUNC | libc::MSG_DONTWAIT)
            .is_ok()
        {
            scrap.clear();
        }
    }
}

fn net_error<F: Family>(failure: Failure, what: &str) -> NetError {
    match failure {
        Failure::Io(e) => io_error(what, &e),
        Failure::Truncated { len, buffer } => NetError::other(format!(
            "{what}: {} reply of {len} bytes did not fit the {buffer}-byte receive buffer",
            F::NAME
        )),
        Failure::Exchange(ExchangeError::Kernel { errno, extack }) => {
            errno_error(what, Errno::from_raw(errno), extack.as_deref())
        }
        Failure::Exchange(e) => NetError::other(format!("{what}: {} reply: {e}", F::NAME)),
    }
}
