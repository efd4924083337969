//! The reference's lease files: one per address, named by the address as Go
//! prints it, holding `<containerID>\r\n<ifname>`.

use cni_core::ipam::{Attachment, LeaseOwner, StoreError};
use std::fs;
use std::io::ErrorKind;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub const LINE_BREAK: &str = "\r\n";
pub const LAST_IP_PREFIX: &str = "last_reserved_ip.";

/// Go and Rust print addresses alike (RFC 5952 for IPv6), so the name is the
/// address's display form.
pub fn lease_path(net_dir: &Path, ip: IpAddr) -> PathBuf {
    net_dir.join(ip.to_string())
}

pub fn parse_lease_name(name: &str) -> Option<IpAddr> {
    name.parse().ok()
}

pub fn lease_content(att: &Attachment) -> String {
    format!("{}{LINE_BREAK}{}", att.container_id.trim(), att.ifname)
}

pub fn parse_owner(content: &str) -> LeaseOwner {
    // The reference compares trimmed content.
    let t = content.trim();
    match t.split_once(LINE_BREAK) {
        Some((id, ifname)) => LeaseOwner {
            container_id: id.to_string(),
            ifname: Some(ifname.to_string()),
        },
        None => LeaseOwner {
            container_id: t.to_string(),
            ifname: None,
        },
    }
}

/// The holder of the lease file at `path`; None if there is no such file.
pub fn read_owner(path: &Path) -> Result<Option<LeaseOwner>, StoreError> {
    match fs::read_to_string(path) {
        Ok(c) => Ok(Some(parse_owner(&c))),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::io("reading", path, e)),
    }
}
