//! tap on the simulator, beyond the corpus (`sim_main_plugins.rs`: every
//! verb and version, snapshots) and the fault sweeps: the bridge in the
//! container, the flags each path of the reference gives, the MAC's
//! precedence, CHECK naming what changed, bad input refused before
//! anything changes, `selinuxContext` on a kernel without SELinux, DEL
//! when things are already gone.

use cni_conformance::sim_scenarios::{with_prev_result, Attachment, SimWorld};
use cni_core::net::{BridgeSpec, LinkKind, TapSpec};
use serde_json::{json, Value};

fn tap(extra: Value) -> Value {
    let mut conf = json!({"name": "tap-net", "type": "tap",
        "ipam": {"type": "host-local", "subnet": "10.72.0.0/24"}});
    for (k, v) in extra.as_object().unwrap() {
        conf[k] = v.clone();
    }
    conf
}

fn world_for(conf: &Value, id: &str) -> (SimWorld, Attachment, Value) {
    let world = SimWorld::new();
    let att = Attachment::new(id);
    world.add_container(&att);
    let conf = world.netconf(conf, "1.0.0");
    (world, att, conf)
}

#[test]
fn the_tap_joins_the_bridge_in_the_container_and_leaves_it_on_del() {
    let (world, att, conf) = world_for(&tap(json!({"bridge": "br0"})), "br");
    let ctr = world.container(&att);
    let br = ctr
        .create_bridge(&BridgeSpec {
            name: "br0".into(),
            ..BridgeSpec::default()
        })
        .unwrap();
    let result = world.call("ADD", &conf, &att).unwrap();
    let eth0 = ctr.link_by_name("eth0").unwrap();
    assert_eq!((eth0.kind, eth0.master), (LinkKind::Tap, Some(br.index)));
    assert_eq!(result["interfaces"].as_array().unwrap().len(), 1);
    let check = with_prev_result(&conf, &result);
    world.call("CHECK", &check, &att).unwrap();
    ctr.set_master(eth0.index, None).unwrap();
    let e = world.call("CHECK", &check, &att).unwrap_err();
    assert!(e.msg.contains("not a port of bridge br0"), "{e}");
    world.call("DEL", &conf, &att).unwrap();
    assert!(ctr.link_by_name("br0").is_ok(), "the bridge is not ours");
    assert!(ctr.link_by_name("eth0").is_err());
    assert!(world.leases().is_empty());
}

#[test]
fn a_missing_or_wrong_bridge_is_refused_before_anything_changes() {
    let (world, att, conf) = world_for(&tap(json!({"bridge": "br0"})), "nobr");
    let e = world.add_refused(&conf, &att);
    assert_eq!(e.code, 7, "{e}");
    assert!(e.msg.starts_with("bridge: link br0 not found"), "{e}");
    world
        .container(&att)
        .create_tap(&TapSpec {
            name: "br0".into(),
            ..TapSpec::default()
        })
        .unwrap();
    let e = world.add_refused(&conf, &att);
    assert!(
        e.msg.starts_with("bridge: br0") && e.msg.contains("not a bridge"),
        "{e}"
    );
}

#[test]
fn flags_owner_and_group_as_the_reference_sets_them() {
    // (config, multi_queue, pi, vnet_hdr, owner, group)
    let cases = [
        (json!({}), false, false, false, None, None),
        (
            json!({"multiQueue": true, "owner": 7}),
            true,
            false,
            false,
            Some(7),
            None,
        ),
        (
            json!({"owner": 7, "group": 8}),
            false,
            true,
            true,
            Some(7),
            Some(8),
        ),
        (
            json!({"owner": 7, "group": 8, "multiQueue": true}),
            true,
            false,
            true,
            Some(7),
            Some(8),
        ),
    ];
    for (i, (extra, mq, pi, vnet, owner, group)) in cases.into_iter().enumerate() {
        let (world, att, conf) = world_for(&tap(extra.clone()), &format!("flags{i}"));
        world.call("ADD", &conf, &att).unwrap();
        let eth0 = world.container(&att).link_by_name("eth0").unwrap();
        let t = eth0.tap.expect("a tap");
        assert_eq!(
            (t.multi_queue, t.pi, t.vnet_hdr, t.persist, t.owner, t.group),
            (mq, pi, vnet, true, owner, group),
            "{extra}"
        );
        assert_eq!(eth0.txqueuelen, 1000, "{extra}");
        assert!(eth0.up && !eth0.oper_up, "{extra}: up, no carrier");
    }
}

#[test]
fn the_runtime_mac_wins_over_cni_args_and_the_config() {
    let conf = tap(json!({"mac": "02:00:00:00:00:03",
        "runtimeConfig": {"mac": "02:00:00:00:00:01"}}));
    let (world, mut att, conf) = world_for(&conf, "mac");
    att.cni_args = "IgnoreUnknown=1;MAC=02:00:00:00:00:02".into();
    let result = world.call("ADD", &conf, &att).unwrap();
    assert_eq!(result["interfaces"][0]["mac"], "02:00:00:00:00:01");
    world.call("DEL", &conf, &att).unwrap();
    let mut no_runtime = conf.clone();
    no_runtime.as_object_mut().unwrap().remove("runtimeConfig");
    let result = world.call("ADD", &no_runtime, &att).unwrap();
    assert_eq!(result["interfaces"][0]["mac"], "02:00:00:00:00:02");
    world.call("DEL", &no_runtime, &att).unwrap();
    att.cni_args.clear();
    let result = world.call("ADD", &no_runtime, &att).unwrap();
    assert_eq!(result["interfaces"][0]["mac"], "02:00:00:00:00:03");
    world.call("DEL", &no_runtime, &att).unwrap();
    // Ours to choose: derived from the address.
    let mut derived = no_runtime.clone();
    derived.as_object_mut().unwrap().remove("mac");
    let result = world.call("ADD", &derived, &att).unwrap();
    let addr = result["ips"][0]["address"].as_str().unwrap();
    let ip: std::net::IpAddr = addr.split('/').next().unwrap().parse().unwrap();
    let want = cni_core::mac::for_addresses(&[ip]).unwrap();
    assert_eq!(result["interfaces"][0]["mac"], want.to_string());
    assert!(want.to_string().starts_with("0a:58:0a:48:00:"), "{want}");
}

#[test]
fn bad_input_is_refused_naming_the_field_and_leaves_nothing() {
    for (extra, code, start) in [
        (json!({"mtu": -1}), 7, "mtu"),
        (json!({"mtu": 65536}), 7, "mtu"),
        (json!({"owner": -1}), 6, "owner"),
        (json!({"owner": 4294967295u32}), 7, "owner"),
        (json!({"group": "wheel"}), 6, "group"),
        (json!({"multiQueue": 1}), 6, "multiQueue"),
        (json!({"mac": "01:00:5e:00:00:01"}), 7, "mac"),
        (
            json!({"runtimeConfig": {"mac": "nope"}}),
            7,
            "runtimeConfig.mac",
        ),
        (json!({"bridge": "a b"}), 7, "bridge"),
    ] {
        let (world, att, conf) = world_for(&tap(extra.clone()), "bad");
        let e = world.add_refused(&conf, &att);
        assert_eq!(e.code, code, "{extra}: {e}");
        assert!(e.msg.contains(start), "{extra}: {e}");
    }
    // A tap's largest MTU is 65521: the kernel refuses more, after IPAM.
    let (world, att, conf) = world_for(&tap(json!({"mtu": 65530})), "bigmtu");
    let e = world.add_refused(&conf, &att);
    assert!(e.msg.contains("creating tap eth0"), "{e}");
}

#[test]
fn selinux_context_on_a_kernel_without_selinux_fails_and_leaves_nothing() {
    let conf = tap(json!({"selinuxContext": "system_u:system_r:container_t:s0"}));
    let (world, att, conf) = world_for(&conf, "selinux");
    let e = world.add_refused(&conf, &att);
    assert!(e.msg.contains("SELinux"), "{e}");
    assert!(e.msg.contains("creating tap eth0"), "{e}");
}

#[test]
fn an_interface_name_already_taken_is_refused() {
    let (world, att, conf) = world_for(&tap(json!({})), "taken");
    world.call("ADD", &conf, &att).unwrap();
    let mut other = att.clone();
    other.container_id = "taken2".into();
    let (before, leases) = (world.kernel.snapshot(), world.leases());
    let e = world.call("ADD", &conf, &other).unwrap_err();
    assert!(e.msg.contains("already exists"), "{e}");
    assert_eq!((world.kernel.snapshot(), world.leases()), (before, leases));
}

#[test]
fn check_names_a_changed_kind_or_flag() {
    let (world, att, conf) = world_for(&tap(json!({"multiQueue": true})), "check");
    let result = world.call("ADD", &conf, &att).unwrap();
    let check = with_prev_result(&conf, &result);
    world.call("CHECK", &check, &att).unwrap();
    let mut single = check.clone();
    single["multiQueue"] = json!(false);
    let e = world.call("CHECK", &single, &att).unwrap_err();
    assert!(e.msg.contains("multiQueue"), "{e}");
    let mut owned = check.clone();
    owned["owner"] = json!(5);
    let e = world.call("CHECK", &owned, &att).unwrap_err();
    assert!(e.msg.contains("owner"), "{e}");
}

#[test]
fn del_succeeds_when_the_tap_or_the_namespace_is_gone() {
    let (world, att, conf) = world_for(&tap(json!({})), "gone");
    world.call("ADD", &conf, &att).unwrap();
    let ctr = world.container(&att);
    let eth0 = ctr.link_by_name("eth0").unwrap();
    ctr.delete_link(eth0.index).unwrap();
    world.call("DEL", &conf, &att).unwrap();
    assert!(world.leases().is_empty());
    let mut elsewhere = att.clone();
    elsewhere.netns = "/var/run/netns/never-made".into();
    world.call("DEL", &conf, &elsewhere).unwrap();
}

#[test]
fn layer2_needs_no_ipam_and_del_leaves_nothing() {
    let (world, att, conf) = world_for(&json!({"name": "l2", "type": "tap"}), "l2");
    let before = world.kernel.snapshot();
    let result = world.call("ADD", &conf, &att).unwrap();
    assert!(result.get("ips").is_none(), "{result}");
    let eth0 = world.container(&att).link_by_name("eth0").unwrap();
    assert!(eth0.up);
    world.call("DEL", &conf, &att).unwrap();
    assert_eq!(world.kernel.snapshot(), before);
}
