//! NetBackend on a real Linux kernel: netlink, network namespaces, sysctls, nftables.
//!
//! Every namespace handle owns a NETLINK_ROUTE socket opened inside its
//! namespace, so no thread of the caller ever switches namespace. Work that
//! must run inside a namespace (sysctls, `nft`) runs on a short-lived thread
//! that enters it ([`netns::run_in`]).
//!
//! Netlink is synchronous (netlink-sys sockets, messages from
//! netlink-packet-route): a plugin issues a handful of requests one after the
//! other, so rtnetlink's tokio runtime would only add start-up time and memory.
//! rtnetlink and nftables share one transport ([`transport`]).
//! Masquerade rules are nf_tables netlink messages built here (see [`nftables`]).

mod backend;
pub mod error;
pub mod netlink;
pub mod netns;
pub mod nftables;
pub mod sysctl;
pub mod tap;
pub mod transport;

pub use backend::{LinuxBackend, LinuxNetns};
