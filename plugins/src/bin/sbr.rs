//! The `sbr` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::sbr::Sbr;

fn main() {
    cni_plugins::binary::run(&Sbr {
        backend: &LinuxBackend::new(),
    })
}
