//! The key layout under a network's prefix, and the records stored there.
//! This is a persistent format shared by every node: change it only with a
//! migration.
//!
//! - `<prefix>addr/<ip>` → [`AddrOwner`]: who holds the address.
//! - `<prefix>attachment/<containerID>/<ifname>` → [`AttachmentRecord`]: the
//!   addresses it holds (with prefix length and gateway) and its node.
//! - `<prefix>quarantine/<ip>` → [`Quarantine`]: when the address was freed.

use super::super::addr::canonical;
use crate::spec::config::Attachment;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The keys of one network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// Ends with `/`.
    prefix: String,
}

impl Keys {
    /// `prefix` is the configured prefix with the network name appended by
    /// the caller; a missing trailing `/` is added.
    pub fn new(prefix: &str) -> Self {
        let mut prefix = prefix.to_string();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        Keys { prefix }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn addrs(&self) -> String {
        format!("{}addr/", self.prefix)
    }

    pub fn addr(&self, ip: IpAddr) -> String {
        format!("{}{}", self.addrs(), canonical(ip))
    }

    pub fn attachments(&self) -> String {
        format!("{}attachment/", self.prefix)
    }

    pub fn attachment(&self, att: &Attachment) -> String {
        format!("{}{}/{}", self.attachments(), att.container_id, att.ifname)
    }

    pub fn quarantines(&self) -> String {
        format!("{}quarantine/", self.prefix)
    }

    pub fn quarantine(&self, ip: IpAddr) -> String {
        format!("{}{}", self.quarantines(), canonical(ip))
    }

    /// The address a key under `addr/` or `quarantine/` names.
    pub fn ip_of(&self, key: &str) -> Option<IpAddr> {
        key.strip_prefix(&self.addrs())
            .or_else(|| key.strip_prefix(&self.quarantines()))?
            .parse()
            .ok()
    }

    /// The attachment a key under `attachment/` names.
    pub fn attachment_of(&self, key: &str) -> Option<Attachment> {
        let rest = key.strip_prefix(&self.attachments())?;
        let (id, ifname) = rest.split_once('/')?;
        Some(Attachment::new(id, ifname))
    }
}

/// The value of `addr/<ip>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrOwner {
    #[serde(rename = "containerID")]
    pub container_id: String,
    pub ifname: String,
    pub node: String,
}

impl AddrOwner {
    pub fn is(&self, att: &Attachment) -> bool {
        self.container_id == att.container_id && self.ifname == att.ifname
    }
}

/// One address of an attachment, as its result carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldAddr {
    pub address: IpNet,
    pub gateway: IpAddr,
}

/// The value of `attachment/<containerID>/<ifname>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    pub node: String,
    pub ips: Vec<HeldAddr>,
    /// Unix milliseconds of the ADD (for operators reading the store).
    pub created: u64,
}

/// The value of `quarantine/<ip>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quarantine {
    /// Unix milliseconds when the address was freed.
    pub released: u64,
}

/// A record under `key` that does not decode: the store was written by
/// something else, and guessing could hand out a held address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable record at {key}: {reason}")]
pub struct CorruptRecord {
    pub key: String,
    pub reason: String,
}

pub fn decode<T: for<'de> Deserialize<'de>>(key: &str, value: &[u8]) -> Result<T, CorruptRecord> {
    serde_json::from_slice(value).map_err(|e| CorruptRecord {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Plain structs of strings and numbers always serialize.
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let k = Keys::new("/cni-rs/ipam/net1");
        let ip: IpAddr = "10.0.0.5".parse().unwrap();
        assert_eq!(k.addr(ip), "/cni-rs/ipam/net1/addr/10.0.0.5");
        assert_eq!(k.ip_of(&k.addr(ip)), Some(ip));
        assert_eq!(k.ip_of(&k.quarantine(ip)), Some(ip));
        let att = Attachment::new("c1", "eth0");
        assert_eq!(k.attachment(&att), "/cni-rs/ipam/net1/attachment/c1/eth0");
        assert_eq!(k.attachment_of(&k.attachment(&att)), Some(att));
        let mapped: IpAddr = "::ffff:10.0.0.5".parse().unwrap();
        assert_eq!(k.addr(mapped), k.addr(ip));
    }
}
