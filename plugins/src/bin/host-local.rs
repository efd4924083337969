//! The `host-local` IPAM plugin.

fn main() {
    cni_plugins::binary::run(&cni_plugins::host_local::HostLocal)
}
