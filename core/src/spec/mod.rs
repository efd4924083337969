//! The CNI spec in types: results, configs, versions, CNI_ARGS.

pub mod result;

pub use result::{CniResult, Dns, Interface, IpConfig, Route};
