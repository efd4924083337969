//! cnitool: see `cnitool --help`.

use cni_backend_linux::netns;
use cni_core::net::NetResult;
use cni_plugins::cnitool::NamedNetns;
use std::path::PathBuf;

/// Named namespaces made as `ip netns` makes them.
struct LinuxNamedNetns;

impl NamedNetns for LinuxNamedNetns {
    fn create(&self, name: &str) -> NetResult<PathBuf> {
        netns::create_named(name).map(|ns| ns.path().to_path_buf())
    }

    fn delete(&self, name: &str) -> NetResult<()> {
        netns::delete_named(name)
    }
}

fn main() {
    std::process::exit(cni_plugins::cnitool::main_from_env(&LinuxNamedNetns));
}
