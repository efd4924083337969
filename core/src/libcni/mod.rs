//! libcni: the runtime side of CNI as a library (the reference's `libcni`).
//!
//! Load a network from a configuration directory ([`load_conf_list`]), then
//! run it for a container with a [`CniConfig`]: ADD chains the plugins with
//! `prevResult`, DEL runs them in reverse with the cached result, CHECK, GC
//! and STATUS are gated by the network's spec version. Results are cached in
//! the reference's format under `<cacheDir>/results/`.

mod api;
mod base64;
pub mod cache;
mod error;
pub mod load;
pub mod raw_conf;
pub mod raw_result;
pub mod validate;
pub mod version;

pub use api::{build_one_config, CniConfig, GcAttachment, PluginInfo, RuntimeConf};
pub use cache::{CacheEntry, CachedInfo, CACHE_KIND_V1, DEFAULT_CACHE_DIR};
pub use error::LibcniError;
pub use load::{conf_files, load_conf_list};
pub use raw_conf::{NetworkConfigList, PluginConfig};
