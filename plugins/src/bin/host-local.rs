//! The `host-local` IPAM plugin.

fn main() {
    cni_plugins::logging::init();
    cni_core::skel::run(
        &cni_plugins::host_local::HostLocal,
        cni_core::spec::version::ALL,
    )
}
