//! An in-memory Linux kernel that implements `NetBackend`, for tests without root.
//!
//! It follows the kernel (checked against Linux 6.18) where plugins can observe it:
//! per-namespace unique link names and cyclic ifindex allocation, veth peers
//! across namespaces, bridge carrier and MAC inheritance, prefix routes present
//! exactly while a link is up, IPv6 link-local addresses on carrier, gateway
//! reachability, EEXIST/ENOENT on duplicates and absences, sysctls with kernel
//! defaults and a masquerade rule table. Not modelled: the local routing table,
//! IPv6 DAD states, promotion of secondary IPv4 addresses.
//!
//! Tests control the clock, inject faults and snapshot the state as text.

mod addrs;
mod firewall;
mod handle;
mod kernel;
mod links;
mod model;
mod render;
mod sysctl;

pub use handle::SimNetns;
pub use kernel::{OpRecord, SimKernel, SimOp};
