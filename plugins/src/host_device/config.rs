//! The host-device plugin's configuration, as the reference accepts it:
//! which host device to move (`device`, `hwaddr`, `kernelpath`, `pciBusID`,
//! or the runtime's `runtimeConfig.deviceID`, which overrides `pciBusID`),
//! plus our own `dataDir` where the device's host state waits for DEL.

use crate::common::{conf, CommonConf};
use cni_core::net::MacAddr;
use cni_core::spec::config::Fields;
use cni_core::spec::validate::validate_link_name;
use cni_core::CniError;
use std::path::{Component, Path, PathBuf};

/// Where the device's host name, addresses and state are kept between ADD and DEL.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/cni/host-device";

/// How the device is found in the host, in the reference's order of precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `device`: by name.
    Name(String),
    /// `hwaddr`: the link with this MAC.
    Mac(MacAddr),
    /// `kernelpath`: the first interface under `<kernelpath>/net`.
    KernelPath(PathBuf),
    /// `pciBusID` / `runtimeConfig.deviceID`: the first interface under
    /// `/sys/bus/pci/devices/<address>/net` (or `.../virtio*/net`).
    Pci(String),
}

#[derive(Debug, Clone)]
pub struct HostDeviceConf {
    pub common: CommonConf,
    pub selector: Selector,
    pub data_dir: PathBuf,
}

impl HostDeviceConf {
    pub fn parse(stdin: &[u8]) -> Result<Self, CniError> {
        let common = conf::parse(stdin)?;
        let f = common.fields();
        let selector = selector(&f)?;
        let data_dir = data_dir(&f)?;
        Ok(HostDeviceConf {
            common,
            selector,
            data_dir,
        })
    }
}

/// `dataDir`, read on its own: DEL needs it and nothing else of ADD's keys.
pub fn data_dir(f: &Fields) -> Result<PathBuf, CniError> {
    let dir = f
        .string("dataDir")?
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| DEFAULT_DATA_DIR.to_string());
    if !Path::new(&dir).is_absolute() {
        return Err(CniError::invalid_config(format!(
            "dataDir: {dir:?} is not an absolute path"
        )));
    }
    Ok(PathBuf::from(dir))
}

fn non_empty(f: &Fields, key: &str) -> Result<Option<String>, CniError> {
    Ok(f.string(key)?.filter(|s| !s.is_empty()))
}

fn selector(f: &Fields) -> Result<Selector, CniError> {
    let device_id = match f.object("runtimeConfig")? {
        Some(rc) => non_empty(&rc, "deviceID")?.map(|id| ("runtimeConfig.deviceID", id)),
        None => None,
    };
    let pci = device_id.or(non_empty(f, "pciBusID")?.map(|id| ("pciBusID", id)));
    if let Some(name) = non_empty(f, "device")? {
        validate_link_name("device", &name)?;
        return Ok(Selector::Name(name));
    }
    if let Some(mac) = non_empty(f, "hwaddr")? {
        return mac
            .parse()
            .map(Selector::Mac)
            .map_err(|e| CniError::invalid_config(format!("hwaddr: {e}")));
    }
    if let Some(path) = non_empty(f, "kernelpath")? {
        return kernel_path(&path).map(Selector::KernelPath);
    }
    if let Some((field, id)) = pci {
        return pci_address(field, &id).map(Selector::Pci);
    }
    Err(CniError::invalid_config(
        "device: specify either \"device\", \"hwaddr\", \"kernelpath\" or \"pciBusID\"",
    ))
}

/// Absolute, under `/sys/devices/`, and without `..` (it is read, and a
/// path out of sysfs would name a file that is not a device).
fn kernel_path(path: &str) -> Result<PathBuf, CniError> {
    let p = Path::new(path);
    let escapes = p
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir));
    if !p.starts_with("/sys/devices/") || escapes {
        return Err(CniError::invalid_config(format!(
            "kernelpath: {path:?} must be absolute and begin with /sys/devices/"
        )));
    }
    Ok(p.to_path_buf())
}

/// A PCI address as sysfs names it: `[domain:]bus:slot.function` in hex
/// (`0000:03:00.1`). Anything else could make the sysfs path point elsewhere.
fn pci_address(field: &str, id: &str) -> Result<String, CniError> {
    let hex =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_hexdigit());
    let parts: Vec<&str> = id.split(':').collect();
    let (domain, bus, slot_function) = match parts[..] {
        [bus, rest] => ("0000", bus, rest),
        [domain, bus, rest] => (domain, bus, rest),
        _ => ("", "", ""),
    };
    let ok = hex(domain, 4)
        && hex(bus, 2)
        && slot_function
            .split_once('.')
            .is_some_and(|(slot, function)| {
                hex(slot, 2) && function.len() == 1 && matches!(function.as_bytes()[0], b'0'..=b'7')
            });
    if !ok {
        return Err(CniError::invalid_config(format!(
            "{field}: {id:?} is not a PCI address (such as 0000:03:00.1)"
        )));
    }
    Ok(id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str) -> Result<HostDeviceConf, CniError> {
        HostDeviceConf::parse(format!(r#"{{"name":"n"{extra}}}"#).as_bytes())
    }

    #[test]
    fn the_selector_follows_the_references_precedence() {
        let c = parse(r#","device":"eth1","hwaddr":"0a:00:00:00:00:01""#).unwrap();
        assert_eq!(c.selector, Selector::Name("eth1".into()));
        let c = parse(r#","hwaddr":"0A:00:00:00:00:01","pciBusID":"0000:03:00.1""#).unwrap();
        assert_eq!(
            c.selector,
            Selector::Mac("0a:00:00:00:00:01".parse().unwrap())
        );
        let c = parse(r#","kernelpath":"/sys/devices/pci0000:00/0000:00:19.0""#).unwrap();
        assert!(matches!(c.selector, Selector::KernelPath(_)));
        let c =
            parse(r#","pciBusID":"0000:03:00.1","runtimeConfig":{"deviceID":"04:00.2"}"#).unwrap();
        assert_eq!(c.selector, Selector::Pci("04:00.2".into()));
        assert_eq!(c.data_dir, Path::new(DEFAULT_DATA_DIR));
    }

    #[test]
    fn bad_values_are_refused_naming_the_field() {
        for (extra, field) in [
            ("", "device:"),
            (r#","device":"a/b""#, "device"),
            (r#","device":"a234567890123456""#, "device"),
            (r#","hwaddr":"0a:00""#, "hwaddr:"),
            (r#","kernelpath":"/etc/x""#, "kernelpath:"),
            (r#","kernelpath":"/sys/devices/../../etc""#, "kernelpath:"),
            (r#","pciBusID":"../../x""#, "pciBusID:"),
            (r#","pciBusID":"0000:03:00.9""#, "pciBusID:"),
            (r#","pciBusID":"000:03:00.1""#, "pciBusID:"),
            (r#","pciBusID":"0000:3:00.1""#, "pciBusID:"),
            (r#","pciBusID":"0000:03:00.""#, "pciBusID:"),
            (r#","pciBusID":"0000:03:00.10""#, "pciBusID:"),
            (r#","pciBusID":"0:0000:03:00.1""#, "pciBusID:"),
            (r#","pciBusID":"0000:0g:00.1""#, "pciBusID:"),
            (
                r#","runtimeConfig":{"deviceID":"x"}"#,
                "runtimeConfig.deviceID:",
            ),
            (r#","device":"eth1","dataDir":"rel""#, "dataDir:"),
        ] {
            let e = parse(extra).unwrap_err();
            assert_eq!(e.code, 7, "{extra}: {}", e.msg);
            assert!(e.msg.starts_with(field), "{extra}: {}", e.msg);
        }
        let e = parse(r#","device":7"#).unwrap_err();
        assert_eq!(e.code, 6, "{}", e.msg);
    }
}
