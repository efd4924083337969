//! One request and its replies as a state machine fed with received
//! datagrams (sans-IO): which replies are ours, when the exchange is over,
//! and what went wrong.

use super::status::{done_status, error_status};
use super::wire::{
    messages, FrameError, NlMsg, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
};
use super::Family;
use std::ops::Range;
use thiserror::Error;

const NLM_F_DUMP_INTR: u16 = 0x10;

#[derive(Debug, Error)]
pub enum ExchangeError {
    #[error("kernel error {errno}")]
    Kernel { errno: i32, extack: Option<String> },
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("receive queue overrun")]
    Overrun,
    #[error("undecodable reply: {0}")]
    Decode(String),
}

/// How an exchange ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome<R> {
    Complete(Vec<R>),
    /// A dump the kernel flagged as inconsistent (changed while it ran): ask again.
    Interrupted,
}

pub struct Exchange<F: Family> {
    /// Sequence numbers of the request's messages; replies to others are stale.
    seqs: Range<u32>,
    acks_left: u32,
    dump: bool,
    interrupted: bool,
    finished: bool,
    replies: Vec<F::Reply>,
}

impl<F: Family> Exchange<F> {
    /// One message sent with NLM_F_ACK: over at its acknowledgement.
    pub fn acked(seq: u32) -> Self {
        Self::new(seq..seq.wrapping_add(1), 1, false)
    }

    /// A batch of messages numbered `seqs`, `acks` of them with NLM_F_ACK.
    pub fn batch(seqs: Range<u32>, acks: u32) -> Self {
        Self::new(seqs, acks, false)
    }

    /// One NLM_F_DUMP request: over at NLMSG_DONE.
    pub fn dump(seq: u32) -> Self {
        Self::new(seq..seq.wrapping_add(1), 0, true)
    }

    fn new(seqs: Range<u32>, acks_left: u32, dump: bool) -> Self {
        Exchange {
            seqs,
            acks_left,
            dump,
            interrupted: false,
            finished: false,
            replies: Vec::new(),
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Takes every message of one datagram; the whole datagram must be well
    /// formed, also past the message that finished the exchange.
    pub fn feed_datagram(&mut self, datagram: &[u8]) -> Result<(), ExchangeError> {
        for msg in messages(datagram) {
            let msg = msg?;
            if !self.finished {
                self.feed(&msg)?;
            }
        }
        Ok(())
    }

    fn feed(&mut self, msg: &NlMsg<&[u8]>) -> Result<(), ExchangeError> {
        if !self.seqs.contains(&msg.seq()) {
            return Ok(()); // a late reply to an earlier request
        }
        self.interrupted |= msg.flags() & NLM_F_DUMP_INTR != 0;
        match msg.kind() {
            NLMSG_NOOP => {}
            NLMSG_OVERRUN => return Err(ExchangeError::Overrun),
            NLMSG_ERROR => {
                fail_on_errno(error_status(msg)?)?;
                self.acks_left = self.acks_left.saturating_sub(1);
                // A dump answered with an error payload of 0 still ends.
                self.finished = self.dump || self.acks_left == 0;
            }
            NLMSG_DONE if self.dump => {
                fail_on_errno(done_status(msg)?)?;
                self.finished = true;
            }
            _ => {
                if let Some(reply) = F::decode(msg).map_err(ExchangeError::Decode)? {
                    self.replies.push(reply);
                }
            }
        }
        Ok(())
    }

    /// What the finished exchange returned.
    pub fn outcome(self) -> Outcome<F::Reply> {
        if self.dump && self.interrupted {
            Outcome::Interrupted
        } else {
            Outcome::Complete(self.replies)
        }
    }
}

fn fail_on_errno(status: super::status::Status) -> Result<(), ExchangeError> {
    match status.errno {
        0 => Ok(()),
        errno => Err(ExchangeError::Kernel {
            errno,
            extack: status.extack,
        }),
    }
}
