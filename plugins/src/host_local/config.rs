//! host-local's input, read straight from the stdin JSON and CNI_ARGS: the
//! IPAM section (ranges, routes, dataDir, resolvConf), requested addresses and
//! the GC/CHECK inputs. Every rejection names the field.

use cni_core::error::code;
use cni_core::ipam::config::{check_no_overlap, validate_range_set};
use cni_core::ipam::{Attachment, RangeSet, RangeSpec};
use cni_core::spec::Route;
use cni_core::CniError;
use ipnet::IpNet;
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::path::PathBuf;

pub const DEFAULT_DATA_DIR: &str = "/var/lib/cni/networks";

/// host-local's configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct NetConf {
    pub name: String,
    pub cni_version: String,
    pub ranges: Vec<RangeSet>,
    pub routes: Vec<Route>,
    pub data_dir: PathBuf,
    pub resolv_conf: Option<PathBuf>,
    /// From CNI_ARGS `IP=`, then `args.cni.ips`, then `runtimeConfig.ips`.
    pub requested: Vec<IpAddr>,
    /// `cni.dev/valid-attachments` (GC).
    pub valid_attachments: Option<Vec<Attachment>>,
    /// The addresses of `prevResult` (CHECK).
    pub prev_ips: Option<Vec<IpAddr>>,
}

fn invalid(msg: impl Into<String>) -> CniError {
    CniError::invalid_config(msg)
}

fn wrong_type(field: &str, want: &str) -> CniError {
    CniError::decode(format!("{field}: expected {want}"))
}

fn opt_str(obj: &Map<String, Value>, key: &str, path: &str) -> Result<Option<String>, CniError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(&format!("{path}.{key}"), "a string")),
    }
}

fn opt_obj<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, CniError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(wrong_type(&format!("{path}{key}"), "an object")),
    }
}

fn opt_array<'a>(v: Option<&'a Value>, field: &str) -> Result<Option<&'a Vec<Value>>, CniError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(wrong_type(field, "a list")),
    }
}

fn range_spec(v: &Value, field: &str) -> Result<RangeSpec, CniError> {
    let obj = v
        .as_object()
        .ok_or_else(|| wrong_type(field, "an object"))?;
    Ok(RangeSpec {
        subnet: opt_str(obj, "subnet", field)?,
        range_start: opt_str(obj, "rangeStart", field)?,
        range_end: opt_str(obj, "rangeEnd", field)?,
        gateway: opt_str(obj, "gateway", field)?,
    })
}

/// A list of range sets (`ipam.ranges`, `runtimeConfig.ipRanges`).
fn range_sets(v: &Value, field: &str, out: &mut Vec<(RangeSet, String)>) -> Result<(), CniError> {
    let Some(sets) = opt_array(Some(v), field)? else {
        return Ok(());
    };
    for (i, set) in sets.iter().enumerate() {
        let sf = format!("{field}[{i}]");
        let specs = opt_array(Some(set), &sf)?
            .ok_or_else(|| invalid(format!("{sf}: empty range set")))?
            .iter()
            .enumerate()
            .map(|(j, r)| range_spec(r, &format!("{sf}[{j}]")))
            .collect::<Result<Vec<_>, _>>()?;
        let set = validate_range_set(&specs, &sf, false).map_err(|e| invalid(e.to_string()))?;
        out.push((set, sf));
    }
    Ok(())
}

/// An address as `ip.ParseIP` of the reference takes it: bare or with a prefix.
fn requested_ip(s: &str, field: &str) -> Result<IpAddr, CniError> {
    let t = s.trim();
    t.parse::<IpAddr>()
        .or_else(|_| t.parse::<IpNet>().map(|n| n.addr()))
        .map(cni_core::ipam::addr::canonical)
        .map_err(|_| invalid(format!("{field}: invalid IP address {s:?}")))
}

fn ip_list(v: Option<&Value>, field: &str, out: &mut Vec<IpAddr>) -> Result<(), CniError> {
    for (i, item) in opt_array(v, field)?.into_iter().flatten().enumerate() {
        let f = format!("{field}[{i}]");
        let s = item.as_str().ok_or_else(|| wrong_type(&f, "a string"))?;
        out.push(requested_ip(s, &f)?);
    }
    Ok(())
}

/// `IP=` from CNI_ARGS (`K=V;K2=V2`), comma-separated addresses allowed.
/// Other keys belong to other plugins and are ignored.
pub fn cni_args_ips(args: &str) -> Result<Vec<IpAddr>, CniError> {
    let parsed = cni_core::spec::args::CniArgs::parse(args)?;
    let Some(value) = parsed.get("IP") else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            requested_ip(s, "CNI_ARGS IP")
                .map_err(|e| CniError::new(code::INVALID_ENVIRONMENT, e.msg))
        })
        .collect()
}

fn route(v: &Value, field: &str) -> Result<Route, CniError> {
    let obj = v
        .as_object()
        .ok_or_else(|| wrong_type(field, "an object"))?;
    let dst_s =
        opt_str(obj, "dst", field)?.ok_or_else(|| invalid(format!("{field}.dst: missing")))?;
    let dst = dst_s
        .parse::<IpNet>()
        .map_err(|_| invalid(format!("{field}.dst: invalid CIDR {dst_s:?}")))?;
    let gw = match opt_str(obj, "gw", field)?.filter(|s| !s.is_empty()) {
        Some(g) => Some(
            g.parse::<IpAddr>()
                .map_err(|_| invalid(format!("{field}.gw: invalid IP address {g:?}")))?,
        ),
        None => None,
    };
    let num = |k: &str| -> Result<Option<u32>, CniError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(n) => n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| wrong_type(&format!("{field}.{k}"), "an unsigned number")),
        }
    };
    Ok(Route {
        dst,
        gw,
        mtu: num("mtu")?,
        advmss: num("advmss")?,
        priority: num("priority")?,
        table: num("table")?,
        scope: num("scope")?,
    })
}

/// The network name becomes a directory under dataDir: no path tricks.
fn check_name(name: &str) -> Result<(), CniError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(invalid(format!(
            "name: {name:?} cannot name a directory under dataDir"
        )));
    }
    Ok(())
}

fn prev_result_ips(prev: &Value) -> Result<Vec<IpAddr>, CniError> {
    let mut out = Vec::new();
    let ips = opt_array(prev.get("ips"), "prevResult.ips")?;
    for (i, ipc) in ips.into_iter().flatten().enumerate() {
        let f = format!("prevResult.ips[{i}].address");
        let a = ipc
            .get("address")
            .and_then(Value::as_str)
            .ok_or_else(|| wrong_type(&f, "a CIDR string"))?;
        let net = a
            .parse::<IpNet>()
            .map_err(|_| CniError::decode(format!("{f}: invalid CIDR {a:?}")))?;
        out.push(cni_core::ipam::addr::canonical(net.addr()));
    }
    Ok(out)
}

fn attachments(v: Option<&Value>) -> Result<Option<Vec<Attachment>>, CniError> {
    const F: &str = "cni.dev/valid-attachments";
    let Some(list) = opt_array(v, F)? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let f = format!("{F}[{i}]");
        let obj = a.as_object().ok_or_else(|| wrong_type(&f, "an object"))?;
        let id = opt_str(obj, "containerID", &f)?
            .ok_or_else(|| invalid(format!("{f}.containerID: missing")))?;
        let ifname =
            opt_str(obj, "ifname", &f)?.ok_or_else(|| invalid(format!("{f}.ifname: missing")))?;
        out.push(Attachment::new(id, ifname));
    }
    Ok(Some(out))
}

/// Parses and validates host-local's input.
pub fn parse(stdin: &[u8], cni_args: &str) -> Result<NetConf, CniError> {
    let root: Value = serde_json::from_slice(stdin)
        .map_err(|e| CniError::decode(format!("decoding network configuration: {e}")))?;
    let top = root
        .as_object()
        .ok_or_else(|| CniError::decode("network configuration: expected a JSON object"))?;
    let name = opt_str(top, "name", "")?.unwrap_or_default();
    if name.is_empty() {
        return Err(invalid("name: missing network name"));
    }
    check_name(&name)?;
    let cni_version = opt_str(top, "cniVersion", "")?.unwrap_or_else(|| "0.1.0".to_string());
    let ipam =
        opt_obj(top, "ipam", "")?.ok_or_else(|| invalid("ipam: IPAM config missing 'ipam' key"))?;
    let runtime = opt_obj(top, "runtimeConfig", "")?;

    let mut sets: Vec<(RangeSet, String)> = Vec::new();
    if let Some(rt) = runtime.and_then(|r| r.get("ipRanges")) {
        range_sets(rt, "runtimeConfig.ipRanges", &mut sets)?;
    }
    let single = range_spec(&Value::Object(ipam.clone()), "ipam")?;
    if single != RangeSpec::default() {
        let set = validate_range_set(std::slice::from_ref(&single), "ipam", true)
            .map_err(|e| invalid(e.to_string()))?;
        sets.push((set, "ipam".to_string()));
    }
    if let Some(r) = ipam.get("ranges") {
        range_sets(r, "ipam.ranges", &mut sets)?;
    }
    let (ranges, fields): (Vec<RangeSet>, Vec<String>) = sets.into_iter().unzip();
    check_no_overlap(&ranges, &fields).map_err(|e| invalid(e.to_string()))?;
    if !version_at_least_030(&cni_version) {
        let v4 = ranges.iter().filter(|s| s.is_ipv4()).count();
        if v4 > 1 || ranges.len() - v4 > 1 {
            return Err(invalid(format!(
                "ipam.ranges: CNI version {cni_version} does not support more than 1 address per family"
            )));
        }
    }

    let routes = opt_array(ipam.get("routes"), "ipam.routes")?
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| route(r, &format!("ipam.routes[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let data_dir = opt_str(ipam, "dataDir", "ipam")?
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_DATA_DIR.to_string());
    let resolv_conf = opt_str(ipam, "resolvConf", "ipam")?
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);

    let mut requested = cni_args_ips(cni_args)?;
    let mut sources = vec!["CNI_ARGS IP"; requested.len()];
    if let Some(cni) = opt_obj(top, "args", "")?
        .map(|a| opt_obj(a, "cni", "args."))
        .transpose()?
    {
        ip_list(
            cni.and_then(|c| c.get("ips")),
            "args.cni.ips",
            &mut requested,
        )?;
    }
    sources.resize(requested.len(), "args.cni.ips");
    ip_list(
        runtime.and_then(|r| r.get("ips")),
        "runtimeConfig.ips",
        &mut requested,
    )?;
    sources.resize(requested.len(), "runtimeConfig.ips");

    check_requests(&ranges, &requested, &sources)?;

    let prev_ips = match top.get("prevResult") {
        None | Some(Value::Null) => None,
        Some(p) => Some(prev_result_ips(p)?),
    };
    Ok(NetConf {
        name,
        cni_version,
        ranges,
        routes,
        data_dir: PathBuf::from(data_dir),
        resolv_conf,
        requested,
        valid_attachments: attachments(top.get("cni.dev/valid-attachments"))?,
        prev_ips,
    })
}

/// A requested address that no ADD could ever grant is a configuration error,
/// found before anything is touched.
fn check_requests(sets: &[RangeSet], ips: &[IpAddr], sources: &[&str]) -> Result<(), CniError> {
    for (ip, field) in ips.iter().zip(sources) {
        match sets.iter().find_map(|s| s.range_for(*ip)) {
            None => {
                return Err(invalid(format!(
                    "{field}: requested IP address {ip} is not in any range set"
                )))
            }
            Some(r) if r.gateway == *ip => {
                return Err(invalid(format!(
                    "{field}: requested ip {ip} is subnet's gateway"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn version_at_least_030(v: &str) -> bool {
    !matches!(v, "0.1.0" | "0.2.0")
}
