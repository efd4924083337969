//! The `macvlan` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_core::invoke::RawExec;
use cni_plugins::common::delegate::{InProcessDelegate, SiblingDelegate};
use cni_plugins::host_local::HostLocal;
use cni_plugins::macvlan::Macvlan;

fn main() {
    cni_plugins::logging::init();
    let backend = LinuxBackend::new();
    // Our own host-local, when CNI_PATH leads to it, runs in this process.
    let ipam = SiblingDelegate::for_this_binary(
        RawExec,
        InProcessDelegate::new().with("host-local", &HostLocal),
    );
    let plugin = Macvlan {
        backend: &backend,
        ipam: &ipam,
    };
    cni_core::skel::run(&plugin, cni_core::spec::version::ALL)
}
