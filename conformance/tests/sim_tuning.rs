//! tuning on the simulator, chained after bridge as a runtime chains it:
//! every option set and restored, CHECK naming what differs, the saved state
//! in the reference's format, DEL when things are gone, GC, and a fault
//! sweep (each backend operation of its ADD failed in turn: the interface
//! and the sysctls back as they were, no saved state left).

use cni_conformance::sim_scenarios::{Attachment, Failure, SimWorld};
use cni_core::fsio::RealFs;
use cni_core::net::{LinkInfo, NetErrorKind, NsRef};
use cni_core::skel::dispatch;
use cni_core::spec::version::ALL;
use cni_plugins::tuning::Tuning;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

const PER_LINK: &str = "net/ipv4/conf/eth0/proxy_arp";
const GLOBAL: &str = "net/ipv4/conf/all/arp_notify";

/// A kernel with `ctr1` attached by bridge; tuning's `dataDir` and
/// allowlist in a scratch directory.
struct Chain {
    world: SimWorld,
    att: Attachment,
    bridge_conf: Value,
    prev: Value,
    scratch: tempfile::TempDir,
}

impl Chain {
    fn new(version: &str) -> Chain {
        let world = SimWorld::new();
        let att = Attachment::new("ctr1");
        world.add_container(&att);
        let bridge = json!({"name": "tn", "type": "bridge", "bridge": "cni0", "isGateway": true,
            "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.30.0.0/24"}]]}});
        let bridge_conf = world.netconf(&bridge, version);
        let prev = world.call("ADD", &bridge_conf, &att).expect("bridge ADD");
        Chain {
            world,
            att,
            bridge_conf,
            prev,
            scratch: tempfile::tempdir().unwrap(),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.scratch.path().join("tuning")
    }

    fn saved_file(&self) -> PathBuf {
        self.data_dir().join("ctr1_eth0.json")
    }

    /// tuning's config after bridge, with `prevResult` and our `dataDir`.
    fn conf(&self, options: Value) -> Value {
        let mut conf = json!({"cniVersion": self.bridge_conf["cniVersion"], "name": "tn",
            "type": "tuning", "dataDir": self.data_dir(), "prevResult": self.prev});
        for (k, v) in options.as_object().unwrap() {
            conf[k] = v.clone();
        }
        conf
    }

    fn tuning(&self, verb: &str, conf: &Value) -> Result<Value, Failure> {
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("CNI_COMMAND", verb),
            ("CNI_PATH", "/opt/cni/bin"),
            ("CNI_CONTAINERID", &self.att.container_id),
            ("CNI_NETNS", &self.att.netns),
            ("CNI_IFNAME", &self.att.ifname),
            ("CNI_ARGS", &self.att.cni_args),
        ] {
            env.insert(k.to_string(), v.to_string());
        }
        let allowlist = self.scratch.path().join("allowlist.conf");
        let plugin = Tuning {
            backend: &self.world.faults,
            fs: &RealFs,
            allowlist: &allowlist,
        };
        let stdin = serde_json::to_vec(conf).unwrap();
        let out = dispatch(&env, &mut stdin.as_slice(), &plugin, ALL);
        let printed: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
        if out.exit_code == 0 {
            return Ok(printed);
        }
        Err(Failure {
            code: printed["code"].as_u64().unwrap(),
            msg: printed["msg"].as_str().unwrap_or_default().to_string(),
            details: String::new(),
        })
    }

    fn eth0(&self) -> LinkInfo {
        self.world
            .container(&self.att)
            .link_by_name("eth0")
            .unwrap()
    }

    fn sysctl(&self, key: &str) -> String {
        self.world.container(&self.att).sysctl_get(key).unwrap()
    }

    fn container_state(&self) -> String {
        let ns = NsRef::path(&self.att.netns);
        self.world.kernel.snapshot_ns(&ns).unwrap()
    }
}

fn every_option() -> Value {
    json!({"sysctl": {"net.ipv4.conf.IFNAME.proxy_arp": "1", "net.ipv4.conf.all.arp_notify": "1"},
        "mac": "0a:00:00:00:aa:01", "mtu": 1400, "promisc": true, "allmulti": true, "txQLen": 2000})
}

#[test]
fn every_option_is_set_saved_checked_and_restored_by_del_at_every_chained_version() {
    for version in ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] {
        let chain = Chain::new(version);
        let before = chain.container_state();
        let old = chain.eth0();
        let conf = chain.conf(every_option());
        let result = chain.tuning("ADD", &conf).unwrap();
        let mut expected = chain.prev.clone();
        let eth0 = expected["interfaces"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|i| i["name"] == "eth0" && i.get("sandbox").is_some())
            .unwrap();
        eth0["mac"] = json!("0a:00:00:00:aa:01");
        assert_eq!(result, expected, "{version}: prevResult with the new MAC");
        let now = chain.eth0();
        assert_eq!(
            (
                now.mac.to_string(),
                now.mtu,
                now.promisc,
                now.allmulti,
                now.txqueuelen
            ),
            ("0a:00:00:00:aa:01".to_string(), 1400, true, true, 2000),
            "{version}"
        );
        assert_eq!(
            (chain.sysctl(PER_LINK), chain.sysctl(GLOBAL)),
            ("1".into(), "1".into())
        );
        let saved: Value =
            serde_json::from_slice(&std::fs::read(chain.saved_file()).unwrap()).unwrap();
        assert_eq!(
            saved["mac"],
            json!(old.mac.to_string()),
            "{version}: {saved}"
        );
        assert_eq!(
            (
                &saved["mtu"],
                &saved["promisc"],
                &saved["allmulti"],
                &saved["txQLen"]
            ),
            (&json!(old.mtu), &json!(false), &json!(false), &json!(1000))
        );
        if !version.starts_with("0.3") {
            assert_eq!(chain.tuning("CHECK", &conf), Ok(Value::Null), "{version}");
        }
        assert_eq!(chain.tuning("DEL", &conf), Ok(Value::Null), "{version}");
        assert_eq!(
            chain.container_state(),
            before,
            "{version}: DEL restores everything"
        );
        assert!(
            !chain.saved_file().exists(),
            "{version}: saved state dropped"
        );
        assert_eq!(
            chain.tuning("DEL", &conf),
            Ok(Value::Null),
            "{version}: DEL again"
        );
    }
}

/// Changes one tuned value behind tuning's back.
type Breaker<'a> = Box<dyn Fn() + 'a>;

#[test]
fn check_names_what_differs() {
    let chain = Chain::new("1.0.0");
    let conf = chain.conf(every_option());
    chain.tuning("ADD", &conf).unwrap();
    let c = chain.world.container(&chain.att);
    let eth0 = chain.eth0();
    // Broken in the reverse of CHECK's order, so each one is what it reports.
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "transmit queue length of eth0 is 5",
            Box::new(|| c.set_txqueuelen(eth0.index, 5).unwrap()),
        ),
        (
            "all-multicast mode of eth0 is false",
            Box::new(|| c.set_allmulti(eth0.index, false).unwrap()),
        ),
        (
            "MTU of eth0 is 1500",
            Box::new(|| c.set_mtu(eth0.index, 1500).unwrap()),
        ),
        (
            "promiscuous mode of eth0 is false",
            Box::new(|| c.set_promisc(eth0.index, false).unwrap()),
        ),
        (
            "MAC of eth0 is 0a:00:00:00:aa:02",
            Box::new(|| {
                c.set_mac(eth0.index, "0a:00:00:00:aa:02".parse().unwrap())
                    .unwrap()
            }),
        ),
        (
            "sysctl net/ipv4/conf/all/arp_notify is \"0\"",
            Box::new(|| c.sysctl_set(GLOBAL, "0").unwrap()),
        ),
    ];
    for (want, break_it) in cases {
        break_it();
        let e = chain.tuning("CHECK", &conf).unwrap_err();
        assert!(e.msg.contains(want), "wanted {want:?} in {e}");
    }
    let gone = chain.conf(json!({"mtu": 1400}));
    chain
        .world
        .call("DEL", &chain.bridge_conf, &chain.att)
        .unwrap();
    let e = chain.tuning("CHECK", &gone).unwrap_err();
    assert!(e.msg.contains("container interface eth0 not found"), "{e}");
}

#[test]
fn refusals_come_before_any_change() {
    let chain = Chain::new("1.0.0");
    let before = chain.container_state();
    let mut no_prev = chain.conf(json!({"mtu": 1400}));
    no_prev.as_object_mut().unwrap().remove("prevResult");
    let e = chain.tuning("ADD", &no_prev).unwrap_err();
    assert_eq!(e.code, 7);
    assert!(e.msg.starts_with("prevResult: required"), "{e}");
    for (options, want) in [
        (
            json!({"mtu": 1400, "sysctl": {"kernel.panic": "1"}}),
            "only keys under net.",
        ),
        // Dots are slashes, so `..` never climbs out of net/ (as in the
        // reference): the key names a sysctl that is not there.
        (
            json!({"mtu": 1400, "sysctl": {"net.ipv4.conf.IFNAME.proxy_arp/../../../../kernel/panic": "1"}}),
            "net/ipv4/conf/eth0/proxy_arp/kernel/panic",
        ),
    ] {
        let e = chain.tuning("ADD", &chain.conf(options)).unwrap_err();
        assert!(e.msg.contains(want), "{e}");
    }
    std::fs::write(
        chain.scratch.path().join("allowlist.conf"),
        "^net\\.core\\.\n",
    )
    .unwrap();
    let e = chain
        .tuning(
            "ADD",
            &chain.conf(json!({"sysctl": {"net.ipv4.conf.all.arp_notify": "1"}})),
        )
        .unwrap_err();
    assert!(e.msg.contains("is not allowed"), "{e}");
    assert_eq!(chain.container_state(), before);
    assert!(!chain.data_dir().exists(), "nothing saved");
}

#[test]
fn del_succeeds_and_drops_the_state_when_the_namespace_or_interface_is_gone() {
    for remove_namespace in [false, true] {
        let chain = Chain::new("1.0.0");
        let conf = chain.conf(json!({"mtu": 1400}));
        chain.tuning("ADD", &conf).unwrap();
        chain
            .world
            .call("DEL", &chain.bridge_conf, &chain.att)
            .unwrap();
        if remove_namespace {
            chain.world.kernel.del_netns(&chain.att.netns).unwrap();
        }
        assert_eq!(chain.tuning("DEL", &conf), Ok(Value::Null));
        assert!(
            !chain.saved_file().exists(),
            "namespace gone: {remove_namespace}"
        );
    }
}

#[test]
fn a_failed_restore_keeps_the_state_for_the_retry() {
    let chain = Chain::new("1.0.0");
    let before = chain.container_state();
    let conf = chain.conf(every_option());
    chain.tuning("ADD", &conf).unwrap();
    let faults = &chain.world.faults;
    faults.fail_next(
        cni_conformance::faults::NetOp::SetMtu,
        None,
        NetErrorKind::Busy,
    );
    let e = chain.tuning("DEL", &conf).unwrap_err();
    assert_eq!(e.code, 11, "{e}");
    assert!(chain.saved_file().exists(), "kept for the retry");
    assert_eq!(chain.tuning("DEL", &conf), Ok(Value::Null));
    assert_eq!(chain.container_state(), before);
}

#[test]
fn gc_drops_only_this_networks_state_of_attachments_no_longer_valid() {
    let chain = Chain::new("1.1.0");
    chain
        .tuning("ADD", &chain.conf(json!({"mtu": 1400})))
        .unwrap();
    let dir = chain.data_dir();
    std::fs::write(dir.join("gone_eth0.json"), r#"{"mtu":1500,"network":"tn"}"#).unwrap();
    std::fs::write(
        dir.join("other_eth0.json"),
        r#"{"mtu":1500,"network":"elsewhere"}"#,
    )
    .unwrap();
    std::fs::write(dir.join("go_eth0.json"), "{\n \"mtu\": 1500\n}").unwrap();
    let gc = json!({"cniVersion": "1.1.0", "name": "tn", "type": "tuning", "dataDir": dir,
        "cni.dev/valid-attachments": [{"containerID": "ctr1", "ifname": "eth0"}]});
    assert_eq!(chain.tuning("GC", &gc), Ok(Value::Null));
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["ctr1_eth0.json", "go_eth0.json", "other_eth0.json"]);
    assert_eq!(chain.tuning("STATUS", &gc), Ok(Value::Null));
}

/// Kinds no step absorbs: every failed operation fails the ADD.
const KINDS: &[NetErrorKind] = &[
    NetErrorKind::Other,
    NetErrorKind::Busy,
    NetErrorKind::Invalid,
    NetErrorKind::Permission,
    NetErrorKind::NotFound,
    NetErrorKind::Exists,
];

#[test]
fn each_failed_operation_of_add_leaves_the_interface_and_sysctls_as_they_were() {
    let probe = Chain::new("1.0.0");
    let conf = probe.conf(every_option());
    let start = probe.world.faults.op_count();
    probe.tuning("ADD", &conf).unwrap();
    let total = probe.world.faults.op_count() - start;
    assert!(total >= 9, "a successful ADD ran only {total} operations");
    for &kind in KINDS {
        for n in 1..=total {
            let chain = Chain::new("1.0.0");
            let conf = chain.conf(every_option());
            let before = chain.world.kernel.snapshot();
            let (outcome, op) = chain
                .world
                .faults
                .with_nth_failing(n, kind, || chain.tuning("ADD", &conf));
            let label = format!("ADD with #{n} ({op:?}) failing {kind:?}");
            assert!(outcome.is_err(), "{label}: succeeded");
            assert_eq!(chain.world.kernel.snapshot(), before, "{label}: not undone");
            assert!(!chain.saved_file().exists(), "{label}: saved state left");
            assert_eq!(chain.tuning("DEL", &conf), Ok(Value::Null), "{label}: DEL");
            assert_eq!(chain.world.kernel.snapshot(), before, "{label}: after DEL");
        }
    }
}

#[test]
fn a_file_the_reference_saved_is_restored_by_our_del() {
    let chain = Chain::new("1.0.0");
    let before = chain.eth0();
    let conf = chain.conf(json!({"mtu": 1400, "promisc": true}));
    chain.tuning("ADD", &conf).unwrap();
    let go = format!("{{\n \"promisc\": false,\n \"mtu\": {}\n}}", before.mtu);
    std::fs::write(chain.saved_file(), go).unwrap();
    assert_eq!(chain.tuning("DEL", &conf), Ok(Value::Null));
    let after = chain.eth0();
    assert_eq!((after.mtu, after.promisc), (before.mtu, false));
    assert!(!chain.saved_file().exists());
}

/// Sysctls alone need no interface: with `CNI_IFNAME` naming none, ADD sets
/// them (as the reference does); a link setting still needs the interface.
#[test]
fn sysctls_alone_work_without_the_interface_and_link_settings_need_it() {
    let mut chain = Chain::new("1.0.0");
    chain.att.ifname = "eth1".to_string();
    let conf = chain.conf(json!({"sysctl": {"net.ipv4.conf.all.arp_notify": "1"}}));
    let result = chain.tuning("ADD", &conf).unwrap();
    assert_eq!(result, chain.prev);
    assert_eq!(chain.sysctl(GLOBAL), "1");
    chain.tuning("DEL", &conf).unwrap();
    let conf = chain.conf(json!({"sysctl": {"net.ipv4.conf.all.arp_notify": "1"}, "mtu": 1400}));
    let e = chain.tuning("ADD", &conf).unwrap_err();
    assert!(e.msg.contains("eth1"), "{e:?}");
    assert_eq!(
        chain.sysctl(GLOBAL),
        "0",
        "DEL restored it, the failed ADD changed nothing"
    );
}
