//! Our main plugin binaries against the reference ones, beyond one clean
//! ADD/CHECK/DEL: two containers on one bridge talking to each other, a
//! duplicate ADD, an IPAM error passed through, bad configs, and DEL after
//! the container's namespace is gone. Each side runs in its own namespaces.
//!
//! Deliberate differences (asserted, not compared):
//! - Bad configs: where the reference answers the generic 999 (or fails only
//!   when the kernel refuses), ours answers 7 "invalid network config" with a
//!   message that starts with the offending field; a missing IPAM plugin is 5
//!   (I/O failure) rather than 999.
//! - A failed ADD of ours undoes everything; the reference bridge leaves the
//!   veth pair behind when IPAM fails (it creates the pair first).
//! - DEL after the container namespace is gone: the reference bridge and ptp return
//!   early and keeps its iptables masquerade chain; ours removes the rules
//!   (they are keyed by container ID, not by the addresses read from the
//!   vanished interface).
//! - Our errors carry `cniVersion` when the config named one; the 1.1.1
//!   reference's error type has no such field.

use cni_conformance::differential::{link_names, Attachment, Impl, Side};
use cni_conformance::realns::{privileged, reference_dir, PluginRun};
use serde_json::{json, Value};
use std::process::Command;

const BRIDGE_CONF: &str = r#"{"cniVersion":"1.0.0","name":"edge-br","type":"bridge",
    "bridge":"cnibr0","isGateway":true,
    "ipam":{"type":"host-local","subnet":"10.78.1.0/24"}}"#;

fn conf(side: &Side, text: &str) -> Value {
    let template: Value = serde_json::from_str(text).expect("test config");
    let version = template["cniVersion"]
        .as_str()
        .unwrap_or("1.0.0")
        .to_string();
    side.conf(&template, &version)
}

fn ns_name(att: &Attachment) -> &str {
    att.netns.rsplit('/').next().unwrap_or_default()
}

/// `(code, msg)` of a failed run; panics if it succeeded.
fn error_of(run: &PluginRun, what: &str) -> (u64, String) {
    assert_ne!(
        run.code, 0,
        "{what}: expected a failure, got {}",
        run.stdout
    );
    let e = run.json();
    (
        e["code"].as_u64().unwrap_or_default(),
        e["msg"].as_str().unwrap_or_default().to_string(),
    )
}

fn ping(from_ns: &str, to: &str) -> bool {
    Command::new("ip")
        .args(["netns", "exec", from_ns, "ping", "-c", "1", "-W", "2", to])
        .output()
        .expect("running ping")
        .status
        .success()
}

fn ip_of(result: &Value) -> String {
    result["ips"][0]["address"]
        .as_str()
        .and_then(|a| a.split('/').next())
        .expect("an address")
        .to_string()
}

#[test]
fn two_containers_on_one_bridge_reach_each_other() {
    if !privileged("two_containers_on_one_bridge_reach_each_other") {
        return;
    }
    let mut states = Vec::new();
    for imp in [Impl::Ours, Impl::Reference] {
        let mut side = Side::new(imp);
        let conf = conf(&side, BRIDGE_CONF);
        let a = side.container("a", "ctr-a");
        let b = side.container("b", "ctr-b");
        let ra = side.run("ADD", &conf, &a).assert_ok().json();
        let rb = side.run("ADD", &conf, &b).assert_ok().json();
        let (ip_a, ip_b) = (ip_of(&ra), ip_of(&rb));
        assert!(ping(ns_name(&a), &ip_b), "{imp:?}: a cannot reach {ip_b}");
        assert!(ping(ns_name(&b), &ip_a), "{imp:?}: b cannot reach {ip_a}");
        assert!(
            ping(ns_name(&a), "10.78.1.1"),
            "{imp:?}: a cannot reach the gateway"
        );
        let mut host = side.net.state(&side.host);
        for link in host["links"].as_array_mut().into_iter().flatten() {
            link.as_object_mut().map(|o| o.remove("txqlen"));
        }
        let ports = host["links"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| l["master"] == "cnibr0")
            .count();
        assert_eq!(ports, 2, "{imp:?}: both host veths on the bridge: {host}");
        for att in [&a, &b] {
            side.run("DEL", &conf, att).assert_ok();
        }
        assert!(side.leases("edge-br").is_empty(), "{imp:?}: leases left");
        states.push(host);
    }
    assert_eq!(states[0], states[1], "host state with two containers");
}

#[test]
fn duplicate_add_fails_and_leaves_the_first_attachment_alone() {
    if !privileged("duplicate_add_fails_and_leaves_the_first_attachment_alone") {
        return;
    }
    let mut codes = Vec::new();
    for imp in [Impl::Ours, Impl::Reference] {
        let mut side = Side::new(imp);
        let conf = conf(&side, BRIDGE_CONF);
        let att = side.container("ctr", "ctr-dup");
        let first = side.run("ADD", &conf, &att).assert_ok().json();
        let leases = side.leases("edge-br");
        let container_before = side.net.state(ns_name(&att));
        let host_links = link_names(&side.host);

        let (code, msg) = error_of(&side.run("ADD", &conf, &att), "duplicate ADD");
        assert!(msg.contains("eth0"), "{imp:?}: {msg}");
        codes.push(code);
        assert_eq!(side.leases("edge-br"), leases, "{imp:?}: lease changed");
        assert_eq!(side.net.state(ns_name(&att)), container_before, "{imp:?}");
        assert_eq!(link_names(&side.host), host_links, "{imp:?}: host links");
        let mut with_prev = conf.clone();
        with_prev["prevResult"] = first;
        side.run("CHECK", &with_prev, &att).assert_ok();
        side.run("DEL", &conf, &att).assert_ok();
    }
    assert_eq!(codes[0], codes[1], "duplicate ADD error code");
}

/// A one-address range: the second container's ADD fails in host-local, and
/// the main plugin must pass host-local's error through unchanged and undo.
#[test]
fn ipam_error_passes_through_unchanged() {
    if !privileged("ipam_error_passes_through_unchanged") {
        return;
    }
    const ONE_ADDRESS: &str = r#"{"cniVersion":"1.0.0","name":"edge-full","type":"TYPE",
        "ipam":{"type":"host-local","ranges":[[{"subnet":"10.78.2.0/24",
            "rangeStart":"10.78.2.10","rangeEnd":"10.78.2.10"}]]}}"#;
    for plugin in ["bridge", "ptp"] {
        let text = ONE_ADDRESS.replace("TYPE", plugin);
        let mut errors = Vec::new();
        for imp in [Impl::Ours, Impl::Reference] {
            let mut side = Side::new(imp);
            let conf = conf(&side, &text);
            let first = side.container("a", "ctr-a");
            let second = side.container("b", "ctr-b");
            side.run("ADD", &conf, &first).assert_ok();
            let host_links = link_names(&side.host);
            let failed = side.run("ADD", &conf, &second);
            errors.push(failed.json());
            assert_ne!(failed.code, 0);
            if imp == Impl::Ours {
                // The failed ADD undid itself (the reference bridge leaves its veth).
                assert_eq!(
                    link_names(ns_name(&second)),
                    Vec::<String>::new(),
                    "{plugin}"
                );
                assert_eq!(link_names(&side.host), host_links, "{plugin}");
            }
            assert_eq!(side.leases("edge-full"), vec!["10.78.2.10".to_string()]);

            // What host-local itself prints for the same request.
            let mut ipam_only = conf.clone();
            ipam_only["type"] = json!("host-local");
            let direct = side.run("ADD", &ipam_only, &second);
            if imp == Impl::Ours {
                let mut ours = errors[0].clone();
                ours.as_object_mut().map(|o| o.remove("cniVersion"));
                assert_eq!(ours, direct.json(), "{plugin}: host-local's error altered");
            }
        }
        let mut ours = errors[0].clone();
        ours.as_object_mut().map(|o| o.remove("cniVersion"));
        assert_eq!(
            ours, errors[1],
            "{plugin}: IPAM error differs from the reference's"
        );
    }
}

/// A bad config, the plugin it goes to, and what each side answers.
struct BadConf {
    plugin: &'static str,
    stdin: &'static str,
    reference_code: u64,
    /// Ours: the code, and the start of the message (the field).
    ours: (u64, &'static str),
}

const BAD_CONFIGS: &[BadConf] = &[
    BadConf {
        plugin: "bridge",
        stdin: "{not json",
        reference_code: 6,
        ours: (6, "error unmarshall network config"),
    },
    BadConf {
        plugin: "bridge",
        stdin: r#"{"cniVersion":"1.0.0","type":"bridge"}"#,
        reference_code: 7,
        ours: (7, "missing network name"),
    },
    BadConf {
        plugin: "bridge",
        stdin: r#"{"cniVersion":"9.9.9","name":"n","type":"bridge"}"#,
        reference_code: 1,
        ours: (1, "incompatible CNI versions"),
    },
    BadConf {
        plugin: "bridge",
        stdin: r#"{"cniVersion":"1.0.0","name":"n","type":"bridge","bridge":"averyveryverylongname"}"#,
        reference_code: 999,
        ours: (7, "bridge:"),
    },
    BadConf {
        plugin: "bridge",
        stdin: r#"{"cniVersion":"1.0.0","name":"n","type":"bridge","hairpinMode":true,"promiscMode":true}"#,
        reference_code: 999,
        ours: (7, "hairpinMode:"),
    },
    BadConf {
        plugin: "bridge",
        stdin: r#"{"cniVersion":"1.0.0","name":"n","type":"bridge","mtu":"x"}"#,
        reference_code: 999,
        ours: (6, "mtu:"),
    },
    BadConf {
        plugin: "bridge",
        stdin: r#"{"cniVersion":"1.0.0","name":"n","type":"bridge","ipam":{"type":"nosuchipam"}}"#,
        reference_code: 999,
        ours: (5, "failed to find plugin \"nosuchipam\""),
    },
    BadConf {
        plugin: "ptp",
        stdin: r#"{"cniVersion":"1.0.0","name":"n","type":"ptp","ipam":{}}"#,
        reference_code: 999,
        ours: (7, "ipam:"),
    },
    BadConf {
        plugin: "macvlan",
        stdin: r#"{"cniVersion":"1.0.0","name":"n","type":"macvlan","master":"nosuch","ipam":{}}"#,
        reference_code: 999,
        ours: (7, "master:"),
    },
    BadConf {
        plugin: "macvlan",
        stdin: r#"{"cniVersion":"1.0.0","name":"n","type":"macvlan","master":"lo","mode":"weird","ipam":{}}"#,
        reference_code: 999,
        ours: (7, "mode:"),
    },
    BadConf {
        plugin: "loopback",
        stdin: r#"{"cniVersion":"1.1.0","name":"n","type":"loopback"}"#,
        reference_code: 1,
        ours: (0, ""),
    },
];

#[test]
fn bad_configs_fail_with_spec_codes_and_change_nothing() {
    if !privileged("bad_configs_fail_with_spec_codes_and_change_nothing") {
        return;
    }
    let mut ours = Side::new(Impl::Ours);
    let mut reference = Side::new(Impl::Reference);
    let ours_att = ours.container("ctr", "ctr-bad");
    let ref_att = reference.container("ctr", "ctr-bad");
    for bad in BAD_CONFIGS {
        let what = format!("{} {}", bad.plugin, bad.stdin);
        let before = (
            ours.net.state(&ours.host),
            ours.net.state(ns_name(&ours_att)),
        );
        let run = ours.run_raw("ADD", bad.stdin.as_bytes(), &ours_att, Some(bad.plugin));
        if bad.ours.0 == 0 {
            run.assert_ok();
            ours.run_raw("DEL", bad.stdin.as_bytes(), &ours_att, Some(bad.plugin))
                .assert_ok();
        } else {
            let (code, msg) = error_of(&run, &what);
            assert_eq!(code, bad.ours.0, "{what}: ours: {msg}");
            assert!(msg.starts_with(bad.ours.1), "{what}: ours: {msg}");
            let after = (
                ours.net.state(&ours.host),
                ours.net.state(ns_name(&ours_att)),
            );
            assert_eq!(before, after, "{what}: a refused config changed something");
        }
        let run = reference.run_raw("ADD", bad.stdin.as_bytes(), &ref_att, Some(bad.plugin));
        let (code, msg) = error_of(&run, &what);
        assert_eq!(code, bad.reference_code, "{what}: reference: {msg}");
    }
}

#[test]
fn del_after_the_container_namespace_is_gone_releases_everything() {
    if !privileged("del_after_the_container_namespace_is_gone_releases_everything") {
        return;
    }
    assert!(reference_dir().is_some(), "reference plugins needed");
    const MASQ_BRIDGE: &str = r#"{"cniVersion":"0.4.0","name":"edge-gone","type":"bridge",
        "bridge":"cnibr0","isGateway":true,"ipMasq":true,
        "ipam":{"type":"host-local","subnet":"10.78.3.0/24"}}"#;
    const MASQ_PTP: &str = r#"{"cniVersion":"1.0.0","name":"edge-gone","type":"ptp",
        "ipMasq":true,"ipam":{"type":"host-local","subnet":"10.78.4.0/24"}}"#;
    for text in [MASQ_BRIDGE, MASQ_PTP] {
        for imp in [Impl::Ours, Impl::Reference] {
            let mut side = Side::new(imp);
            let conf = conf(&side, text);
            let what = format!("{imp:?} {}", conf["type"]);
            let att = side.container("ctr", "ctr-gone");
            let host_links = link_names(&side.host);
            side.run("ADD", &conf, &att).assert_ok();
            assert_eq!(side.leases("edge-gone").len(), 1, "{what}");
            let del = Command::new("ip")
                .args(["netns", "del", ns_name(&att)])
                .status()
                .expect("ip netns del");
            assert!(del.success());
            let run = side.run("DEL", &conf, &att);
            assert_eq!(
                (run.code, run.stdout.as_str()),
                (0, ""),
                "{what}: {}",
                run.stderr
            );
            assert!(side.leases("edge-gone").is_empty(), "{what}: lease kept");
            // The reference returns early when the namespace is gone and so
            // keeps its masquerade chain; ours drops rules by container ID.
            if imp == Impl::Ours {
                assert!(
                    side.masquerade_rules("edge-gone", "ctr-gone").is_empty(),
                    "{what}: masquerade kept"
                );
            }
            // The kernel destroys the host end of a veth whose peer's namespace
            // went away on its own, from a work queue: give it a moment.
            let mut left = Vec::new();
            for _ in 0..50 {
                left = link_names(&side.host)
                    .into_iter()
                    .filter(|n| !host_links.contains(n) && n != "cnibr0")
                    .collect();
                if left.is_empty() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            assert!(left.is_empty(), "{what}: links left: {left:?}");
        }
    }
}

/// The IPv4 addresses of `dev` in `ns`.
fn ipv4_of(ns: &str, dev: &str) -> Vec<String> {
    let out = Command::new("ip")
        .args(["-n", ns, "-j", "-4", "addr", "show", "dev", dev])
        .output()
        .expect("running ip");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let mut addrs: Vec<String> = v
        .pointer("/0/addr_info")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| {
            format!(
                "{}/{}",
                a["local"].as_str().unwrap_or_default(),
                a["prefixlen"]
            )
        })
        .collect();
    addrs.sort();
    addrs
}

/// Configs the reference takes as it reads them, through both sides: two
/// IPv4 gateways on one bridge are refused without `forceAddress` and with
/// it the bridge keeps the last one (the reference's `ensureAddr`); a
/// negative `mtu` is no MTU for bridge and ptp; ptp ignores a runtime MAC it
/// cannot set (the reference's ptp reads none).
#[test]
fn gateways_negative_mtus_and_runtime_macs_as_the_reference_reads_them() {
    if !privileged("gateways_negative_mtus_and_runtime_macs_as_the_reference_reads_them") {
        return;
    }
    let two_v4 = |force: bool| {
        json!({"cniVersion": "1.0.0", "name": "gw2", "type": "bridge", "bridge": "cnigw0",
            "isGateway": true, "forceAddress": force, "mtu": -1,
            "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.78.2.0/24"}], [{"subnet": "10.78.3.0/24"}]]}})
    };
    let ptp = json!({"cniVersion": "1.0.0", "name": "ptpneg", "type": "ptp", "mtu": -1,
        "runtimeConfig": {"mac": "zz:00:00:00:00:01"},
        "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.78.4.0/24"}]]}});
    let mut seen = Vec::new();
    for imp in [Impl::Ours, Impl::Reference] {
        let mut side = Side::new(imp);
        let first = side.container("a", "c1");
        let run = side.run("ADD", &side.conf(&two_v4(false), "1.0.0"), &first);
        let (_, msg) = error_of(&run, "two IPv4 gateways without forceAddress");
        if imp == Impl::Ours {
            assert!(msg.starts_with("forceAddress:"), "{msg}");
        }
        let second = side.container("b", "c2");
        let forced = side.conf(&two_v4(true), "1.0.0");
        side.run("ADD", &forced, &second).assert_ok();
        let on_bridge = ipv4_of(&side.host, "cnigw0");
        let third = side.container("p", "c3");
        let result = side
            .run("ADD", &side.conf(&ptp, "1.0.0"), &third)
            .assert_ok()
            .json();
        let mtu = cni_conformance::differential::link_details(ns_name(&third), "eth0");
        let mtu = mtu
            .split_whitespace()
            .skip_while(|w| *w != "mtu")
            .nth(1)
            .map(str::to_string);
        side.run("DEL", &side.conf(&ptp, "1.0.0"), &third)
            .assert_ok();
        side.run("DEL", &forced, &second).assert_ok();
        seen.push((on_bridge, mtu, result["ips"].clone()));
    }
    assert_eq!(seen[0].0, ["10.78.3.1/24"], "the last gateway stays");
    assert_eq!(seen[0].1.as_deref(), Some("1500"), "no MTU: the kernel's");
    assert_eq!(seen[0], seen[1]);
}
