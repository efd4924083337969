//! Rules about links: names, indexes, veths, bridges, macvlans, ipvlans,
//! vlans, flags, moves.

use super::{expect_kind, link, open, two, SuiteEnv};
use cni_core::net::{
    AddressSpec, BridgeSpec, IpvlanMode, IpvlanSpec, LinkInfo, LinkKind, MacAddr, MacvlanMode,
    MacvlanSpec, NetErrorKind, NetResult, Netns, VethSpec, VlanSpec,
};

pub fn new_netns_has_only_loopback(env: &mut dyn SuiteEnv) {
    let ns = env.new_netns();
    let links = open(env, &ns).links().unwrap();
    assert_eq!(links.len(), 1, "{links:?}");
    let lo = &links[0];
    assert_eq!(
        (lo.index, lo.name.as_str(), &lo.kind, lo.mtu, lo.up),
        (1, "lo", &LinkKind::Loopback, 65536, false)
    );
}

pub fn link_names_are_unique_per_namespace(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    host.create_veth(&VethSpec::new("sx0", "sx0p"), &cref)
        .unwrap();
    let before = host.links().unwrap();
    let clash = BridgeSpec {
        name: "sx0".into(),
        ..BridgeSpec::default()
    };
    expect_kind(
        host.create_bridge(&clash),
        NetErrorKind::Exists,
        "bridge named like a veth",
    );
    assert_eq!(
        host.links().unwrap(),
        before,
        "a failed create changed links"
    );
}

pub fn same_name_allowed_in_other_namespace(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let pair = host
        .create_veth(&VethSpec::new("eth0", "eth0"), &cref)
        .unwrap();
    assert_eq!(pair.local.name, "eth0");
    assert_eq!(link(&*c, "eth0").index, pair.peer.index);
}

pub fn link_name_longer_than_15_bytes_is_invalid(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let spec = |n: &str| BridgeSpec {
        name: n.into(),
        ..BridgeSpec::default()
    };
    expect_kind(
        host.create_bridge(&spec("abcdefghijklmnop")),
        NetErrorKind::Invalid,
        "16-byte name",
    );
    assert_eq!(
        host.create_bridge(&spec("abcdefghijklmno")).unwrap().name,
        "abcdefghijklmno"
    );
}

pub fn link_name_with_slash_or_space_is_invalid(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    for bad in ["a/b", "a b", "", ".", ".."] {
        let spec = BridgeSpec {
            name: bad.into(),
            ..BridgeSpec::default()
        };
        expect_kind(host.create_bridge(&spec), NetErrorKind::Invalid, bad);
    }
}

pub fn ifindex_is_not_reused_after_delete(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let br = |n: &str| BridgeSpec {
        name: n.into(),
        ..BridgeSpec::default()
    };
    let first = host.create_bridge(&br("ix0")).unwrap();
    host.delete_link(first.index).unwrap();
    let second = host.create_bridge(&br("ix1")).unwrap();
    assert!(
        second.index > first.index,
        "index {} reused after deleting {}",
        second.index,
        first.index
    );
}

pub fn veth_peer_is_created_in_peer_namespace(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let pair = host
        .create_veth(&VethSpec::new("vp0", "ceth0"), &cref)
        .unwrap();
    let peer = link(&*c, "ceth0");
    assert_eq!(peer.index, pair.peer.index);
    assert_eq!(peer.peer_index, Some(pair.local.index));
    assert_eq!(link(&*host, "vp0").peer_index, Some(peer.index));
    assert!(host.link_by_name("ceth0").unwrap_err().is_not_found());
}

pub fn veth_has_kernel_defaults(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let pair = host
        .create_veth(&VethSpec::new("vd0", "vd0p"), &cref)
        .unwrap();
    for end in [&pair.local, &pair.peer] {
        assert_eq!(
            (end.kind.clone(), end.mtu, end.txqueuelen),
            (LinkKind::Veth, 1500, 1000)
        );
        assert!(!end.up);
        let first = end.mac.0[0];
        assert!(
            !end.mac.is_zero() && first & 0x02 == 0x02 && first & 1 == 0,
            "{}",
            end.mac
        );
    }
    assert_ne!(pair.local.mac, pair.peer.mac);
}

pub fn veth_spec_fields_are_applied(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let mac: MacAddr = "0a:58:0a:01:00:05".parse().unwrap();
    let spec = VethSpec {
        mtu: Some(9000),
        peer_mac: Some(mac),
        txqueuelen: Some(500),
        ..VethSpec::new("vs0", "vs0p")
    };
    host.create_veth(&spec, &cref).unwrap();
    let peer = link(&*c, "vs0p");
    assert_eq!((peer.mtu, peer.mac, peer.txqueuelen), (9000, mac, 500));
    assert_eq!(link(&*host, "vs0").mtu, 9000);
}

pub fn deleting_veth_end_deletes_peer(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let pair = host
        .create_veth(&VethSpec::new("vx0", "vx0p"), &cref)
        .unwrap();
    c.delete_link(pair.peer.index).unwrap();
    assert!(c.link_by_name("vx0p").unwrap_err().is_not_found());
    assert!(host.link_by_name("vx0").unwrap_err().is_not_found());
}

pub fn veth_carrier_needs_both_ends_up(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let pair = host
        .create_veth(&VethSpec::new("vc0", "vc0p"), &cref)
        .unwrap();
    host.set_up(pair.local.index, true).unwrap();
    let local = link(&*host, "vc0");
    assert!(
        local.up && !local.oper_up,
        "one end up must have no carrier"
    );
    c.set_up(pair.peer.index, true).unwrap();
    super::eventually("both veth ends have carrier", || {
        link(&*host, "vc0").oper_up && link(&*c, "vc0p").oper_up
    });
}

pub fn failed_veth_create_changes_nothing(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    host.create_veth(&VethSpec::new("fa0", "taken"), &cref)
        .unwrap();
    let (host_before, c_before) = (host.links().unwrap(), c.links().unwrap());
    expect_kind(
        host.create_veth(&VethSpec::new("fa1", "taken"), &cref),
        NetErrorKind::Exists,
        "peer name taken",
    );
    assert_eq!(host.links().unwrap(), host_before);
    assert_eq!(c.links().unwrap(), c_before);
}

fn bridge(name: &str) -> BridgeSpec {
    BridgeSpec {
        name: name.into(),
        ..BridgeSpec::default()
    }
}

pub fn bridge_has_kernel_defaults(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let br = host.create_bridge(&bridge("bd0")).unwrap();
    assert_eq!(
        (br.kind, br.mtu, br.txqueuelen, br.up),
        (LinkKind::Bridge, 1500, 1000, false)
    );
}

/// Linux's br_mtu_auto_adjust: the lowest port MTU, 1500 without ports; an
/// MTU given at creation does not stop it, one set afterwards does.
pub fn bridge_mtu_follows_ports_unless_set(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let spec = BridgeSpec {
        mtu: Some(1400),
        ..bridge("bm0")
    };
    let br = host.create_bridge(&spec).unwrap();
    let veth = VethSpec {
        mtu: Some(1300),
        ..VethSpec::new("bm0v", "eth0")
    };
    let pair = host.create_veth(&veth, &cref).unwrap();
    host.set_master(pair.local.index, Some(br.index)).unwrap();
    assert_eq!(link(&*host, "bm0").mtu, 1300, "takes its port's MTU");
    host.set_mtu(pair.local.index, 1350).unwrap();
    assert_eq!(link(&*host, "bm0").mtu, 1350, "follows its port's MTU");
    host.set_master(pair.local.index, None).unwrap();
    assert_eq!(link(&*host, "bm0").mtu, 1500, "1500 without ports");
    host.set_mtu(br.index, 1450).unwrap();
    host.set_master(pair.local.index, Some(br.index)).unwrap();
    assert_eq!(
        link(&*host, "bm0").mtu,
        1450,
        "an MTU set by the user stays"
    );
}

pub fn bridge_port_gets_master_and_bridge_gets_carrier(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let br = host.create_bridge(&bridge("bp0")).unwrap();
    let pair = host
        .create_veth(&VethSpec::new("bp0v", "eth0"), &cref)
        .unwrap();
    host.set_master(pair.local.index, Some(br.index)).unwrap();
    host.set_up(br.index, true).unwrap();
    host.set_up(pair.local.index, true).unwrap();
    c.set_up(pair.peer.index, true).unwrap();
    assert_eq!(link(&*host, "bp0v").master, Some(br.index));
    super::eventually("bridge with an up port has carrier", || {
        link(&*host, "bp0").oper_up
    });
}

pub fn bridge_without_own_mac_takes_port_mac(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let br = host.create_bridge(&bridge("bm0")).unwrap();
    let pair = host
        .create_veth(&VethSpec::new("bm0v", "bm0p"), &cref)
        .unwrap();
    host.set_master(pair.local.index, Some(br.index)).unwrap();
    assert_eq!(link(&*host, "bm0").mac, pair.local.mac);
}

pub fn set_master_to_non_bridge_fails(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let a = host
        .create_veth(&VethSpec::new("nm0", "nm0p"), &cref)
        .unwrap();
    let b = host
        .create_veth(&VethSpec::new("nm1", "nm1p"), &cref)
        .unwrap();
    assert!(host.set_master(a.local.index, Some(b.local.index)).is_err());
    assert_eq!(link(&*host, "nm0").master, None);
}

pub fn port_moves_between_bridges_in_one_call(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let b0 = host.create_bridge(&bridge("mb0")).unwrap();
    let b1 = host.create_bridge(&bridge("mb1")).unwrap();
    let pair = host
        .create_veth(&VethSpec::new("mbv", "mbvp"), &cref)
        .unwrap();
    host.set_master(pair.local.index, Some(b0.index)).unwrap();
    host.set_master(pair.local.index, Some(b1.index)).unwrap();
    assert_eq!(link(&*host, "mbv").master, Some(b1.index));
    host.set_master(pair.local.index, None).unwrap();
    assert_eq!(link(&*host, "mbv").master, None);
}

pub fn hairpin_requires_bridge_port(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    let pair = host
        .create_veth(&VethSpec::new("hp0", "hp0p"), &cref)
        .unwrap();
    assert!(
        host.set_hairpin(pair.local.index, true).is_err(),
        "not a port yet"
    );
    let br = host.create_bridge(&bridge("hpbr")).unwrap();
    host.set_master(pair.local.index, Some(br.index)).unwrap();
    host.set_hairpin(pair.local.index, true).unwrap();
    assert_eq!(link(&*host, "hp0").hairpin, Some(true));
}

pub fn promisc_flag_round_trips(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let br = host.create_bridge(&bridge("pr0")).unwrap();
    host.set_promisc(br.index, true).unwrap();
    assert!(link(&*host, "pr0").promisc);
    host.set_promisc(br.index, false).unwrap();
    assert!(!link(&*host, "pr0").promisc);
}

/// `tuning`'s `allmulti`: its own flag, apart from promisc, on the link
/// asked for only (the peer keeps its own).
pub fn allmulti_flag_round_trips_apart_from_promisc(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    host.create_veth(&VethSpec::new("am0", "am0p"), &cref)
        .unwrap();
    let end = link(&*c, "am0p");
    assert!(!end.allmulti, "a new veth end is not allmulti");
    c.set_allmulti(end.index, true).unwrap();
    let on = link(&*c, "am0p");
    assert!(on.allmulti && !on.promisc, "{on:?}");
    assert!(!link(&*host, "am0").allmulti, "the peer is untouched");
    c.set_allmulti(end.index, false).unwrap();
    assert!(!link(&*c, "am0p").allmulti);
    expect_kind(
        c.set_allmulti(0, true),
        NetErrorKind::NotFound,
        "allmulti on #0",
    );
}

pub fn mtu_out_of_range_is_invalid(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let br = host.create_bridge(&bridge("mt0")).unwrap();
    expect_kind(host.set_mtu(br.index, 10), NetErrorKind::Invalid, "mtu 10");
    host.set_mtu(br.index, 9000).unwrap();
    assert_eq!(link(&*host, "mt0").mtu, 9000);
}

pub fn txqueuelen_is_kept_as_set(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let br = host.create_bridge(&bridge("tq0")).unwrap();
    host.set_txqueuelen(br.index, 4242).unwrap();
    assert_eq!(link(&*host, "tq0").txqueuelen, 4242);
}

pub fn macvlan_is_created_in_target_namespace(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let other = env.new_netns();
    let pair = host
        .create_veth(&VethSpec::new("mvp0", "mvp0p"), &other)
        .unwrap();
    let spec = MacvlanSpec {
        name: "eth0".into(),
        parent: pair.local.index,
        mode: MacvlanMode::Bridge,
        mtu: None,
        mac: None,
        txqueuelen: None,
        bc_queue_len: None,
    };
    let mv = host.create_macvlan(&spec, &cref).unwrap();
    let seen = link(&*c, "eth0");
    assert_eq!(seen.index, mv.index);
    assert_eq!(
        (seen.kind, seen.macvlan_mode, seen.parent_index, seen.mtu),
        (
            LinkKind::Macvlan,
            Some(MacvlanMode::Bridge),
            Some(pair.local.index),
            1500
        )
    );
    assert!(host.link_by_name("eth0").unwrap_err().is_not_found());
}

pub fn macvlan_inherits_parent_mtu_and_default_qlen(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let other = env.new_netns();
    let spec = VethSpec {
        mtu: Some(9000),
        ..VethSpec::new("mvm0", "mvm0p")
    };
    let pair = host.create_veth(&spec, &other).unwrap();
    let mv = MacvlanSpec {
        name: "mv9k".into(),
        parent: pair.local.index,
        mode: MacvlanMode::Private,
        mtu: None,
        mac: None,
        txqueuelen: None,
        bc_queue_len: None,
    };
    host.create_macvlan(&mv, &cref).unwrap();
    let seen = link(&*c, "mv9k");
    assert_eq!((seen.mtu, seen.txqueuelen), (9000, 1000));
    assert_eq!(seen.macvlan_mode, Some(MacvlanMode::Private));
}

pub fn macvlan_with_missing_parent_is_not_found(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let spec = MacvlanSpec {
        name: "eth0".into(),
        parent: 999_999,
        mode: MacvlanMode::Bridge,
        mtu: None,
        mac: None,
        txqueuelen: None,
        bc_queue_len: None,
    };
    expect_kind(
        host.create_macvlan(&spec, &cref),
        NetErrorKind::NotFound,
        "no parent",
    );
    assert!(c.link_by_name("eth0").unwrap_err().is_not_found());
}

pub fn move_to_drops_addresses_and_keeps_name(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let other = env.new_netns();
    let pair = host
        .create_veth(&VethSpec::new("mv0", "mv0p"), &other)
        .unwrap();
    host.add_address(
        pair.local.index,
        &AddressSpec::new("10.77.0.1/24".parse().unwrap()),
    )
    .unwrap();
    let moved = host.move_to(pair.local.index, &cref).unwrap();
    assert_eq!(moved.name, "mv0");
    assert_eq!(link(&*c, "mv0").index, moved.index);
    assert!(host.link_by_name("mv0").unwrap_err().is_not_found());
    let v4: Vec<_> = c
        .addresses(Some(moved.index))
        .unwrap()
        .into_iter()
        .filter(|a| a.addr.addr().is_ipv4())
        .collect();
    assert!(v4.is_empty(), "addresses followed the link: {v4:?}");
}

/// host-device's record of a moved device's host name: the alias stays with
/// the link through a rename and a move, and `""` clears it.
pub fn alias_is_kept_across_rename_and_move(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let other = env.new_netns();
    let pair = host
        .create_veth(&VethSpec::new("al0", "al0p"), &other)
        .unwrap();
    assert_eq!(link(&*host, "al0").alias, None);
    host.set_alias(pair.local.index, "al0").unwrap();
    host.rename(pair.local.index, "al1").unwrap();
    assert_eq!(link(&*host, "al1").alias.as_deref(), Some("al0"));
    let moved = host.move_to(pair.local.index, &cref).unwrap();
    assert_eq!(moved.alias.as_deref(), Some("al0"));
    assert!(!moved.up);
    c.set_alias(moved.index, "").unwrap();
    assert_eq!(link(&*c, "al1").alias, None);
    expect_kind(
        c.set_alias(moved.index, &"a".repeat(256)),
        NetErrorKind::Invalid,
        "alias of 256 bytes",
    );
}

pub fn rename_to_existing_name_is_exists(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let a = host.create_bridge(&bridge("rn0")).unwrap();
    host.create_bridge(&bridge("rn1")).unwrap();
    expect_kind(
        host.rename(a.index, "rn1"),
        NetErrorKind::Exists,
        "rename clash",
    );
    assert_eq!(link(&*host, "rn0").index, a.index);
}

pub fn rename_makes_link_findable_by_new_name(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let a = host.create_bridge(&bridge("rm0")).unwrap();
    host.rename(a.index, "rm1").unwrap();
    assert_eq!(link(&*host, "rm1").index, a.index);
    assert!(host.link_by_name("rm0").unwrap_err().is_not_found());
}

/// A stacked link's creation either worked, or the kernel has no driver for
/// its kind: then the error says which module, and nothing was left in the
/// target namespace. `None` in that case (the rest of the rule cannot run).
pub(super) fn created_or_no_driver(
    r: NetResult<LinkInfo>,
    target: &dyn Netns,
    name: &str,
    module: &str,
) -> Option<LinkInfo> {
    match r {
        Ok(info) => Some(info),
        Err(e) if e.kind == NetErrorKind::Unsupported => {
            assert!(
                e.msg.contains(&format!("(modprobe {module})")),
                "the error names the module: {e}"
            );
            assert!(target.link_by_name(name).unwrap_err().is_not_found());
            None
        }
        Err(e) => panic!("creating {name}: {e}"),
    }
}

pub fn ipvlan_is_created_in_target_namespace_with_parent_mac(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let other = env.new_netns();
    let pair = host
        .create_veth(&VethSpec::new("ivp0", "ivp0p"), &other)
        .unwrap();
    let spec = IpvlanSpec {
        name: "eth0".into(),
        parent: pair.local.index,
        mode: IpvlanMode::L3,
        mtu: Some(1400),
        txqueuelen: None,
    };
    let Some(iv) = created_or_no_driver(host.create_ipvlan(&spec, &cref), &*c, "eth0", "ipvlan")
    else {
        return;
    };
    let seen = link(&*c, "eth0");
    assert_eq!(seen.index, iv.index);
    assert_eq!(
        (seen.kind, seen.ipvlan_mode, seen.parent_index),
        (
            LinkKind::Ipvlan,
            Some(IpvlanMode::L3),
            Some(pair.local.index)
        )
    );
    assert_eq!((seen.mtu, seen.txqueuelen), (1400, 1000));
    assert_eq!(
        seen.mac, pair.local.mac,
        "an ipvlan shares its parent's MAC"
    );
    assert!(host.link_by_name("eth0").unwrap_err().is_not_found());
    let too_big = IpvlanSpec {
        name: "eth1".into(),
        mtu: Some(9000),
        ..spec
    };
    expect_kind(
        host.create_ipvlan(&too_big, &cref),
        NetErrorKind::Invalid,
        "mtu above the parent's",
    );
    host.delete_link(pair.local.index).unwrap();
    assert!(
        c.link_by_name("eth0").unwrap_err().is_not_found(),
        "the ipvlan goes with its parent"
    );
}

pub fn vlan_is_created_in_target_namespace_and_ids_are_unique_per_parent(env: &mut dyn SuiteEnv) {
    let (host, c, cref) = two(env);
    let other = env.new_netns();
    let pair = host
        .create_veth(&VethSpec::new("vlp0", "vlp0p"), &other)
        .unwrap();
    let spec = VlanSpec {
        name: "eth0".into(),
        parent: pair.local.index,
        vlan_id: 42,
        mtu: None,
        txqueuelen: None,
    };
    let Some(vl) = created_or_no_driver(host.create_vlan(&spec, &cref), &*c, "eth0", "8021q")
    else {
        return;
    };
    let seen = link(&*c, "eth0");
    assert_eq!(seen.index, vl.index);
    assert_eq!(
        (seen.kind, seen.vlan_id, seen.parent_index),
        (LinkKind::Vlan, Some(42), Some(pair.local.index))
    );
    assert_eq!((seen.mtu, seen.txqueuelen), (1500, 1000));
    assert_eq!(seen.mac, pair.local.mac, "a vlan takes its parent's MAC");
    let again = VlanSpec {
        name: "eth1".into(),
        ..spec.clone()
    };
    expect_kind(
        host.create_vlan(&again, &cref),
        NetErrorKind::Exists,
        "the same id on the same parent",
    );
    let reserved = VlanSpec {
        name: "eth2".into(),
        vlan_id: 4095,
        ..spec
    };
    expect_kind(
        host.create_vlan(&reserved, &cref),
        NetErrorKind::Invalid,
        "vlan id 4095",
    );
    host.delete_link(pair.local.index).unwrap();
    assert!(
        c.link_by_name("eth0").unwrap_err().is_not_found(),
        "the vlan goes with its parent"
    );
}
