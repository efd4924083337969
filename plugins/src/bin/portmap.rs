//! The `portmap` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::portmap::Portmap;

fn main() {
    cni_plugins::binary::run(&Portmap {
        backend: &LinuxBackend::new(),
    })
}
