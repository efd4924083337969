//! Sans-IO DHCP clients: the DHCPv4 (RFC 2131) and DHCPv6 (RFC 8415, IA_NA
//! only) state machines behind the `dhcp` daemon, one machine per attachment.
//!
//! A machine consumes received packets and the passing of time and returns
//! actions (send this, a lease is bound/renewed/lost, giving up); it owns no
//! socket, thread or clock. The daemon runs any number of them on one event
//! loop and persists their leases; tests drive them against simulated servers
//! on a simulated clock (`tests/`).
//!
//! Shared decisions:
//! - Time is wall-clock milliseconds (`Time`), because leases outlive the
//!   daemon process; `resume` rebuilds a machine from a persisted lease.
//! - Randomness (transaction ids, jitter) comes from a small PRNG seeded by
//!   `ClientOptions::seed`, so a test run is reproducible.
//! - Replies are parsed by our own hardened code, not dhcproto's decoder, which
//!   can panic on some malformed options; dhcproto encodes what we send (see
//!   `v4/message.rs`, `v6/message.rs`).
//! - Problems with a packet are never errors: a client on a shared link sees
//!   other clients' and broken servers' traffic and just ignores it.

mod backoff;
mod names;
mod options;
mod time;
pub mod v4;
pub mod v6;

#[cfg(test)]
mod tests;

pub use options::{ClientOptions, DEFAULT_ACQUIRE_TIMEOUT, DEFAULT_REQUEST, DEFAULT_RESEND_MAX};
pub use time::Time;

/// What the caller of a client machine must do; each family names it with
/// its own lease and packet destination (`v4::Action`, `v6::Action`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action<Lease, Destination> {
    /// Send an encoded message, the UDP payload for the server port (67, 547).
    Send { to: Destination, packet: Vec<u8> },
    /// The first lease (also the first after a `Lost`).
    Bound(Lease),
    /// The lease was extended by renew/rebind (persist it).
    Renewed(Lease),
    /// The lease expired, was refused (NAK, NoBinding) or withdrawn while
    /// held; the machine starts over (DISCOVER, SOLICIT).
    Lost { reason: String },
    /// The initial acquisition timed out (acquire_timeout), refusals
    /// included; the machine is Failed.
    GaveUp { reason: String },
}
