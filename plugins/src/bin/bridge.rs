//! The `bridge` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_core::invoke::RawExec;
use cni_plugins::bridge::Bridge;
use cni_plugins::common::delegate::ExecDelegate;

fn main() {
    let backend = LinuxBackend::new();
    let ipam = ExecDelegate { exec: RawExec };
    let plugin = Bridge {
        backend: &backend,
        ipam: &ipam,
    };
    cni_core::skel::run(&plugin, cni_core::spec::version::ALL)
}
