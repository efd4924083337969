//! The `bridge` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_core::invoke::RawExec;
use cni_plugins::bridge::Bridge;
use cni_plugins::common::delegate::{InProcessDelegate, SiblingDelegate};
use cni_plugins::host_local::HostLocal;

fn main() {
    cni_plugins::logging::init();
    let backend = LinuxBackend::new();
    // Our own host-local, when CNI_PATH leads to it, runs in this process.
    let ipam = SiblingDelegate::for_this_binary(
        RawExec,
        InProcessDelegate::new().with("host-local", &HostLocal),
    );
    let plugin = Bridge {
        backend: &backend,
        ipam: &ipam,
    };
    cni_core::skel::run(&plugin, cni_core::spec::version::ALL)
}
