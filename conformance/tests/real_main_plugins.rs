//! Our bridge, ptp, macvlan and loopback binaries against the reference ones
//! (containernetworking-plugins 1.1.1), each in its own namespaces: same
//! result, same kernel state, same behaviour on CHECK and DEL.
//!
//! Where we deliberately differ, the runner asserts our behaviour instead:
//! - MACs are deterministic: the container end gets `0a:58:` + its IPv4
//!   address (cni_core::mac); with `isGateway` the bridge gets the MAC of its
//!   gateway address; ptp's host end gets the MAC of the gateway. The
//!   reference leaves all of them random.
//! - Every link we create has txqueuelen 1000; the reference leaves veths and
//!   macvlans at 0, which breaks qdiscs such as pfifo.
//! - Host veth names derive from container ID and interface name
//!   (`names::host_veth_name`); the reference's are random.
//! - Masquerade lives in our own nftables table `inet cni_rs_nat`, one rule per
//!   address tagged `net=<name> id=<container>`; the reference uses iptables
//!   chains `CNI-<hash>`.
//! - IPv6 addresses are added with `nodad` (the address was allocated to us;
//!   waiting for DAD stalls ADD); the reference runs DAD and waits.
//! - At 1.x an empty `dns` is omitted, as current libcni's `types100.Result`
//!   MarshalJSON does; the 1.1.1 reference binaries were built against an
//!   older libcni that still wrote `"dns": {}`. At 0.x both write `"dns": {}`.
//! - The reference loopback at 0.3.x/0.4.0 prints a 1.0-shaped result under
//!   the old version (its `ips` lack the `version` field those versions
//!   require: it labels a types100 result instead of converting it). Ours
//!   writes a proper 0.x result; the runner checks the field, then drops it.
//! - The reference bridge fails CHECK on a layer-2 network (`ipam: {}`): it
//!   execs an IPAM plugin with an empty name. Ours checks the interfaces.
//! - Our bridge refuses `hairpinMode` with `promiscMode` as a config error
//!   (code 7); the reference refuses it with 999 (see the failures test).
//! - The reference 1.1.1 supports spec versions up to 1.0.0; for a 1.1.0
//!   scenario ours runs at 1.1.0 and is compared with the reference at 1.0.0.
//!   Only scenarios without IPAM run at 1.1.0 for now: both sides delegate to
//!   the reference host-local, which refuses 1.1.0 too.

use cni_conformance::differential::{
    forwarding, ipv6_nodad, is_generated, link_details, link_mac, link_names, Attachment, Impl,
    Side,
};
use cni_conformance::realns::privileged;
use cni_plugins::common::names::host_veth_name;
use serde_json::{json, Value};
use std::net::IpAddr;

struct Scenario {
    name: &'static str,
    versions: &'static [&'static str],
    /// The network config without `cniVersion` (and without `ipam.dataDir`,
    /// which each side points at its own scratch space).
    conf: &'static str,
    /// Links made in the host namespace before ADD (e.g. a macvlan parent).
    setup: &'static [&'static [&'static str]],
}

const NO_SETUP: &[&[&str]] = &[];
/// A veth pair inside the host namespace, since this kernel has no dummy links.
const MACVLAN_PARENT: &[&[&str]] = &[
    &[
        "link", "add", "name", "hostp0", "mtu", "1500", "type", "veth", "peer", "name", "hostp1",
    ],
    &["link", "set", "hostp0", "up"],
    &["link", "set", "hostp1", "up"],
];

const BRIDGE: &[Scenario] = &[
    Scenario {
        name: "bridge isGateway",
        versions: &["0.3.1", "0.4.0", "1.0.0"],
        conf: r#"{"name":"br-gw","type":"bridge","bridge":"cnibr0","isGateway":true,
            "ipam":{"type":"host-local","subnet":"10.77.1.0/24"}}"#,
        setup: NO_SETUP,
    },
    Scenario {
        name: "bridge isDefaultGateway",
        versions: &["1.0.0"],
        conf: r#"{"name":"br-dgw","type":"bridge","bridge":"cnibr0","isDefaultGateway":true,
            "ipam":{"type":"host-local","subnet":"10.77.2.0/24"}}"#,
        setup: NO_SETUP,
    },
    Scenario {
        name: "bridge ipMasq, mtu 1400, hairpin",
        versions: &["0.4.0", "1.0.0"],
        conf: r#"{"name":"br-masq","type":"bridge","bridge":"cnibr0","isGateway":true,
            "ipMasq":true,"mtu":1400,"hairpinMode":true,
            "ipam":{"type":"host-local","subnet":"10.77.3.0/24",
                    "routes":[{"dst":"0.0.0.0/0"}]}}"#,
        setup: NO_SETUP,
    },
    Scenario {
        name: "bridge promiscMode",
        versions: &["1.0.0"],
        conf: r#"{"name":"br-promisc","type":"bridge","bridge":"cnibr0","promiscMode":true,
            "ipam":{"type":"host-local","subnet":"10.77.9.0/24"}}"#,
        setup: NO_SETUP,
    },
    Scenario {
        name: "bridge layer 2 (ipam {})",
        versions: &["1.0.0", "1.1.0"],
        conf: r#"{"name":"br-l2","type":"bridge","bridge":"cnibr0","ipam":{}}"#,
        setup: NO_SETUP,
    },
    Scenario {
        name: "bridge dual stack",
        versions: &["1.0.0"],
        conf: r#"{"name":"br-ds","type":"bridge","bridge":"cnibr0","isGateway":true,
            "ipMasq":true,
            "ipam":{"type":"host-local","ranges":[[{"subnet":"10.77.4.0/24"}],
                                                  [{"subnet":"fd77:4::/64"}]]}}"#,
        setup: NO_SETUP,
    },
];

const PTP: &[Scenario] = &[
    Scenario {
        name: "ptp v4 with a route",
        versions: &["0.3.1", "0.4.0", "1.0.0"],
        conf: r#"{"name":"ptp4","type":"ptp","ipMasq":true,"mtu":1400,
            "ipam":{"type":"host-local","subnet":"10.77.5.0/24",
                    "routes":[{"dst":"0.0.0.0/0"}]}}"#,
        setup: NO_SETUP,
    },
    Scenario {
        name: "ptp dual stack with routes",
        versions: &["1.0.0"],
        conf: r#"{"name":"ptp-ds","type":"ptp",
            "ipam":{"type":"host-local","ranges":[[{"subnet":"10.77.6.0/24"}],
                                                  [{"subnet":"fd77:6::/64"}]],
                    "routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0"}]}}"#,
        setup: NO_SETUP,
    },
];

const MACVLAN: &[Scenario] = &[
    Scenario {
        name: "macvlan bridge mode",
        versions: &["0.4.0", "1.0.0"],
        conf: r#"{"name":"mv-br","type":"macvlan","master":"hostp0","mode":"bridge",
            "ipam":{"type":"host-local","subnet":"10.77.7.0/24",
                    "routes":[{"dst":"0.0.0.0/0"}]}}"#,
        setup: MACVLAN_PARENT,
    },
    Scenario {
        name: "macvlan private mode, mtu 1400",
        versions: &["1.0.0"],
        conf: r#"{"name":"mv-priv","type":"macvlan","master":"hostp0","mode":"private",
            "mtu":1400,"ipam":{"type":"host-local","subnet":"10.77.8.0/24"}}"#,
        setup: MACVLAN_PARENT,
    },
];

const LOOPBACK: &[Scenario] = &[Scenario {
    name: "loopback",
    versions: &["0.3.1", "0.4.0", "1.0.0", "1.1.0"],
    conf: r#"{"name":"lo-net","type":"loopback"}"#,
    setup: NO_SETUP,
}];

#[test]
fn bridge_matches_the_reference() {
    run_all("bridge_matches_the_reference", BRIDGE);
}

#[test]
fn ptp_matches_the_reference() {
    run_all("ptp_matches_the_reference", PTP);
}

#[test]
fn macvlan_matches_the_reference() {
    run_all("macvlan_matches_the_reference", MACVLAN);
}

#[test]
fn loopback_matches_the_reference() {
    run_all("loopback_matches_the_reference", LOOPBACK);
}

fn run_all(test: &str, scenarios: &[Scenario]) {
    if !privileged(test) {
        return;
    }
    for s in scenarios {
        for version in s.versions {
            differential(s, version);
        }
    }
}

/// The reference 1.1.1 plugins stop at 1.0.0.
fn reference_version(version: &str) -> &str {
    if version == "1.1.0" {
        "1.0.0"
    } else {
        version
    }
}

fn differential(s: &Scenario, version: &str) {
    let what = format!("{} @ {version}", s.name);
    let ours = lifecycle(Impl::Ours, s, version);
    let reference = lifecycle(Impl::Reference, s, reference_version(version));
    let mut ours_result = ours.result.clone();
    ours_result["cniVersion"] = json!(reference_version(version));
    if s.conf.contains(r#""type":"loopback""#) && version.starts_with("0.") {
        strip_loopback_ip_versions(&mut ours_result, &what);
    }
    assert_eq!(ours_result, reference.result, "{what}: ADD results differ");
    compare_check(s, version, &ours.check, &reference.check);
    for (o, r, stage) in [
        (&ours.host, &reference.host, "host after ADD"),
        (&ours.container, &reference.container, "container after ADD"),
        (
            &ours.host_after_del,
            &reference.host_after_del,
            "host after DEL",
        ),
    ] {
        assert_eq!(o, r, "{what}: {stage} differs");
    }
    assert_eq!(ours.leases, reference.leases, "{what}: leases differ");
    assert_eq!(ours.forwarding, reference.forwarding, "{what}: forwarding");
    assert_eq!(ours.masq, reference.masq, "{what}: masquerade presence");
}

/// What one side did with a scenario, normalized for comparison.
struct Trace {
    result: Value,
    check: (i32, String),
    host: Value,
    container: Value,
    host_after_del: Value,
    leases: Vec<String>,
    forwarding: (String, String),
    masq: bool,
}

fn lifecycle(imp: Impl, s: &Scenario, version: &str) -> Trace {
    let what = format!("{} @ {version} ({imp:?})", s.name);
    let mut side = Side::new(imp);
    for args in s.setup {
        side.in_host(args);
    }
    let att = side.container("ctr", "ctr-a");
    let template: Value = serde_json::from_str(s.conf).expect("scenario config");
    let conf = side.conf(&template, version);
    let network = conf["name"].as_str().unwrap_or_default().to_string();
    let container_ns = att.netns.rsplit('/').next().unwrap_or_default().to_string();
    let links_before = link_names(&side.host);
    let host_before = side.net.state(&side.host);

    let add = side.run("ADD", &conf, &att);
    add.assert_ok();
    let raw = add.json();
    let result = dns_normalized(&side, &raw, version, &what);
    let leases = side.leases(&network);
    if conf.pointer("/ipam/type").is_some() {
        let mut addrs = addresses_of(&raw);
        addrs.sort();
        assert_eq!(leases, addrs, "{what}: one lease per address of the result");
    }
    let masq_rules = side.masquerade_rules(&network, &att.container_id);
    if imp == Impl::Ours {
        assert_our_choices(&side, &conf, &raw, &att, &links_before, &what);
        let ips: Vec<String> = addresses_of(&raw);
        assert_eq!(
            masq_rules.len(),
            usize::from(conf["ipMasq"] == true) * ips.len(),
            "{what}: one masquerade rule per address: {masq_rules:?}"
        );
    }

    let check = check(&side, &conf, &raw, &att);
    let mut host = side.net.state(&side.host);
    let mut container = side.net.state(&container_ns);
    let forwarding = forwarding(&side.host);
    if imp == Impl::Ours {
        assert_txqueuelen_1000(&mut host, &links_before, &what);
        assert_txqueuelen_1000(&mut container, &[], &what);
    }
    strip_txqlen(&mut host);
    strip_txqlen(&mut container);

    // DEL, twice: the second finds nothing and must still succeed.
    for round in 1..=2 {
        let del = side.run("DEL", &conf, &att);
        assert_eq!(
            (del.code, del.stdout.as_str()),
            (0, ""),
            "{what}: DEL #{round}: {}",
            del.stderr
        );
    }
    assert!(
        side.leases(&network).is_empty(),
        "{what}: leases left after DEL"
    );
    assert!(
        side.masquerade_rules(&network, &att.container_id)
            .is_empty(),
        "{what}: masquerade left after DEL"
    );
    assert_eq!(
        link_names(&container_ns),
        Vec::<String>::new(),
        "{what}: links left in the container"
    );
    let host_links_after: Vec<String> = link_names(&side.host)
        .into_iter()
        .filter(|n| !links_before.contains(n) && !is_bridge(&conf, n))
        .collect();
    assert!(
        host_links_after.is_empty(),
        "{what}: links left in the host: {host_links_after:?}"
    );
    let mut host_after_del = side.net.state(&side.host);
    strip_txqlen(&mut host_after_del);
    if conf["type"] != "bridge" {
        let mut before = host_before;
        strip_txqlen(&mut before);
        assert_eq!(host_after_del, before, "{what}: host not as before ADD");
    }
    Trace {
        result,
        check,
        host,
        container,
        host_after_del,
        leases,
        forwarding,
        masq: !masq_rules.is_empty(),
    }
}

/// Both sides keep the bridge after the last DEL (the reference never deletes it).
fn is_bridge(conf: &Value, name: &str) -> bool {
    conf["type"] == "bridge" && conf["bridge"].as_str() == Some(name)
}

/// The result normalized, with the `dns` difference at 1.x checked and removed.
fn dns_normalized(side: &Side, raw: &Value, version: &str, what: &str) -> Value {
    let mut result = side.normalize(raw);
    if version.starts_with("0.") {
        return result;
    }
    let empty_dns = result.get("dns") == Some(&json!({}));
    match side.imp {
        Impl::Ours => assert!(
            result.get("dns").is_none_or(|d| d != &json!({})),
            "{what}: empty dns must be omitted at 1.x"
        ),
        Impl::Reference if empty_dns => {
            result.as_object_mut().map(|o| o.remove("dns"));
        }
        Impl::Reference => {}
    }
    result
}

/// CHECK with the ADD result as prevResult: `(exit code, "code <n> <msg>")`,
/// or `(0, "")` for success (stdout must then be empty).
fn check(side: &Side, conf: &Value, raw: &Value, att: &Attachment) -> (i32, String) {
    let mut with_prev = conf.clone();
    with_prev["prevResult"] = raw.clone();
    let run = side.run("CHECK", &with_prev, att);
    if run.code == 0 {
        assert_eq!(run.stdout, "", "CHECK succeeded with output");
        return (0, String::new());
    }
    let err = run.json();
    (run.code, format!("code {} {}", err["code"], err["msg"]))
}

/// CHECK succeeds for us from 0.4.0 on (earlier versions have no CHECK, and
/// both sides must refuse it alike). The reference bridge fails CHECK of a
/// layer-2 network (`ipam: {}`): it execs an IPAM plugin with an empty name.
fn compare_check(s: &Scenario, version: &str, ours: &(i32, String), reference: &(i32, String)) {
    let what = format!("{} @ {version}", s.name);
    let has_check = version.starts_with("0.4") || version.starts_with('1');
    if !has_check {
        assert_ne!(ours.0, 0, "{what}: CHECK before 0.4.0 must fail");
        assert_eq!(ours, reference, "{what}: CHECK differs");
        return;
    }
    assert_eq!(ours, &(0, String::new()), "{what}: our CHECK failed");
    let layer2_bridge = s.conf.contains(r#""type":"bridge""#) && s.conf.contains(r#""ipam":{}"#);
    if layer2_bridge {
        assert!(
            reference.1.contains("no plugin name provided"),
            "{what}: reference CHECK: {reference:?}"
        );
    } else {
        assert_eq!(ours, reference, "{what}: CHECK differs");
    }
}

fn addresses_of(result: &Value) -> Vec<String> {
    result["ips"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|ip| ip["address"].as_str())
        .map(|a| a.split('/').next().unwrap_or_default().to_string())
        .collect()
}

fn expected_mac(addrs: &[String]) -> Option<String> {
    let ips: Vec<IpAddr> = addrs.iter().map(|a| a.parse().expect("an IP")).collect();
    cni_core::mac::for_addresses(&ips).map(|m| m.to_string())
}

/// MACs, host veth name and nodad: what we do on purpose.
fn assert_our_choices(
    side: &Side,
    conf: &Value,
    raw: &Value,
    att: &Attachment,
    links_before: &[String],
    what: &str,
) {
    let container_ns = att.netns.rsplit('/').next().unwrap_or_default();
    let ifaces = raw["interfaces"].as_array().cloned().unwrap_or_default();
    let in_container = |i: &&Value| i["sandbox"].as_str().is_some_and(|s| !s.is_empty());
    let container_if = ifaces
        .iter()
        .find(in_container)
        .expect("a container interface");
    let addrs = addresses_of(raw);
    let gateways: Vec<String> = raw["ips"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|ip| ip["gateway"].as_str())
        .map(str::to_string)
        .collect();
    let name = container_if["name"].as_str().unwrap_or_default();
    assert_eq!(
        link_mac(container_ns, name),
        container_if["mac"].as_str().unwrap_or_default(),
        "{what}: result MAC is the kernel's"
    );
    if conf["type"] != "loopback" {
        if let Some(mac) = expected_mac(&addrs) {
            assert_eq!(
                container_if["mac"].as_str(),
                Some(mac.as_str()),
                "{what}: container MAC from its address"
            );
        }
    }
    for host_if in ifaces.iter().filter(|i| !in_container(i)) {
        let name = host_if["name"].as_str().unwrap_or_default();
        assert_eq!(
            link_mac(&side.host, name),
            host_if["mac"].as_str().unwrap_or_default(),
            "{what}: result MAC of {name} is the kernel's"
        );
        if is_generated(name) {
            assert_eq!(
                name,
                host_veth_name(&att.container_id, &att.ifname, 0),
                "{what}: host veth name"
            );
        }
        let gateway_mac = match conf["type"].as_str() {
            Some("bridge") if conf["isGateway"] == true || conf["isDefaultGateway"] == true => {
                is_bridge(conf, name)
            }
            Some("ptp") => true,
            _ => false,
        };
        if gateway_mac {
            assert_eq!(
                host_if["mac"].as_str().map(str::to_string),
                expected_mac(&gateways),
                "{what}: MAC of {name} from the gateway"
            );
        }
    }
    for ns in [side.host.as_str(), container_ns] {
        for (addr, nodad) in ipv6_nodad(ns) {
            assert!(nodad, "{what}: {addr} in {ns} added without nodad");
        }
    }
    for name in link_names(&side.host)
        .iter()
        .filter(|n| !links_before.contains(n))
    {
        assert!(
            link_details(&side.host, name).contains("qlen 1000"),
            "{what}: {name}: {}",
            link_details(&side.host, name)
        );
    }
    if name != "lo" {
        assert!(
            link_details(container_ns, name).contains("qlen 1000"),
            "{what}: {name}: {}",
            link_details(container_ns, name)
        );
    }
}

/// Every link that was not there before (and `lo` aside) has txqueuelen 1000.
fn assert_txqueuelen_1000(state: &mut Value, links_before: &[String], what: &str) {
    for link in state["links"].as_array().into_iter().flatten() {
        let name = link["name"].as_str().unwrap_or_default();
        if name == "lo" || links_before.iter().any(|b| b == name) {
            continue;
        }
        assert_eq!(link["txqlen"], json!(1000), "{what}: txqueuelen of {name}");
    }
}

fn strip_txqlen(state: &mut Value) {
    for link in state["links"].as_array_mut().into_iter().flatten() {
        link.as_object_mut().map(|o| o.remove("txqlen"));
    }
}

/// Checks that each 0.x IP of ours carries the right `version`, then removes
/// it so the result compares with the reference loopback's.
fn strip_loopback_ip_versions(result: &mut Value, what: &str) {
    for ip in result["ips"].as_array_mut().into_iter().flatten() {
        let addr: IpAddr = ip["address"]
            .as_str()
            .and_then(|a| a.split('/').next())
            .and_then(|a| a.parse().ok())
            .expect("an address");
        let want = if addr.is_ipv4() { "4" } else { "6" };
        assert_eq!(ip["version"], json!(want), "{what}: 0.x ips need version");
        ip.as_object_mut().map(|o| o.remove("version"));
    }
}
