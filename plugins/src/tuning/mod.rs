//! The tuning plugin, chained after one that made the container interface:
//! sets `net.*` sysctls in the container namespace and the interface's MAC,
//! MTU, promiscuous and all-multicast modes and transmit queue length. What
//! it changes on the interface, and the sysctls' previous values, are saved
//! in `dataDir` (see [`saved`]) for DEL to put back.

mod add;
mod check;
pub mod config;
mod del;
mod duplicate_keys;
pub mod saved;
pub mod sysctl_keys;

pub use config::TuningConf;

use cni_core::fsio::{FileOps, RealFs};
use cni_core::net::NetBackend;
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
use std::path::Path;

pub struct Tuning<'a> {
    pub backend: &'a dyn NetBackend,
    /// Every file under `dataDir` goes through this.
    pub fs: &'a dyn FileOps,
    /// The node's sysctl allowlist; absent means every `net.*` key is allowed.
    pub allowlist: &'a Path,
}

impl<'a> Tuning<'a> {
    /// On the real file system, with the reference's allowlist path.
    pub fn new(backend: &'a dyn NetBackend) -> Self {
        Tuning {
            backend,
            fs: &RealFs,
            allowlist: Path::new(sysctl_keys::DEFAULT_ALLOWLIST),
        }
    }
}

impl Plugin for Tuning<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        add::add(self, args)
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        del::del(self, args)
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        check::check(self, args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        del::gc(self, args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("tuning plugin")
    }
}
