//! The `loopback` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::loopback::Loopback;

fn main() {
    cni_plugins::binary::run(&Loopback {
        backend: &LinuxBackend::new(),
    })
}
