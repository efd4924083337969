//! The result model at the newest spec version (1.1.0). Every other version's
//! result shape converts to and from this one (see `convert`).

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// An interface a plugin created or reports on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interface {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
    /// 1.1.0
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// Path of the network namespace for container interfaces; empty for host ones.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sandbox: String,
    /// 1.1.0
    #[serde(
        rename = "socketPath",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub socket_path: String,
    /// 1.1.0
    #[serde(rename = "pciID", default, skip_serializing_if = "String::is_empty")]
    pub pci_id: String,
}

/// An address assigned to an interface. `address` keeps the host bits (`10.1.0.5/24`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpConfig {
    pub address: IpNet,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<IpAddr>,
    /// Index into `CniResult::interfaces`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<usize>,
}

/// A route. The 1.1.0 fields are dropped when converting to older versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub dst: IpNet,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gw: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advmss: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<u32>,
}

impl Route {
    pub fn new(dst: IpNet, gw: Option<IpAddr>) -> Self {
        Route {
            dst,
            gw,
            mtu: None,
            advmss: None,
            priority: None,
            table: None,
            scope: None,
        }
    }
}

/// DNS settings. Empty fields are omitted on output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dns {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nameservers: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub search: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl Dns {
    pub fn is_empty(&self) -> bool {
        self.nameservers.is_empty()
            && self.domain.is_empty()
            && self.search.is_empty()
            && self.options.is_empty()
    }
}

/// A plugin's result in the newest model. `cni_version` is the version it is
/// (to be) rendered at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniResult {
    #[serde(rename = "cniVersion")]
    pub cni_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<Interface>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ips: Vec<IpConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "Dns::is_empty")]
    pub dns: Dns,
}

// ---- parsing and rendering at every spec version ----

use super::wire::{
    Interface04, IpConfig02, IpConfig04, Result02, Result04, Result100, Route02, WireDns, WireRoute,
};
use crate::error::{code, CniError};

/// The three result shapes the spec has had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultShape {
    /// 0.1.0, 0.2.0: `ip4`/`ip6` objects.
    V02,
    /// 0.3.0, 0.3.1, 0.4.0: `interfaces`, `ips` with `version`.
    V04,
    /// 1.0.0, 1.1.0.
    V1,
}

impl ResultShape {
    pub fn of(version: &str) -> Result<ResultShape, ResultError> {
        match version {
            "0.1.0" | "0.2.0" => Ok(ResultShape::V02),
            "0.3.0" | "0.3.1" | "0.4.0" => Ok(ResultShape::V04),
            "1.0.0" | "1.1.0" => Ok(ResultShape::V1),
            other => Err(ResultError::UnsupportedVersion(other.to_string())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    #[error("unsupported CNI result version {0:?}")]
    UnsupportedVersion(String),
    #[error("failed to decode a {version} result: {reason}")]
    Decode { version: String, reason: String },
    #[error("cannot convert a result to version {to}: {reason}")]
    CannotConvert { to: String, reason: String },
}

impl From<ResultError> for CniError {
    fn from(e: ResultError) -> Self {
        let c = match e {
            ResultError::Decode { .. } => code::DECODING_FAILURE,
            _ => code::INCOMPATIBLE_VERSION,
        };
        CniError::new(c, e.to_string())
    }
}

fn decode<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    version: &str,
) -> Result<T, ResultError> {
    serde_json::from_value(value).map_err(|e| ResultError::Decode {
        version: version.to_string(),
        reason: e.to_string(),
    })
}

impl CniResult {
    /// Parses a result of any version; one without `cniVersion` is 0.1.0 (spec).
    pub fn parse(bytes: &[u8]) -> Result<CniResult, ResultError> {
        Self::parse_with_default_version(bytes, super::version::DEFAULT_CONFIG_VERSION)
    }

    /// Parses a result whose missing or empty `cniVersion` means
    /// `default_version` (the reference assumes the config's version for a
    /// plugin that printed none).
    pub fn parse_with_default_version(
        bytes: &[u8],
        default_version: &str,
    ) -> Result<CniResult, ResultError> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| ResultError::Decode {
                version: default_version.to_string(),
                reason: e.to_string(),
            })?;
        Self::from_value(value, default_version)
    }

    /// Like [`CniResult::parse_with_default_version`] on an already parsed document.
    pub fn from_value(
        value: serde_json::Value,
        default_version: &str,
    ) -> Result<CniResult, ResultError> {
        let version = match value.get("cniVersion") {
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            None | Some(serde_json::Value::Null) => default_version.to_string(),
            Some(serde_json::Value::String(_)) => default_version.to_string(),
            Some(other) => {
                return Err(ResultError::Decode {
                    version: default_version.to_string(),
                    reason: format!("cniVersion must be a string, got {other}"),
                })
            }
        };
        let mut value = value;
        if !has_route_extras(&version) {
            keep_only_basic_route_keys(&mut value);
        }
        let mut out = match ResultShape::of(&version)? {
            ResultShape::V02 => from_02(decode(value, &version)?),
            ResultShape::V04 => from_04(decode(value, &version)?),
            ResultShape::V1 => from_100(decode(value, &version)?),
        };
        out.cni_version = version;
        Ok(out)
    }

    /// The document for `version`, with what that version cannot express dropped
    /// as the reference drops it. 0.1.0/0.2.0 carry only the first IPv4 and the
    /// first IPv6 address; a result with no address at all cannot be written there.
    pub fn to_value_at(&self, version: &str) -> Result<serde_json::Value, ResultError> {
        let encode = |r: Result<serde_json::Value, serde_json::Error>| {
            r.map_err(|e| ResultError::CannotConvert {
                to: version.to_string(),
                reason: e.to_string(),
            })
        };
        match ResultShape::of(version)? {
            ResultShape::V02 => encode(serde_json::to_value(to_02(self, version)?)),
            ResultShape::V04 => encode(serde_json::to_value(to_04(self, version))),
            ResultShape::V1 => encode(serde_json::to_value(to_100(self, version))),
        }
    }

    /// The document for `version` as a plugin prints it: four-space indent,
    /// no trailing newline.
    pub fn to_json_at(&self, version: &str) -> Result<String, ResultError> {
        Ok(crate::json::to_string_indent4(&self.to_value_at(version)?))
    }

    /// This result as seen through `version`: fields that version cannot carry
    /// are gone and `cni_version` is `version`.
    pub fn convert_to(&self, version: &str) -> Result<CniResult, ResultError> {
        let value = self.to_value_at(version)?;
        let mut out = Self::from_value(value, version)?;
        out.cni_version = version.to_string();
        Ok(out)
    }
}

/// The 1.1.0 route fields (`mtu`, `advmss`, `priority`, `table`, `scope`)
/// exist from 1.1.0 on; older results have `dst` and `gw` only.
fn has_route_extras(version: &str) -> bool {
    super::version::version_at_least(version, "1.1.0").unwrap_or(false)
}

/// Before 1.1.0 any other key of a route is unknown to the version: ignored
/// as the reference ignores it, never type-checked.
fn keep_only_basic_route_keys(value: &mut serde_json::Value) {
    if let Some(routes) = value.get_mut("routes").and_then(|r| r.as_array_mut()) {
        for route in routes.iter_mut().filter_map(|r| r.as_object_mut()) {
            route.retain(|k, _| k == "dst" || k == "gw");
        }
    }
}

/// The routes `version` can write.
fn wire_routes(routes: &[Route], version: &str) -> Vec<WireRoute> {
    let extras = has_route_extras(version);
    routes
        .iter()
        .map(|r| match extras {
            true => WireRoute::from(r),
            false => WireRoute::from(&Route::new(r.dst, r.gw)),
        })
        .collect()
}

fn from_02(r: Result02) -> CniResult {
    let mut out = CniResult {
        dns: r.dns.into(),
        ..Default::default()
    };
    for ipc in [r.ip4, r.ip6].into_iter().flatten() {
        out.ips.push(IpConfig {
            address: ipc.ip,
            gateway: ipc.gateway,
            interface: None,
        });
        out.routes
            .extend(ipc.routes.into_iter().map(|rt| Route::new(rt.dst, rt.gw)));
    }
    out
}

fn from_04(r: Result04) -> CniResult {
    CniResult {
        cni_version: String::new(),
        interfaces: r
            .interfaces
            .into_iter()
            .map(|i| Interface {
                name: i.name,
                mac: i.mac,
                sandbox: i.sandbox,
                ..Default::default()
            })
            .collect(),
        ips: r
            .ips
            .into_iter()
            .map(|c| IpConfig {
                address: c.address,
                gateway: c.gateway,
                interface: c.interface,
            })
            .collect(),
        routes: r.routes.into_iter().map(Route::from).collect(),
        dns: r.dns.into(),
    }
}

fn from_100(r: Result100) -> CniResult {
    CniResult {
        cni_version: String::new(),
        interfaces: r.interfaces.into_iter().map(Interface::from).collect(),
        ips: r.ips.into_iter().map(IpConfig::from).collect(),
        routes: r.routes.into_iter().map(Route::from).collect(),
        dns: r.dns.into(),
    }
}

fn to_100(r: &CniResult, version: &str) -> Result100 {
    Result100 {
        cni_version: version.to_string(),
        interfaces: r.interfaces.iter().map(Into::into).collect(),
        ips: r.ips.iter().map(Into::into).collect(),
        routes: wire_routes(&r.routes, version),
        dns: WireDns::from(&r.dns),
    }
}

fn to_04(r: &CniResult, version: &str) -> Result04 {
    Result04 {
        cni_version: version.to_string(),
        interfaces: r
            .interfaces
            .iter()
            .map(|i| Interface04 {
                name: i.name.clone(),
                mac: i.mac.clone(),
                sandbox: i.sandbox.clone(),
            })
            .collect(),
        ips: r
            .ips
            .iter()
            .map(|c| IpConfig04 {
                version: if c.address.addr().is_ipv4() { "4" } else { "6" }.to_string(),
                interface: c.interface,
                address: c.address,
                gateway: c.gateway,
            })
            .collect(),
        routes: wire_routes(&r.routes, version),
        dns: WireDns::from(&r.dns),
    }
}

fn to_02(r: &CniResult, version: &str) -> Result<Result02, ResultError> {
    let first = |v4: bool| {
        r.ips
            .iter()
            .find(|c| c.address.addr().is_ipv4() == v4)
            .map(|c| IpConfig02 {
                ip: c.address,
                gateway: c.gateway,
                routes: Vec::new(),
            })
    };
    let mut ip4 = first(true);
    let mut ip6 = first(false);
    if ip4.is_none() && ip6.is_none() {
        return Err(ResultError::CannotConvert {
            to: version.to_string(),
            reason: "no valid IP addresses".into(),
        });
    }
    // A route goes to the family of its destination, and only if that family
    // has an address to hang it on; the 1.1.0 route fields have no place here.
    for rt in &r.routes {
        let slot = if rt.dst.addr().is_ipv4() {
            ip4.as_mut()
        } else {
            ip6.as_mut()
        };
        if let Some(ipc) = slot {
            ipc.routes.push(Route02 {
                dst: rt.dst,
                gw: rt.gw,
            });
        }
    }
    Ok(Result02 {
        cni_version: version.to_string(),
        ip4,
        ip6,
        dns: WireDns::from(&r.dns),
    })
}
