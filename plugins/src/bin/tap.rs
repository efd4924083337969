//! The `tap` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::tap::Tap;

fn main() {
    cni_plugins::binary::run_with_ipam(&LinuxBackend::new(), |backend, ipam| {
        Box::new(Tap { backend, ipam })
    })
}
