//! The DHCPv4 client (RFC 2131), sans-IO.
//!
//! `Client` is a state machine: the caller feeds it received UDP payloads
//! (`on_packet`) and the passing of time (`on_timer` at `next_timer()`), and
//! carries out the `Action`s it returns (send a packet; report a lease bound,
//! renewed, lost; report giving up). It never reads a clock or touches a socket,
//! so a thousand of them run on one thread and tests drive them on a simulated
//! clock against a simulated server.
//!
//! Behaviour, and the decisions RFC 2131 leaves to the client:
//! - INIT → SELECTING: DISCOVER by broadcast. Retransmissions after 4, 8, 16,
//!   ... s (±1 s), capped at `resend_max`.
//! - The first acceptable OFFER is taken (no collecting window, as the
//!   reference daemon and most clients do: a CNI ADD is waiting) and answered
//!   by a broadcast REQUEST with options 50 and 54, same xid. REQUESTING
//!   retransmits with the same backoff; after 4 transmissions without an
//!   answer it starts over with a DISCOVER (RFC 2131 3.1 step 5).
//! - A NAK in REQUESTING starts over: the first at once, each further one after
//!   the backoff delay in INIT, so a server that offers and then refuses is not
//!   hammered. The initial acquisition (from `start`) ends with `GaveUp` and
//!   state Failed when `acquire_timeout` passes without a lease (zero: never).
//!   After a lease was lost there is no such deadline: the attachment still
//!   exists, so the machine keeps trying at the capped backoff.
//! - No ARP probe / DECLINE: a sans-IO machine cannot probe, and the reference
//!   daemon does not either.
//! - BOUND → RENEWING at T1: REQUEST unicast to the server, ciaddr set, no
//!   options 50/54, new xid. Retransmitted after half the time left to T2, at
//!   least 60 s (RFC 2131 4.4.5), not randomized, so renewals happen exactly at
//!   T1 and tests can say so. At T2 → REBINDING: the same REQUEST broadcast,
//!   new xid, retransmitted after half the time left of the lease (at least
//!   60 s). An ACK in either returns to BOUND (`Renewed`).
//! - A NAK in RENEWING/REBINDING, or the lease's expiry, is `Lost`; the
//!   machine starts over at once. After expiry the DISCOVER asks for the old
//!   address (option 50); after a NAK it does not, the server having just said
//!   that address is wrong.
//! - An ACK in RENEWING/REBINDING for another address than the lease's is
//!   ignored (RFC 2131 has yiaddr = ciaddr there).
//! - `release` sends one RELEASE (never retransmitted, RFC 2131 4.4.6) to the
//!   lease's server and stops the machine; `start` may start it again.
//! - The BROADCAST flag follows `ClientOptions::broadcast` in every
//!   DISCOVER/REQUEST; a server replies to ciaddr anyway once it is set.
//! - A reply is taken only if it is a BOOTREPLY with our xid and chaddr, its
//!   client identifier (if echoed, RFC 6842) is ours, and its type is one the
//!   state expects; a NAK or ACK naming another server than the one asked
//!   (in REQUESTING and RENEWING) is ignored. Anything else is dropped
//!   without a trace: on a shared link, other clients' traffic is normal.

pub(crate) mod classless;
mod client;
mod lease;
pub(crate) mod message;

pub use client::Client;
pub use lease::{classful_prefix, Lease};

use std::net::Ipv4Addr;

/// The servers' UDP port, where `Action::Send` packets go.
pub const SERVER_PORT: u16 = 67;
/// The clients' UDP port, where replies arrive.
pub const CLIENT_PORT: u16 = 68;

/// Where a packet goes (UDP port 67).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// 255.255.255.255.
    Broadcast,
    Unicast(Ipv4Addr),
}

/// What the caller must do (packets go to UDP port 67).
pub type Action = super::Action<Lease, Destination>;

/// RFC 2131's client states, plus Released and Failed (the machine stopped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Init,
    Selecting,
    Requesting,
    Bound,
    Renewing,
    Rebinding,
    Released,
    Failed,
}
