//! The `bandwidth` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::bandwidth::Bandwidth;

fn main() {
    cni_plugins::binary::run(&Bandwidth {
        backend: &LinuxBackend::new(),
    })
}
