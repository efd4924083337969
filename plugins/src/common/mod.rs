//! What the main plugins share: the common config fields, IPAM delegation,
//! turning backend errors into CNI errors, the verbs besides ADD, and
//! configuring a container interface from a result.

pub mod add_result;
pub mod attachment;
pub mod chained;
pub mod conf;
pub mod container_link;
pub mod delegate;
pub mod errors;
pub mod host_rules;
pub mod iface;
pub mod masq;
pub mod master;
pub mod names;
pub mod netns;
pub mod stacked;
pub mod state_file;
pub mod sysctl;
pub mod undo;
pub mod veth;

pub use attachment::{Attachment, DelConf};
pub use conf::CommonConf;
pub use delegate::{IpamDelegate, Verb};
pub use errors::{AbsentOk, NetContext};
pub use undo::Undo;
