//! The main plugins in process, exactly as a runtime would see the binaries:
//! skel's `dispatch` turns an environment and stdin into one JSON document,
//! host-local runs in process as the IPAM delegate with its `dataDir` in a
//! scratch directory. Any backend: the simulator, or the real kernel.

use cni_core::fsio::RealFs;
use cni_core::net::{AddressSpec, NetBackend, Netns, NsRef, RouteSpec, VethSpec};
use cni_core::skel::{dispatch, Outcome, Plugin};
use cni_core::spec::version::ALL;
use cni_plugins::bandwidth::Bandwidth;
use cni_plugins::bridge::Bridge;
use cni_plugins::common::delegate::InProcessDelegate;
use cni_plugins::firewall::Firewall;
use cni_plugins::host_device::HostDevice;
use cni_plugins::host_local::HostLocal;
use cni_plugins::ipvlan::Ipvlan;
use cni_plugins::loopback::Loopback;
use cni_plugins::macvlan::Macvlan;
use cni_plugins::portmap::Portmap;
use cni_plugins::ptp::Ptp;
use cni_plugins::sbr::Sbr;
use cni_plugins::tap::Tap;
use cni_plugins::tuning::Tuning;
use cni_plugins::vlan::Vlan;
use cni_plugins::{dummy::Dummy, vrf::Vrf};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// Where container namespaces live in the simulator (nothing on disk).
pub const NETNS_DIR: &str = "/var/run/netns";

/// One container interface, as the runtime names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub container_id: String,
    pub netns: String,
    pub ifname: String,
    /// `CNI_ARGS`, raw.
    pub cni_args: String,
}

impl Attachment {
    /// Container `id` with its namespace at `NETNS_DIR/<id>` and interface `eth0`.
    pub fn new(id: &str) -> Self {
        Attachment {
            container_id: id.to_string(),
            netns: format!("{NETNS_DIR}/{id}"),
            ifname: "eth0".to_string(),
            cni_args: String::new(),
        }
    }

    pub fn with_args(mut self, cni_args: &str) -> Self {
        self.cni_args = cni_args.to_string();
        self
    }
}

/// A CNI error as the plugin printed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u64,
    pub msg: String,
    pub details: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "code {}: {} ({})", self.code, self.msg, self.details)
    }
}

/// Runs plugins in process; owns host-local's scratch `dataDir`.
pub struct InProcess {
    data_dir: tempfile::TempDir,
}

impl Default for InProcess {
    fn default() -> Self {
        Self::new()
    }
}

impl InProcess {
    pub fn new() -> Self {
        InProcess {
            data_dir: tempfile::tempdir().expect("creating host-local's scratch dataDir"),
        }
    }

    /// The config as the runtime hands it over: `cniVersion` set and, for
    /// host-local, `ipam.dataDir` pointed at the scratch directory.
    pub fn netconf(&self, conf: &Value, version: &str) -> Value {
        let mut conf = conf.clone();
        conf["cniVersion"] = Value::from(version);
        if conf.pointer("/ipam/type").and_then(Value::as_str) == Some("host-local") {
            conf["ipam"]["dataDir"] = Value::from(self.data_dir.path().to_string_lossy());
        }
        if conf["type"] == "tuning" && conf.get("dataDir").is_none() {
            conf["dataDir"] = Value::from(self.tuning_dir().to_string_lossy());
        }
        if conf["type"] == "host-device" && conf.get("dataDir").is_none() {
            conf["dataDir"] = Value::from(self.host_device_dir().to_string_lossy());
        }
        conf
    }

    /// Where tuning keeps its saved state when the config names no `dataDir`.
    pub fn tuning_dir(&self) -> PathBuf {
        self.data_dir.path().join("tuning")
    }

    /// Where host-device keeps the devices' host state when the config names
    /// no `dataDir`.
    pub fn host_device_dir(&self) -> PathBuf {
        self.data_dir.path().join("host-device")
    }

    /// The sysfs tree host-device looks `kernelpath` and `pciBusID` up in
    /// (empty until a test makes one).
    pub fn sys_root(&self) -> PathBuf {
        self.data_dir.path().join("sys")
    }

    /// The files tuning saved (names only), sorted.
    pub fn tuning_saved(&self) -> Vec<String> {
        file_names(&self.tuning_dir())
    }

    /// Runs one verb of the plugin named by the config's `type` (a main
    /// plugin, or `host-local` on its own to see what it answers directly).
    pub fn run(
        &self,
        backend: &dyn NetBackend,
        verb: &str,
        conf: &Value,
        att: &Attachment,
    ) -> Outcome {
        let mut env = BTreeMap::new();
        env.insert("CNI_COMMAND".to_string(), verb.to_string());
        env.insert("CNI_PATH".to_string(), "/opt/cni/bin".to_string());
        if !matches!(verb, "GC" | "STATUS") {
            env.insert("CNI_CONTAINERID".to_string(), att.container_id.clone());
            env.insert("CNI_NETNS".to_string(), att.netns.clone());
            env.insert("CNI_IFNAME".to_string(), att.ifname.clone());
            env.insert("CNI_ARGS".to_string(), att.cni_args.clone());
        }
        let stdin = serde_json::to_vec(conf).expect("serializing a config");
        let ipam = InProcessDelegate::new().with("host-local", &HostLocal);
        let plugin_type = conf["type"].as_str().unwrap_or_default();
        let sys = self.sys_root();
        // No allowlist file: every `net.*` key is allowed, whatever the machine has.
        let allowlist = self.data_dir.path().join("tuning-allowlist.conf");
        let ipam = &ipam;
        let plugin: Box<dyn Plugin + '_> = match plugin_type {
            "bridge" => Box::new(Bridge { backend, ipam }),
            "ptp" => Box::new(Ptp { backend, ipam }),
            "macvlan" => Box::new(Macvlan { backend, ipam }),
            "ipvlan" => Box::new(Ipvlan { backend, ipam }),
            "vlan" => Box::new(Vlan { backend, ipam }),
            "tap" => Box::new(Tap { backend, ipam }),
            "dummy" => Box::new(Dummy { backend, ipam }),
            "vrf" => Box::new(Vrf { backend }),
            "host-device" => Box::new(HostDevice {
                backend,
                ipam,
                fs: &RealFs,
                sys: &sys,
            }),
            "loopback" => Box::new(Loopback { backend }),
            "portmap" => Box::new(Portmap { backend }),
            "firewall" => Box::new(Firewall { backend }),
            "sbr" => Box::new(Sbr { backend }),
            "bandwidth" => Box::new(Bandwidth { backend }),
            "tuning" => Box::new(Tuning {
                backend,
                fs: &RealFs,
                allowlist: &allowlist,
            }),
            "host-local" => Box::new(HostLocal),
            other => panic!("no such plugin in the scenarios: {other:?}"),
        };
        dispatch(&env, &mut stdin.as_slice(), &*plugin, ALL)
    }

    /// Runs a verb and reads its answer: the result (`Value::Null` when the
    /// verb prints nothing) or the CNI error.
    pub fn call(
        &self,
        backend: &dyn NetBackend,
        verb: &str,
        conf: &Value,
        att: &Attachment,
    ) -> Result<Value, Failure> {
        let out = self.run(backend, verb, conf, att);
        let printed = if out.stdout.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&out.stdout)
                .unwrap_or_else(|e| panic!("{verb} printed no JSON ({e}): {:?}", out.stdout))
        };
        if out.exit_code == 0 {
            return Ok(printed);
        }
        let text = |k: &str| printed[k].as_str().unwrap_or_default().to_string();
        Err(Failure {
            code: printed["code"]
                .as_u64()
                .unwrap_or_else(|| panic!("{verb} failed without a code: {}", out.stdout)),
            msg: text("msg"),
            details: text("details"),
        })
    }

    /// The allocated addresses host-local holds on disk (one file per IP),
    /// across every network.
    pub fn leases(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let Ok(networks) = std::fs::read_dir(self.data_dir.path()) else {
            return found;
        };
        for network in networks.flatten() {
            let Ok(files) = std::fs::read_dir(network.path()) else {
                continue;
            };
            for file in files.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                if name.parse::<IpAddr>().is_ok() {
                    found.push(file.path());
                }
            }
        }
        found.sort();
        found
    }

    /// A path inside the scratch directory (e.g. for a `resolvConf` file).
    /// The leases as paths under the `dataDir` (`<network>/<ip>`), the same
    /// for two runs in different scratch directories.
    pub fn lease_names(&self) -> Vec<String> {
        self.leases()
            .iter()
            .filter_map(|p| p.strip_prefix(self.data_dir.path()).ok())
            .map(|p| p.display().to_string())
            .collect()
    }

    pub fn scratch_path(&self, name: &str) -> PathBuf {
        self.data_dir.path().join(name)
    }
}

/// The names of the files in `dir` (none when it is absent), sorted.
pub fn file_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A link in the host for macvlan to sit on: one end of a veth pair
/// kept in the host (the simulator, like this kernel, has no dummy links),
/// up, with an address and the host's default route through it. `host` is
/// the handle on `NsRef::Current`.
pub fn add_uplink(host: &dyn Netns, name: &str, peer: &str) {
    let spec = VethSpec {
        name: name.to_string(),
        peer_name: peer.to_string(),
        mtu: Some(1500),
        mac: Some("02:00:00:00:00:01".parse().expect("a MAC")),
        peer_mac: Some("02:00:00:00:00:02".parse().expect("a MAC")),
        txqueuelen: None,
    };
    let pair = host.create_veth(&spec, &NsRef::Current).expect("uplink");
    host.set_up(pair.local.index, true).expect("uplink up");
    host.set_up(pair.peer.index, true).expect("uplink peer up");
    let addr = AddressSpec {
        addr: "192.168.50.2/24".parse().expect("a CIDR"),
        nodad: false,
    };
    host.add_address(pair.local.index, &addr)
        .expect("uplink address");
    let default = RouteSpec::new("0.0.0.0/0".parse().expect("a CIDR"))
        .via("192.168.50.1".parse().expect("an IP"))
        .dev(pair.local.index);
    host.add_route(&default).expect("host default route");
}

/// A config with `prevResult` set, for CHECK (and GC's valid attachments).
pub fn with_prev_result(conf: &Value, prev: &Value) -> Value {
    let mut conf = conf.clone();
    conf["prevResult"] = prev.clone();
    conf
}

/// `conf` as GC gets it: at 1.1.0, with the containers `keep` (on `eth0`)
/// as the runtime's valid attachments.
pub fn gc_keeping(conf: &Value, keep: &[&str]) -> Value {
    let mut gc = conf.clone();
    gc["cniVersion"] = "1.1.0".into();
    gc["cni.dev/valid-attachments"] = keep
        .iter()
        .map(|id| serde_json::json!({"containerID": id, "ifname": "eth0"}))
        .collect();
    gc
}
