//! The plugin entry point. A plugin binary implements [`Plugin`] and calls
//! `skel::run` (the dispatcher: environment, validation, version gating,
//! result conversion, one JSON document on stdout).

use crate::{CniError, CniResult};
use std::path::PathBuf;

/// What the runtime handed the plugin: the `CNI_*` variables and stdin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CmdArgs {
    /// `CNI_CONTAINERID` (empty for GC and STATUS).
    pub container_id: String,
    /// `CNI_NETNS` (empty where the verb does not need it).
    pub netns: String,
    /// `CNI_IFNAME`
    pub ifname: String,
    /// `CNI_ARGS`, raw (`K=V;K2=V2`).
    pub args: String,
    /// `CNI_PATH`, split on `:`.
    pub path: Vec<PathBuf>,
    /// The network configuration, as received.
    pub stdin: Vec<u8>,
}

/// One plugin. ADD returns a result in the newest model; skel converts it to
/// the configuration's `cniVersion`.
pub trait Plugin {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError>;
    fn del(&self, args: &CmdArgs) -> Result<(), CniError>;
    fn check(&self, args: &CmdArgs) -> Result<(), CniError>;
    /// 1.1.0 STATUS: Ok means ready for ADD.
    fn status(&self, _args: &CmdArgs) -> Result<(), CniError> {
        Ok(())
    }
    /// 1.1.0 GC: release everything not in `cni.dev/valid-attachments`.
    fn gc(&self, _args: &CmdArgs) -> Result<(), CniError> {
        Ok(())
    }
    /// The "about" text printed on stderr when run with no environment.
    fn about(&self) -> String;
}

impl CmdArgs {
    /// The configuration from stdin, typed (unknown keys kept in `raw`).
    pub fn netconf(&self) -> Result<crate::spec::config::NetConf, CniError> {
        crate::spec::config::NetConf::parse(&self.stdin).map_err(CniError::from)
    }

    /// `CNI_ARGS` read into the plugin's declared schema.
    pub fn load_args<T: crate::spec::args::ArgsSchema>(&self) -> Result<T, CniError> {
        crate::spec::args::load_args::<T>(&self.args).map_err(CniError::from)
    }
}

/// What a plugin says it is (the first line of its answer to a person who
/// runs it with no environment): `CNI <what> (cni-rs) v<version>`. Every
/// binary of the workspace shares the one version, so operators can tell
/// which build a node runs.
pub fn about_text(what: &str) -> String {
    format!("CNI {what} (cni-rs) v{}", env!("CARGO_PKG_VERSION"))
}

mod capped;
mod dispatch;

pub use capped::{read_capped, CappedReadError, MAX_DOCUMENT_BYTES};
pub use dispatch::{dispatch, dispatch_with, run, run_with, EnvSource, Outcome, ProcessEnv};
