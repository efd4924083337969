//! The configuration fields every main plugin reads, besides its own: core's
//! one config model, and its parse with the network name a plugin requires.

pub use cni_core::spec::config::{plugin_input as parse, NetConf as CommonConf};
