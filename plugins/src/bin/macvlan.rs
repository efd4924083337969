//! The `macvlan` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_core::invoke::RawExec;
use cni_plugins::common::delegate::ExecDelegate;
use cni_plugins::macvlan::Macvlan;

fn main() {
    let backend = LinuxBackend::new();
    let ipam = ExecDelegate { exec: RawExec };
    let plugin = Macvlan {
        backend: &backend,
        ipam: &ipam,
    };
    cni_core::skel::run(&plugin, cni_core::spec::version::ALL)
}
