//! The `vlan` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::vlan::Vlan;

fn main() {
    cni_plugins::binary::run_with_ipam(&LinuxBackend::new(), |backend, ipam| {
        Box::new(Vlan { backend, ipam })
    })
}
