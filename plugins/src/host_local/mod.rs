//! host-local: IP address management from ranges, leases kept on local disk
//! in the reference's format (a node can switch between the reference and
//! this implementation, or run both, without losing or duplicating leases).
//!
//! Where we differ from the reference (containernetworking/plugins 1.1.1):
//! - Finding and releasing an attachment's leases reads one index file
//!   (`.cni-rs-index/`, see [`index`]) instead of every lease file; ADD and DEL
//!   cost does not grow with the leases held.
//! - Configuration errors are code 7 (wrong JSON types 6) naming the field;
//!   an explicit rangeStart/rangeEnd/gateway on an IPv4 network or broadcast
//!   address is refused rather than handed out; a requested address outside
//!   every range, or on a gateway, is refused before anything is written.
//! - A failed ADD frees only what it reserved (the reference frees everything
//!   the attachment holds, including earlier requested addresses).
//! - CHECK compares `prevResult` with the leases when there is one.
//! - GC and STATUS (spec 1.1.0); STATUS is code 50 when any range set is full,
//!   since an ADD needs an address from each.
//! - An empty `dns` is left out of the result.

pub mod config;
pub mod disk;
pub mod dns;
pub mod index;
pub mod lease;
pub mod ops;
pub mod plugin;

pub use disk::DiskStore;
pub use plugin::HostLocal;
