//! Sysctls of one namespace. `/proc/sys/net` shows the namespace of the
//! thread that opens the file, so the file is opened on a thread inside it
//! (the handle's [`InNetns`]).

use crate::error::io_error;
use crate::netns::InNetns;
use cni_core::net::{NetError, NetResult};
use std::path::PathBuf;

const PROC_SYS: &str = "/proc/sys";

/// `net/ipv4/ip_forward` (or `net.ipv4.ip_forward`) to its file under /proc/sys.
pub fn key_path(key: &str) -> NetResult<PathBuf> {
    let bad = || NetError::invalid(format!("invalid sysctl key {key:?}"));
    if key.is_empty() || key.starts_with('/') || key.contains('\0') {
        return Err(bad());
    }
    // The dotted form is only unambiguous when no component holds a '/'.
    let key = if key.contains('/') {
        key.to_string()
    } else {
        key.replace('.', "/")
    };
    if key
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(bad());
    }
    Ok(PathBuf::from(PROC_SYS).join(key))
}

pub fn get(ns: &InNetns, key: &str) -> NetResult<String> {
    let path = key_path(key)?;
    let read = ns.run(move || std::fs::read_to_string(path))?;
    let value = read.map_err(|e| {
        io_error(
            format!("read sysctl {key} in netns {}", ns.file().path().display()),
            &e,
        )
    })?;
    Ok(value.trim_end_matches('\n').to_string())
}

pub fn set(ns: &InNetns, key: &str, value: &str) -> NetResult<()> {
    let path = key_path(key)?;
    if value.contains('\n') {
        return Err(NetError::invalid(format!(
            "sysctl {key}: value {value:?} holds a newline"
        )));
    }
    let bytes = value.as_bytes().to_vec();
    let written = ns.run(move || std::fs::write(path, bytes))?;
    written.map_err(|e| {
        io_error(
            format!(
                "write {value:?} to sysctl {key} in netns {}",
                ns.file().path().display()
            ),
            &e,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_files_under_proc_sys() {
        assert_eq!(
            key_path("net/ipv4/ip_forward").unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            key_path("net.ipv4.ip_forward").unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/ip_forward")
        );
        // Interface names may hold dots; the slash form keeps them.
        assert_eq!(
            key_path("net/ipv4/conf/eth0.100/forwarding").unwrap(),
            PathBuf::from("/proc/sys/net/ipv4/conf/eth0.100/forwarding")
        );
    }

    #[test]
    fn keys_cannot_escape_proc_sys() {
        for bad in [
            "",
            "/etc/passwd",
            "net/../../etc/passwd",
            "net//x",
            "net/./x",
        ] {
            let e = key_path(bad).unwrap_err();
            assert!(e.msg.contains("invalid sysctl key"), "{bad}: {}", e.msg);
        }
    }
}
