//! The reference's lease files: one per address, named by the address as Go
//! prints it, holding `<containerID>\r\n<ifname>`; and its
//! `last_reserved_ip.<range set>` files holding one address.

use cni_core::fsio::{read_if_exists, FileOps};
use cni_core::ipam::{Attachment, LeaseOwner, StoreError};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub const LINE_BREAK: &str = "\r\n";
pub const LAST_IP_PREFIX: &str = "last_reserved_ip.";
/// Far above any lease we write (a container ID and an interface name): a
/// larger file is not a lease, and reading it must not cost unbounded memory.
pub const MAX_LEASE_BYTES: u64 = 64 * 1024;

/// Go and Rust print addresses alike (RFC 5952 for IPv6), so the name is the
/// address's display form.
pub fn lease_path(net_dir: &Path, ip: IpAddr) -> PathBuf {
    net_dir.join(ip.to_string())
}

pub fn last_reserved_path(net_dir: &Path, range_set: usize) -> PathBuf {
    net_dir.join(format!("{LAST_IP_PREFIX}{range_set}"))
}

pub fn parse_lease_name(name: &str) -> Option<IpAddr> {
    name.parse().ok()
}

pub fn lease_content(att: &Attachment) -> String {
    format!("{}{LINE_BREAK}{}", att.container_id.trim(), att.ifname)
}

/// The holder named by a lease file's bytes. The reference compares content
/// as a Go string, so bytes that are not UTF-8 are read lossily: such a lease
/// names nobody we could be asked about, but still holds its address.
pub fn parse_owner(content: &[u8]) -> LeaseOwner {
    let text = String::from_utf8_lossy(content);
    // The reference compares trimmed content.
    let t = text.trim();
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

/// The address in a `last_reserved_ip` file; None when it holds none (the
/// reference then starts from the range's beginning).
pub fn parse_last_reserved(content: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(content).ok()?.trim().parse().ok()
}

/// The holder of the lease file at `path`; None if there is no such file.
/// A symlink or anything but a regular file there is an error naming `path`.
pub fn read_owner(fs: &dyn FileOps, path: &Path) -> Result<Option<LeaseOwner>, StoreError> {
    read_if_exists(fs, path, MAX_LEASE_BYTES)
        .map(|bytes| bytes.map(|b| parse_owner(&b)))
        .map_err(|e| StoreError::io("reading", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_round_trips_through_the_lease_format() {
        let att = Attachment::new("c1", "eth0");
        assert_eq!(
            parse_owner(lease_content(&att).as_bytes()),
            LeaseOwner::of(&att)
        );
        let legacy = parse_owner(b" c1 \n");
        assert_eq!(legacy.container_id, "c1");
        assert_eq!(legacy.ifname, None);
    }

    #[test]
    fn non_utf8_lease_still_parses() {
        let owner = parse_owner(b"c\xff1\r\neth0");
        assert_eq!(owner.ifname.as_deref(), Some("eth0"));
    }
}
