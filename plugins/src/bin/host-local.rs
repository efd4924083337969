//! The host-local IPAM plugin binary.

fn main() {
    // TEMPORARY: `cni_core::skel::run(&HostLocal)` once skel lands.
    let code = cni_plugins::host_local::main_entry::run(&cni_plugins::host_local::HostLocal);
    std::process::exit(code);
}
