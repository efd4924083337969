//! NetBackend on a real Linux kernel: netlink, network namespaces, sysctls, nftables.
//!
//! Every namespace handle owns a NETLINK_ROUTE socket opened inside its
//! namespace, so no thread of the caller ever switches namespace. Work that
//! must run inside a namespace (sysctls, `nft`) runs on a short-lived thread
//! that enters it ([`netns::run_in`]).

mod backend;
pub mod error;
pub mod netlink;
pub mod netns;
pub mod nftables;
pub mod sysctl;

pub use backend::{LinuxBackend, LinuxNetns};
