//! The chain of issue #12 on our binaries in real namespaces: bridge (+
//! host-local, dual stack) → portmap → firewall → tuning → bandwidth, run as
//! a runtime runs a list (ADD in order, each result the next plugin's
//! `prevResult`; CHECK and DEL with the final result; DEL in reverse), for
//! a server container and a client container on one bridge. Proves:
//! - TCP to the mapped host port reaches the server from the namespace
//!   playing the host (its own IPv4 and IPv6 address, 127.0.0.1), from the
//!   other container (hairpin, both families) and from outside;
//! - bandwidth's tbf on the host veth and on the ifb show the configured
//!   rates and bursts, the ifb exists and the host veth's ingress redirects
//!   to it; tuning's sysctl and MTU are set;
//! - CHECK passes for every plugin of a healthy chain, and on a broken one
//!   only the broken plugin's CHECK fails, naming what is wrong (a deleted
//!   DNAT rule, a deleted forwarding rule, a changed MTU, a changed tbf
//!   rate, a deleted ingress redirect, a deleted tbf);
//! - each DEL takes away what its plugin added (qdiscs, filter and ifb;
//!   MTU and sysctl restored and the saved state dropped; the rules), also
//!   on the broken chain; at the end no rule, qdisc, ifb or saved state is
//!   left. Needs root.

use cni_conformance::realns::{
    in_ns_ok, in_ns_output, ip_ok, nft_rules, our_plugin, privileged, result_addrs,
    result_host_veth, sysctl, tc_json, PluginRun, TestNet, HOST_V4, HOST_V6,
};
use cni_conformance::traffic::{reaches, wait_for_dad, Server};
use cni_plugins::bandwidth::ifb_name;
use serde_json::{json, Value};
use std::path::PathBuf;

const NET: &str = "chain-net";
/// bandwidth's limits, in bits and bits per second: tc shows bytes.
const INGRESS: (u64, u64) = (8_000_000, 80_000);
const EGRESS: (u64, u64) = (16_000_000, 160_000);
const TUNED_MTU: u64 = 1400;
const TUNED_SYSCTL: &str = "net/ipv4/conf/eth0/proxy_arp";

struct World {
    net: TestNet,
    host: String,
    outside: String,
    data_dir: tempfile::TempDir,
}

/// One container's attachment: its namespace (also its container ID) and
/// the final result of the chain's ADD.
struct Attached {
    ns: String,
    result: Value,
    host_port: u16,
}

impl World {
    fn new() -> World {
        let mut net = TestNet::new();
        let host = net.add_ns("host");
        let outside = net.add_outside(&host);
        World {
            net,
            host,
            outside,
            data_dir: tempfile::tempdir().expect("scratch dir"),
        }
    }

    fn tuning_dir(&self) -> PathBuf {
        self.data_dir.path().join("tuning")
    }

    /// The list's plugin configs, in order, without `cniVersion`,
    /// `name` and `prevResult`.
    fn plugins(&self, host_port: u16) -> Vec<Value> {
        vec![
            json!({"type": "bridge", "bridge": format!("{}br", self.net.prefix),
                "isGateway": true, "isDefaultGateway": true,
                "ipam": {"type": "host-local", "dataDir": self.data_dir.path().join("ipam"),
                    "ranges": [[{"subnet": "10.36.0.0/24"}], [{"subnet": "fd36::/64"}]]}}),
            json!({"type": "portmap", "runtimeConfig": {"portMappings": [
                {"hostPort": host_port, "containerPort": 80, "protocol": "tcp"}]}}),
            json!({"type": "firewall"}),
            json!({"type": "tuning", "dataDir": self.tuning_dir(), "mtu": TUNED_MTU,
                "sysctl": {"net.ipv4.conf.IFNAME.proxy_arp": "1"}}),
            json!({"type": "bandwidth", "runtimeConfig": {"bandwidth": {
                "ingressRate": INGRESS.0, "ingressBurst": INGRESS.1,
                "egressRate": EGRESS.0, "egressBurst": EGRESS.1}}}),
        ]
    }

    fn conf(&self, plugin: &Value, prev: Option<&Value>) -> Value {
        let mut conf = plugin.clone();
        conf["cniVersion"] = json!("1.0.0");
        conf["name"] = json!(NET);
        if let Some(prev) = prev {
            conf["prevResult"] = prev.clone();
        }
        conf
    }

    fn run(&self, verb: &str, ctr: &str, conf: &Value) -> PluginRun {
        let plugin = our_plugin(conf["type"].as_str().expect("type"));
        self.net
            .run_attached(&self.host, &plugin, verb, (ctr, ctr), conf)
    }

    /// A new container namespace with the whole list added; `before_tuning`
    /// sees the container after bridge, portmap and firewall.
    fn attach(&mut self, role: &str, host_port: u16, before_tuning: impl FnOnce(&str)) -> Attached {
        let ns = self.net.add_ns(role);
        let mut prev: Option<Value> = None;
        let mut before_tuning = Some(before_tuning);
        for plugin in self.plugins(host_port) {
            if plugin["type"] == "tuning" {
                (before_tuning.take().expect("one tuning"))(&ns);
            }
            let conf = self.conf(&plugin, prev.as_ref());
            let out = self.run("ADD", &ns, &conf);
            out.assert_ok();
            let result = out.json();
            if let Some(prev) = &prev {
                assert_eq!(
                    result["ips"], prev["ips"],
                    "{}: prevResult passed on",
                    plugin["type"]
                );
            }
            prev = Some(result);
        }
        Attached {
            ns,
            result: prev.expect("a result"),
            host_port,
        }
    }

    /// Every plugin's CHECK with the final result: the types that failed,
    /// each with its message.
    fn check_failures(&self, att: &Attached) -> Vec<(String, String)> {
        let mut failed = Vec::new();
        for plugin in self.plugins(att.host_port) {
            let out = self.run("CHECK", &att.ns, &self.conf(&plugin, Some(&att.result)));
            if out.code != 0 {
                let msg = out.json()["msg"].as_str().unwrap_or_default().to_string();
                failed.push((plugin["type"].as_str().unwrap().to_string(), msg));
            }
        }
        failed
    }

    fn del(&self, att: &Attached, plugin: &Value) {
        let conf = self.conf(plugin, Some(&att.result));
        self.run("DEL", &att.ns, &conf).assert_ok();
    }
}

/// The host end of the container's veth, as bridge reported it.
fn host_veth(att: &Attached) -> String {
    result_host_veth(&att.result)
}

/// The qdiscs tc shows on `dev` in the host: (kind, handle, options).
fn qdiscs(world: &World, dev: &str) -> Vec<(String, String, Value)> {
    let shown = tc_json(&world.host, &["qdisc", "show", "dev", dev]);
    shown
        .as_array()
        .into_iter()
        .flatten()
        .map(|q| {
            let text = |k: &str| q[k].as_str().unwrap_or_default().to_string();
            (text("kind"), text("handle"), q["options"].clone())
        })
        .collect()
}

/// The tbf's (rate, burst) in bytes, as tc shows them on `dev`.
fn tbf(world: &World, dev: &str) -> Option<(u64, u64)> {
    qdiscs(world, dev)
        .into_iter()
        .find(|(kind, _, _)| kind == "tbf")
        .map(|(_, _, o)| (o["rate"].as_u64().unwrap(), o["burst"].as_u64().unwrap()))
}

/// The devices the mirred actions of `dev`'s ingress filters redirect to.
fn redirects(world: &World, dev: &str) -> Vec<String> {
    let filters = tc_json(&world.host, &["filter", "show", "dev", dev, "ingress"]);
    let mut to = Vec::new();
    for f in filters.as_array().into_iter().flatten() {
        for a in f
            .pointer("/options/actions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if a["kind"] == "mirred" && a["mirred_action"] == "redirect" {
                to.push(a["to_dev"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    to
}

fn link_exists(ns: &str, name: &str) -> bool {
    !in_ns_output(ns, "ip", &["-j", "link", "show", "dev", name])
        .trim()
        .is_empty()
}

fn mtu(ns: &str) -> u64 {
    let text = in_ns_output(ns, "ip", &["-j", "link", "show", "dev", "eth0"]);
    let v: Value = serde_json::from_str(&text).expect("ip -j link");
    v[0]["mtu"].as_u64().expect("mtu")
}

/// The rules of our table `table` (portmap's, firewall's) whose JSON
/// mentions `needle`.
fn rules_mentioning(world: &World, table: &str, needle: &str) -> Vec<Value> {
    nft_rules(&world.host)
        .into_iter()
        .filter(|r| r["table"] == table && r.to_string().contains(needle))
        .collect()
}

fn delete_rule(world: &World, rule: &Value) {
    let handle = rule["handle"].to_string();
    let (table, chain) = (rule["table"].as_str(), rule["chain"].as_str());
    let args = [
        "delete",
        "rule",
        "inet",
        table.unwrap(),
        chain.unwrap(),
        "handle",
        &handle,
    ];
    in_ns_ok(&world.host, "nft", &args);
}

fn tc(world: &World, args: &[&str]) {
    in_ns_ok(&world.host, "tc", args);
}

fn saved_state(world: &World, att: &Attached) -> PathBuf {
    world.tuning_dir().join(format!("{}_eth0.json", att.ns))
}

/// What bandwidth and tuning set on an attachment is in the kernel.
fn assert_shaped_and_tuned(world: &World, att: &Attached) {
    let veth = host_veth(att);
    let ifb = ifb_name(NET, &att.ns);
    let listed = att.result["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["name"] == ifb.as_str());
    assert!(listed, "the ifb {ifb} in the result: {}", att.result);
    assert_eq!(
        tbf(world, &veth),
        Some((INGRESS.0 / 8, INGRESS.1 / 8)),
        "{veth}"
    );
    assert_eq!(
        tbf(world, &ifb),
        Some((EGRESS.0 / 8, EGRESS.1 / 8)),
        "{ifb}"
    );
    let kinds: Vec<String> = qdiscs(world, &veth).into_iter().map(|q| q.0).collect();
    assert!(kinds.contains(&"ingress".to_string()), "{veth}: {kinds:?}");
    assert_eq!(
        redirects(world, &veth),
        std::slice::from_ref(&ifb),
        "{veth}'s ingress redirect"
    );
    let kind = in_ns_output(
        &world.host,
        "ip",
        &["-j", "-d", "link", "show", "dev", &ifb],
    );
    assert!(kind.contains("\"info_kind\":\"ifb\""), "{kind}");
    assert_eq!(mtu(&att.ns), TUNED_MTU);
    assert_eq!(sysctl(&att.ns, TUNED_SYSCTL), "1");
    assert!(saved_state(world, att).is_file(), "tuning's saved state");
}

/// The paths to the mapped port that fail, from the host, the other
/// container and the outside.
fn unreachable_paths(world: &World, server: &Attached, client: &Attached) -> Vec<String> {
    let port = server.host_port;
    let (v4, v6, lo) = (
        format!("{HOST_V4}:{port}"),
        format!("[{HOST_V6}]:{port}"),
        format!("127.0.0.1:{port}"),
    );
    let paths = [
        ("host", &world.host, &v4),
        ("host", &world.host, &v6),
        ("host", &world.host, &lo),
        ("other container", &client.ns, &v4),
        ("other container", &client.ns, &v6),
        ("outside", &world.outside, &v4),
        ("outside", &world.outside, &v6),
    ];
    paths
        .iter()
        .filter(|(_, ns, to)| !reaches(ns, to))
        .map(|(from, _, to)| format!("{from} to {to}"))
        .collect()
}

/// Breaks one plugin's state after another on `att`: each time, that
/// plugin's CHECK fails naming what is wrong, and the plugins not broken
/// yet still pass.
fn break_one_after_another(world: &World, att: &Attached) {
    let veth = host_veth(att);
    let ifb = ifb_name(NET, &att.ns);
    let v4 = result_addrs(&att.result)
        .into_iter()
        .find(|a| !a.contains(':'))
        .unwrap();
    let dnat = format!("tcp port {} to {v4}:80", att.host_port);
    let accept = format!("accept from {v4}");
    let mut broken: Vec<(&str, String)> = Vec::new();
    let mut expect = |plugin: &'static str, names: &[&str]| {
        broken.retain(|(p, _)| *p != plugin);
        let failures = world.check_failures(att);
        let failed: Vec<&str> = failures.iter().map(|(p, _)| p.as_str()).collect();
        let mut want: Vec<&str> = broken.iter().map(|(p, _)| *p).collect();
        want.push(plugin);
        let order = ["portmap", "firewall", "tuning", "bandwidth"];
        want.sort_by_key(|p| order.iter().position(|o| o == p));
        assert_eq!(failed, want, "{failures:?}");
        let msg = &failures.iter().find(|(p, _)| p == plugin).unwrap().1;
        for name in names {
            assert!(msg.contains(name), "{plugin}'s CHECK names {name:?}: {msg}");
        }
        broken.push((plugin, msg.clone()));
    };

    let rule = rules_mentioning(world, "cni_rs_portmap", &v4)
        .into_iter()
        .find(|r| r["chain"] == "prerouting")
        .expect("the DNAT rule in prerouting");
    delete_rule(world, &rule);
    expect("portmap", &[&dnat, "prerouting", "not found"]);

    let rule = rules_mentioning(world, "cni_rs_firewall", &v4)
        .into_iter()
        .find(|r| r.to_string().contains("saddr"))
        .expect("the accept rule");
    delete_rule(world, &rule);
    expect("firewall", &[&accept, "not found"]);

    ip_ok(&att.ns, &["link", "set", "eth0", "mtu", "1300"]);
    expect("tuning", &["MTU of eth0 is 1300", "configured 1400"]);

    tc(
        world,
        &[
            "qdisc", "replace", "dev", &veth, "root", "handle", "1:", "tbf", "rate", "4mbit",
            "burst", "10000", "latency", "25ms",
        ],
    );
    expect(
        "bandwidth",
        &[&veth, "rate (bytes/s) is 500000, expected 1000000"],
    );
    tc(world, &["qdisc", "del", "dev", &veth, "root"]);
    expect("bandwidth", &[&veth, "no tbf qdisc"]);

    // The ingress redirect: CHECK of the egress limit alone (the host
    // veth's missing tbf is then none of its business).
    let egress_only = || {
        let mut conf = world.conf(&world.plugins(att.host_port)[4], Some(&att.result));
        conf["runtimeConfig"]["bandwidth"]["ingressRate"] = json!(0);
        conf["runtimeConfig"]["bandwidth"]["ingressBurst"] = json!(0);
        world.run("CHECK", &att.ns, &conf)
    };
    egress_only().assert_ok();
    tc(world, &["qdisc", "del", "dev", &veth, "ingress"]);
    let out = egress_only();
    let msg = out.json()["msg"].as_str().unwrap_or_default().to_string();
    let want = format!("{veth}: no ingress filter redirects to {ifb}");
    assert!(msg.contains(&want), "egress-only CHECK: {msg}");
}

#[test]
fn bridge_portmap_firewall_tuning_bandwidth_chain_works_checks_and_cleans_up() {
    if !privileged("bridge_portmap_firewall_tuning_bandwidth_chain_works_checks_and_cleans_up") {
        return;
    }
    let mut world = World::new();
    let mut before = (0, String::new());
    let server = world.attach("srv", 8080, |ns| {
        before = (mtu(ns), sysctl(ns, TUNED_SYSCTL))
    });
    assert_eq!(before, (1500, "0".to_string()), "what tuning finds");
    let client = world.attach("cli", 8081, |_| {});
    for att in [&server, &client] {
        assert_shaped_and_tuned(&world, att);
        assert_eq!(world.check_failures(att), [], "CHECK of a healthy chain");
    }

    for ns in [&world.host, &server.ns, &client.ns] {
        wait_for_dad(ns);
    }
    let _server = Server::start(&server.ns);
    assert_eq!(
        unreachable_paths(&world, &server, &client),
        Vec::<String>::new()
    );

    // The client's chain broken piece by piece; its DEL still cleans up.
    break_one_after_another(&world, &client);
    for plugin in world.plugins(client.host_port).iter().rev() {
        world.del(&client, plugin);
    }

    // The server's chain taken down one plugin at a time.
    let plugins = world.plugins(server.host_port);
    let veth = host_veth(&server);
    let ifb = ifb_name(NET, &server.ns);
    world.del(&server, &plugins[4]);
    assert!(!link_exists(&world.host, &ifb), "ifb {ifb} left");
    let kinds: Vec<String> = qdiscs(&world, &veth).into_iter().map(|q| q.0).collect();
    assert!(
        !kinds.iter().any(|k| k == "tbf" || k == "ingress"),
        "{veth}: {kinds:?}"
    );
    assert_eq!(redirects(&world, &veth), Vec::<String>::new());
    world.del(&server, &plugins[3]);
    assert_eq!(
        (mtu(&server.ns), sysctl(&server.ns, TUNED_SYSCTL)),
        before,
        "tuning restored"
    );
    assert!(!saved_state(&world, &server).exists(), "saved state left");
    for (i, table) in [(2, "cni_rs_firewall"), (1, "cni_rs_portmap")] {
        let mine = |a: &String| rules_mentioning(&world, table, a);
        assert!(
            result_addrs(&server.result)
                .iter()
                .any(|a| !mine(a).is_empty()),
            "{table} before DEL"
        );
        world.del(&server, &plugins[i]);
        let left: Vec<Value> = result_addrs(&server.result).iter().flat_map(mine).collect();
        assert_eq!(left, Vec::<Value>::new(), "{table} after DEL");
    }
    world.del(&server, &plugins[0]);

    assert_eq!(nft_rules(&world.host), Vec::<Value>::new(), "rules left");
    let qdiscs = tc_json(&world.host, &["qdisc", "show"]);
    let shaped: Vec<&Value> = qdiscs
        .as_array()
        .into_iter()
        .flatten()
        .filter(|q| q["kind"] == "tbf" || q["kind"] == "ingress")
        .collect();
    assert_eq!(shaped, Vec::<&Value>::new(), "qdiscs left");
    let ifbs = in_ns_output(&world.host, "ip", &["-o", "link", "show", "type", "ifb"]);
    assert_eq!(ifbs, "", "ifb devices left");
    let saved: Vec<_> = std::fs::read_dir(world.tuning_dir())
        .map(|d| d.count())
        .into_iter()
        .collect();
    assert_eq!(saved, [0], "tuning's saved state left");
}
