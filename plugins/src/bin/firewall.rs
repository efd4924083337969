//! The `firewall` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::firewall::Firewall;

fn main() {
    cni_plugins::binary::run(&Firewall {
        backend: &LinuxBackend::new(),
    })
}
