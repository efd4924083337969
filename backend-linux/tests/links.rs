//! Link operations of LinuxBackend against real namespaces.

mod common;

use cni_backend_linux::LinuxBackend;
use cni_core::net::{
    BridgeSpec, LinkKind, MacAddr, MacvlanMode, MacvlanSpec, NetBackend, NetErrorKind, Netns,
    NsRef, VethSpec,
};
use common::{privileged, TestNs};

fn open(ns: &TestNs) -> Box<dyn Netns> {
    LinuxBackend::new().open(&ns.ns_ref()).unwrap()
}

fn veth_spec(name: &str, peer: &str) -> VethSpec {
    VethSpec {
        name: name.into(),
        peer_name: peer.into(),
        ..Default::default()
    }
}

#[test]
fn created_bridge_and_both_veth_ends_have_qlen_1000() {
    if !privileged("created_bridge_and_both_veth_ends_have_qlen_1000") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let h = open(&host);
    let br = h
        .create_bridge(&BridgeSpec {
            name: "cnibr0".into(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!((br.kind.clone(), br.txqueuelen), (LinkKind::Bridge, 1000));
    let pair = h
        .create_veth(&veth_spec("veth-h", "eth0"), &cont.ns_ref())
        .unwrap();
    assert_eq!(pair.local.kind, LinkKind::Veth);
    assert_eq!((pair.local.txqueuelen, pair.peer.txqueuelen), (1000, 1000));
    assert_eq!(pair.local.peer_index, Some(pair.peer.index));
    assert_eq!(pair.peer.peer_index, Some(pair.local.index));
    assert_eq!(pair.peer.name, "eth0");
    // The kernel agrees.
    assert!(host
        .ip(&["-d", "link", "show", "cnibr0"])
        .contains("qlen 1000"));
    assert!(host
        .ip(&["-d", "link", "show", "veth-h"])
        .contains("qlen 1000"));
    assert!(cont
        .ip(&["-d", "link", "show", "eth0"])
        .contains("qlen 1000"));
    // The peer was never in the host namespace under any name.
    assert!(h.links().unwrap().iter().all(|l| l.name != "eth0"));
}

#[test]
fn veth_spec_sets_mtu_macs_and_txqueuelen() {
    if !privileged("veth_spec_sets_mtu_macs_and_txqueuelen") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let h = open(&host);
    let mac: MacAddr = "0a:58:0a:01:00:05".parse().unwrap();
    let peer_mac: MacAddr = "0a:58:0a:01:00:06".parse().unwrap();
    let spec = VethSpec {
        mtu: Some(1400),
        mac: Some(mac),
        peer_mac: Some(peer_mac),
        txqueuelen: Some(500),
        ..veth_spec("vh1", "eth1")
    };
    let pair = h.create_veth(&spec, &cont.ns_ref()).unwrap();
    assert_eq!(
        (pair.local.mtu, pair.local.mac, pair.local.txqueuelen),
        (1400, mac, 500)
    );
    assert_eq!(
        (pair.peer.mtu, pair.peer.mac, pair.peer.txqueuelen),
        (1400, peer_mac, 500)
    );
}

#[test]
fn macvlan_is_created_directly_in_the_target() {
    if !privileged("macvlan_is_created_directly_in_the_target") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    // No dummy driver on every kernel: a veth end serves as parent.
    host.ip(&[
        "link", "add", "uplink", "type", "veth", "peer", "name", "uplink-p",
    ]);
    let h = open(&host);
    let parent = h.link_by_name("uplink").unwrap();
    let spec = MacvlanSpec {
        name: "mv0".into(),
        parent: parent.index,
        mode: MacvlanMode::Vepa,
        mtu: None,
        mac: None,
        txqueuelen: None,
        bc_queue_len: None,
    };
    let mv = h.create_macvlan(&spec, &cont.ns_ref()).unwrap();
    assert_eq!(mv.kind, LinkKind::Macvlan);
    assert_eq!(mv.macvlan_mode, Some(MacvlanMode::Vepa));
    assert_eq!(mv.parent_index, Some(parent.index));
    assert_eq!(mv.txqueuelen, 1000);
    assert!(cont
        .ip(&["-d", "link", "show", "mv0"])
        .contains("macvlan mode vepa"));
    assert!(cont
        .ip(&["-d", "link", "show", "mv0"])
        .contains("qlen 1000"));
    assert_eq!(
        h.link_by_name("mv0").unwrap_err().kind,
        NetErrorKind::NotFound
    );
    // A parent that does not exist here.
    let bad = MacvlanSpec {
        parent: 9999,
        name: "mv1".into(),
        ..spec
    };
    assert_eq!(
        h.create_macvlan(&bad, &cont.ns_ref()).unwrap_err().kind,
        NetErrorKind::NotFound
    );
}

#[test]
fn link_settings_change_what_the_kernel_reports() {
    if !privileged("link_settings_change_what_the_kernel_reports") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let h = open(&host);
    let c = open(&cont);
    let br = h
        .create_bridge(&BridgeSpec {
            name: "br0".into(),
            ..Default::default()
        })
        .unwrap();
    let pair = h
        .create_veth(&veth_spec("vh", "eth0"), &cont.ns_ref())
        .unwrap();
    let ix = pair.local.index;

    h.set_master(ix, Some(br.index)).unwrap();
    assert_eq!(h.link_by_index(ix).unwrap().master, Some(br.index));
    assert_eq!(h.link_by_index(ix).unwrap().hairpin, Some(false));
    h.set_hairpin(ix, true).unwrap();
    assert_eq!(h.link_by_index(ix).unwrap().hairpin, Some(true));
    assert!(host
        .ip(&["-d", "link", "show", "vh"])
        .contains("hairpin on"));
    h.set_master(ix, None).unwrap();
    let l = h.link_by_index(ix).unwrap();
    assert_eq!((l.master, l.hairpin), (None, None));
    assert_eq!(
        h.set_hairpin(ix, true).unwrap_err().kind,
        NetErrorKind::Invalid
    );

    h.set_up(ix, true).unwrap();
    assert!(h.link_by_index(ix).unwrap().up);
    assert!(!h.link_by_index(ix).unwrap().oper_up, "peer still down");
    c.set_up(pair.peer.index, true).unwrap();
    assert!(c.link_by_index(pair.peer.index).unwrap().oper_up);
    h.set_up(ix, false).unwrap();
    assert!(!h.link_by_index(ix).unwrap().up);

    h.set_mtu(ix, 1300).unwrap();
    let mac: MacAddr = "02:00:00:00:00:42".parse().unwrap();
    h.set_mac(ix, mac).unwrap();
    h.set_txqueuelen(ix, 321).unwrap();
    h.set_promisc(ix, true).unwrap();
    let l = h.link_by_index(ix).unwrap();
    assert_eq!(
        (l.mtu, l.mac, l.txqueuelen, l.promisc),
        (1300, mac, 321, true)
    );
    h.set_promisc(ix, false).unwrap();
    assert!(!h.link_by_index(ix).unwrap().promisc);

    h.rename(ix, "renamed").unwrap();
    assert_eq!(h.link_by_name("renamed").unwrap().index, ix);
    assert_eq!(
        h.link_by_name("vh").unwrap_err().kind,
        NetErrorKind::NotFound
    );
}

#[test]
fn move_and_delete() {
    if !privileged("move_and_delete") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let h = open(&host);
    let c = open(&cont);
    host.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d0-p"]);
    host.ip(&["addr", "add", "10.9.0.1/24", "dev", "d0"]);
    let d0 = h.link_by_name("d0").unwrap();
    let moved = h.move_to(d0.index, &cont.ns_ref()).unwrap();
    assert_eq!(moved.name, "d0");
    assert_eq!(c.link_by_index(moved.index).unwrap().name, "d0");
    assert_eq!(
        h.link_by_name("d0").unwrap_err().kind,
        NetErrorKind::NotFound
    );
    assert!(
        c.addresses(Some(moved.index)).unwrap().is_empty(),
        "addresses stay behind"
    );

    // Deleting one veth end deletes its peer in the other namespace.
    let pair = h
        .create_veth(&veth_spec("vd", "eth0"), &cont.ns_ref())
        .unwrap();
    h.delete_link(pair.local.index).unwrap();
    assert_eq!(
        c.link_by_name("eth0").unwrap_err().kind,
        NetErrorKind::NotFound
    );
    assert_eq!(
        h.delete_link(pair.local.index).unwrap_err().kind,
        NetErrorKind::NotFound
    );
}

#[test]
fn errors_have_kinds_and_name_their_object() {
    if !privileged("errors_have_kinds_and_name_their_object") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let h = open(&host);
    let spec = BridgeSpec {
        name: "dup0".into(),
        ..Default::default()
    };
    h.create_bridge(&spec).unwrap();
    let e = h.create_bridge(&spec).unwrap_err();
    assert_eq!(e.kind, NetErrorKind::Exists);
    assert!(
        e.msg.contains("dup0") && e.msg.contains(&host.name),
        "{}",
        e.msg
    );

    let e = h.link_by_name("nosuch0").unwrap_err();
    assert_eq!(e.kind, NetErrorKind::NotFound);
    assert!(e.msg.contains("nosuch0"), "{}", e.msg);

    // A peer name taken in the peer namespace.
    h.create_veth(&veth_spec("va", "eth0"), &cont.ns_ref())
        .unwrap();
    let e = h
        .create_veth(&veth_spec("vb", "eth0"), &cont.ns_ref())
        .unwrap_err();
    assert_eq!(e.kind, NetErrorKind::Exists, "{}", e.msg);
    assert_eq!(
        h.link_by_name("vb").unwrap_err().kind,
        NetErrorKind::NotFound,
        "nothing left behind"
    );

    let missing = NsRef::path(format!("/var/run/netns/{}-gone", common::unique_prefix()));
    let e = h
        .create_veth(&veth_spec("vc", "eth9"), &missing)
        .unwrap_err();
    assert_eq!(e.kind, NetErrorKind::NotFound);
    assert!(e.msg.contains("-gone"), "{}", e.msg);

    let e = h
        .create_bridge(&BridgeSpec {
            name: "much-too-long-name".into(),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(e.kind, NetErrorKind::Invalid);

    let file = tempfile::NamedTempFile::new().unwrap();
    let e = LinuxBackend::new()
        .open(&NsRef::path(file.path()))
        .err()
        .unwrap();
    assert_eq!(e.kind, NetErrorKind::Invalid);
}

#[test]
fn current_namespace_handle_lists_our_own_links() {
    if !privileged("current_namespace_handle_lists_our_own_links") {
        return;
    }
    let h = LinuxBackend::new().open(&NsRef::Current).unwrap();
    let lo = h.link_by_name("lo").unwrap();
    assert_eq!((lo.kind, lo.index), (LinkKind::Loopback, 1));
}

#[test]
fn veth_with_both_ends_in_one_namespace() {
    if !privileged("veth_with_both_ends_in_one_namespace") {
        return;
    }
    let host = TestNs::new("host");
    let h = open(&host);
    let pair = h
        .create_veth(&veth_spec("va", "vb"), &host.ns_ref())
        .unwrap();
    assert_eq!(h.link_by_name("vb").unwrap().index, pair.peer.index);
    assert_eq!(pair.local.peer_index, Some(pair.peer.index));
}

#[test]
fn missing_links_and_masters_are_not_found() {
    if !privileged("missing_links_and_masters_are_not_found") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let h = open(&host);
    let pair = h
        .create_veth(&veth_spec("vm", "eth0"), &cont.ns_ref())
        .unwrap();
    let e = h.set_master(pair.local.index, Some(9999)).unwrap_err();
    assert_eq!(e.kind, NetErrorKind::NotFound, "{}", e.msg);
    assert!(e.msg.contains("#9999"), "{}", e.msg);
    for e in [
        h.set_up(9999, true).unwrap_err(),
        h.set_mtu(9999, 1400).unwrap_err(),
        h.delete_link(9999).unwrap_err(),
        h.delete_link(0).unwrap_err(),
        h.link_by_index(9999).unwrap_err(),
        h.rename(9999, "x").unwrap_err(),
    ] {
        assert_eq!(e.kind, NetErrorKind::NotFound, "{}", e.msg);
    }
}

#[test]
fn bridge_spec_sets_mtu_mac_and_txqueuelen() {
    if !privileged("bridge_spec_sets_mtu_mac_and_txqueuelen") {
        return;
    }
    let host = TestNs::new("host");
    let h = open(&host);
    let mac: MacAddr = "02:11:22:33:44:55".parse().unwrap();
    let br = h
        .create_bridge(&BridgeSpec {
            name: "brv".into(),
            mtu: Some(1450),
            mac: Some(mac),
            txqueuelen: Some(2000),
            vlan_filtering: false,
        })
        .unwrap();
    assert_eq!((br.mtu, br.mac, br.txqueuelen), (1450, mac, 2000));
    assert!(host
        .ip(&["-d", "link", "show", "brv"])
        .contains("qlen 2000"));
}

#[test]
fn bridge_vlan_filtering_is_set_or_refused_cleanly() {
    if !privileged("bridge_vlan_filtering_is_set_or_refused_cleanly") {
        return;
    }
    let host = TestNs::new("host");
    let h = open(&host);
    let spec = BridgeSpec {
        name: "brf".into(),
        vlan_filtering: true,
        ..Default::default()
    };
    match h.create_bridge(&spec) {
        Ok(_) => assert!(host
            .ip(&["-d", "link", "show", "brf"])
            .contains("vlan_filtering 1")),
        // Kernels built without CONFIG_BRIDGE_VLAN_FILTERING refuse it.
        Err(e) => {
            assert!(
                e.msg.contains("brf") && e.msg.contains("not supported"),
                "{}",
                e.msg
            );
            assert_eq!(
                h.link_by_name("brf").unwrap_err().kind,
                NetErrorKind::NotFound
            );
        }
    }
}

#[test]
fn one_handle_serves_several_threads() {
    if !privileged("one_handle_serves_several_threads") {
        return;
    }
    let host = TestNs::new("host");
    let h = cni_backend_linux::LinuxNetns::open(&host.ns_ref()).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    assert_eq!(h.link_by_name("lo").unwrap().index, 1);
                    assert!(!h.links().unwrap().is_empty());
                }
            });
        }
    });
}
