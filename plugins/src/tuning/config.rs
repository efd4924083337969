//! tuning's configuration, read as the reference reads it: the top-level
//! keys, then `CNI_ARGS` `MAC=`, `runtimeConfig.mac` and `args.cni.*` laid
//! over them in that order (the later wins).

use super::duplicate_keys;
use crate::common::conf::{self, CommonConf};
use cni_core::net::MacAddr;
use cni_core::spec::args::CniArgs;
use cni_core::spec::config::{ConfigError, Fields};
use cni_core::spec::validate::validate_mtu;
use cni_core::CniError;
use std::path::PathBuf;

/// Where the previous values are saved unless `dataDir` says otherwise.
pub const DEFAULT_DATA_DIR: &str = "/run/cni/tuning";

#[derive(Debug, Clone, PartialEq)]
pub struct TuningConf {
    pub common: CommonConf,
    /// `sysctl` keys as written (`IFNAME` not yet substituted) and values,
    /// in document order; `args.cni.sysctl` replaces or adds entries.
    pub sysctls: Vec<(String, String)>,
    pub mac: Option<MacAddr>,
    /// `promisc: false` changes nothing (as in the reference).
    pub promisc: bool,
    pub mtu: Option<u32>,
    pub allmulti: Option<bool>,
    pub txqlen: Option<u32>,
    pub data_dir: PathBuf,
}

impl TuningConf {
    /// The whole config, as ADD and CHECK need it.
    pub fn parse(stdin: &[u8], cni_args: &str) -> Result<TuningConf, CniError> {
        duplicate_keys::refuse_duplicate_sysctl_keys(stdin)?;
        let common = conf::parse(stdin)?;
        let top = common.fields();
        let mut conf = TuningConf {
            sysctls: sysctl_map(&top)?,
            mac: None,
            promisc: top.flag("promisc")?,
            mtu: None,
            allmulti: top.get("allmulti")?,
            txqlen: txqlen_field(&top)?,
            data_dir: data_dir(&top)?,
            common: CommonConf::default(),
        };
        // The MAC as the reference picks it: `mac`, then a non-empty `MAC=`,
        // then a non-empty `runtimeConfig.mac`, then `args.cni.mac` (even
        // empty: it takes the MAC away). Only the one that wins is read, as
        // there, so a bad one that another replaces is no error.
        let mut mac = top.string("mac")?.map(|t| (top.path_of("mac"), t));
        // The MTU too is read where it wins (`args.cni.mtu` over `mtu`).
        let mut mtu = top.get::<i64>("mtu")?.map(|m| (top.path_of("mtu"), m));
        if let Some(m) = env_mac(cni_args)? {
            mac = Some(("CNI_ARGS MAC".to_string(), m));
        }
        if let Some(rc) = top.object("runtimeConfig")? {
            mac = rc.string("mac")?.map(|t| (rc.path_of("mac"), t)).or(mac);
        }
        if let Some(cni) = top
            .object("args")?
            .map(|a| a.object("cni"))
            .transpose()?
            .flatten()
        {
            conf.lay_args_over(&cni, &mut mac)?;
            if let Some(m) = cni.field("mtu") {
                mtu = Some((m.path.clone(), m.parse()?));
            }
        }
        conf.mtu = mtu
            .map(|(field, m)| mtu_value(&field, m))
            .transpose()?
            .flatten();
        conf.mac = mac
            .map(|(field, text)| {
                MacAddr::parse_for_interface(&text).map_err(|e| ConfigError::invalid(field, e))
            })
            .transpose()?;
        conf.common = common;
        Ok(conf)
    }

    /// `args.cni.*`, which win over everything else: a key that is there
    /// (not `null`) replaces the top-level value, as the reference's pointer
    /// fields do (`mtu: 0` takes the MTU change away).
    fn lay_args_over(
        &mut self,
        cni: &Fields<'_>,
        mac: &mut Option<(String, String)>,
    ) -> Result<(), ConfigError> {
        for (key, value) in sysctl_map(cni)? {
            match self.sysctls.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => self.sysctls.push((key, value)),
            }
        }
        if let Some(text) = cni.get::<String>("mac")? {
            *mac = Some((cni.path_of("mac"), text)).filter(|(_, t)| !t.is_empty());
        }
        self.promisc = cni.get("promisc")?.unwrap_or(self.promisc);
        self.allmulti = cni.get("allmulti")?.or(self.allmulti);
        if cni.field("txQLen").is_some() {
            self.txqlen = txqlen_field(cni)?;
        }
        Ok(())
    }

    /// Whether ADD changes anything of the link itself (not sysctls).
    pub fn changes_link(&self) -> bool {
        self.mac.is_some()
            || self.promisc
            || self.mtu.is_some()
            || self.allmulti.is_some()
            || self.txqlen.is_some()
    }
}

/// `dataDir` alone: all DEL and GC read, so they never fail on what only ADD checks.
pub fn data_dir(f: &Fields<'_>) -> Result<PathBuf, ConfigError> {
    Ok(f.string("dataDir")?
        .map_or_else(|| PathBuf::from(DEFAULT_DATA_DIR), PathBuf::from))
}

fn sysctl_map(f: &Fields<'_>) -> Result<Vec<(String, String)>, ConfigError> {
    let Some(map) = f.object("sysctl")? else {
        return Ok(Vec::new());
    };
    map.map()
        .keys()
        .map(|key| Ok((key.clone(), map.required::<String>(key)?)))
        .collect()
}

/// `txQLen` (upstream 1.4+; the 1.1.1 reference ignores the key): a
/// negative one is no change, with a warning, rather than the 4294967295
/// upstream would hand the kernel.
fn txqlen_field(f: &Fields<'_>) -> Result<Option<u32>, ConfigError> {
    let Some(qlen) = f.get::<i64>("txQLen")? else {
        return Ok(None);
    };
    if qlen < 0 {
        tracing::warn!(
            "{}: {qlen} is negative; read as no change",
            f.path_of("txQLen")
        );
        return Ok(None);
    }
    u32::try_from(qlen).map(Some).map_err(|_| {
        ConfigError::invalid(
            f.path_of("txQLen"),
            format!("{qlen} is more than 4294967295"),
        )
    })
}

/// The `mtu` that won, at `field`: 0 (Go's zero value) is no change.
fn mtu_value(field: &str, mtu: i64) -> Result<Option<u32>, ConfigError> {
    if mtu == 0 {
        return Ok(None);
    }
    let mtu = u32::try_from(mtu)
        .map_err(|_| ConfigError::invalid(field, format!("{mtu} is outside 68-65535")))?;
    validate_mtu(field, mtu)?;
    Ok(Some(mtu))
}

/// `MAC=` in `CNI_ARGS`; any other key is refused unless `IgnoreUnknown`
/// is set, as the reference's argument loader does.
fn env_mac(cni_args: &str) -> Result<Option<String>, CniError> {
    let args = CniArgs::parse(cni_args)?;
    args.check_known(&["MAC"])?;
    Ok(args
        .get("MAC")
        .filter(|m| !m.is_empty())
        .map(str::to_string))
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
