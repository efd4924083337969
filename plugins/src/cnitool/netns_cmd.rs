//! `cnitool netns add|del|list`: persistent namespaces, made the way
//! `ip netns` makes them, so either tool sees the other's.

use super::cli::NetnsVerb;
use super::CnitoolError;
use cni_backend_linux::netns;

const RUN_DIR: &str = "/var/run/netns";

pub fn run(verb: &NetnsVerb) -> Result<Option<String>, CnitoolError> {
    let fail = |e: cni_core::net::NetError| CnitoolError::NetnsManage(e.to_string());
    match verb {
        NetnsVerb::Add { name } => {
            let ns = netns::create_named(name).map_err(fail)?;
            Ok(Some(format!("{}\n", ns.path().display())))
        }
        NetnsVerb::Del { name } => netns::delete_named(name).map(|()| None).map_err(fail),
        NetnsVerb::List => {
            let mut names: Vec<String> = match std::fs::read_dir(RUN_DIR) {
                Ok(dir) => dir
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(CnitoolError::NetnsManage(format!("reading {RUN_DIR}: {e}"))),
            };
            names.sort();
            Ok(Some(names.iter().map(|n| format!("{n}\n")).collect()))
        }
    }
}
