//! Rules for what bridge's `portIsolation` and `macspoofchk` and macvlan's
//! `bcqueuelen` rely on.

use super::{link, open, two, SuiteEnv};
use cni_core::net::{BridgeSpec, MacvlanMode, MacvlanSpec, SpoofCheck, VethSpec};

pub fn port_isolation_needs_a_port_and_ends_with_it(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let pair = host
        .create_veth(&VethSpec::new("iso0", "iso0p"), &cref)
        .unwrap();
    assert!(
        host.set_port_isolated(pair.local.index, true).is_err(),
        "not a port yet"
    );
    let br = host
        .create_bridge(&BridgeSpec {
            name: "isobr".into(),
            ..Default::default()
        })
        .unwrap();
    host.set_master(pair.local.index, Some(br.index)).unwrap();
    assert_eq!(link(&*host, "iso0").isolated, Some(false));
    host.set_port_isolated(pair.local.index, true).unwrap();
    assert_eq!(link(&*host, "iso0").isolated, Some(true));
    host.set_master(pair.local.index, None).unwrap();
    assert_eq!(link(&*host, "iso0").isolated, None, "no longer a port");
}

pub fn macvlan_keeps_its_broadcast_queue_length(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let other = env.new_netns();
    let pair = host
        .create_veth(&VethSpec::new("bcq0", "bcq0p"), &other)
        .unwrap();
    let spec = MacvlanSpec {
        name: "eth0".into(),
        parent: pair.local.index,
        mode: MacvlanMode::Bridge,
        mtu: None,
        mac: None,
        txqueuelen: None,
        bc_queue_len: Some(321),
    };
    host.create_macvlan(&spec, &cref).unwrap();
    assert_eq!(link(&*c, "eth0").bc_queue_len, Some(321));
    let default = MacvlanSpec {
        name: "eth1".into(),
        bc_queue_len: None,
        ..spec
    };
    host.create_macvlan(&default, &cref).unwrap();
    assert_eq!(link(&*c, "eth1").bc_queue_len, Some(1000), "the default");
}

fn check(container_id: &str, iface: &str, mac: &str) -> SpoofCheck {
    SpoofCheck {
        network: "suite-net".into(),
        container_id: container_id.into(),
        iface: iface.into(),
        mac: mac.parse().unwrap(),
    }
}

pub fn spoofcheck_add_is_idempotent_del_and_gc_remove_only_theirs(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let a = check("ctr-a", "vetha", "0a:58:0a:58:00:05");
    let b = check("ctr-b", "vethb", "0a:58:0a:58:00:06");
    assert_eq!(host.spoofcheck_list().unwrap(), vec![], "nothing yet");
    host.spoofcheck_del("suite-net", "ctr-a").unwrap();
    host.spoofcheck_add(&a).unwrap();
    host.spoofcheck_add(&a).unwrap();
    host.spoofcheck_add(&b).unwrap();
    assert_eq!(host.spoofcheck_list().unwrap(), vec![a.clone(), b.clone()]);
    let a_moved = check("ctr-a", "vetha", "0a:58:0a:58:00:09");
    host.spoofcheck_add(&a_moved).unwrap();
    assert_eq!(
        host.spoofcheck_list().unwrap(),
        vec![a_moved, b.clone()],
        "a new MAC replaces the old check"
    );
    host.spoofcheck_del("suite-net", "ctr-a").unwrap();
    host.spoofcheck_del("suite-net", "ctr-a").unwrap();
    assert_eq!(host.spoofcheck_list().unwrap(), vec![b.clone()]);
    host.spoofcheck_gc("suite-net", &["ctr-b".to_string()])
        .unwrap();
    assert_eq!(host.spoofcheck_list().unwrap(), vec![b]);
    host.spoofcheck_gc("suite-net", &[]).unwrap();
    assert_eq!(host.spoofcheck_list().unwrap(), vec![]);
}
