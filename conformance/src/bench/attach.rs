//! An implementation under test, as the sections of the benchmark see it:
//! something that attaches, checks and detaches one container. Our plugins
//! and the reference's are [`PluginAttacher`]s; the kernel floor is
//! `floor::FloorAttacher`; the Podman default chain (bridge, portmap,
//! firewall, tuning) run by our libcni is `chain::ChainAttacher`, and every
//! section measures it unchanged.

use super::modes::{Lan, Mode};
use super::step::{Outcome, Probe, Step};
use serde_json::{json, Value};
use std::path::PathBuf;

/// A container: its index (container ID and floor address) and its namespace.
#[derive(Debug, Clone, Copy)]
pub struct Container<'a> {
    pub index: usize,
    pub netns: &'a str,
}

pub trait Attacher: Sync {
    fn label(&self) -> &str;
    /// ADD; the outcome's stdout is what CHECK and DEL get back as `added`.
    fn add(&self, c: Container, probe: Probe) -> Result<Outcome, String>;
    fn check(&self, c: Container, added: &[u8], probe: Probe) -> Result<Outcome, String>;
    fn del(&self, c: Container, added: &[u8], probe: Probe) -> Result<Outcome, String>;
}

/// A plugin directory (ours or the reference's) run as a runtime runs it.
pub struct PluginAttacher {
    pub label: String,
    pub dir: PathBuf,
    pub mode: Mode,
    pub lan: Lan,
}

impl PluginAttacher {
    fn config(&self, c: Container, prev_result: Option<Value>) -> Vec<u8> {
        let lan = &self.lan;
        let range = |subnet: String| json!([{ "subnet": subnet }]);
        let ipam = match self.mode {
            Mode::DualStack => json!({"type": "host-local", "dataDir": lan.data_dir,
                "ranges": [range(lan.subnet4()), range(lan.subnet6())]}),
            _ => json!({"type": "host-local", "dataDir": lan.data_dir, "subnet": lan.subnet4()}),
        };
        let mut conf = json!({"cniVersion": "1.0.0", "name": "bench", "type": self.mode.plugin()});
        match self.mode {
            Mode::Bridge | Mode::BridgeMasq | Mode::DualStack | Mode::PodmanChain => {
                conf["bridge"] = json!(lan.bridge);
                conf["isGateway"] = json!(true);
                conf["ipMasq"] = json!(self.mode.ip_masq());
                conf["ipam"] = ipam;
            }
            Mode::BridgeDhcp => {
                conf["bridge"] = json!(lan.bridge);
                conf["isGateway"] = json!(true);
                conf["ipam"] = json!({"type": "dhcp", "daemonSocketPath": lan.dhcp_socket()});
            }
            Mode::Ptp => conf["ipam"] = ipam,
            Mode::HostDevice => {
                conf["device"] = json!(lan.host_device(c.index));
                conf["ipam"] = ipam;
            }
            Mode::Macvlan => {
                conf["master"] = json!(lan.parent);
                conf["mode"] = json!("bridge");
                conf["ipam"] = ipam;
            }
            Mode::Loopback => {}
        }
        if let Some(prev) = prev_result {
            conf["prevResult"] = prev;
        }
        conf.to_string().into_bytes()
    }

    fn step(&self, verb: &str, c: Container, config: Vec<u8>) -> Step {
        let env = [
            ("CNI_COMMAND", verb.to_string()),
            ("CNI_CONTAINERID", format!("bench{}", c.index)),
            ("CNI_NETNS", format!("/var/run/netns/{}", c.netns)),
            ("CNI_IFNAME", self.ifname().to_string()),
            ("CNI_PATH", self.dir.display().to_string()),
            ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin".to_string()),
        ];
        Step {
            program: self.dir.join(self.mode.plugin()),
            args: Vec::new(),
            env: env.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            stdin: config,
        }
    }

    fn ifname(&self) -> &'static str {
        if self.mode == Mode::Loopback {
            "lo"
        } else {
            "eth0"
        }
    }

    fn with_result(&self, c: Container, added: &[u8]) -> Result<Vec<u8>, String> {
        let result: Value = serde_json::from_slice(added)
            .map_err(|e| format!("{}: ADD printed no JSON result: {e}", self.label))?;
        Ok(self.config(c, Some(result)))
    }
}

impl Attacher for PluginAttacher {
    fn label(&self) -> &str {
        &self.label
    }

    fn add(&self, c: Container, probe: Probe) -> Result<Outcome, String> {
        self.step("ADD", c, self.config(c, None)).run(probe)
    }

    fn check(&self, c: Container, added: &[u8], probe: Probe) -> Result<Outcome, String> {
        self.step("CHECK", c, self.with_result(c, added)?)
            .run(probe)
    }

    fn del(&self, c: Container, added: &[u8], probe: Probe) -> Result<Outcome, String> {
        self.step("DEL", c, self.with_result(c, added)?).run(probe)
    }
}

impl Drop for PluginAttacher {
    fn drop(&mut self) {
        if self.mode.has_bridge() {
            self.lan.remove_bridge();
        }
        self.lan.remove_host_devices();
    }
}
