//! The one netlink transport every family shares: the checked header view
//! and its builder ([`wire`]), acknowledgement and extended-ack parsing
//! ([`status`]), the request/replies state machine ([`exchange`]) and the
//! socket that drives it ([`socket`]). A family (rtnetlink, nftables) only
//! says which protocol it speaks and how it decodes a reply's payload.

pub mod exchange;
pub mod inspect;
pub mod socket;
pub mod status;
pub mod wire;

pub use exchange::{Exchange, ExchangeError, Outcome};
pub use socket::NlSocket;
pub use wire::{NlHeaderRepr, NlMsg};

/// A netlink protocol family.
pub trait Family {
    /// The socket protocol (`NETLINK_ROUTE`, `NETLINK_NETFILTER`).
    const PROTOCOL: isize;
    /// For error messages: "rtnetlink", "nftables".
    const NAME: &'static str;
    type Reply;
    /// A reply that is neither an acknowledgement nor the end of a dump;
    /// `None` for one the family does not keep.
    fn decode(msg: &NlMsg<&[u8]>) -> Result<Option<Self::Reply>, String>;
}

#[cfg(test)]
mod tests;
