//! An in-memory Linux kernel that implements `NetBackend`, for tests without root.
//!
//! It follows the kernel (checked against Linux 6.18) where plugins can observe it:
//! per-namespace unique link names and cyclic ifindex allocation, veth peers
//! across namespaces, bridge carrier and MAC inheritance, prefix routes present
//! exactly while a link is up, IPv6 link-local addresses on carrier, gateway
//! reachability, EEXIST/ENOENT on duplicates and absences, sysctls with kernel
//! defaults, a masquerade rule table and port-mapping rules; persistent taps (no carrier: no process holds them). Not modelled: the local routing table,
//! IPv6 DAD states, promotion of secondary IPv4 addresses.
//!
//! Tests control the clock and snapshot the state as text; fault injection
//! wraps any backend (`cni_conformance::faults`).
//!
//! Where the error kind is a choice (Linux returns an errno with no kind of
//! its own), the simulator says:
//! - a route through a down link: `Unreachable` (Linux: ENETDOWN);
//! - a master that is not a bridge, hairpin on a link that is not a bridge
//!   port: `Invalid` (Linux: EOPNOTSUPP);
//! - deleting, renaming or moving `lo`, or moving a bridge: `Invalid`.
//!
//! Renaming a link that is up succeeds, as on Linux 6.18 (older kernels
//! answer EBUSY). A bridge has carrier when fresh, then only while one of its
//! ports has carrier (a bridge whose last port left has none), as Linux does.
//! IPv6 link-local addresses appear as soon as a link has carrier, without a
//! tentative phase; IPv6 addresses and routes are dropped when the link goes
//! down (global IPv6 addresses stay with keep_addr_on_down).

mod addrs;
mod firewall;
mod handle;
mod kernel;
mod l3mdev;
mod links;
mod model;
mod render;
mod routes;
mod rules;
mod shaping;
mod spoof;
mod sysctl;
mod tagged_sets;
mod tap;

pub use handle::SimNetns;
pub use kernel::SimKernel;
