//! host-local: IP address management from ranges, leases kept on local disk
//! in the reference's format.

pub mod config;
pub mod disk;
pub mod dns;
pub mod index;
pub mod lease;
pub mod main_entry;
pub mod plugin;

pub use disk::DiskStore;
pub use plugin::HostLocal;
