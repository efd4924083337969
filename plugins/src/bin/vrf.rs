//! The `vrf` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::vrf::Vrf;

fn main() {
    cni_plugins::binary::run(&Vrf {
        backend: &LinuxBackend::new(),
    })
}
