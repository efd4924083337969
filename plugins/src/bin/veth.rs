//! The `veth` CNI plugin: the project's first main type under its original
//! name, the point-to-point plugin before it was renamed `ptp`. It is `ptp`
//! exactly, so configs written with `"type": "veth"` keep working.

use cni_backend_linux::LinuxBackend;
use cni_plugins::ptp::Ptp;

fn main() {
    cni_plugins::binary::run_with_ipam(&LinuxBackend::new(), |backend, ipam| {
        Box::new(Ptp { backend, ipam })
    })
}
