//! libcni: the runtime side of CNI as a library (the reference's `libcni`).
//!
//! Load a network from a configuration directory ([`load_conf_list`]; its
//! plugins inline or in `<dir>/<name>/*.conf`), then run it for a container
//! with a [`CniConfig`]: ADD chains the plugins with `prevResult`, DEL runs
//! them in reverse with the cached result, CHECK, GC and STATUS are gated by
//! the network's spec version. A single `.conf` runs on its own through the
//! single-plugin APIs ([`load_conf`], `add_network`, ...). GC can cover many
//! lists in one call (`gc_network_lists`). Every plugin gets the runtime's
//! trace context (`TRACEPARENT`/`TRACESTATE`). Results are cached in the
//! reference's format under `<cacheDir>/results/`.
//!
//! Where we deliberately differ from the reference libcni:
//! - GC and STATUS below 1.1.0 are refused (the reference silently succeeds,
//!   and its GC still DELs every stale cached attachment of the network).
//! - CHECK with no cached result is an error (the reference runs CHECK
//!   without `prevResult`, which plugins then refuse less clearly).
//! - Container ID, network name and interface name are validated for every
//!   verb that touches the cache (the reference validates them on ADD only),
//!   since they become a file name.
//! - An unsupported or missing `cniVersion` in a list is refused at load
//!   time, naming the file and field, rather than at the first verb.
//! - Injected keys keep the configuration's key order (the reference
//!   re-encodes a Go map, which sorts them); the JSON means the same.
//! - A plugin's result reaches the next plugin and the cache as it printed
//!   it (the reference re-encodes its typed result, dropping unknown keys).
//!   The shared `CniResult` still decides whether it is a valid result and
//!   does every conversion to the list's version.

mod api;
pub(crate) mod base64;
pub mod cache;
mod error;
mod gc;
mod inject;
pub mod load;
mod probe;
pub mod raw_conf;
mod result;
mod single;
pub mod validate;
pub mod version;

pub use api::{CniConfig, GcAttachment, RuntimeConf, TRACE_VARS};
pub use cache::{CacheEntry, CachedInfo, CACHE_KIND_V1, DEFAULT_CACHE_DIR};
pub use error::LibcniError;
pub use gc::VALID_ATTACHMENTS_KEYS;
pub use inject::build_one_config;
pub use load::{conf_files, load_conf_list, load_networks};
pub use raw_conf::{NetworkConfigList, PluginConfig};
pub use single::{load_conf, NetworkConfig};
