//! Podman's default chain through libcni: the network list `podman network
//! create` writes (Podman 4, CNI backend: bridge with host-local, `ipMasq`
//! and `hairpinMode`, then portmap, firewall and tuning), run by our libcni
//! as a runtime runs it, with one port mapping per container so portmap has
//! work to do. `CNI_PATH` is either our plugins or the reference's; the
//! runtime side is the same for both, so what differs is the plugins.
//!
//! Two deliberate departures from the list Podman writes: host-local gets a
//! `dataDir` of the benchmark's own, and the network is named after its
//! bridge, so the two implementations never share a lease, a rule or a
//! cache entry.

use super::attach::{Attacher, Container};
use super::memory::{run_traced_with_output, PeakRss};
use super::modes::Lan;
use super::step::{Outcome, Probe};
use cni_core::error::CniError;
use cni_core::invoke::{Exec, RawExec};
use cni_core::libcni::{CniConfig, LibcniError, NetworkConfigList, RuntimeConf};
use serde_json::{json, Map, Value};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Container `i` maps host port `HOST_PORT_BASE + i` (TCP) to its port 80.
const HOST_PORT_BASE: usize = 20000;
/// What plugins get besides the `CNI_*` variables: the reference's portmap
/// and firewall run `iptables`.
const PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// The list as `podman network create --subnet <lan's /16>` writes it.
fn podman_list(lan: &Lan) -> Value {
    json!({
        "cniVersion": "0.4.0",
        "name": lan.bridge,
        "plugins": [
            {
                "type": "bridge",
                "bridge": lan.bridge,
                "isGateway": true,
                "ipMasq": true,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "dataDir": lan.data_dir,
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "ranges": [[{"subnet": lan.subnet4(), "gateway": lan.gateway4()}]]
                },
                "capabilities": {"ips": true}
            },
            {"type": "portmap", "capabilities": {"portMappings": true}},
            {"type": "firewall", "backend": ""},
            {"type": "tuning"}
        ]
    })
}

pub struct ChainAttacher {
    label: String,
    /// `CNI_PATH`: our plugins or the reference's.
    dir: PathBuf,
    lan: Lan,
    list: NetworkConfigList,
    cache_dir: PathBuf,
}

impl ChainAttacher {
    pub fn new(label: String, dir: &Path, lan: Lan) -> Result<ChainAttacher, String> {
        let bytes = podman_list(&lan).to_string().into_bytes();
        let list =
            NetworkConfigList::from_bytes(&bytes, "the Podman chain").map_err(|e| e.to_string())?;
        let cache_dir = lan.data_dir.with_file_name(format!("{}-cache", lan.bridge));
        Ok(ChainAttacher {
            label,
            dir: dir.to_path_buf(),
            lan,
            list,
            cache_dir,
        })
    }

    /// What Podman passes for `podman run -p <port>:80`.
    fn runtime(&self, c: Container) -> RuntimeConf {
        let id = format!("bench{}", c.index);
        let mut capability_args = Map::new();
        capability_args.insert(
            "portMappings".into(),
            json!([{"hostPort": HOST_PORT_BASE + c.index, "containerPort": 80, "protocol": "tcp"}]),
        );
        RuntimeConf {
            container_id: id.clone(),
            netns: format!("/var/run/netns/{}", c.netns),
            ifname: "eth0".into(),
            args: vec![
                ("IgnoreUnknown".into(), "1".into()),
                ("K8S_POD_NAME".into(), id),
            ],
            capability_args,
            cache_dir: None,
        }
    }

    /// One libcni verb over the whole list. Timed: wall time around the
    /// call, libcni's own work included, as a runtime pays it. Traced: each
    /// plugin under ptrace, the largest peak kept.
    fn verb<T>(
        &self,
        probe: Probe,
        run: impl FnOnce(&CniConfig, &NetworkConfigList) -> Result<T, LibcniError>,
    ) -> Result<(T, Outcome), String> {
        let exec = ProbedExec {
            probe,
            peak: Cell::new(PeakRss::default()),
        };
        let cni = CniConfig::new(vec![self.dir.clone()], &exec)
            .with_cache_dir(&self.cache_dir)
            .with_base_env(vec![("PATH".into(), PATH.into())]);
        let start = Instant::now();
        let value = run(&cni, &self.list).map_err(|e| e.to_string())?;
        let wall = match probe {
            Probe::Timed => start.elapsed(),
            Probe::Traced => Duration::ZERO,
        };
        let outcome = Outcome {
            wall,
            rss: exec.peak.get(),
            stdout: Vec::new(),
        };
        Ok((value, outcome))
    }
}

impl Attacher for ChainAttacher {
    fn label(&self) -> &str {
        &self.label
    }

    fn add(&self, c: Container, probe: Probe) -> Result<Outcome, String> {
        let rt = self.runtime(c);
        let (result, mut outcome) =
            self.verb(probe, |cni, list| cni.add_network_list(list, &rt))?;
        outcome.stdout = Value::Object(result).to_string().into_bytes();
        Ok(outcome)
    }

    /// libcni checks against its cached result; `added` is not needed.
    fn check(&self, c: Container, _added: &[u8], probe: Probe) -> Result<Outcome, String> {
        let rt = self.runtime(c);
        Ok(self
            .verb(probe, |cni, list| cni.check_network_list(list, &rt))?
            .1)
    }

    fn del(&self, c: Container, _added: &[u8], probe: Probe) -> Result<Outcome, String> {
        let rt = self.runtime(c);
        Ok(self
            .verb(probe, |cni, list| cni.del_network_list(list, &rt))?
            .1)
    }
}

impl Drop for ChainAttacher {
    fn drop(&mut self) {
        self.lan.remove_bridge();
    }
}

/// libcni's way of running a plugin: as a runtime does ([`RawExec`]) when
/// timed, under ptrace when measuring memory.
struct ProbedExec {
    probe: Probe,
    peak: Cell<PeakRss>,
}

impl Exec for ProbedExec {
    fn exec_plugin(
        &self,
        plugin: &Path,
        stdin: &[u8],
        env: &[(String, String)],
    ) -> Result<Vec<u8>, CniError> {
        match self.probe {
            Probe::Timed => RawExec.exec_plugin(plugin, stdin, env),
            Probe::Traced => {
                let (peak, stdout) =
                    run_traced_with_output(plugin, &[], env, stdin).map_err(CniError::io)?;
                self.peak.set(self.peak.get().max(peak));
                Ok(stdout)
            }
        }
    }

    fn find_in_path(&self, plugin_type: &str, paths: &[PathBuf]) -> Result<PathBuf, CniError> {
        RawExec.find_in_path(plugin_type, paths)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_core::libcni::build_one_config;

    fn attacher() -> ChainAttacher {
        let lan = Lan {
            octet: 7,
            bridge: "bn1b0".into(),
            parent: "bn1par".into(),
            data_dir: PathBuf::from("/tmp/bench/bn1b0"),
            host_netns: "bn1-host".into(),
            host_devices: 0,
        };
        ChainAttacher::new("ours".into(), Path::new("/opt/cni/bin"), lan).unwrap()
    }

    #[test]
    fn the_list_is_podmans_default_chain_at_its_version() {
        let a = attacher();
        let types: Vec<&str> = a.list.plugins.iter().map(|p| p.plugin_type()).collect();
        assert_eq!(types, ["bridge", "portmap", "firewall", "tuning"]);
        assert_eq!(a.list.cni_version, "0.4.0");
        assert_eq!(a.cache_dir, Path::new("/tmp/bench/bn1b0-cache"));
    }

    #[test]
    fn only_portmap_gets_the_containers_port_mapping() {
        let a = attacher();
        let c = Container {
            index: 3,
            netns: "bn1-c3",
        };
        let rt = a.runtime(c);
        let stdin = |i: usize| -> Value {
            let bytes = build_one_config(&a.list, &a.list.plugins[i], None, Some(&rt)).unwrap();
            serde_json::from_slice(&bytes).unwrap()
        };
        assert_eq!(
            stdin(1)["runtimeConfig"]["portMappings"],
            json!([{"hostPort": 20003, "containerPort": 80, "protocol": "tcp"}])
        );
        for i in [0, 2, 3] {
            assert!(stdin(i).get("runtimeConfig").is_none(), "plugin {i}");
        }
    }
}
