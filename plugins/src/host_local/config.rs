//! host-local's input, read through core's config model so that every
//! rejection names its field: where the leases live, which every verb needs,
//! and what ADD (and CHECK and STATUS) read besides: ranges, routes,
//! `resolvConf`, requested addresses. DEL and GC read only the first part, so
//! an attachment made under the reference or an earlier config can always
//! be deleted.

use cni_core::error::code;
use cni_core::ipam::addr::canonical;
use cni_core::ipam::config::{check_no_overlap, validate_range_set};
use cni_core::ipam::parse::{parse_cidr, parse_ip, parse_ip_or_cidr};
use cni_core::ipam::{RangeSet, RangeSpec};
use cni_core::spec::config::{ConfigError, Field, Fields, NetConf};
use cni_core::spec::version::version_at_least;
use cni_core::spec::Route;
use cni_core::CniError;
use std::net::IpAddr;
use std::path::PathBuf;

pub const DEFAULT_DATA_DIR: &str = "/var/lib/cni/networks";

/// What every verb needs: the network and where its leases are.
#[derive(Debug, Clone, PartialEq)]
pub struct HostLocalConf {
    pub common: NetConf,
    pub data_dir: PathBuf,
}

/// What ADD needs besides, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct AddConf {
    pub ranges: Vec<RangeSet>,
    pub routes: Vec<Route>,
    pub resolv_conf: Option<PathBuf>,
    /// From CNI_ARGS `IP=`, then `args.cni.ips`, then `runtimeConfig.ips`.
    pub requested: Vec<IpAddr>,
}

/// Parses and validates everything ADD reads.
pub fn parse(stdin: &[u8], cni_args: &str) -> Result<AddConf, CniError> {
    HostLocalConf::parse(stdin)?.add_conf(cni_args)
}

impl HostLocalConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let common = NetConf::parse(stdin)?;
        check_name(&common.name)?;
        let data_dir = ipam(&common.fields())?
            .string("dataDir")?
            .unwrap_or_else(|| DEFAULT_DATA_DIR.to_string());
        Ok(HostLocalConf {
            data_dir: PathBuf::from(data_dir),
            common,
        })
    }

    pub fn name(&self) -> &str {
        &self.common.name
    }

    /// Every range set, in the reference's order: `runtimeConfig.ipRanges`,
    /// the legacy single range written in `ipam` itself, `ipam.ranges`.
    pub fn ranges(&self) -> Result<Vec<RangeSet>, CniError> {
        let top = self.common.fields();
        let ipam = ipam(&top)?;
        let mut sets: Vec<(RangeSet, String)> = Vec::new();
        if let Some(runtime) = top.object("runtimeConfig")? {
            range_sets(runtime.items("ipRanges")?, &mut sets)?;
        }
        let single = range_spec(&ipam)?;
        if single != RangeSpec::default() {
            let set = validate_range_set(std::slice::from_ref(&single), "ipam", true)
                .map_err(ConfigError::from)?;
            sets.push((set, "ipam".to_string()));
        }
        range_sets(ipam.items("ranges")?, &mut sets)?;
        let (ranges, fields): (Vec<RangeSet>, Vec<String>) = sets.into_iter().unzip();
        check_no_overlap(&ranges, &fields).map_err(ConfigError::from)?;
        Ok(ranges)
    }

    /// ADD's input: the ranges, routes, DNS file and requested addresses.
    pub fn add_conf(&self, cni_args: &str) -> Result<AddConf, CniError> {
        // A relative dataDir would follow the runtime's working directory.
        // Refused for ADD only: DEL still finds what such a config stored.
        if !self.data_dir.is_absolute() {
            return Err(CniError::invalid_config(format!(
                "ipam.dataDir: {:?} must be an absolute path",
                self.data_dir
            )));
        }
        let ranges = self.ranges()?;
        self.check_one_address_per_family(&ranges)?;
        let top = self.common.fields();
        let ipam = ipam(&top)?;
        let with_route_extras = version_at_least(self.common.version(), "1.1.0").unwrap_or(false);
        let routes = ipam
            .items("routes")?
            .iter()
            .map(|r| route(r, with_route_extras))
            .collect::<Result<Vec<_>, _>>()?;
        let requested = requested_ips(&top, cni_args)?;
        check_requests(&ranges, &requested)?;
        Ok(AddConf {
            ranges,
            routes,
            resolv_conf: ipam.string("resolvConf")?.map(PathBuf::from),
            requested: requested.into_iter().map(|(ip, _)| ip).collect(),
        })
    }

    /// Results before 0.3.0 carry one address per family.
    fn check_one_address_per_family(&self, ranges: &[RangeSet]) -> Result<(), CniError> {
        let version = self.common.version();
        if version_at_least(version, "0.3.0").unwrap_or(true) {
            return Ok(());
        }
        let v4 = ranges.iter().filter(|s| s.is_ipv4()).count();
        if v4 > 1 || ranges.len() - v4 > 1 {
            return Err(CniError::invalid_config(format!(
                "ipam.ranges: CNI version {version} does not support more than 1 address per family"
            )));
        }
        Ok(())
    }

    /// The addresses of `prevResult` (CHECK), if there is one.
    pub fn prev_ips(&self) -> Result<Option<Vec<IpAddr>>, CniError> {
        let prev = self.common.previous_result()?;
        Ok(prev.map(|r| {
            r.ips
                .iter()
                .map(|ip| canonical(ip.address.addr()))
                .collect()
        }))
    }
}

fn ipam<'a>(top: &Fields<'a>) -> Result<Fields<'a>, ConfigError> {
    top.object("ipam")?
        .ok_or_else(|| ConfigError::invalid("ipam", "IPAM config missing 'ipam' key"))
}

/// The network name becomes a directory under dataDir: no path tricks.
fn check_name(name: &str) -> Result<(), CniError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(CniError::invalid_config(format!(
            "name: {name:?} cannot name a directory under dataDir"
        )));
    }
    Ok(())
}

fn range_spec(f: &Fields<'_>) -> Result<RangeSpec, ConfigError> {
    Ok(RangeSpec {
        subnet: f.get("subnet")?,
        range_start: f.get("rangeStart")?,
        range_end: f.get("rangeEnd")?,
        gateway: f.get("gateway")?,
    })
}

/// A list of range sets (`ipam.ranges`, `runtimeConfig.ipRanges`).
fn range_sets(sets: Vec<Field<'_>>, out: &mut Vec<(RangeSet, String)>) -> Result<(), CniError> {
    for set in sets {
        let specs = set
            .items()?
            .iter()
            .map(|r| range_spec(&r.object()?))
            .collect::<Result<Vec<_>, _>>()?;
        let ranges = validate_range_set(&specs, &set.path, false).map_err(ConfigError::from)?;
        out.push((ranges, set.path));
    }
    Ok(())
}

/// A route of `ipam.routes`. The 1.1.0 fields (`mtu`, `advmss`, ...) exist
/// only in 1.1.0 configs; older ones carry `dst` and `gw` alone, and anything
/// else in them is not ours to check.
pub fn route(f: &Field<'_>, with_extras: bool) -> Result<Route, ConfigError> {
    let obj = f.object()?;
    let dst_field = obj.field("dst").ok_or_else(|| ConfigError::Missing {
        field: obj.path_of("dst"),
    })?;
    let dst_text = dst_field.str()?;
    let dst = parse_cidr(dst_text).map_err(|e| dst_field.invalid(e.to_string()))?;
    let gw = match obj.string("gw")? {
        Some(g) => {
            Some(parse_ip(&g).map_err(|e| ConfigError::invalid(obj.path_of("gw"), e.to_string()))?)
        }
        None => None,
    };
    let mut route = Route::new(dst, gw);
    if with_extras {
        route.mtu = obj.get("mtu")?;
        route.advmss = obj.get("advmss")?;
        route.priority = obj.get("priority")?;
        route.table = obj.get("table")?;
        route.scope = obj.get("scope")?;
    }
    Ok(route)
}

/// An address as `ip.ParseIP` of the reference takes it: bare or with a prefix.
fn requested_ip(s: &str, field: &str) -> Result<IpAddr, ConfigError> {
    parse_ip_or_cidr(s)
        .map(canonical)
        .map_err(|e| ConfigError::invalid(field, e.to_string()))
}

/// `IP=` from CNI_ARGS (`K=V;K2=V2`), comma-separated addresses allowed.
/// Any other key is an error unless `IgnoreUnknown` is set, as the
/// reference's `types.LoadArgs` has it (runtimes that send more set it).
pub fn cni_args_ips(args: &str) -> Result<Vec<IpAddr>, CniError> {
    let parsed = cni_core::spec::args::CniArgs::parse(args)?;
    parsed.check_known(&["IP"])?;
    let Some(value) = parsed.get("IP") else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            requested_ip(s, "CNI_ARGS IP")
                .map_err(|e| CniError::new(code::INVALID_ENVIRONMENT, e.to_string()))
        })
        .collect()
}

/// Every requested address with where it was asked for.
fn requested_ips(top: &Fields<'_>, cni_args: &str) -> Result<Vec<(IpAddr, String)>, CniError> {
    let mut out: Vec<(IpAddr, String)> = cni_args_ips(cni_args)?
        .into_iter()
        .map(|ip| (ip, "CNI_ARGS IP".to_string()))
        .collect();
    let from_args = match top.object("args")? {
        Some(args) => match args.object("cni")? {
            Some(cni) => cni.items("ips")?,
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let from_runtime = match top.object("runtimeConfig")? {
        Some(runtime) => runtime.items("ips")?,
        None => Vec::new(),
    };
    for item in from_args.iter().chain(&from_runtime) {
        let ip = requested_ip(item.str()?, &item.path)?;
        // Named by its list, as the reference's messages name the source.
        let source = item
            .path
            .rsplit_once('[')
            .map_or(&*item.path, |(list, _)| list);
        out.push((ip, source.to_string()));
    }
    Ok(out)
}

/// A requested address that no ADD could ever grant is a configuration error,
/// found before anything is touched.
fn check_requests(sets: &[RangeSet], requested: &[(IpAddr, String)]) -> Result<(), CniError> {
    for (ip, field) in requested {
        match sets.iter().find_map(|s| s.range_for(*ip)) {
            None => {
                return Err(CniError::invalid_config(format!(
                    "{field}: requested IP address {ip} is not in any range set"
                )))
            }
            Some(r) if r.gateway == *ip => {
                return Err(CniError::invalid_config(format!(
                    "{field}: requested ip {ip} is subnet's gateway"
                )))
            }
            Some(_) => {}
        }
    }
    Ok(())
}
