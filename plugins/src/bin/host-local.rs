//! The `host-local` IPAM plugin.

fn main() {
    cni_core::skel::run(
        &cni_plugins::host_local::HostLocal,
        cni_core::spec::version::ALL,
    )
}
