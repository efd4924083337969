//! The `host-device` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::host_device::HostDevice;

fn main() {
    cni_plugins::binary::run_with_ipam(&LinuxBackend::new(), |backend, ipam| {
        Box::new(HostDevice::new(backend, ipam))
    })
}
