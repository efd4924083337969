//! The CNI spec in types: results, configs, versions, CNI_ARGS.

pub mod args;
pub mod config;
pub mod result;
pub mod validate;
pub mod version;
pub(crate) mod wire;

pub use result::{CniResult, Dns, Interface, IpConfig, ResultError, ResultShape, Route};
pub use version::{version_at_least, Version, VersionInfo};
