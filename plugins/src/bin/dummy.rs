//! The `dummy` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::dummy::Dummy;

fn main() {
    cni_plugins::binary::run_with_ipam(&LinuxBackend::new(), |backend, ipam| {
        Box::new(Dummy { backend, ipam })
    })
}
