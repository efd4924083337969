//! The `loopback` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::loopback::Loopback;

fn main() {
    cni_plugins::logging::init();
    let backend = LinuxBackend::new();
    cni_core::skel::run(
        &Loopback { backend: &backend },
        cni_core::spec::version::ALL,
    )
}
