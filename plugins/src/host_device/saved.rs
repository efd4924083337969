//! What the host loses when its device moves into a container, saved for
//! DEL: the device's name (also kept in its alias, where the reference looks
//! for it), its alias before, whether it was up, its addresses and the
//! routes through it (a link moved to another namespace leaves them
//! behind). One file per attachment under `dataDir` (`common::state_file`);
//! a file an older version wrote, without routes, reads as having none.

use crate::common::state_file;
use cni_core::fsio::FileOps;
use cni_core::net::{
    AddressInfo, AddressSpec, LinkInfo, RouteInfo, RouteProtocol, RouteScope, RouteSpec,
};
use cni_core::CniError;
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostState {
    /// The network that saved it.
    pub network: String,
    /// The device's name in the host.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    pub up: bool,
    #[serde(default)]
    pub addresses: Vec<SavedAddress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<SavedRoute>,
}

/// A route through the device, as the host had it (any table but `local`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedRoute {
    /// The destination network: `198.51.100.0/24`.
    pub dst: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    pub table: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// RT_SCOPE_*.
    pub scope: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advmss: Option<u32>,
    /// RTPROT_*.
    pub protocol: u8,
}

/// The `local` table (RT_TABLE_LOCAL): the kernel's own, per address.
const TABLE_LOCAL: u32 = 255;

impl SavedRoute {
    /// Routes of `index` someone added: not the kernel's (prefix routes come
    /// back with the addresses, link-local and multicast ones with the link).
    pub fn through(routes: &[RouteInfo], index: u32) -> Vec<SavedRoute> {
        routes
            .iter()
            .filter(|r| {
                r.oif == Some(index)
                    && r.protocol != RouteProtocol::Kernel
                    && r.table != TABLE_LOCAL
            })
            .map(|r| SavedRoute {
                dst: r.dst.to_string(),
                gateway: r.gateway.map(|g| g.to_string()),
                table: r.table,
                metric: r.metric,
                scope: r.scope.as_u8(),
                src: r.src.map(|s| s.to_string()),
                mtu: r.mtu,
                advmss: r.advmss,
                protocol: r.protocol.as_u8(),
            })
            .collect()
    }

    /// The route again, through the link at `index`; a field that does not
    /// parse is named.
    pub fn spec(&self, index: u32, device: &str) -> Result<RouteSpec, CniError> {
        let bad = |what: &str, v: &str, e: String| {
            CniError::decode(format!(
                "saved host route {} of {device}: {what} {v:?}: {e}",
                self.dst
            ))
        };
        let dst: ipnet::IpNet = self
            .dst
            .parse()
            .map_err(|e: ipnet::AddrParseError| bad("destination", &self.dst, e.to_string()))?;
        let ip = |what: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| {
                    s.parse::<std::net::IpAddr>()
                        .map_err(|e| bad(what, s, e.to_string()))
                })
                .transpose()
        };
        let mut spec = RouteSpec::new(dst).dev(index);
        spec.gateway = ip("gateway", &self.gateway)?;
        spec.src = ip("source", &self.src)?;
        spec.scope = RouteScope::from_u8(self.scope);
        spec.table = Some(self.table);
        spec.metric = self.metric;
        spec.mtu = self.mtu;
        spec.advmss = self.advmss;
        spec.protocol = Some(match self.protocol {
            2 => RouteProtocol::Kernel,
            3 => RouteProtocol::Boot,
            p => RouteProtocol::Other(p),
        });
        Ok(spec)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAddress {
    /// With its prefix: `192.0.2.5/24`.
    pub address: String,
    #[serde(default)]
    pub nodad: bool,
}

impl HostState {
    /// The device as the host has it now. IPv6 link-local addresses are the
    /// kernel's own and come back by themselves when the link is up.
    pub fn of(
        network: &str,
        link: &LinkInfo,
        addresses: &[AddressInfo],
        routes: &[RouteInfo],
    ) -> HostState {
        HostState {
            network: network.to_string(),
            name: link.name.clone(),
            alias: link.alias.clone(),
            up: link.up,
            addresses: addresses
                .iter()
                .filter(|a| !(a.addr.addr().is_ipv6() && a.scope == RouteScope::Link))
                .map(|a| SavedAddress {
                    address: a.addr.to_string(),
                    nodad: a.nodad,
                })
                .collect(),
            routes: SavedRoute::through(routes, link.index),
        }
    }

    /// The addresses to add back; one that does not parse is named.
    pub fn address_specs(&self) -> Result<Vec<AddressSpec>, CniError> {
        self.addresses
            .iter()
            .map(|a| {
                a.address
                    .parse()
                    .map(|addr| AddressSpec {
                        addr,
                        nodad: a.nodad,
                    })
                    .map_err(|e| {
                        CniError::decode(format!(
                            "saved host address {:?} of {}: {e}",
                            a.address, self.name
                        ))
                    })
            })
            .collect()
    }
}

pub fn write(
    fs: &dyn FileOps,
    data_dir: &Path,
    file: &Path,
    state: &HostState,
) -> Result<(), CniError> {
    let bytes = serde_json::to_vec_pretty(state)
        .map_err(|e| CniError::io(format!("encoding the saved host state: {e}")))?;
    state_file::write(fs, data_dir, file, &bytes, "the device's host state")
}

/// `Ok(None)` when absent; `Err` with the reason when unreadable or not ours.
pub fn read(fs: &dyn FileOps, file: &Path) -> Result<Option<HostState>, String> {
    let Some(bytes) = state_file::read(fs, file)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("{} is not a saved host-device state: {e}", file.display()))
}
