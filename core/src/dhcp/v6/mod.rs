//! The DHCPv6 client (RFC 8415, IA_NA only), sans-IO; the same shape as `v4`.
//!
//! Behaviour, and the decisions RFC 8415 leaves to the client:
//! - SOLICIT to ff02::1:2 with Client Identifier (a DUID-UUID derived from the
//!   client id, see `duid.rs`), Elapsed Time, an ORO for DNS servers (23) and
//!   the domain search list (24), and one IA_NA (after a lost lease, with the
//!   old address as a hint). Sent at once: the RFC's random initial delay
//!   (0..1 s) would only slow down a CNI ADD waiting for the lease.
//! - ADVERTISEs are collected until the first retransmission time (always a
//!   little over 1 s); then the highest preference wins (the first received on
//!   a tie). Preference 255 is taken at once, and so is any ADVERTISE after the
//!   first retransmission time. An ADVERTISE without a usable address (or with
//!   NoAddrsAvail) is ignored.
//! - REQUEST to the chosen server: multicast, or unicast when it sent a Server
//!   Unicast option; the same for RENEW and RELEASE. A UseMulticast status
//!   makes the client resend by multicast at once and stay with multicast for
//!   that exchange.
//! - Retransmission (RFC 8415 section 15): SOLICIT 1 s up to SOL_MAX_RT,
//!   REQUEST 1 s up to 30 s and 10 transmissions (then SOLICIT again), RENEW and
//!   REBIND 10 s up to 600 s until T2 / the end of the valid lifetime, RELEASE
//!   1 s and 4 transmissions. Every maximum is lowered to `resend_max`, the
//!   operator's bound on the client's silence. Randomized ±10 %.
//! - A REPLY to REQUEST refusing the IA (NoAddrsAvail, NotOnLink, ...)
//!   starts over: the first time at once, later after the v4-style backoff. The
//!   initial acquisition gives up (`GaveUp`, Failed) after `acquire_timeout`
//!   (zero: never); after a lost lease the machine keeps trying.
//! - RENEW at T1 exactly (to the lease's server), REBIND at T2 exactly
//!   (multicast, no Server Identifier, any server may answer). A REPLY
//!   refusing the IA (NoBinding, NotOnLink, NoAddrsAvail) or withdrawing the
//!   address (valid lifetime 0) is `Lost`; so is the end of the valid
//!   lifetime. The machine starts over (SOLICIT) at once; after NoBinding or
//!   expiry the old address goes along as a hint. (NoBinding could be answered
//!   by a REQUEST for the same address, RFC 8415 18.2.10.1; starting over is
//!   simpler and gets the same address from a server that still has it free.)
//! - A message is taken only if it has our transaction id and our exact Client
//!   Identifier, a Server Identifier, and (REPLY to REQUEST/RENEW/RELEASE) the
//!   server asked; other status codes than those above (UnspecFail, ...) are
//!   treated as no answer, and the retransmission carries on.
//! - `release` sends RELEASE and keeps retransmitting it until a REPLY or the
//!   4th transmission: in state Released `next_timer()` stays `Some` until
//!   then, and the caller should keep calling `on_timer`/`on_packet`.

mod client;
mod duid;
mod lease;
pub(crate) mod message;

pub use client::Client;
pub use lease::Lease;

use std::net::Ipv6Addr;

/// All_DHCP_Relay_Agents_and_Servers (RFC 8415 7.1).
pub const ALL_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
/// The servers' UDP port, where `Action::Send` messages go.
pub const SERVER_PORT: u16 = 547;
/// The clients' UDP port, where replies arrive.
pub const CLIENT_PORT: u16 = 546;

/// Where a packet goes (UDP port 547).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// ff02::1:2 port 547, on the attachment's interface.
    AllServers,
    Unicast(Ipv6Addr),
}

/// What the caller must do (packets go to UDP port 547).
pub type Action = super::Action<Lease, Destination>;

/// The client's states, plus Released and Failed (the machine stopped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Init,
    Soliciting,
    Requesting,
    Bound,
    Renewing,
    Rebinding,
    Released,
    Failed,
}
