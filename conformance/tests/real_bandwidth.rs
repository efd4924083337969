//! bandwidth against the reference `/usr/lib/cni/bandwidth` (1.1.1), each
//! side chained after its own bridge in its own namespaces, the same
//! configs: the same result, the same qdiscs (tbf rate, burst and latency
//! on the host veth and on the ifb), the same ingress filter (u32 match-all,
//! mirred redirect to the ifb, with its verdict), the same ifb; CHECK on a
//! healthy and on a broken attachment; what DEL leaves; and each one's DEL
//! removing what the other's ADD made. Every difference the test allows is
//! one listed in docs/DIFFERENCES.md (bandwidth), asserted as it is.

use cni_conformance::differential::{Impl, Side};
use cni_conformance::realns::{
    in_ns_ok, qdisc_state, reference_for, result_host_veth, tc_json, PluginRun,
};
use cni_plugins::bandwidth::ifb_name;
use serde_json::{json, Value};
use std::process::Command;

const BRIDGE: &str = r#"{"name":"bw-net","type":"bridge","bridge":"cnibw0","isGateway":true,
    "ipam":{"type":"host-local","ranges":[[{"subnet":"10.78.0.0/24"}]]}}"#;
const CONTAINER: &str = "ctr-bw";

/// The configs compared: both directions at the top level; the egress
/// limit alone through the capability; a rate beyond 32 bits (`TCA_TBF_RATE64`).
fn scenarios() -> Vec<(&'static str, Value)> {
    vec![
        (
            "both directions",
            json!({"type": "bandwidth", "ingressRate": 8_000_000, "ingressBurst": 80_000,
                "egressRate": 16_000_000, "egressBurst": 160_000}),
        ),
        (
            "egress through runtimeConfig",
            json!({"type": "bandwidth", "runtimeConfig": {"bandwidth":
                {"egressRate": 1_000_000, "egressBurst": 12_000}}}),
        ),
        (
            "40 Gbit/s ingress",
            json!({"type": "bandwidth", "ingressRate": 40_000_000_000u64,
                "ingressBurst": 8_000_000}),
        ),
    ]
}

fn host_veth(conf: &Value) -> String {
    result_host_veth(&conf["prevResult"])
}

/// The ingress filters of `dev`: how they match and what their actions do.
fn ingress_filters(side: &Side, dev: &str) -> Vec<Value> {
    let shown = tc_json(&side.host, &["filter", "show", "dev", dev, "ingress"]);
    shown
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            // The u32 hash table's own entry has no actions.
            let options = f.get("options")?;
            let actions: Vec<Value> = options
                .get("actions")?
                .as_array()?
                .iter()
                .map(|a| {
                    json!({"kind": a["kind"], "mirred_action": a["mirred_action"],
                        "direction": a["direction"], "to_dev": a["to_dev"],
                        "verdict": a.pointer("/control_action/type")})
                })
                .collect();
            Some(
                json!({"protocol": f["protocol"], "pref": f["pref"], "kind": f["kind"],
                "flowid": options["flowid"], "match": options["match"], "actions": actions}),
            )
        })
        .collect()
}

/// The ifb as `ip -d link` shows it: kind, MTU, up, queue length.
fn ifb_link(side: &Side, name: &str) -> Option<Value> {
    let out = Command::new("ip")
        .args(["-n", &side.host, "-j", "-d", "link", "show", "dev", name])
        .output()
        .expect("ip");
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    let l = v.get(0)?;
    let up = l["flags"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x == "UP"));
    Some(
        json!({"kind": l.pointer("/linkinfo/info_kind"), "mtu": l["mtu"], "up": up,
        "txqlen": l.get("txqlen").cloned().unwrap_or(json!(0))}),
    )
}

fn error_msg(run: &PluginRun) -> String {
    let v: Value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    v["msg"].as_str().unwrap_or_default().to_string()
}

/// What one side's bandwidth did with a config.
#[derive(Debug, PartialEq)]
struct Trace {
    result: Value,
    qdiscs: Vec<Value>,
    filters: Vec<Value>,
    ifb: Option<Value>,
    check: i32,
    qdiscs_after_del: Vec<Value>,
    filters_after_del: Vec<Value>,
    ifb_after_del: Option<Value>,
}

fn trace(imp: Impl, plugin: &Value) -> Trace {
    let mut side = Side::new(imp);
    let (att, bridge, conf) = side.chained(
        CONTAINER,
        &serde_json::from_str(BRIDGE).unwrap(),
        "1.0.0",
        plugin,
    );
    let veth = host_veth(&conf);
    let ifb_name = ifb_name("bw-net", CONTAINER);
    let result = side.run("ADD", &conf, &att).assert_ok().json();
    let mut result = side.normalize(&result);
    if imp == Impl::Reference {
        // 1.1.1 prints an empty `dns` at 1.x; we leave it out (docs/DIFFERENCES.md).
        assert_eq!(
            result.as_object_mut().unwrap().remove("dns"),
            Some(json!({}))
        );
    }
    let (qdiscs, filters, ifb) = (
        qdisc_state(&side.host),
        ingress_filters(&side, &veth),
        ifb_link(&side, &ifb_name),
    );
    let check = side.run("CHECK", &conf, &att).code;
    side.run("DEL", &conf, &att).assert_ok();
    let traced = Trace {
        result,
        qdiscs,
        filters,
        ifb,
        check,
        qdiscs_after_del: qdisc_state(&side.host),
        filters_after_del: ingress_filters(&side, &veth),
        ifb_after_del: ifb_link(&side, &ifb_name),
    };
    side.run("DEL", &conf, &att).assert_ok();
    side.run("DEL", &bridge, &att).assert_ok();
    traced
}

#[test]
fn our_bandwidth_shapes_as_the_reference_does() {
    if reference_for("our_bandwidth_shapes_as_the_reference_does").is_none() {
        return;
    }
    for (what, plugin) in scenarios() {
        let mut ours = trace(Impl::Ours, &plugin);
        let mut theirs = trace(Impl::Reference, &plugin);
        let egress = plugin.to_string().contains("egressRate");
        let ifb = ifb_name("bw-net", CONTAINER);
        assert!(
            ours.qdiscs.iter().any(|q| q["kind"] == "tbf"),
            "{what}: {:?}",
            ours.qdiscs
        );
        assert_eq!(ours.ifb.is_some(), egress, "{what}");
        assert_eq!(ours.check, 0, "{what}: our CHECK");
        if egress {
            // The reference's filter carries a second redirect after the
            // stolen one, with verdict pass, which never runs; ours has
            // one. The ifb keeps the kernel's queue length (ours 32, the
            // reference's 0). Both in docs/DIFFERENCES.md.
            let redirect = |verdict: &str| {
                json!({"kind": "mirred", "mirred_action": "redirect", "direction": "egress",
                    "to_dev": ifb, "verdict": verdict})
            };
            assert_eq!(ours.filters.len(), 1, "{what}: {:?}", ours.filters);
            assert_eq!(
                ours.filters[0]["actions"],
                json!([redirect("stolen")]),
                "{what}"
            );
            let actions = theirs.filters[0]["actions"].as_array_mut().unwrap();
            assert_eq!(actions.pop(), Some(redirect("pass")), "{what}");
            assert_eq!(ours.ifb.as_ref().unwrap()["txqlen"], json!(32), "{what}");
            theirs.ifb.as_mut().unwrap()["txqlen"] = json!(32);
        }
        // The reference's DEL leaves the host veth's qdiscs and filter to
        // the veth's deletion; ours removes them (docs/DIFFERENCES.md).
        let on_veth = |qdiscs: &mut Vec<Value>| {
            let (veth, rest) = qdiscs.drain(..).partition(|q| q["dev"] == "veth*");
            *qdiscs = rest;
            veth
        };
        let shaped = |qdiscs: &[Value]| -> Vec<String> {
            let kinds = qdiscs
                .iter()
                .map(|q| q["kind"].as_str().unwrap_or_default());
            kinds
                .filter(|k| *k != "noqueue")
                .map(str::to_string)
                .collect()
        };
        let ours_left = on_veth(&mut ours.qdiscs_after_del);
        assert_eq!(
            shaped(&ours_left),
            Vec::<String>::new(),
            "{what}: {ours_left:?}"
        );
        assert_eq!(ours.filters_after_del, Vec::<Value>::new(), "{what}");
        let theirs_left = on_veth(&mut theirs.qdiscs_after_del);
        let theirs_added: Vec<Value> = theirs
            .qdiscs
            .iter()
            .filter(|q| q["dev"] == "veth*")
            .cloned()
            .collect();
        assert_eq!(
            theirs_left, theirs_added,
            "{what}: the reference leaves the veth's qdiscs"
        );
        assert_eq!(
            theirs.filters_after_del.len(),
            theirs.filters.len(),
            "{what}"
        );
        theirs.filters_after_del.clear();
        assert_eq!(ours, theirs, "{what}");
    }
}

fn tc(side: &Side, args: &[&str]) {
    in_ns_ok(&side.host, "tc", args);
}

/// The pieces of an attachment a test breaks (as tc arguments), with
/// what our CHECK must then name.
fn breakages(veth: &str, ifb: &str) -> Vec<(Vec<String>, String)> {
    let tbf_at_4mbit = "tbf rate 4mbit burst 10000 latency 25ms";
    [
        (
            format!("qdisc replace dev {veth} root handle 1: {tbf_at_4mbit}"),
            format!("{veth}: tbf rate (bytes/s) is 500000, expected 1000000"),
        ),
        (
            format!("qdisc del dev {veth} root"),
            format!("{veth}: no tbf qdisc"),
        ),
        (
            format!("qdisc del dev {veth} ingress"),
            format!("{veth}: no ingress filter redirects to {ifb}"),
        ),
        (
            format!("qdisc del dev {ifb} root"),
            format!("{ifb}: no tbf qdisc"),
        ),
    ]
    .into_iter()
    .map(|(args, names)| (args.split(' ').map(str::to_string).collect(), names))
    .collect()
}

/// For each breakage, on a fresh attachment: CHECK's exit code and
/// message, and what our CHECK must name.
fn checks_of_broken_attachments(imp: Impl) -> Vec<(i32, String, String)> {
    let plugin = &scenarios()[0].1;
    let ifb = ifb_name("bw-net", CONTAINER);
    let count = breakages("veth", &ifb).len();
    (0..count)
        .map(|i| {
            let mut side = Side::new(imp);
            let bridge = serde_json::from_str(BRIDGE).unwrap();
            let (att, _, conf) = side.chained(CONTAINER, &bridge, "1.0.0", plugin);
            side.run("ADD", &conf, &att).assert_ok();
            side.run("CHECK", &conf, &att).assert_ok();
            let (args, names) = breakages(&host_veth(&conf), &ifb).swap_remove(i);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            tc(&side, &args);
            let run = side.run("CHECK", &conf, &att);
            side.run("DEL", &conf, &att).assert_ok();
            (run.code, error_msg(&run), names)
        })
        .collect()
}

#[test]
fn check_names_each_broken_piece_where_the_reference_notices_only_a_changed_rate() {
    let test = "check_names_each_broken_piece_where_the_reference_notices_only_a_changed_rate";
    if reference_for(test).is_none() {
        return;
    }
    for (code, msg, names) in checks_of_broken_attachments(Impl::Ours) {
        assert_eq!(code, 1, "{names}: our CHECK passed");
        assert!(msg.contains(&names), "{names}: our CHECK says {msg:?}");
    }
    // 1.1.1 compares the parameters of a tbf it finds and nothing else
    // (docs/DIFFERENCES.md).
    let theirs: Vec<(i32, String)> = checks_of_broken_attachments(Impl::Reference)
        .into_iter()
        .map(|(code, msg, _)| (code, msg))
        .collect();
    let rate = (1, "Rate doesn't match".to_string());
    let passed = (0, String::new());
    assert_eq!(theirs, [rate, passed.clone(), passed.clone(), passed]);
}

/// A node switching implementations: the ifb one's ADD made, the other's
/// DEL removes (the name is the same hash); our DEL also removes the
/// reference's qdiscs on the host veth, the reference's leaves ours to the
/// veth's deletion (docs/DIFFERENCES.md).
#[test]
fn an_ifb_either_added_is_removed_by_the_others_del() {
    if reference_for("an_ifb_either_added_is_removed_by_the_others_del").is_none() {
        return;
    }
    let plugin = &scenarios()[0].1;
    let ifb = ifb_name("bw-net", CONTAINER);
    for (adder, deleter) in [(Impl::Reference, Impl::Ours), (Impl::Ours, Impl::Reference)] {
        let what = format!("{adder:?} ADD, {deleter:?} DEL");
        let mut add_side = Side::new(adder);
        let del_side = Side::new(deleter);
        let bridge = serde_json::from_str(BRIDGE).unwrap();
        let (att, bridge, conf) = add_side.chained(CONTAINER, &bridge, "1.0.0", plugin);
        add_side.run("ADD", &conf, &att).assert_ok();
        let veth = host_veth(&conf);
        assert!(ifb_link(&add_side, &ifb).is_some(), "{what}");
        let binary = del_side.plugin_path("bandwidth");
        let stdin = conf.to_string();
        let del = add_side.run_binary(&binary, "DEL", stdin.as_bytes(), &att, None);
        del.assert_ok();
        assert_eq!(ifb_link(&add_side, &ifb), None, "{what}: ifb left");
        let on_veth: Vec<Value> = qdisc_state(&add_side.host)
            .into_iter()
            .filter(|q| q["dev"] == "veth*" && q["kind"] != "noqueue")
            .map(|q| q["kind"].clone())
            .collect();
        let filters = ingress_filters(&add_side, &veth).len();
        match deleter {
            Impl::Ours => assert_eq!((on_veth, filters), (vec![], 0), "{what}"),
            Impl::Reference => {
                assert_eq!(
                    (on_veth, filters),
                    (vec![json!("ingress"), json!("tbf")], 1),
                    "{what}"
                )
            }
        }
        add_side.run("DEL", &bridge, &att).assert_ok();
    }
}
