//! Sysctls and masquerade rules, each inside its own test namespace.

mod common;

use cni_backend_linux::LinuxBackend;
use cni_core::net::{MasqRule, NetBackend, NetErrorKind, NsRef};
use common::{privileged, TestNs};

#[test]
fn sysctls_act_in_the_handle_namespace_only() {
    if !privileged("sysctls_act_in_the_handle_namespace_only") {
        return;
    }
    let (a, b) = (TestNs::new("a"), TestNs::new("b"));
    let backend = LinuxBackend::new();
    let ha = backend.open(&a.ns_ref()).unwrap();
    let hb = backend.open(&b.ns_ref()).unwrap();
    let own_before = backend
        .open(&NsRef::Current)
        .unwrap()
        .sysctl_get("net/ipv4/ip_forward")
        .unwrap();

    ha.sysctl_set("net/ipv4/ip_forward", "1").unwrap();
    assert_eq!(ha.sysctl_get("net/ipv4/ip_forward").unwrap(), "1");
    assert_eq!(ha.sysctl_get("net.ipv4.ip_forward").unwrap(), "1");
    assert_eq!(hb.sysctl_get("net/ipv4/ip_forward").unwrap(), "0");
    assert_eq!(
        a.exec(&["cat", "/proc/sys/net/ipv4/ip_forward"]).trim(),
        "1"
    );
    let own_after = backend
        .open(&NsRef::Current)
        .unwrap()
        .sysctl_get("net/ipv4/ip_forward")
        .unwrap();
    assert_eq!(own_before, own_after);

    let e = ha.sysctl_get("net/ipv4/no_such_key").unwrap_err();
    assert_eq!(e.kind, NetErrorKind::NotFound);
    assert!(
        e.msg.contains("net/ipv4/no_such_key") && e.msg.contains(&a.name),
        "{}",
        e.msg
    );
    assert_eq!(
        ha.sysctl_set("../../etc/x", "1").unwrap_err().kind,
        NetErrorKind::Invalid
    );
}

fn rule(id: &str, addrs: &[&str]) -> MasqRule {
    MasqRule {
        network: "testnet".into(),
        container_id: id.into(),
        addrs: addrs.iter().map(|a| a.parse().unwrap()).collect(),
    }
}

#[test]
fn masquerade_add_check_list_del() {
    if !privileged("masquerade_add_check_list_del") {
        return;
    }
    let host = TestNs::new("host");
    let h = LinuxBackend::new().open(&host.ns_ref()).unwrap();
    let one = rule("c1", &["10.1.0.5/24", "fd00:1::5/64"]);
    let two = rule("c2", &["10.1.0.6/24"]);

    assert_eq!(
        h.masquerade_check(&one).unwrap_err().kind,
        NetErrorKind::NotFound
    );
    assert!(h.masquerade_list().unwrap().is_empty());
    h.masquerade_add(&one).unwrap();
    h.masquerade_add(&one).unwrap(); // idempotent
    h.masquerade_add(&two).unwrap();
    h.masquerade_check(&one).unwrap();
    h.masquerade_check(&two).unwrap();
    assert_eq!(h.masquerade_list().unwrap(), vec![one.clone(), two.clone()]);

    let ruleset = host.exec(&["nft", "list", "table", "inet", "cni_rs_nat"]);
    assert_eq!(ruleset.matches("masquerade").count(), 3, "{ruleset}");
    assert!(
        ruleset.contains("ip saddr 10.1.0.5 ip daddr != 10.1.0.0/24"),
        "{ruleset}"
    );
    assert!(
        ruleset.contains("ip6 saddr fd00:1::5 ip6 daddr != fd00:1::/64"),
        "{ruleset}"
    );

    // Adding with other addresses replaces this container's rules only; a
    // prefix that is not byte-aligned reads back (and shows in nft) as written.
    let changed = rule("c1", &["10.1.0.7/22"]);
    h.masquerade_add(&changed).unwrap();
    assert_eq!(
        h.masquerade_list().unwrap(),
        vec![changed.clone(), two.clone()]
    );
    let e = h.masquerade_check(&one).unwrap_err();
    assert_eq!(e.kind, NetErrorKind::NotFound);
    assert!(
        e.msg.contains("10.1.0.5/24") && e.msg.contains("c1"),
        "{}",
        e.msg
    );

    h.masquerade_del("testnet", "c1").unwrap();
    h.masquerade_del("testnet", "c1").unwrap(); // absent is fine
    assert_eq!(h.masquerade_list().unwrap(), vec![two.clone()]);
    let own = common::run("nft", &["list", "tables"]);
    assert!(
        !own.contains("cni_rs_nat"),
        "rules leaked into the test runner's namespace: {own}"
    );
    h.masquerade_del("testnet", "c2").unwrap();
    assert!(h.masquerade_list().unwrap().is_empty());

    let bad = MasqRule {
        network: "bad net".into(),
        ..two
    };
    assert_eq!(
        h.masquerade_add(&bad).unwrap_err().kind,
        NetErrorKind::Invalid
    );
}
