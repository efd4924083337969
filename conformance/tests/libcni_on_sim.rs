//! libcni driving our real plugins (bridge + host-local, loopback) on the
//! simulated kernel, through the in-memory `Exec`: chaining, the cache, reverse
//! DEL, GC of stale attachments, version gating, and a failing middle plugin —
//! each checked against the kernel state and host-local's leases.

use cni_backend_sim::SimKernel;
use cni_core::invoke::testing::InMemoryExec;
use cni_core::libcni::{CniConfig, GcAttachment, NetworkConfigList, RuntimeConf};
use cni_core::net::NsRef;
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
use cni_plugins::bridge::Bridge;
use cni_plugins::common::delegate::InProcessDelegate;
use cni_plugins::host_local::HostLocal;
use cni_plugins::loopback::Loopback;
use std::path::PathBuf;

/// One of our plugins bound to a simulated kernel (IPAM: host-local in process).
#[derive(Clone)]
enum OnSim {
    Bridge(SimKernel),
    Loopback(SimKernel),
}

impl OnSim {
    fn with<R>(&self, f: impl FnOnce(&dyn Plugin) -> R) -> R {
        let ipam = InProcessDelegate::new().with("host-local", &HostLocal);
        match self {
            OnSim::Bridge(k) => f(&Bridge {
                backend: k,
                ipam: &ipam,
            }),
            OnSim::Loopback(k) => f(&Loopback { backend: k }),
        }
    }
}

impl Plugin for OnSim {
    fn add(&self, a: &CmdArgs) -> Result<CniResult, CniError> {
        self.with(|p| p.add(a))
    }
    fn del(&self, a: &CmdArgs) -> Result<(), CniError> {
        self.with(|p| p.del(a))
    }
    fn check(&self, a: &CmdArgs) -> Result<(), CniError> {
        self.with(|p| p.check(a))
    }
    fn status(&self, a: &CmdArgs) -> Result<(), CniError> {
        self.with(|p| p.status(a))
    }
    fn gc(&self, a: &CmdArgs) -> Result<(), CniError> {
        self.with(|p| p.gc(a))
    }
    fn about(&self) -> String {
        self.with(|p| p.about())
    }
}

struct World {
    kernel: SimKernel,
    exec: InMemoryExec,
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let kernel = SimKernel::new();
        let mut exec = InMemoryExec::new();
        let all = cni_core::spec::version::ALL;
        exec.register_plugin("bridge", OnSim::Bridge(kernel.clone()), all);
        exec.register_plugin("loopback", OnSim::Loopback(kernel.clone()), all);
        // Refuses ADD; DEL of something it never made succeeds, as DEL must.
        exec.register_fn("fails", |inv| match inv.command() {
            "ADD" => Err(CniError::new(117, "middle plugin refused").with_details("on purpose")),
            _ => Ok(Vec::new()),
        });
        World {
            kernel,
            exec,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn cni(&self) -> CniConfig<'_> {
        CniConfig::new(vec![PathBuf::from("/opt/cni/bin")], &self.exec)
            .with_cache_dir(self.dir.path().join("cache"))
    }

    fn list(&self, version: &str, middle: &[&str]) -> NetworkConfigList {
        let mut plugins = vec![serde_json::json!({
            "type": "bridge", "bridge": "cni9", "isGateway": true,
            "ipam": {"type": "host-local", "subnet": "10.88.0.0/24", "dataDir": self.dir.path().join("ipam")}
        })];
        plugins.extend(middle.iter().map(|t| serde_json::json!({"type": t})));
        plugins.push(serde_json::json!({"type": "loopback"}));
        let list = serde_json::json!({"cniVersion": version, "name": "simnet", "plugins": plugins});
        NetworkConfigList::from_bytes(list.to_string().as_bytes(), "test").unwrap()
    }

    fn container(&self, id: &str) -> RuntimeConf {
        let path = format!("/var/run/netns/{id}");
        self.kernel.add_netns(&path).unwrap();
        RuntimeConf {
            container_id: id.to_string(),
            netns: path,
            ifname: "eth0".to_string(),
            ..RuntimeConf::default()
        }
    }

    fn leases(&self) -> usize {
        let dir = self.dir.path().join("ipam/simnet");
        std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with("10."))
                    .count()
            })
            .unwrap_or(0)
    }

    fn commands(&self) -> Vec<String> {
        self.exec
            .calls()
            .iter()
            .map(|c| format!("{} {}", c.command(), c.plugin_type))
            .collect()
    }

    fn cache_files(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("cache/results"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

#[test]
fn add_chains_caches_and_del_runs_in_reverse_back_to_the_start() {
    let w = World::new();
    let list = w.list("1.1.0", &[]);
    let rt = w.container("c1");
    let before = w.kernel.snapshot();

    let result = w.cni().add_network_list(&list, &rt).unwrap();
    assert_eq!(
        result["interfaces"].as_array().unwrap().len(),
        3,
        "bridge's result reached the end of the chain"
    );
    let calls = w.exec.calls();
    let loopback_in = calls[1].stdin_json();
    assert_eq!(
        loopback_in["prevResult"]["ips"][0]["address"], "10.88.0.2/24",
        "loopback got bridge's result"
    );
    assert_eq!(w.leases(), 1);
    assert_eq!(w.cache_files(), 1);
    let container = w
        .kernel
        .snapshot_ns(&NsRef::path("/var/run/netns/c1"))
        .unwrap();
    assert!(container.contains("10.88.0.2/24"), "{container}");

    w.cni().check_network_list(&list, &rt).unwrap();
    w.cni().del_network_list(&list, &rt).unwrap();
    let dels: Vec<String> = w
        .commands()
        .into_iter()
        .filter(|c| c.starts_with("DEL"))
        .collect();
    assert_eq!(dels, ["DEL loopback", "DEL bridge"]);
    let del_in = w
        .exec
        .calls()
        .iter()
        .rev()
        .find(|c| c.command() == "DEL" && c.plugin_type == "bridge")
        .unwrap()
        .stdin_json();
    assert_eq!(
        del_in["prevResult"]["ips"][0]["address"], "10.88.0.2/24",
        "DEL got the cached result"
    );
    assert_eq!(w.leases(), 0);
    assert_eq!(w.cache_files(), 0);
    let after = w.kernel.snapshot();
    assert!(!after.contains("10.88.0.2"), "no address left: {after}");
    // The bridge stays (as the reference's); everything else is as before.
    assert!(
        before.lines().all(|l| after.contains(l)),
        "before:\n{before}\nafter:\n{after}"
    );
}

#[test]
fn gc_deletes_only_attachments_that_are_no_longer_valid() {
    let w = World::new();
    let list = w.list("1.1.0", &[]);
    let (c1, c2) = (w.container("c1"), w.container("c2"));
    w.cni().add_network_list(&list, &c1).unwrap();
    w.cni().add_network_list(&list, &c2).unwrap();
    assert_eq!(w.leases(), 2);

    let keep = [GcAttachment {
        container_id: "c1".into(),
        ifname: "eth0".into(),
    }];
    w.cni().gc_network_list(&list, Some(&keep)).unwrap();
    assert_eq!(w.leases(), 1, "c2's lease released");
    assert_eq!(w.cache_files(), 1);
    let c2_state = w
        .kernel
        .snapshot_ns(&NsRef::path("/var/run/netns/c2"))
        .unwrap();
    assert!(
        !c2_state.contains("eth0"),
        "c2's interface removed: {c2_state}"
    );
    w.cni().check_network_list(&list, &c1).unwrap();
    let gc_in = w
        .exec
        .calls()
        .iter()
        .find(|c| c.command() == "GC")
        .unwrap()
        .stdin_json();
    assert_eq!(gc_in["cni.dev/valid-attachments"][0]["containerID"], "c1");
}

#[test]
fn check_and_gc_are_refused_below_their_spec_versions_before_any_plugin_runs() {
    let w = World::new();
    let old = w.list("0.3.1", &[]);
    let rt = w.container("c1");
    w.cni().add_network_list(&old, &rt).unwrap();
    let calls_before = w.exec.calls().len();
    assert!(
        w.cni().check_network_list(&old, &rt).is_err(),
        "CHECK needs 0.4.0"
    );
    assert!(
        w.cni().gc_network_list(&old, None).is_err(),
        "GC needs 1.1.0"
    );
    assert_eq!(w.exec.calls().len(), calls_before, "no plugin ran");
    w.cni().del_network_list(&old, &rt).unwrap();
    assert_eq!(w.leases(), 0);
}

#[test]
fn a_failing_middle_plugin_stops_add_with_its_error_and_del_cleans_up() {
    let w = World::new();
    let list = w.list("1.0.0", &["fails"]);
    let rt = w.container("c1");
    let err = w
        .cni()
        .add_network_list(&list, &rt)
        .unwrap_err()
        .to_string();
    assert!(err.contains("middle plugin refused"), "{err}");
    assert!(
        !w.commands().contains(&"ADD loopback".to_string()),
        "the chain stopped"
    );
    assert_eq!(w.leases(), 1, "bridge's ADD stands until the runtime's DEL");

    w.cni().del_network_list(&list, &rt).unwrap();
    assert_eq!(w.leases(), 0);
    let c1 = w
        .kernel
        .snapshot_ns(&NsRef::path("/var/run/netns/c1"))
        .unwrap();
    assert!(!c1.contains("eth0"), "{c1}");
}
