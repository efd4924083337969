//! The `static` IPAM plugin.

fn main() {
    cni_plugins::logging::init();
    cni_core::skel::run(
        &cni_plugins::static_ipam::StaticIpam,
        cni_core::spec::version::ALL,
    )
}
