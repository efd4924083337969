//! IPAM logic shared by the host-local plugin (and later static): address
//! ranges, range sets, the round-robin allocator over a lease [`Store`], and an
//! in-memory store. Pure: the verbs and the disk store live with the plugin.

pub mod addr;
pub mod allocator;
pub mod cluster;
pub mod config;
pub mod mem_store;
pub mod parse;
pub mod range;
pub mod store;

pub use allocator::{AllocError, Allocator};
pub use config::{ConfigError, RangeSpec};
pub use mem_store::MemStore;
pub use range::{Range, RangeSet};
pub use store::{Attachment, LeaseOwner, Store, StoreError};
