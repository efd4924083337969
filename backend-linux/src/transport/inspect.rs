//! Everything the transport does to bytes from the kernel, in one call, for
//! the `netlink_frames` fuzz target and the replay of its corpus: split the
//! datagram, check each header, read every status with its extended ack, and
//! run it as the reply to a request of each family.

use super::exchange::{Exchange, ExchangeError, Outcome};
use super::status::{done_status, error_status, Status};
use super::wire::{messages, FrameError, NlHeaderRepr, NLMSG_DONE, NLMSG_ERROR};
use super::Family;
use crate::netlink::Route;
use crate::nftables::Nftables;
use netlink_packet_route::RouteNetlinkMessage;

/// One message of the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub header: NlHeaderRepr,
    /// For NLMSG_ERROR and NLMSG_DONE.
    pub status: Option<Status>,
}

/// What each stage made of the datagram.
#[derive(Debug)]
pub struct Inspection {
    pub frames: Result<Vec<Frame>, FrameError>,
    /// As the answer to an rtnetlink dump numbered like the first message;
    /// `None` when the datagram did not end it.
    pub route_dump: Ran<RouteNetlinkMessage>,
    /// As the answer to an nftables rule dump, likewise.
    pub nftables_dump: Ran<Vec<u8>>,
    /// As the answer to a batch of three acknowledged messages.
    pub nftables_batch: Ran<Vec<u8>>,
}

impl Inspection {
    /// Every stage sees the same framing: when the messages split and their
    /// statuses read cleanly, no exchange reports a framing error.
    pub fn framing_agrees(&self) -> bool {
        let framing_error =
            |r: Result<(), &ExchangeError>| matches!(r, Err(ExchangeError::Frame(_)));
        self.frames.is_err()
            || !(framing_error(self.route_dump.as_ref().map(drop))
                || framing_error(self.nftables_dump.as_ref().map(drop))
                || framing_error(self.nftables_batch.as_ref().map(drop)))
    }
}

pub fn inspect_datagram(datagram: &[u8]) -> Inspection {
    let seq = messages(datagram)
        .next()
        .and_then(Result::ok)
        .map_or(0, |m| m.seq());
    Inspection {
        frames: frames(datagram),
        route_dump: run(Exchange::<Route>::dump(seq), datagram),
        nftables_dump: run(Exchange::<Nftables>::dump(seq), datagram),
        nftables_batch: run(
            Exchange::<Nftables>::batch(seq..seq.saturating_add(5), 3),
            datagram,
        ),
    }
}

fn frames(datagram: &[u8]) -> Result<Vec<Frame>, FrameError> {
    messages(datagram)
        .map(|msg| {
            let msg = msg?;
            let status = match msg.kind() {
                NLMSG_ERROR => Some(error_status(&msg)?),
                NLMSG_DONE => Some(done_status(&msg)?),
                _ => None,
            };
            Ok(Frame {
                header: NlHeaderRepr::parse(&msg),
                status,
            })
        })
        .collect()
}

pub type Ran<R> = Result<Option<Outcome<R>>, ExchangeError>;

fn run<F: Family>(mut exchange: Exchange<F>, datagram: &[u8]) -> Ran<F::Reply> {
    exchange.feed_datagram(datagram)?;
    Ok(exchange.is_finished().then(|| exchange.outcome()))
}
