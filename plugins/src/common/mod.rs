//! What the main plugins share: the common config fields, IPAM delegation,
//! turning backend errors into CNI errors, and configuring a container
//! interface from a result.

pub mod conf;
pub mod delegate;
pub mod errors;
pub mod iface;
pub mod masq;
pub mod names;
pub mod netns;
pub mod sysctl;
pub mod teardown;
pub mod undo;
pub mod veth;

pub use conf::CommonConf;
pub use delegate::{IpamDelegate, Verb};
pub use errors::{net_err, NetContext};
pub use undo::Undo;
