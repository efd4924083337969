//! What can go wrong on the runtime side. Plugin errors are carried unchanged
//! (`LibcniError::Plugin::source` is exactly the document the plugin printed).

use crate::CniError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LibcniError {
    /// A network configuration is invalid. `origin` is the file (or a
    /// description of where the bytes came from), `field` the offending key.
    #[error("{origin}: invalid network configuration: field `{field}`: {reason}")]
    Config {
        origin: String,
        field: String,
        reason: String,
    },

    #[error("no net configurations found in {}", dir.display())]
    NoConfigsFound { dir: PathBuf },

    #[error("no net configuration with name \"{name}\" in {}", dir.display())]
    NetworkNotFound { dir: PathBuf, name: String },

    #[error("{}: {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: std::io::Error,
    },

    /// A plugin (or finding it) failed; `source` is its error unchanged.
    #[error("plugin {plugin} failed ({verb}): {source}")]
    Plugin {
        plugin: String,
        verb: &'static str,
        #[source]
        source: CniError,
    },

    /// A plugin answered something that is not a valid result.
    #[error("plugin {plugin} returned an invalid result ({verb}): {reason}")]
    BadResult {
        plugin: String,
        verb: &'static str,
        reason: String,
    },

    /// The runtime configuration (container ID, interface name, ...) is invalid.
    #[error("invalid runtime configuration: field `{field}`: {reason}")]
    Runtime { field: &'static str, reason: String },

    /// The verb does not exist at the network's spec version.
    #[error("network \"{network}\" is at cniVersion {version}: {verb} needs {min} or later")]
    VerbNotSupported {
        network: String,
        version: String,
        verb: &'static str,
        min: &'static str,
    },

    #[error("cached result {}: {reason}", path.display())]
    Cache { path: PathBuf, reason: String },

    /// CHECK needs the result of a previous ADD.
    #[error("no cached result for network \"{network}\", container \"{container_id}\", interface \"{ifname}\": CHECK needs a previous ADD")]
    NoCachedResult {
        network: String,
        container_id: String,
        ifname: String,
    },

    /// A plugin does not support the network's version.
    #[error(
        "plugin {plugin} does not support config version \"{version}\" (it supports {supported:?})"
    )]
    PluginVersion {
        plugin: String,
        version: String,
        supported: Vec<String>,
    },

    /// GC could not DEL an attachment it found stale.
    #[error("failed to delete stale attachment {container_id} {ifname}: {source}")]
    StaleAttachment {
        container_id: String,
        ifname: String,
        #[source]
        source: Box<LibcniError>,
    },

    /// Several independent failures (validation of every plugin, GC).
    #[error("{}", join(.0))]
    Multiple(Vec<LibcniError>),
}

fn join(errors: &[LibcniError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl LibcniError {
    /// The plugin's own error document, when a plugin is what failed.
    pub fn plugin_error(&self) -> Option<&CniError> {
        match self {
            LibcniError::Plugin { source, .. } => Some(source),
            _ => None,
        }
    }

    pub(crate) fn config(
        origin: &str,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        LibcniError::Config {
            origin: origin.to_string(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}
