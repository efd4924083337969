//! The `static` IPAM plugin.

fn main() {
    cni_plugins::binary::run(&cni_plugins::static_ipam::StaticIpam)
}
