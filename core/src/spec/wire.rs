//! The result documents exactly as each spec version writes them on the wire,
//! field order and omission rules included (containernetworking/cni
//! pkg/types/020, 040, 100). Only `result.rs` converts between these and the model.

use super::result::{Dns, Interface, IpConfig, Route};
use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize};
use std::net::IpAddr;

/// `null` reads as the default, as Go's decoder leaves the zero value.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Go's `net.IP` reads `""` (and `null`) as no address.
pub(crate) fn optional_ip<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// Go omits an `int` field that is 0 (`omitempty`); reading 0 back is "unset".
fn nonzero<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(Option::<u32>::deserialize(d)?.filter(|v| *v != 0))
}

fn is_unset(v: &Option<u32>) -> bool {
    v.is_none_or(|v| v == 0)
}

/// A route as 0.3.0 and later write it; the 1.1.0 fields are set only for
/// 1.1.0 results (see `result::wire_routes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireRoute {
    pub dst: IpNet,
    #[serde(
        default,
        deserialize_with = "optional_ip",
        skip_serializing_if = "Option::is_none"
    )]
    pub gw: Option<IpAddr>,
    #[serde(
        default,
        deserialize_with = "nonzero",
        skip_serializing_if = "is_unset"
    )]
    pub mtu: Option<u32>,
    #[serde(
        default,
        deserialize_with = "nonzero",
        skip_serializing_if = "is_unset"
    )]
    pub advmss: Option<u32>,
    #[serde(
        default,
        deserialize_with = "nonzero",
        skip_serializing_if = "is_unset"
    )]
    pub priority: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<u32>,
}

impl From<&Route> for WireRoute {
    fn from(r: &Route) -> Self {
        WireRoute {
            dst: r.dst,
            gw: r.gw,
            mtu: r.mtu.filter(|v| *v != 0),
            advmss: r.advmss.filter(|v| *v != 0),
            priority: r.priority.filter(|v| *v != 0),
            table: r.table,
            scope: r.scope,
        }
    }
}

impl From<WireRoute> for Route {
    fn from(r: WireRoute) -> Self {
        Route {
            dst: r.dst,
            gw: r.gw,
            mtu: r.mtu,
            advmss: r.advmss,
            priority: r.priority,
            table: r.table,
            scope: r.scope,
        }
    }
}

// ---- 0.1.0 / 0.2.0 ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Route02 {
    pub dst: IpNet,
    #[serde(
        default,
        deserialize_with = "optional_ip",
        skip_serializing_if = "Option::is_none"
    )]
    pub gw: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IpConfig02 {
    pub ip: IpNet,
    #[serde(
        default,
        deserialize_with = "optional_ip",
        skip_serializing_if = "Option::is_none"
    )]
    pub gateway: Option<IpAddr>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub routes: Vec<Route02>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Result02 {
    #[serde(
        rename = "cniVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub cni_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip4: Option<IpConfig02>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip6: Option<IpConfig02>,
    /// Always written, `{}` when empty, as the reference's struct field is.
    #[serde(default, deserialize_with = "null_default")]
    pub dns: WireDns,
}

// ---- 0.3.0 / 0.3.1 / 0.4.0 ----

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Interface04 {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sandbox: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IpConfig04 {
    /// "4" or "6"; derived from the address on output, not trusted on input.
    #[serde(default)]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<usize>,
    pub address: IpNet,
    #[serde(
        default,
        deserialize_with = "optional_ip",
        skip_serializing_if = "Option::is_none"
    )]
    pub gateway: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Result04 {
    #[serde(
        rename = "cniVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub cni_version: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub interfaces: Vec<Interface04>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ips: Vec<IpConfig04>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub routes: Vec<WireRoute>,
    #[serde(default, deserialize_with = "null_default")]
    pub dns: WireDns,
}

// ---- 1.0.0 / 1.1.0 ----

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Interface100 {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    #[serde(
        default,
        deserialize_with = "nonzero",
        skip_serializing_if = "is_unset"
    )]
    pub mtu: Option<u32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sandbox: String,
    #[serde(
        rename = "socketPath",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub socket_path: String,
    #[serde(rename = "pciID", default, skip_serializing_if = "String::is_empty")]
    pub pci_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IpConfig100 {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<usize>,
    pub address: IpNet,
    #[serde(
        default,
        deserialize_with = "optional_ip",
        skip_serializing_if = "Option::is_none"
    )]
    pub gateway: Option<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Result100 {
    #[serde(
        rename = "cniVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub cni_version: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub interfaces: Vec<Interface100>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub ips: Vec<IpConfig100>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub routes: Vec<WireRoute>,
    /// 1.x omits an empty `dns` (the reference's custom MarshalJSON).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "WireDns::is_empty"
    )]
    pub dns: WireDns,
}

/// DNS on the wire: like the model's, but tolerant of `null` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireDns {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub nameservers: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub domain: String,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub search: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub options: Vec<String>,
}

impl WireDns {
    pub fn is_empty(&self) -> bool {
        self.nameservers.is_empty()
            && self.domain.is_empty()
            && self.search.is_empty()
            && self.options.is_empty()
    }
}

impl From<&Dns> for WireDns {
    fn from(d: &Dns) -> Self {
        WireDns {
            nameservers: d.nameservers.clone(),
            domain: d.domain.clone(),
            search: d.search.clone(),
            options: d.options.clone(),
        }
    }
}

impl From<WireDns> for Dns {
    fn from(d: WireDns) -> Self {
        Dns {
            nameservers: d.nameservers,
            domain: d.domain,
            search: d.search,
            options: d.options,
        }
    }
}

impl From<&Interface> for Interface100 {
    fn from(i: &Interface) -> Self {
        Interface100 {
            name: i.name.clone(),
            mac: i.mac.clone(),
            mtu: i.mtu,
            sandbox: i.sandbox.clone(),
            socket_path: i.socket_path.clone(),
            pci_id: i.pci_id.clone(),
        }
    }
}

impl From<Interface100> for Interface {
    fn from(i: Interface100) -> Self {
        Interface {
            name: i.name,
            mac: i.mac,
            mtu: i.mtu,
            sandbox: i.sandbox,
            socket_path: i.socket_path,
            pci_id: i.pci_id,
        }
    }
}

impl From<&IpConfig> for IpConfig100 {
    fn from(c: &IpConfig) -> Self {
        IpConfig100 {
            interface: c.interface,
            address: c.address,
            gateway: c.gateway,
        }
    }
}

impl From<IpConfig100> for IpConfig {
    fn from(c: IpConfig100) -> Self {
        IpConfig {
            address: c.address,
            gateway: c.gateway,
            interface: c.interface,
        }
    }
}
