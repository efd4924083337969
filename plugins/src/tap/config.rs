//! The tap plugin's configuration, as the reference (plugins v1.2+) reads it.

use crate::common::{conf, CommonConf};
use cni_core::net::{MacAddr, TapSpec, TAP_NO_ID};
use cni_core::spec::config::RequestedMac;
use cni_core::spec::validate::{configured_mtu_not_negative, validate_link_name, validate_mtu};
use cni_core::CniError;

/// The queue length the other plugins' links get (the tun driver's default too).
pub const TAP_TXQUEUELEN: u32 = 1000;

#[derive(Debug, Clone)]
pub struct TapConf {
    pub common: CommonConf,
    /// `multiQueue`: IFF_MULTI_QUEUE.
    pub multi_queue: bool,
    /// `mtu`; absent or 0: the kernel's (1500).
    pub mtu: Option<u32>,
    /// `mac`: the config's MAC (the runtime's wins, see [`TapConf::explicit_mac`]).
    pub mac: Option<String>,
    /// `owner`, `group`: who may attach (TUNSETOWNER/TUNSETGROUP).
    pub owner: Option<u32>,
    pub group: Option<u32>,
    /// `selinuxContext`: the device's SELinux label; `""` is none.
    pub selinux_context: Option<String>,
    /// `bridge`: a bridge *in the container* the tap becomes a port of.
    pub bridge: Option<String>,
}

/// A user or group id the kernel takes: `u32::MAX` is its "none" (-1),
/// which TUNSETOWNER refuses.
fn id(f: &cni_core::spec::config::Fields, key: &str) -> Result<Option<u32>, CniError> {
    match f.get::<u32>(key)? {
        Some(TAP_NO_ID) => Err(CniError::invalid_config(format!(
            "{key}: {TAP_NO_ID} is not a valid id (it is the kernel's \"none\")"
        ))),
        other => Ok(other),
    }
}

/// `mtu`: absent or 0 is the kernel's (1500); a negative one is refused,
/// as the reference's `ip link set mtu` refuses it.
fn mtu(mtu: Option<i64>) -> Result<Option<u32>, CniError> {
    match mtu {
        Some(m) if m < 0 => Err(CniError::invalid_config(format!(
            "mtu: invalid MTU {m}, must be 0 (the kernel's default) or more"
        ))),
        other => Ok(configured_mtu_not_negative("mtu", other)?),
    }
}

impl TapConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let common = conf::parse(stdin)?;
        let f = common.fields();
        let c = TapConf {
            multi_queue: f.flag("multiQueue")?,
            mtu: mtu(f.get("mtu")?)?,
            mac: f.string("mac")?,
            owner: id(&f, "owner")?,
            group: id(&f, "group")?,
            selinux_context: f.string("selinuxContext")?,
            bridge: f.string("bridge")?,
            common,
        };
        if let Some(mtu) = c.mtu {
            validate_mtu("mtu", mtu)?;
        }
        if let Some(bridge) = &c.bridge {
            validate_link_name("bridge", bridge)?;
        }
        if let Some(ctx) = &c.selinux_context {
            if ctx.contains(['\0', '\n']) {
                return Err(CniError::invalid_config(format!(
                    "selinuxContext: {ctx:?} holds a NUL or newline"
                )));
            }
        }
        Ok(c)
    }

    /// The MAC asked for: `runtimeConfig.mac` (the `mac` capability), then
    /// `MAC=` in `CNI_ARGS`, then the config's `mac` — the reference's
    /// order. `args.cni.mac`, which the reference does not read, is honoured
    /// after `MAC=` when valid, else ignored with a warning.
    pub fn explicit_mac(&self, cni_args: &str) -> Result<Option<MacAddr>, CniError> {
        let mut sources = self.common.requested_macs_only_mac_args(cni_args)?;
        // The reference: runtimeConfig, then CNI_ARGS; args.cni.mac last.
        sources.sort_by_key(|s| match s.field {
            RequestedMac::RUNTIME_CONFIG => 0,
            RequestedMac::CNI_ARGS => 1,
            _ => 2,
        });
        for source in sources {
            match source.parse() {
                Err(e) if source.field == RequestedMac::ARGS => {
                    tracing::warn!("{e}; ignored (the reference's tap does not read it)");
                }
                Err(e) => return Err(e),
                Ok(mac) => return Ok(Some(mac)),
            }
        }
        crate::common::conf::config_mac(self.mac.as_deref())
    }

    /// The device as the reference makes it. Without both `owner` and
    /// `group` (or with `selinuxContext`) it runs `ip tuntap add mode tap`:
    /// IFF_NO_PI; with both it goes through netlink's Tuntap: IFF_VNET_HDR,
    /// and IFF_NO_PI only with `multiQueue`. Unlike the reference's netlink
    /// path, `mtu` and the MAC are applied in both cases.
    pub fn spec(&self, name: &str, mac: Option<MacAddr>) -> TapSpec {
        let netlink_path =
            self.selinux_context.is_none() && self.owner.is_some() && self.group.is_some();
        TapSpec {
            name: name.to_string(),
            multi_queue: self.multi_queue,
            no_pi: !netlink_path || self.multi_queue,
            vnet_hdr: netlink_path,
            owner: self.owner,
            group: self.group,
            mtu: self.mtu,
            mac,
            txqueuelen: Some(TAP_TXQUEUELEN),
            selinux_context: self.selinux_context.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> Result<TapConf, CniError> {
        TapConf::parse(format!(r#"{{"name":"n","type":"tap"{extra}}}"#).as_bytes())
    }

    #[test]
    fn keys_read_as_the_reference_reads_them() {
        let c = parse(
            r#","multiQueue":true,"mtu":1400,"mac":"02:00:00:00:00:01","owner":1000,"group":0,"selinuxContext":"system_u:system_r:container_t:s0","bridge":"br0""#,
        )
        .unwrap();
        assert!(c.multi_queue);
        assert_eq!(c.mtu, Some(1400));
        assert_eq!((c.owner, c.group), (Some(1000), Some(0)));
        assert_eq!(c.bridge.as_deref(), Some("br0"));
        let c = parse(r#","mtu":0,"selinuxContext":"","bridge":"""#).unwrap();
        assert_eq!((c.mtu, c.selinux_context, c.bridge), (None, None, None));
    }

    #[test]
    fn bad_values_name_their_field() {
        for (extra, code, field) in [
            (r#","mtu":-1"#, 7, "mtu"),
            (r#","mtu":70000"#, 7, "mtu"),
            (r#","owner":-1"#, 6, "owner"),
            (r#","owner":4294967295"#, 7, "owner"),
            (r#","group":"wheel""#, 6, "group"),
            (r#","multiQueue":"yes""#, 6, "multiQueue"),
            (r#","bridge":"a/b""#, 7, "bridge"),
            (r#","selinuxContext":"a\nb""#, 7, "selinuxContext"),
        ] {
            let e = parse(extra).unwrap_err();
            assert_eq!(e.code, code, "{extra}: {}", e.msg);
            assert!(e.msg.contains(field), "{extra}: {}", e.msg);
        }
        let c = parse(r#","mac":"01:00:5e:00:00:01""#).unwrap();
        let e = c.explicit_mac("").unwrap_err();
        assert!(e.msg.starts_with("mac: "), "{}", e.msg);
    }

    #[test]
    fn runtime_mac_wins_then_cni_args_then_the_config() {
        let c = parse(
            r#","mac":"02:00:00:00:00:03","runtimeConfig":{"mac":"02:00:00:00:00:01"},"args":{"cni":{"mac":"zz"}}"#,
        )
        .unwrap();
        let m = c.explicit_mac("MAC=02:00:00:00:00:02").unwrap().unwrap();
        assert_eq!(m.to_string(), "02:00:00:00:00:01");
        let c = parse(r#","mac":"02:00:00:00:00:03""#).unwrap();
        let m = c.explicit_mac("MAC=02:00:00:00:00:02").unwrap().unwrap();
        assert_eq!(m.to_string(), "02:00:00:00:00:02");
        assert_eq!(
            c.explicit_mac("").unwrap().unwrap().to_string(),
            "02:00:00:00:00:03"
        );
        let e = c.explicit_mac("FOO=1").unwrap_err();
        assert!(e.msg.contains("FOO"), "{}", e.msg);
    }

    #[test]
    fn flags_follow_the_reference_path() {
        let c = parse("").unwrap();
        let s = c.spec("tap0", None);
        assert!(s.no_pi && !s.vnet_hdr && !s.multi_queue);
        assert_eq!(s.txqueuelen, Some(1000));
        let c = parse(r#","owner":1,"group":2"#).unwrap();
        let s = c.spec("tap0", None);
        assert!(!s.no_pi && s.vnet_hdr);
        let c = parse(r#","owner":1,"group":2,"multiQueue":true"#).unwrap();
        let s = c.spec("tap0", None);
        assert!(s.no_pi && s.vnet_hdr && s.multi_queue);
        let c = parse(r#","owner":1,"group":2,"selinuxContext":"x""#).unwrap();
        assert!(!c.spec("tap0", None).vnet_hdr);
    }
}
