//! The reference's configuration keys on the real kernel: a frame with a
//! spoofed source MAC is dropped (`macspoofchk`), isolated ports cannot
//! reach each other but reach the gateway (`portIsolation`), macvlan's
//! `bcqueuelen` as `ip -d link` shows it, and the sysctls read back. The
//! plugins run in process inside a namespace playing the host; traffic only
//! flows between namespaces the test made. Needs root.

use cni_conformance::in_process::{add_uplink, Attachment};
use cni_conformance::kernel_world::KernelWorld;
use cni_conformance::realns::result_addrs;
use cni_core::net::{NetBackend, Netns, NsRef};
use cni_core::testsupport::privileged;
use serde_json::{json, Value};
use std::process::Command;

fn ns_name(att: &Attachment) -> String {
    att.netns.rsplit('/').next().unwrap().to_string()
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().unwrap();
    assert!(out.status.success(), "ip {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ping(att: &Attachment, to: &str) -> bool {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns_name(att),
            "ping",
            "-c",
            "1",
            "-W",
            "1",
            to,
        ])
        .output()
        .unwrap()
        .status
        .success()
}

/// A container's namespace through the backend underneath the fault injector.
fn container(world: &KernelWorld, att: &Attachment) -> Box<dyn Netns> {
    world.faults.inner().open(&NsRef::path(&att.netns)).unwrap()
}

fn bridge_conf(name: &str, subnet: &str, extra: Value) -> Value {
    let mut conf = json!({"name": name, "type": "bridge", "bridge": "kbr0",
        "isGateway": true, "ipam": {"type": "host-local", "subnet": subnet}});
    for (k, v) in extra.as_object().unwrap() {
        conf[k] = v.clone();
    }
    conf
}

#[test]
fn macspoofchk_drops_frames_with_a_spoofed_source_mac() {
    if !privileged("macspoofchk_drops_frames_with_a_spoofed_source_mac") {
        return;
    }
    let mut world = KernelWorld::new();
    let att = world.add_container("spoof1");
    let conf = world.netconf(
        &bridge_conf("spoof-net", "10.61.0.0/24", json!({"macspoofchk": true})),
        "1.0.0",
    );
    world.in_host(|| {
        world.call("ADD", &conf, &att).unwrap();
        assert!(ping(&att, "10.61.0.1"), "the container's own MAC passes");
        let ns = ns_name(&att);
        ip(&[
            "-n",
            &ns,
            "link",
            "set",
            "eth0",
            "address",
            "0a:58:de:ad:be:ef",
        ]);
        ip(&["-n", &ns, "neigh", "flush", "dev", "eth0"]);
        assert!(!ping(&att, "10.61.0.1"), "a spoofed source MAC is dropped");
        // The control: without the check, the same spoofed frames pass.
        world.host().spoofcheck_del("spoof-net", "spoof1").unwrap();
        assert!(ping(&att, "10.61.0.1"), "without the check they pass");
        world.call("DEL", &conf, &att).unwrap();
        assert!(world.host().spoofcheck_list().unwrap().is_empty());
    });
}

#[test]
fn isolated_ports_reach_the_gateway_but_not_each_other() {
    if !privileged("isolated_ports_reach_the_gateway_but_not_each_other") {
        return;
    }
    let mut world = KernelWorld::new();
    let a = world.add_container("iso-a");
    let b = world.add_container("iso-b");
    let conf = world.netconf(
        &bridge_conf("iso-net", "10.62.0.0/24", json!({"portIsolation": true})),
        "1.0.0",
    );
    world.in_host(|| {
        world.call("ADD", &conf, &a).unwrap();
        let rb = world.call("ADD", &conf, &b).unwrap();
        assert!(
            ping(&a, "10.62.0.1") && ping(&b, "10.62.0.1"),
            "both reach the gateway"
        );
        let b_ip = result_addrs(&rb).remove(0);
        assert!(!ping(&a, &b_ip), "isolated ports do not reach each other");
        // The control: with one port no longer isolated, the same ping passes.
        let a_end = container(&world, &a).link_by_name("eth0").unwrap();
        let host = world.host();
        host.set_port_isolated(a_end.peer_index.unwrap(), false)
            .unwrap();
        // The neighbour entry the blocked ping left FAILED is resolved anew
        // first, which one 1-second ping does not always cover.
        assert!((0..3).any(|_| ping(&a, &b_ip)), "without isolation they do");
    });
}

#[test]
fn macvlan_bcqueuelen_shows_in_ip_link() {
    if !privileged("macvlan_bcqueuelen_shows_in_ip_link") {
        return;
    }
    let mut world = KernelWorld::new();
    let att = world.add_container("bcq1");
    let conf = world.netconf(
        &json!({"name": "bcq-net", "type": "macvlan", "master": "uplink0", "bcqueuelen": 250,
            "ipam": {"type": "host-local", "subnet": "10.63.0.0/24"}}),
        "1.0.0",
    );
    world.in_host(|| {
        add_uplink(&*world.host(), "uplink0", "uplink1");
        world.call("ADD", &conf, &att).unwrap();
    });
    let shown = ip(&["-n", &ns_name(&att), "-d", "link", "show", "eth0"]);
    assert!(shown.contains("bcqueuelen 250"), "{shown}");
}

#[test]
fn the_reference_sysctls_read_back_on_the_kernel() {
    if !privileged("the_reference_sysctls_read_back_on_the_kernel") {
        return;
    }
    let mut world = KernelWorld::new();
    let att = world.add_container("sys1");
    let mut conf = bridge_conf("sys-net", "10.64.0.0/24", json!({"enabledad": true}));
    conf["ipam"] = json!({"type": "host-local", "ranges": [[{"subnet": "10.64.0.0/24"}], [{"subnet": "fd64::/64"}]]});
    let conf = world.netconf(&conf, "1.0.0");
    world.in_host(|| {
        world.call("ADD", &conf, &att).unwrap();
        let host = world.host();
        let c = container(&world, &att);
        let veth = host
            .link_by_index(c.link_by_name("eth0").unwrap().peer_index.unwrap())
            .unwrap()
            .name;
        for (ns, key, want) in [
            (&*host, "net/ipv6/conf/kbr0/accept_ra".to_string(), "0"),
            (&*host, format!("net/ipv6/conf/{veth}/accept_ra"), "0"),
            (&*c, "net/ipv4/conf/eth0/arp_notify".to_string(), "1"),
            (&*c, "net/ipv6/conf/eth0/accept_dad".to_string(), "1"),
            (&*c, "net/ipv6/conf/eth0/enhanced_dad".to_string(), "1"),
            (&*c, "net/ipv6/conf/eth0/keep_addr_on_down".to_string(), "1"),
            (&*c, "net/ipv6/conf/eth0/disable_ipv6".to_string(), "0"),
        ] {
            assert_eq!(ns.sysctl_get(&key).unwrap(), want, "{key}");
        }
        let index = c.link_by_name("eth0").unwrap().index;
        let v6 = c.addresses(Some(index)).unwrap();
        assert!(
            v6.iter()
                .any(|a| a.addr.to_string().starts_with("fd64:") && !a.nodad),
            "with enabledad the address runs DAD: {v6:?}"
        );
    });
}
