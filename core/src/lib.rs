//! cni-core: the CNI spec in types, the plugin entry point (skel), plugin
//! invocation, libcni, the `NetBackend` trait and IPAM logic.
//!
//! Pure logic: nothing here makes a syscall that changes the network.

#[cfg(feature = "dhcp")]
pub mod dhcp;
pub mod error;
pub mod fsio;
pub mod fuzz;
pub mod hash;
pub mod invoke;
pub mod ipam;
pub mod json;
pub mod libcni;
pub mod mac;
pub mod net;
pub mod rng;
pub mod skel;
pub mod spec;
#[cfg(feature = "testing")]
pub mod testsupport;

pub use error::CniError;
pub use spec::CniResult;
