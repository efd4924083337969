//! `etcd-ipam`: the CNI plugin, or with `release-node NODE` as arguments the
//! dead-node cleanup (network configuration on stdin).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("release-node") {
        if let Err(e) = cni_etcd_ipam::release::main(&args[1..]) {
            eprintln!("etcd-ipam release-node: {}", e.msg);
            std::process::exit(1);
        }
        return;
    }
    cni_plugins::binary::run(&cni_etcd_ipam::plugin::EtcdIpam)
}
