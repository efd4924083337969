//! Our bridge and ptp delegating to our `static` through CNI_PATH (exec'd:
//! only host-local runs in process), in real namespaces: the container gets
//! exactly the configured addresses and routes, the same as the reference
//! bridge/ptp with the reference static give it; CHECK and DEL go through.

use cni_conformance::differential::{Impl, Side};
use cni_conformance::realns::privileged;
use serde_json::{json, Value};

const BRIDGE: &str = r#"{"name":"st-br","type":"bridge","bridge":"cnibr0","isGateway":true,
    "ipam":{"type":"static",
        "addresses":[{"address":"10.78.1.5/24","gateway":"10.78.1.1"},
                     {"address":"fd78:1::5/64","gateway":"fd78:1::1"}],
        "routes":[{"dst":"0.0.0.0/0"},{"dst":"10.99.0.0/16","gw":"10.78.1.1"},{"dst":"fd99::/64","gw":"fd78:1::1"}]}}"#;

const BRIDGE_V4: &str = r#"{"name":"st-br4","type":"bridge","bridge":"cnibr0","isGateway":true,
    "ipam":{"type":"static","addresses":[{"address":"10.78.4.5/24","gateway":"10.78.4.1"}],
        "routes":[{"dst":"0.0.0.0/0"}]}}"#;

const PTP: &str = r#"{"name":"st-ptp","type":"ptp",
    "ipam":{"type":"static","addresses":[{"address":"10.78.2.5/24","gateway":"10.78.2.1"}],
        "routes":[{"dst":"0.0.0.0/0"}]}}"#;

/// The container's addresses and routes after ADD, CHECK's exit code, and
/// what DEL left in the container.
struct Trace {
    container: Value,
    check: (i32, String),
    links_after_del: Value,
}

fn attach(imp: Impl, template: &str, cni_args: &str) -> Trace {
    let mut side = Side::new(imp);
    let att = side.container("ctr", "ctr-static");
    let mut conf = side.conf(&serde_json::from_str(template).unwrap(), "1.0.0");
    if !cni_args.is_empty() {
        // CNI_ARGS reach the IPAM plugin through the main plugin's environment;
        // `args.cni.ips` is the same request written into the config.
        conf["args"] = json!({"cni": {"ips": cni_args.split(',').collect::<Vec<_>>()}});
    }
    let ns = att.netns.rsplit('/').next().unwrap().to_string();
    let add = side.run("ADD", &conf, &att);
    add.assert_ok();
    let mut container = side.net.state(&ns);
    // Our links get txqueuelen 1000, the reference's veths 0 (docs/DIFFERENCES.md).
    for link in container["links"].as_array_mut().into_iter().flatten() {
        if imp == Impl::Ours && link["name"] == "eth0" {
            assert_eq!(link["txqlen"], 1000, "{link}");
        }
        link.as_object_mut().map(|l| l.remove("txqlen"));
    }
    let mut with_prev = conf.clone();
    with_prev["prevResult"] = add.json();
    let check = side.run("CHECK", &with_prev, &att);
    let check = (check.code, check.stdout);
    side.run("DEL", &conf, &att).assert_ok();
    let links_after_del = side.net.state(&ns)["links"].clone();
    Trace {
        container,
        check,
        links_after_del,
    }
}

/// The strings of a list, sorted and without repeats (the state lists IPv6
/// routes once per query that sees them).
fn strings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Our side, then the reference's: same container state, CHECK passes, DEL
/// leaves only `lo`.
fn ours_matches_the_reference(template: &str, ips: &str) -> Value {
    let ours = attach(Impl::Ours, template, ips);
    let reference = attach(Impl::Reference, template, ips);
    assert_eq!(
        ours.container, reference.container,
        "container state differs"
    );
    assert_eq!(ours.check, (0, String::new()), "our CHECK");
    assert_eq!(reference.check, (0, String::new()), "reference CHECK");
    let lo_only = |links: &Value| {
        links
            .as_array()
            .map(|l| l.len() == 1 && l[0]["name"] == "lo")
    };
    assert_eq!(
        lo_only(&ours.links_after_del),
        Some(true),
        "{}",
        ours.links_after_del
    );
    ours.container
}

#[test]
fn bridge_container_gets_exactly_the_static_addresses_and_routes() {
    if !privileged("bridge_container_gets_exactly_the_static_addresses_and_routes") {
        return;
    }
    let state = ours_matches_the_reference(BRIDGE, "");
    assert_eq!(
        strings(&state["addresses"]),
        [
            "eth0 10.78.1.5/24",
            "eth0 fd78:1::5/64",
            "lo 127.0.0.1/8",
            "lo ::1/128"
        ]
    );
    // The configured routes (one without `gw` takes its family's gateway)
    // and the prefix routes of the addresses: nothing else.
    assert_eq!(
        strings(&state["routes"]),
        [
            "10.78.1.0/24 via - dev eth0 scope link table main",
            "10.99.0.0/16 via 10.78.1.1 dev eth0 scope global table main",
            "default via 10.78.1.1 dev eth0 scope global table main",
            "fd78:1::/64 via - dev eth0 scope global table main",
            "fd99::/64 via fd78:1::1 dev eth0 scope global table main",
        ]
    );
}

#[test]
fn ptp_container_gets_the_static_address_and_routes() {
    if !privileged("ptp_container_gets_the_static_address_and_routes") {
        return;
    }
    let state = ours_matches_the_reference(PTP, "");
    assert_eq!(
        strings(&state["addresses"]),
        ["eth0 10.78.2.5/24", "lo 127.0.0.1/8", "lo ::1/128"]
    );
    assert_eq!(
        strings(&state["routes"]),
        [
            "10.78.2.0/24 via 10.78.2.1 dev eth0 scope global table main",
            "10.78.2.1 via - dev eth0 scope link table main",
            "default via 10.78.2.1 dev eth0 scope global table main",
        ]
    );
}

#[test]
fn args_cni_ips_replace_the_configured_addresses_through_the_bridge() {
    if !privileged("args_cni_ips_replace_the_configured_addresses_through_the_bridge") {
        return;
    }
    let state = ours_matches_the_reference(BRIDGE_V4, "10.78.4.7/24");
    assert_eq!(
        strings(&state["addresses"]),
        ["eth0 10.78.4.7/24", "lo 127.0.0.1/8", "lo ::1/128"]
    );
    // No gateway comes with `args.cni.ips`: the bridge's own (isGateway) serves.
    assert!(
        strings(&state["routes"])
            .contains(&"default via 10.78.4.1 dev eth0 scope global table main".to_string()),
        "{}",
        state["routes"]
    );
}
