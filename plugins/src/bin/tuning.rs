//! The `tuning` CNI plugin on the Linux backend.

use cni_backend_linux::LinuxBackend;
use cni_plugins::tuning::Tuning;

fn main() {
    cni_plugins::binary::run(&Tuning::new(&LinuxBackend::new()))
}
