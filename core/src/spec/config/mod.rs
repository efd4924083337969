//! One plugin's network configuration: the fields the spec gives every
//! plugin, typed, over the whole object as received.
//!
//! The object itself is kept: a plugin reads its own keys from it through
//! [`Fields`] (one reader for every plugin, libcni and IPAM, so every error
//! names its field and keys match as the reference's decoder matches them),
//! and a chain hands the bytes on unchanged, plugin-specific keys included.
//! Fields only some verbs use (`runtimeConfig.mac`, `prevResult`,
//! `cni.dev/valid-attachments`) are read when asked for, so a DEL never fails
//! on something only ADD or GC reads.

mod fields;

pub use fields::{json_kind, object_from_bytes, ConfigError, Field, Fields};

use super::result::{CniResult, Dns};
use super::version::DEFAULT_CONFIG_VERSION;
use crate::error::{code, CniError};
use crate::net::MacAddr;
use serde_json::{Map, Value};

/// A MAC the runtime asked for, as written, with the field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedMac {
    /// `runtimeConfig.mac`, `args.cni.mac` or `CNI_ARGS MAC`.
    pub field: &'static str,
    pub text: String,
}

impl RequestedMac {
    pub const RUNTIME_CONFIG: &'static str = "runtimeConfig.mac";
    pub const ARGS: &'static str = "args.cni.mac";
    pub const CNI_ARGS: &'static str = "CNI_ARGS MAC";

    /// The MAC, if it can be set on an interface (code 7 naming the field).
    pub fn parse(&self) -> Result<MacAddr, CniError> {
        MacAddr::parse_for_interface(&self.text)
            .map_err(|e| CniError::invalid_config(format!("{}: {e}", self.field)))
    }
}

/// One container interface: what a lease, a cached result or a GC entry is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Attachment {
    pub container_id: String,
    pub ifname: String,
}

impl Attachment {
    pub fn new(container_id: impl Into<String>, ifname: impl Into<String>) -> Self {
        Attachment {
            container_id: container_id.into(),
            ifname: ifname.into(),
        }
    }
}

/// The key of the attachments a GC keeps.
pub const VALID_ATTACHMENTS: &str = "cni.dev/valid-attachments";

/// A plugin's configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetConf {
    /// As written; empty when absent (see [`NetConf::version`]).
    pub cni_version: String,
    pub name: String,
    pub plugin_type: String,
    /// `ipam.type`; `None` for no `ipam`, `{}`, or an empty type.
    pub ipam_type: Option<String>,
    pub dns: Dns,
    raw: Map<String, Value>,
}

impl NetConf {
    pub fn parse(bytes: &[u8]) -> Result<NetConf, ConfigError> {
        Self::from_map(object_from_bytes(bytes)?)
    }

    pub fn from_map(raw: Map<String, Value>) -> Result<NetConf, ConfigError> {
        let f = Fields::new(&raw);
        let ipam_type = match f.object("ipam")? {
            Some(ipam) => ipam.string("type")?,
            None => None,
        };
        // Read by the runtime, not the plugin; but the reference's plugins
        // decode it (`map[string]bool`, a `null` flag being false), so one
        // of another shape is refused as there.
        f.get::<std::collections::BTreeMap<String, Option<bool>>>("capabilities")?;
        Ok(NetConf {
            cni_version: f.get("cniVersion")?.unwrap_or_default(),
            name: f.get("name")?.unwrap_or_default(),
            plugin_type: f.get("type")?.unwrap_or_default(),
            ipam_type,
            dns: f
                .object("dns")?
                .map(|d| read_dns(&d))
                .transpose()?
                .unwrap_or_default(),
            raw,
        })
    }

    /// The whole object, for the plugin's own keys.
    pub fn fields(&self) -> Fields<'_> {
        Fields::new(&self.raw)
    }

    /// `cniVersion`, or the spec's default for a config without one.
    pub fn version(&self) -> &str {
        if self.cni_version.is_empty() {
            DEFAULT_CONFIG_VERSION
        } else {
            &self.cni_version
        }
    }

    /// The IPAM plugin type, or `None` for layer 2 only.
    pub fn ipam_type(&self) -> Option<&str> {
        self.ipam_type.as_deref()
    }

    /// [`Self::requested_mac`] for a plugin whose `CNI_ARGS` may carry `MAC`
    /// alone (bridge and macvlan, as the reference's `MacEnvArgs`): any other
    /// key is an error (code 4) unless `IgnoreUnknown` is set.
    pub fn requested_mac_only_mac_args(&self, cni_args: &str) -> Result<Option<MacAddr>, CniError> {
        self.requested_macs_only_mac_args(cni_args)?
            .first()
            .map(RequestedMac::parse)
            .transpose()
    }

    /// [`Self::requested_macs`], refusing `CNI_ARGS` keys other than `MAC`
    /// as [`Self::requested_mac_only_mac_args`] does.
    pub fn requested_macs_only_mac_args(
        &self,
        cni_args: &str,
    ) -> Result<Vec<RequestedMac>, CniError> {
        super::args::CniArgs::parse(cni_args)?.check_known(&["MAC"])?;
        self.requested_macs(cni_args)
    }

    /// The MAC the runtime asked for: `runtimeConfig.mac` (the `mac`
    /// capability), then `args.cni.mac`, then `MAC=` in `CNI_ARGS`. An empty
    /// one is Go's zero value: not asked for, as the reference reads it.
    pub fn requested_mac(&self, cni_args: &str) -> Result<Option<MacAddr>, CniError> {
        self.requested_macs(cni_args)?
            .first()
            .map(RequestedMac::parse)
            .transpose()
    }

    /// Every MAC the runtime asked for, unparsed, in the order they win
    /// (see [`Self::requested_mac`]); empty ones left out.
    pub fn requested_macs(&self, cni_args: &str) -> Result<Vec<RequestedMac>, CniError> {
        let f = self.fields();
        let runtime = match f.object("runtimeConfig")? {
            Some(rc) => rc.string("mac")?,
            None => None,
        };
        let from_args = f
            .field("args")
            .and_then(|a| a.value.pointer("/cni/mac"))
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        let env_args = super::args::CniArgs::parse(cni_args)?;
        let from_env = env_args
            .get("MAC")
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        Ok([
            (RequestedMac::RUNTIME_CONFIG, runtime),
            (RequestedMac::ARGS, from_args),
            (RequestedMac::CNI_ARGS, from_env),
        ]
        .into_iter()
        .filter_map(|(field, text)| Some(RequestedMac { field, text: text? }))
        .collect())
    }

    /// `prevResult`, in the shape of this config's version; `None` when absent.
    pub fn previous_result(&self) -> Result<Option<CniResult>, CniError> {
        let Some(prev) = self.fields().field("prevResult") else {
            return Ok(None);
        };
        // The reference decodes it into a map; serde alone would read an
        // array as a result's fields in order.
        prev.object()?;
        CniResult::from_value(prev.value.clone(), self.version())
            .map(Some)
            .map_err(CniError::from)
    }

    /// The previous result, which CHECK requires.
    pub fn prev_result(&self) -> Result<CniResult, CniError> {
        self.previous_result()?
            .ok_or_else(|| CniError::invalid_config("prevResult: required for CHECK"))
    }

    /// `cni.dev/valid-attachments` of a GC; `None` when absent.
    pub fn valid_attachments(&self) -> Result<Option<Vec<Attachment>>, ConfigError> {
        let Some(list) = self.fields().field(VALID_ATTACHMENTS) else {
            return Ok(None);
        };
        let attachment = |item: Field<'_>| {
            let a = item.object()?;
            Ok(Attachment::new(
                a.required::<String>("containerID")?,
                a.required::<String>("ifname")?,
            ))
        };
        list.items()?
            .into_iter()
            .map(attachment)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// The last touch on an ADD result: the config's `dns` laid over IPAM's,
    /// field by field, and the config's version (skel renders the result at it).
    pub fn finish(&self, mut result: CniResult) -> CniResult {
        result.dns = merge_dns(&result.dns, &self.dns);
        // An empty `cniVersion` is 0.1.0, as everywhere else.
        result.cni_version = self.version().to_string();
        result
    }
}

/// A `dns` section (the config's, or host-local's `resolvConf` aside).
pub fn read_dns(f: &Fields<'_>) -> Result<Dns, ConfigError> {
    Ok(Dns {
        nameservers: f.get("nameservers")?.unwrap_or_default(),
        domain: f.get("domain")?.unwrap_or_default(),
        search: f.get("search")?.unwrap_or_default(),
        options: f.get("options")?.unwrap_or_default(),
    })
}

/// The result's DNS with the network config's `dns` laid over it, field by field.
pub fn merge_dns(from_ipam: &Dns, from_conf: &Dns) -> Dns {
    let pick = |preferred: &[String], fallback: &[String]| {
        if preferred.is_empty() {
            fallback
        } else {
            preferred
        }
        .to_vec()
    };
    Dns {
        nameservers: pick(&from_conf.nameservers, &from_ipam.nameservers),
        domain: if from_conf.domain.is_empty() {
            from_ipam.domain.clone()
        } else {
            from_conf.domain.clone()
        },
        search: pick(&from_conf.search, &from_ipam.search),
        options: pick(&from_conf.options, &from_ipam.options),
    }
}

/// A plugin's input: the config, with the name every plugin requires.
pub fn plugin_input(stdin: &[u8]) -> Result<NetConf, CniError> {
    let conf = NetConf::parse(stdin)?;
    if conf.name.is_empty() {
        return Err(CniError::new(
            code::INVALID_NETWORK_CONFIG,
            "name: missing network name",
        ));
    }
    Ok(conf)
}

#[cfg(test)]
mod tests;
