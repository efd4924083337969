//! sbr in real namespaces: our bridge + host-local, then sbr (ours, and the
//! reference's on the other side) run as binaries with `prevResult`. The
//! container's rules and tables (`ip -j rule`, `ip -j route show table N`)
//! must be the same on both sides, CHECK passes, and DEL leaves the rules
//! as they were before ADD. Our CHECK names a deleted rule and a deleted
//! default route of sbr's table.

use cni_conformance::realns::{
    ip_ok, our_plugin, privileged, reference_for, result_addrs, PluginRun, TestNet,
};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

fn ip_json(ns: &str, args: &[&str]) -> Value {
    let out = Command::new("ip")
        .args(["-n", ns, "-j"])
        .args(args)
        .output()
        .expect("ip");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A table with no route of one family is "not there" to that family.
    if stderr.contains("FIB table does not exist") {
        return Value::Array(Vec::new());
    }
    assert!(out.status.success(), "ip {args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Array(Vec::new()))
}

struct Side {
    net: TestNet,
    host: String,
    ctr: String,
    data_dir: tempfile::TempDir,
}

impl Side {
    fn new() -> Side {
        let mut net = TestNet::new();
        let host = net.add_ns("host");
        let ctr = net.add_ns("ctr");
        Side {
            net,
            host,
            ctr,
            data_dir: tempfile::tempdir().expect("dataDir"),
        }
    }

    fn run(&self, plugin: &Path, verb: &str, conf: &Value) -> Value {
        self.try_run(plugin, verb, conf).ok_json()
    }

    fn try_run(&self, plugin: &Path, verb: &str, conf: &Value) -> PluginRun {
        let att = ("sbr-ctr", self.ctr.as_str());
        self.net.run_attached(&self.host, plugin, verb, att, conf)
    }

    fn bridge_conf(&self) -> Value {
        json!({"cniVersion": "1.0.0", "name": "sbr-real", "type": "bridge",
            "bridge": format!("{}br", self.net.prefix), "isGateway": true,
            "ipam": {"type": "host-local", "dataDir": self.data_dir.path(),
                "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}],
                "ranges": [[{"subnet": "10.34.0.0/24"}], [{"subnet": "fd34::/64"}]]}})
    }

    fn routing(&self) -> Value {
        let table = |t: &str| {
            json!({
                "v4": ip_json(&self.ctr, &["route", "show", "table", t]),
                "v6": strip_v6_noise(ip_json(&self.ctr, &["-6", "route", "show", "table", t])),
            })
        };
        json!({"rules": ip_json(&self.ctr, &["rule"]), "rules6": ip_json(&self.ctr, &["-6", "rule"]),
            "100": table("100"), "101": table("101"), "main": table("main")})
    }
}

/// Link-local routes carry no address of ours; multicast is the kernel's.
fn strip_v6_noise(routes: Value) -> Value {
    let kept: Vec<Value> = routes
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["dst"].as_str().is_some_and(|d| !d.starts_with("ff00")))
        .cloned()
        .collect();
    Value::Array(kept)
}

/// What the chain leaves in the container after ADD; CHECK (ours only) and
/// DEL run too, DEL must leave the rules as they were.
fn chain(sbr: &Path, ours: bool) -> Value {
    let side = Side::new();
    let bridge = our_plugin("bridge");
    let prev = side.run(&bridge, "ADD", &side.bridge_conf());
    let rules_before = (
        ip_json(&side.ctr, &["rule"]),
        ip_json(&side.ctr, &["-6", "rule"]),
    );
    let conf =
        json!({"cniVersion": "1.0.0", "name": "sbr-real", "type": "sbr", "prevResult": prev});
    let out = side.run(sbr, "ADD", &conf);
    assert_eq!(out["ips"], prev["ips"], "prevResult passed through");
    let routing = side.routing();
    if ours {
        side.run(sbr, "CHECK", &conf);
    }
    side.run(sbr, "DEL", &conf);
    let rules_after = (
        ip_json(&side.ctr, &["rule"]),
        ip_json(&side.ctr, &["-6", "rule"]),
    );
    assert_eq!(rules_after, rules_before, "rules after DEL");
    side.run(&bridge, "DEL", &side.bridge_conf());
    routing
}

#[test]
fn our_sbr_sets_the_rules_and_tables_the_reference_sets() {
    let Some(reference) = reference_for("our_sbr_sets_the_rules_and_tables_the_reference_sets")
    else {
        return;
    };
    let ours = chain(&our_plugin("sbr"), true);
    let theirs = chain(&reference.join("sbr"), false);
    assert_eq!(ours, theirs, "ours:\n{ours:#}\nreference:\n{theirs:#}");
    let table = ours["100"]["v4"].as_array().expect("table 100");
    assert!(
        table
            .iter()
            .any(|r| r["dst"] == "default" && r["gateway"] == "10.34.0.1"),
        "{ours:#}"
    );
}

#[test]
fn our_sbr_check_names_a_deleted_rule_and_a_deleted_default_route() {
    if !privileged("our_sbr_check_names_a_deleted_rule_and_a_deleted_default_route") {
        return;
    }
    let side = Side::new();
    let (bridge, sbr) = (our_plugin("bridge"), our_plugin("sbr"));
    let prev = side.run(&bridge, "ADD", &side.bridge_conf());
    let conf =
        json!({"cniVersion": "1.0.0", "name": "sbr-real", "type": "sbr", "prevResult": prev});
    side.run(&sbr, "ADD", &conf);
    side.run(&sbr, "CHECK", &conf);
    let check_error = || {
        let out = side.try_run(&sbr, "CHECK", &conf);
        assert_ne!(out.code, 0, "CHECK passed on a broken attachment");
        out.json()["msg"].as_str().unwrap_or_default().to_string()
    };
    let v4 = result_addrs(&prev).remove(0);
    ip_ok(&side.ctr, &["rule", "del", "from", &v4, "lookup", "100"]);
    let msg = check_error();
    assert!(msg.contains(&format!("no rule from {v4}")), "{msg}");
    ip_ok(&side.ctr, &["rule", "add", "from", &v4, "lookup", "100"]);
    side.run(&sbr, "CHECK", &conf);
    ip_ok(&side.ctr, &["route", "del", "default", "table", "100"]);
    let msg = check_error();
    assert!(
        msg.contains("table 100 has no default route via 10.34.0.1"),
        "{msg}"
    );
    side.run(&sbr, "DEL", &conf);
    side.run(&bridge, "DEL", &side.bridge_conf());
}
