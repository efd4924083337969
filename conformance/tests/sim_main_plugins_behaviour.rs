//! The main plugins' specific behaviours, in process on the simulator:
//! deterministic MACs and explicit ones, `isDefaultGateway`, DNS merging,
//! txqueuelen, IPAM errors passed through, duplicate ADD, DEL after the
//! namespace is gone, CHECK naming what differs, GC.

use cni_conformance::sim_scenarios::{gc_keeping, with_prev_result, Attachment, Failure, SimWorld};
use cni_core::mac;
use cni_core::net::{LinkKind, MacAddr, Netns};
use cni_plugins::common::names::host_veth_name;
use serde_json::{json, Value};
use std::net::IpAddr;

/// The plugins that create a container interface with an IPAM address.
const ADDRESSED: &[&str] = &["bridge", "ptp", "macvlan"];

/// A 1.0.0 config of `plugin` with host-local on `subnet`, ready to patch.
fn base_conf(plugin: &str, subnet: &str) -> Value {
    let ipam = json!({"type": "host-local", "subnet": subnet});
    match plugin {
        "bridge" => json!({"cniVersion": "1.0.0", "name": "br-net", "type": "bridge",
            "bridge": "cni0", "isGateway": true, "ipMasq": true, "ipam": ipam}),
        "ptp" => json!({"cniVersion": "1.0.0", "name": "ptp-net", "type": "ptp",
            "ipMasq": true, "ipam": ipam}),
        "macvlan" => json!({"cniVersion": "1.0.0", "name": "mv-net", "type": "macvlan",
            "master": "uplink0", "ipam": ipam}),
        other => panic!("no base config for {other}"),
    }
}

/// A world ready for `conf` (macvlan's uplink made) with container `id` in it.
fn world_for(conf: &Value, id: &str) -> (SimWorld, Attachment, Value) {
    let world = SimWorld::new();
    if conf["type"] == "macvlan" {
        world.add_uplink("uplink0", "uplink1");
    }
    let att = Attachment::new(id);
    world.add_container(&att);
    let version = conf["cniVersion"].as_str().unwrap().to_string();
    let conf = world.netconf(conf, &version);
    (world, att, conf)
}

fn add_ok(world: &SimWorld, conf: &Value, att: &Attachment) -> Value {
    world
        .call("ADD", conf, att)
        .unwrap_or_else(|e| panic!("ADD {} failed: {e}", conf["type"]))
}

fn add_err(world: &SimWorld, conf: &Value, att: &Attachment) -> Failure {
    match world.call("ADD", conf, att) {
        Ok(r) => panic!("ADD {} should fail, got {r}", conf["type"]),
        Err(e) => e,
    }
}

fn mac_of(ns: &dyn Netns, link: &str) -> String {
    ns.link_by_name(link)
        .unwrap_or_else(|e| panic!("{link}: {e}"))
        .mac
        .to_string()
}

fn v6_mac(ip: &str) -> String {
    mac::from_ipv6(ip.parse().unwrap()).to_string()
}

fn v4_mac(ip: &str) -> String {
    mac::from_ipv4(ip.parse().unwrap()).to_string()
}

// --- MACs -----------------------------------------------------------------

struct MacCase {
    what: &'static str,
    conf: Value,
    cni_args: &'static str,
    /// Links in the host with the MAC each must have.
    host: Vec<(String, String)>,
    /// The MAC of the container's eth0.
    container: String,
}

fn mac_cases() -> Vec<MacCase> {
    let veth = host_veth_name("ctr1", "eth0", 0);
    let mut v6_bridge = base_conf("bridge", "fd30::/64");
    v6_bridge["ipMasq"] = json!(false);
    let with = |plugin: &str, subnet: &str, key: &str, value: Value| {
        let mut c = base_conf(plugin, subnet);
        c[key] = value;
        c
    };
    vec![
        MacCase {
            what: "bridge: container and bridge from their IPv4 addresses",
            conf: base_conf("bridge", "10.30.0.0/24"),
            cni_args: "",
            host: vec![("cni0".into(), v4_mac("10.30.0.1"))],
            container: "0a:58:0a:1e:00:02".into(),
        },
        MacCase {
            what: "bridge, IPv6 only: 0a:5a: MACs from the IPv6 addresses",
            conf: v6_bridge,
            cni_args: "",
            host: vec![("cni0".into(), v6_mac("fd30::1"))],
            container: v6_mac("fd30::2"),
        },
        MacCase {
            what: "ptp: host end from the gateway, container from its address",
            conf: base_conf("ptp", "10.31.0.0/24"),
            cni_args: "",
            host: vec![(veth.clone(), "0a:58:0a:1f:00:01".into())],
            container: "0a:58:0a:1f:00:02".into(),
        },
        MacCase {
            what: "macvlan: from its IPv4 address",
            conf: base_conf("macvlan", "10.32.0.0/24"),
            cni_args: "",
            host: vec![],
            container: "0a:58:0a:20:00:02".into(),
        },
        MacCase {
            what: "bridge: runtimeConfig.mac wins over CNI_ARGS and the derived MAC",
            conf: with(
                "bridge",
                "10.30.0.0/24",
                "runtimeConfig",
                json!({"mac": "0e:00:00:00:00:01"}),
            ),
            cni_args: "IgnoreUnknown=1;MAC=0e:00:00:00:00:09",
            host: vec![("cni0".into(), v4_mac("10.30.0.1"))],
            container: "0e:00:00:00:00:01".into(),
        },
        MacCase {
            what: "ptp: args.cni.mac wins over the derived MAC",
            conf: with(
                "ptp",
                "10.31.0.0/24",
                "args",
                json!({"cni": {"mac": "0e:00:00:00:00:02"}}),
            ),
            cni_args: "",
            host: vec![(veth, "0a:58:0a:1f:00:01".into())],
            container: "0e:00:00:00:00:02".into(),
        },
        MacCase {
            what: "macvlan: CNI_ARGS MAC= wins over the derived MAC",
            conf: base_conf("macvlan", "10.32.0.0/24"),
            cni_args: "IgnoreUnknown=1;MAC=0e:00:00:00:00:03",
            host: vec![],
            container: "0e:00:00:00:00:03".into(),
        },
    ]
}

#[test]
fn macs_are_derived_from_addresses_unless_the_runtime_asks_for_one() {
    for case in mac_cases() {
        let (world, _, conf) = world_for(&case.conf, "ctr1");
        let att = Attachment::new("ctr1").with_args(case.cni_args);
        let result = add_ok(&world, &conf, &att);
        let reported = |name: &str| -> String {
            result["interfaces"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == name)
                .and_then(|i| i["mac"].as_str())
                .unwrap_or_else(|| panic!("{}: no interface {name} in {result}", case.what))
                .to_string()
        };
        let got = mac_of(&*world.container(&att), "eth0");
        assert_eq!(got, case.container, "{}: container eth0", case.what);
        assert_eq!(reported("eth0"), case.container, "{}: result", case.what);
        for (link, want) in &case.host {
            assert_eq!(&mac_of(&*world.host(), link), want, "{}: {link}", case.what);
            assert_eq!(&reported(link), want, "{}: result {link}", case.what);
        }
    }
}

// --- isDefaultGateway -----------------------------------------------------

fn default_gateway_conf(ipam_routes: Value) -> Value {
    json!({"cniVersion": "1.0.0", "name": "br-dgw", "type": "bridge", "bridge": "cni0",
        "isDefaultGateway": true,
        "ipam": {"type": "host-local", "routes": ipam_routes,
                 "ranges": [[{"subnet": "10.33.0.0/24"}], [{"subnet": "fd33::/64"}]]}})
}

#[test]
fn is_default_gateway_routes_each_family_via_the_bridge() {
    let (world, att, conf) = world_for(&default_gateway_conf(json!([])), "ctr1");
    let result = add_ok(&world, &conf, &att);
    assert_eq!(
        result["routes"],
        json!([{"dst": "0.0.0.0/0", "gw": "10.33.0.1"}, {"dst": "::/0", "gw": "fd33::1"}])
    );
    let routes = world.container(&att).routes().unwrap();
    for (dst, gw) in [("0.0.0.0/0", "10.33.0.1"), ("::/0", "fd33::1")] {
        let gw: IpAddr = gw.parse().unwrap();
        assert!(
            routes
                .iter()
                .any(|r| r.dst.to_string() == dst && r.gateway == Some(gw)),
            "no default route {dst} via {gw} in {routes:?}"
        );
    }
    // isDefaultGateway implies isGateway: the gateways sit on the bridge.
    let host = world.host();
    let br = host.link_by_name("cni0").unwrap();
    let on_bridge: Vec<String> = host
        .addresses(Some(br.index))
        .unwrap()
        .iter()
        .map(|a| a.addr.to_string())
        .collect();
    assert!(
        on_bridge.contains(&"10.33.0.1/24".to_string()),
        "{on_bridge:?}"
    );
    assert!(
        on_bridge.contains(&"fd33::1/64".to_string()),
        "{on_bridge:?}"
    );
}

#[test]
fn is_default_gateway_refuses_an_ipam_default_route_via_another_gateway() {
    let conf = default_gateway_conf(json!([{"dst": "0.0.0.0/0", "gw": "10.33.0.254"}]));
    let (world, att, conf) = world_for(&conf, "ctr1");
    let start = world.kernel.snapshot();
    let err = add_err(&world, &conf, &att);
    assert_eq!(err.code, 7, "{err}");
    assert!(err.msg.contains("isDefaultGateway"), "{err}");
    assert!(err.msg.contains("10.33.0.254"), "{err}");
    assert_eq!(
        world.kernel.snapshot(),
        start,
        "a refused ADD changed the kernel"
    );
    assert!(world.leases().is_empty(), "a refused ADD kept its lease");
}

// --- DNS ------------------------------------------------------------------

#[test]
fn dns_merges_the_configs_over_ipams_field_by_field() {
    for plugin in ADDRESSED {
        let mut conf = base_conf(plugin, "10.35.0.0/24");
        conf["dns"] = json!({"domain": "conf.example", "options": ["ndots:5"]});
        let (world, att, mut conf) = world_for(&conf, "ctr1");
        let resolv = world.scratch_path("resolv.conf");
        std::fs::write(
            &resolv,
            "nameserver 10.0.0.53\ndomain ipam.example\nsearch ipam.example\noptions ndots:1\n",
        )
        .unwrap();
        conf["ipam"]["resolvConf"] = json!(resolv);
        let result = add_ok(&world, &conf, &att);
        assert_eq!(
            result["dns"],
            json!({"nameservers": ["10.0.0.53"], "domain": "conf.example",
                   "search": ["ipam.example"], "options": ["ndots:5"]}),
            "{plugin}"
        );
    }
}

// --- txqueuelen -----------------------------------------------------------

#[test]
fn every_created_link_has_txqueuelen_1000() {
    for plugin in ADDRESSED {
        let (world, att, conf) = world_for(&base_conf(plugin, "10.36.0.0/24"), "ctr1");
        let before: Vec<String> = world
            .host()
            .links()
            .unwrap()
            .into_iter()
            .map(|l| l.name)
            .collect();
        add_ok(&world, &conf, &att);
        let created: Vec<_> = [world.host(), world.container(&att)]
            .iter()
            .flat_map(|ns| ns.links().unwrap())
            .filter(|l| l.kind != LinkKind::Loopback && !before.contains(&l.name))
            .collect();
        assert!(!created.is_empty(), "{plugin} created no link");
        for link in created {
            assert_eq!(
                link.txqueuelen, 1000,
                "{plugin}: {} {:?}",
                link.name, link.kind
            );
        }
    }
}

// --- IPAM errors, duplicates ----------------------------------------------

/// One address in the range: the second container exhausts it.
fn single_address_conf(plugin: &str) -> Value {
    let mut conf = base_conf(plugin, "10.37.0.0/24");
    conf["ipam"]["rangeStart"] = json!("10.37.0.10");
    conf["ipam"]["rangeEnd"] = json!("10.37.0.10");
    conf
}

#[test]
fn an_ipam_error_reaches_the_runtime_unchanged() {
    for plugin in ADDRESSED {
        let (world, first, conf) = world_for(&single_address_conf(plugin), "ctr1");
        add_ok(&world, &conf, &first);
        let second = Attachment::new("ctr2");
        world.add_container(&second);
        let before = world.kernel.snapshot();
        let through_plugin = add_err(&world, &conf, &second);
        assert_eq!(
            world.kernel.snapshot(),
            before,
            "{plugin}: failed ADD left changes"
        );
        assert_eq!(world.leases().len(), 1, "{plugin}");

        let mut direct = conf.clone();
        direct["type"] = json!("host-local");
        let from_host_local = add_err(&world, &direct, &Attachment::new("ctr3"));
        assert_eq!(through_plugin, from_host_local, "{plugin}");
        assert!(
            through_plugin.msg.contains("no IP addresses available"),
            "{through_plugin}"
        );
    }
}

#[test]
fn a_duplicate_add_is_refused_and_leaves_the_first_attachment_alone() {
    for plugin in ADDRESSED {
        let (world, att, conf) = world_for(&base_conf(plugin, "10.38.0.0/24"), "ctr1");
        let result = add_ok(&world, &conf, &att);
        let state = world.kernel.snapshot();
        let leases = world.leases();
        let err = add_err(&world, &conf, &att);
        assert!(err.msg.contains("eth0 already exists"), "{plugin}: {err}");
        assert_eq!(
            world.kernel.snapshot(),
            state,
            "{plugin}: duplicate ADD changed the kernel"
        );
        assert_eq!(
            world.leases(),
            leases,
            "{plugin}: duplicate ADD changed the leases"
        );
        let check = with_prev_result(&conf, &result);
        assert_eq!(
            world.call("CHECK", &check, &att),
            Ok(Value::Null),
            "{plugin}"
        );
    }
}

// --- DEL ------------------------------------------------------------------

#[test]
fn del_after_the_namespace_is_gone_releases_everything() {
    for plugin in ADDRESSED {
        let (world, att, conf) = world_for(&base_conf(plugin, "10.39.0.0/24"), "ctr1");
        let before = world.host().links().unwrap();
        add_ok(&world, &conf, &att);
        world.kernel.del_netns(&att.netns).unwrap();
        assert_eq!(world.call("DEL", &conf, &att), Ok(Value::Null), "{plugin}");
        assert!(world.leases().is_empty(), "{plugin}: lease kept");
        let host = world.host();
        assert!(
            host.masquerade_list().unwrap().is_empty(),
            "{plugin}: masquerade kept"
        );
        let veths: Vec<_> = host
            .links()
            .unwrap()
            .into_iter()
            .filter(|l| l.kind == LinkKind::Veth && !before.iter().any(|b| b.name == l.name))
            .collect();
        assert!(veths.is_empty(), "{plugin}: {veths:?}");
    }
}

// --- CHECK ----------------------------------------------------------------

type Tamper = fn(&dyn Netns) -> String;

/// Each tampering returns the text CHECK's message must name.
const TAMPERINGS: &[(&str, Tamper)] = &[
    ("remove the address", |ns| {
        let eth0 = ns.link_by_name("eth0").unwrap();
        let addr = ns
            .addresses(Some(eth0.index))
            .unwrap()
            .into_iter()
            .find(|a| a.addr.addr().is_ipv4())
            .unwrap()
            .addr;
        ns.del_address(eth0.index, addr).unwrap();
        addr.to_string()
    }),
    ("change the MAC", |ns| {
        let eth0 = ns.link_by_name("eth0").unwrap();
        let mac: MacAddr = "0e:11:22:33:44:55".parse().unwrap();
        ns.set_mac(eth0.index, mac).unwrap();
        mac.to_string()
    }),
];

#[test]
fn check_names_what_differs_from_the_previous_result() {
    for plugin in ADDRESSED {
        for (what, tamper) in TAMPERINGS {
            let (world, att, conf) = world_for(&base_conf(plugin, "10.40.0.0/24"), "ctr1");
            let result = add_ok(&world, &conf, &att);
            let named = tamper(&*world.container(&att));
            let check = with_prev_result(&conf, &result);
            let err = world
                .call("CHECK", &check, &att)
                .expect_err(&format!("{plugin}: CHECK after '{what}' passed"));
            assert!(err.msg.contains(&named), "{plugin}, {what}: {err}");
        }
    }
}

/// With `ipMasq`, CHECK also finds the masquerade rule of the attachment.
#[test]
fn check_names_a_missing_masquerade_rule() {
    for plugin in ["bridge", "ptp"] {
        let (world, att, conf) = world_for(&base_conf(plugin, "10.42.0.0/24"), "ctr1");
        let result = add_ok(&world, &conf, &att);
        let check = with_prev_result(&conf, &result);
        assert_eq!(
            world.call("CHECK", &check, &att),
            Ok(Value::Null),
            "{plugin}"
        );
        let network = conf["name"].as_str().unwrap();
        world
            .host()
            .masquerade_del(network, &att.container_id)
            .unwrap();
        let err = world.call("CHECK", &check, &att).expect_err(&format!(
            "{plugin}: CHECK without the masquerade rule passed"
        ));
        assert!(
            err.msg.contains("masquerade rule") && err.msg.contains(&att.container_id),
            "{plugin}: {err}"
        );
    }
}

// --- GC -------------------------------------------------------------------

#[test]
fn gc_releases_what_no_valid_attachment_holds() {
    for plugin in ADDRESSED {
        let mut conf = base_conf(plugin, "10.41.0.0/24");
        conf["cniVersion"] = json!("1.1.0");
        let (world, keep, conf) = world_for(&conf, "keep");
        let gone = Attachment::new("gone");
        world.add_container(&gone);
        add_ok(&world, &conf, &keep);
        add_ok(&world, &conf, &gone);
        assert_eq!(world.leases().len(), 2, "{plugin}");
        let gc = gc_keeping(&conf, &["keep"]);
        assert_eq!(world.call("GC", &gc, &keep), Ok(Value::Null), "{plugin}");
        let leases = world.leases();
        assert_eq!(leases.len(), 1, "{plugin}: {leases:?}");
        assert!(
            leases[0].ends_with("10.41.0.2"),
            "{plugin}: kept {leases:?}"
        );
        let masq = world.host().masquerade_list().unwrap();
        assert!(
            masq.iter().all(|r| r.container_id == "keep"),
            "{plugin}: {masq:?}"
        );
    }
}

// --- macvlan parents ---------------------------------------------------------

/// Without `master`, macvlan sits on the interface of the host's default route.
#[test]
fn macvlan_without_master_uses_the_default_route_interface() {
    let mut conf = base_conf("macvlan", "10.60.0.0/24");
    conf.as_object_mut().unwrap().remove("master");
    let (world, att, conf) = world_for(&conf, "mv-default");
    add_ok(&world, &conf, &att);
    let host = world.host();
    let uplink = host.link_by_name("uplink0").unwrap();
    let eth0 = world.container(&att).link_by_name("eth0").unwrap();
    assert_eq!(eth0.kind, LinkKind::Macvlan);
    assert_eq!(
        eth0.parent_index,
        Some(uplink.index),
        "parent is the default route's link"
    );
    world.call("DEL", &conf, &att).unwrap();
    assert!(world.leases().is_empty());
}

/// With no default route and no `master`, ADD is a config error naming `master`.
#[test]
fn macvlan_without_master_or_default_route_names_master() {
    let mut conf = base_conf("macvlan", "10.61.0.0/24");
    conf.as_object_mut().unwrap().remove("master");
    let world = SimWorld::new();
    let att = Attachment::new("mv-nodefault");
    world.add_container(&att);
    let conf = world.netconf(&conf, "1.0.0");
    let failure = add_err(&world, &conf, &att);
    assert_eq!(failure.code, 7, "{failure:?}");
    assert!(failure.msg.starts_with("master:"), "{failure:?}");
    assert!(world.leases().is_empty(), "nothing allocated");
}

/// `linkInContainer`: the parent is looked up, and the macvlan made, inside
/// the container namespace; the host is not touched.
#[test]
fn macvlan_link_in_container_uses_a_parent_inside_the_container() {
    let mut conf = base_conf("macvlan", "10.62.0.0/24");
    conf["master"] = json!("inner0");
    conf["linkInContainer"] = json!(true);
    let world = SimWorld::new();
    let att = Attachment::new("mv-inner");
    world.add_container(&att);
    let container = world.container(&att);
    let inner = container
        .create_veth(
            &cni_core::net::VethSpec::new("inner0", "inner1"),
            &cni_core::net::NsRef::path(&att.netns),
        )
        .unwrap();
    container.set_up(inner.local.index, true).unwrap();
    let host_before = world
        .kernel
        .snapshot_ns(&cni_core::net::NsRef::Current)
        .unwrap();
    let conf = world.netconf(&conf, "1.0.0");
    add_ok(&world, &conf, &att);
    let eth0 = container.link_by_name("eth0").unwrap();
    assert_eq!(eth0.parent_index, Some(inner.local.index));
    world.call("DEL", &conf, &att).unwrap();
    assert!(container.link_by_name("eth0").is_err());
    assert!(container.link_by_name("inner0").is_ok(), "the parent stays");
    let host_after = world
        .kernel
        .snapshot_ns(&cni_core::net::NsRef::Current)
        .unwrap();
    assert_eq!(host_before, host_after, "the host is not touched");
}

// --- bridge: forceAddress, disableContainerInterface ---------------------------

/// A bridge that already holds another address in the gateway's subnet: ADD
/// refuses (code 7 naming forceAddress) and leaves nothing behind; with
/// `forceAddress` the old address is replaced by the gateway.
#[test]
fn bridge_force_address_replaces_a_clashing_address_only_when_asked() {
    let conf = base_conf("bridge", "10.63.0.0/24");
    let (world, att, conf) = world_for(&conf, "force");
    let host = world.host();
    let br = host
        .create_bridge(&cni_core::net::BridgeSpec {
            name: "cni0".into(),
            ..Default::default()
        })
        .unwrap();
    host.add_address(
        br.index,
        &cni_core::net::AddressSpec::new("10.63.0.254/24".parse().unwrap()),
    )
    .unwrap();
    let before = world.kernel.snapshot();

    let failure = add_err(&world, &conf, &att);
    assert_eq!(failure.code, 7, "{failure:?}");
    assert!(failure.msg.starts_with("forceAddress:"), "{failure:?}");
    assert_eq!(
        world.kernel.snapshot(),
        before,
        "a refused ADD changes nothing"
    );
    assert!(world.leases().is_empty());

    let mut forced = conf.clone();
    forced["forceAddress"] = json!(true);
    add_ok(&world, &forced, &att);
    let addrs: Vec<String> = host
        .addresses(Some(br.index))
        .unwrap()
        .iter()
        .map(|a| a.addr.to_string())
        .filter(|a| a.starts_with("10.63."))
        .collect();
    assert_eq!(
        addrs,
        ["10.63.0.1/24"],
        "the gateway replaced the old address"
    );
}

/// Layer 2 with `disableContainerInterface`: the container end exists, down,
/// with no address.
#[test]
fn bridge_disable_container_interface_leaves_the_container_end_down() {
    let conf = json!({"cniVersion": "1.0.0", "name": "l2", "type": "bridge",
        "bridge": "cni0", "disableContainerInterface": true});
    let (world, att, conf) = world_for(&conf, "l2down");
    add_ok(&world, &conf, &att);
    let container = world.container(&att);
    let eth0 = container.link_by_name("eth0").unwrap();
    assert!(!eth0.up, "container end left down");
    let addrs = container.addresses(Some(eth0.index)).unwrap();
    assert!(
        addrs
            .iter()
            .all(|a| a.addr.addr().is_ipv6() && a.addr.to_string().starts_with("fe80")),
        "{addrs:?}"
    );
    let host = world.host();
    let veth = host.link_by_index(eth0.peer_index.unwrap()).unwrap();
    assert!(veth.up, "host end up on the bridge");
    world.call("DEL", &conf, &att).unwrap();
    assert!(container.link_by_name("eth0").is_err());
}

// --- shared host state --------------------------------------------------------

/// The ADD that made the bridge, its gateway address and forwarding fails
/// at its last step: those stay, since other attachments may already rely on
/// them (and removing a bridge "while it has no ports" races with them); only
/// the attachment's own veth, addresses and lease go.
#[test]
fn a_failed_add_keeps_the_shared_bridge_gateway_and_forwarding_it_made() {
    let conf = base_conf("bridge", "10.64.0.0/24");
    let (world, att, conf) = world_for(&conf, "shared");
    world.faults.fail_next(
        cni_conformance::faults::NetOp::MasqueradeAdd,
        None,
        cni_core::net::NetErrorKind::Other,
    );
    let failure = add_err(&world, &conf, &att);
    assert_eq!(failure.code, 5, "{failure:?}");
    let host = world.host();
    let br = host.link_by_name("cni0").expect("the bridge stays");
    assert!(br.up, "the bridge stays up");
    let addrs: Vec<String> = host
        .addresses(Some(br.index))
        .unwrap()
        .iter()
        .map(|a| a.addr.to_string())
        .collect();
    assert!(addrs.contains(&"10.64.0.1/24".to_string()), "{addrs:?}");
    assert_eq!(host.sysctl_get("net/ipv4/ip_forward").unwrap().trim(), "1");
    let veths = host
        .links()
        .unwrap()
        .into_iter()
        .filter(|l| l.kind == LinkKind::Veth)
        .count();
    assert_eq!(veths, 0, "the attachment's veth is undone");
    assert!(world.container(&att).link_by_name("eth0").is_err());
    assert!(world.leases().is_empty(), "the lease is undone");
}

/// DEL runs every cleanup step even when one fails, and reports the first
/// error: a runtime retries DEL until it succeeds, and each retry then has
/// only the stuck step left.
#[test]
fn del_runs_every_step_and_reports_the_first_error() {
    let conf = base_conf("bridge", "10.65.0.0/24");
    let (world, att, conf) = world_for(&conf, "every-step");
    add_ok(&world, &conf, &att);
    world.faults.fail_next(
        cni_conformance::faults::NetOp::MasqueradeDel,
        None,
        cni_core::net::NetErrorKind::Other,
    );
    let failure = world.call("DEL", &conf, &att).unwrap_err();
    assert_eq!(failure.code, 5, "{failure:?}");
    assert!(failure.msg.contains("masquerade"), "{failure:?}");
    assert!(
        world.container(&att).link_by_name("eth0").is_err(),
        "the container interface went all the same"
    );
    assert!(
        world.leases().is_empty(),
        "the lease was released all the same"
    );
    assert_eq!(world.host().masquerade_list().unwrap().len(), 1);

    world.call("DEL", &conf, &att).expect("the retried DEL");
    assert!(world.host().masquerade_list().unwrap().is_empty());
}

/// `CNI_ARGS` keys no plugin of the ADD knows fail it before anything
/// changes, unless `IgnoreUnknown` is set: bridge and macvlan refuse them as
/// the reference's `MacEnvArgs` does; ptp reads none itself, and host-local
/// refuses them as the reference's does.
#[test]
fn unknown_cni_args_fail_add_unless_ignore_unknown() {
    for plugin in ["bridge", "macvlan", "ptp"] {
        let conf = base_conf(plugin, "10.66.0.0/24");
        let (world, mut att, conf) = world_for(&conf, &format!("args-{plugin}"));
        att.cni_args = "FOO=bar".to_string();
        let before = world.kernel.snapshot();
        let failure = add_err(&world, &conf, &att);
        assert_eq!(failure.code, 4, "{plugin}: {failure:?}");
        assert!(failure.msg.contains("FOO=bar"), "{plugin}: {failure:?}");
        assert_eq!(world.kernel.snapshot(), before, "{plugin}: nothing changes");
        assert!(world.leases().is_empty(), "{plugin}");
        att.cni_args = "IgnoreUnknown=1;FOO=bar".to_string();
        add_ok(&world, &conf, &att);
    }
}

/// DEL reads only what it removes: a config whose other settings ADD would
/// now refuse (a changed bridge name, MTU, mode, masquerade backend) still
/// deletes the attachment an earlier config made, masquerade rules included.
#[test]
fn del_succeeds_under_settings_only_add_would_refuse() {
    for (plugin, broken) in [
        (
            "bridge",
            json!({"bridge": "bad/name", "mtu": 1, "ipMasqBackend": "iptables"}),
        ),
        ("ptp", json!({"mtu": 1, "ipMasqBackend": "iptables"})),
        (
            "macvlan",
            json!({"mode": "nonsense", "master": "no/such", "mtu": 1}),
        ),
    ] {
        let conf = base_conf(plugin, "10.67.0.0/24");
        let (world, att, conf) = world_for(&conf, &format!("del-{plugin}"));
        add_ok(&world, &conf, &att);
        let mut changed = conf.clone();
        for (k, v) in broken.as_object().unwrap() {
            changed[k] = v.clone();
        }
        assert!(
            world.call("ADD", &changed, &att).is_err(),
            "{plugin}: ADD refuses it"
        );
        world
            .call("DEL", &changed, &att)
            .unwrap_or_else(|e| panic!("{plugin}: DEL failed: {e}"));
        assert!(
            world.container(&att).link_by_name("eth0").is_err(),
            "{plugin}"
        );
        assert!(world.leases().is_empty(), "{plugin}: lease kept");
        assert!(
            world.host().masquerade_list().unwrap().is_empty(),
            "{plugin}: masquerade kept"
        );
    }
}

/// Go's zero values, read as the reference reads them: `"cniVersion": ""` is
/// 0.1.0 (the result is rendered at it) and `"mtu": 0` means no MTU.
#[test]
fn empty_cni_version_is_0_1_0_and_mtu_0_is_the_default() {
    let mut conf = base_conf("bridge", "10.68.0.0/24");
    conf["mtu"] = json!(0);
    let (world, att, mut conf) = world_for(&conf, "zero-values");
    conf["cniVersion"] = json!("");
    let result = add_ok(&world, &conf, &att);
    assert_eq!(result["cniVersion"], "0.1.0", "{result}");
    assert!(result["ip4"]["ip"].is_string(), "a 0.1.0 result: {result}");
    let eth0 = world.container(&att).link_by_name("eth0").unwrap();
    assert_eq!(eth0.mtu, 1500, "mtu 0 leaves the default");
}
