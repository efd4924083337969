//! What a plugin binary's `main` does once it has picked its backend: logs
//! on, IPAM delegation set up, then skel.

use crate::common::delegate::{InProcessDelegate, SiblingDelegate};
use crate::common::IpamDelegate;
use crate::host_local::HostLocal;
use cni_core::invoke::RawExec;
use cni_core::net::NetBackend;
use cni_core::skel::Plugin;

/// Runs `plugin` as this process's CNI invocation, at every spec version.
pub fn run(plugin: &dyn Plugin) -> ! {
    // Reading the stamp keeps its ELF note linked into every plugin binary,
    // so other plugins of this build can recognise this one.
    let _ = crate::build_stamp::own();
    // Logs are set up once the config is read: it may name the log file.
    cni_core::skel::run_with(plugin, cni_core::spec::version::ALL, &mut |_, config| {
        crate::logging::init_with_document(config)
    })
}

/// Builds a main plugin on `backend` with the IPAM delegate every binary
/// uses, and runs it: host-local, when `CNI_PATH` leads to one of this very
/// build, runs in this process; any other IPAM plugin is exec'd.
pub fn run_with_ipam<F>(backend: &dyn NetBackend, build: F) -> !
where
    F: for<'a> FnOnce(&'a dyn NetBackend, &'a dyn IpamDelegate) -> Box<dyn Plugin + 'a>,
{
    let ipam = SiblingDelegate::for_this_binary(
        RawExec,
        InProcessDelegate::new().with("host-local", &HostLocal),
    );
    let plugin = build(backend, &ipam);
    run(&*plugin)
}
