//! `cnitool netns add|del|list`: persistent namespaces, made the way
//! `ip netns` makes them, so either tool sees the other's.

use super::cli::NetnsVerb;
use super::CnitoolError;
use cni_core::net::NetResult;
use std::path::PathBuf;

const RUN_DIR: &str = "/var/run/netns";

/// Making and removing named namespaces is a syscall that changes the
/// network: the binary's `main` hands in the Linux backend's.
pub trait NamedNetns {
    /// Creates the namespace `name` under `/var/run/netns`; returns its path.
    fn create(&self, name: &str) -> NetResult<PathBuf>;
    fn delete(&self, name: &str) -> NetResult<()>;
}

pub fn run(verb: &NetnsVerb, named: &dyn NamedNetns) -> Result<Option<String>, CnitoolError> {
    let fail = |e: cni_core::net::NetError| CnitoolError::NetnsManage(e.to_string());
    match verb {
        NetnsVerb::Add { name } => {
            let path = named.create(name).map_err(fail)?;
            Ok(Some(format!("{}\n", path.display())))
        }
        NetnsVerb::Del { name } => named.delete(name).map(|()| None).map_err(fail),
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
