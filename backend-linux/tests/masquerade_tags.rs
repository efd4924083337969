//! Masquerade on the real kernel, each test in a namespace of its own: ADDs
//! racing to create the table and chain, names of any length through every
//! verb, and rules of the previous comment format after an upgrade.

mod common;

use cni_backend_linux::LinuxBackend;
use cni_core::net::{MasqRule, NetBackend, NetErrorKind};
use common::{privileged, TestNs};
use std::sync::Barrier;

fn rule(network: &str, id: &str, addr: &str) -> MasqRule {
    MasqRule {
        network: network.into(),
        container_id: id.into(),
        addrs: vec![addr.parse().unwrap()],
    }
}

fn ruleset(host: &TestNs) -> String {
    host.exec(&["nft", "list", "table", "inet", "cni_rs_nat"])
}

#[test]
fn concurrent_first_adds_all_succeed_and_create_one_table_and_chain() {
    if !privileged("concurrent_first_adds_all_succeed_and_create_one_table_and_chain") {
        return;
    }
    const ADDS: usize = 12;
    let host = TestNs::new("host");
    let start = Barrier::new(ADDS);
    std::thread::scope(|s| {
        for i in 0..ADDS {
            let (host, start) = (&host, &start);
            s.spawn(move || {
                // A backend each: one socket per ADD, as separate plugin processes have.
                let h = LinuxBackend::new().open(&host.ns_ref()).unwrap();
                start.wait();
                h.masquerade_add(&rule(
                    "racenet",
                    &format!("c{i}"),
                    &format!("10.9.0.{}/24", i + 2),
                ))
                .unwrap();
            });
        }
    });
    let h = LinuxBackend::new().open(&host.ns_ref()).unwrap();
    assert_eq!(h.masquerade_list().unwrap().len(), ADDS);
    let text = ruleset(&host);
    assert_eq!(text.matches("chain postrouting").count(), 1, "{text}");
    assert_eq!(text.matches("masquerade").count(), ADDS, "{text}");
}

#[test]
fn long_names_round_trip_through_add_check_del_and_gc() {
    if !privileged("long_names_round_trip_through_add_check_del_and_gc") {
        return;
    }
    let host = TestNs::new("host");
    let h = LinuxBackend::new().open(&host.ns_ref()).unwrap();
    let network = "n".repeat(56);
    let ids: Vec<String> = (0..3).map(|i| format!("{i:x}").repeat(64)).collect();
    let rules: Vec<MasqRule> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| rule(&network, id, &format!("10.8.0.{}/24", i + 2)))
        .collect();
    for r in &rules {
        h.masquerade_add(r).unwrap();
        h.masquerade_add(r).unwrap(); // idempotent
        h.masquerade_check(r).unwrap();
    }
    let listed = h.masquerade_list().unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert!(
        listed.iter().all(|r| r.network.ends_with('~')),
        "{listed:?}"
    );

    h.masquerade_del(&network, &ids[0]).unwrap();
    h.masquerade_del(&network, &ids[0]).unwrap(); // already gone
    assert_eq!(
        h.masquerade_check(&rules[0]).unwrap_err().kind,
        NetErrorKind::NotFound
    );
    h.masquerade_check(&rules[1]).unwrap();

    // Another network's rule with the same long container ID stays through GC.
    let other = rule(&"m".repeat(56), &ids[2], "10.7.0.2/24");
    h.masquerade_add(&other).unwrap();
    h.masquerade_gc(&network, std::slice::from_ref(&ids[1]))
        .unwrap();
    h.masquerade_check(&rules[1]).unwrap();
    assert_eq!(
        h.masquerade_check(&rules[2]).unwrap_err().kind,
        NetErrorKind::NotFound
    );
    h.masquerade_check(&other).unwrap();
    assert_eq!(h.masquerade_list().unwrap().len(), 2);
}

#[test]
fn previous_format_rules_are_found_by_check_and_removed_by_del_and_gc() {
    if !privileged("previous_format_rules_are_found_by_check_and_removed_by_del_and_gc") {
        return;
    }
    let host = TestNs::new("host");
    let h = LinuxBackend::new().open(&host.ns_ref()).unwrap();
    h.masquerade_add(&rule("testnet", "current", "10.6.0.9/24"))
        .unwrap();
    // What the previous build wrote, added as nft would.
    for (id, addr) in [("old1", "10.6.0.2"), ("old2", "10.6.0.3")] {
        let comment = format!("\"net=testnet id={id}\"");
        host.exec(&[
            "nft",
            "add",
            "rule",
            "inet",
            "cni_rs_nat",
            "postrouting",
            "ip",
            "saddr",
            addr,
            "ip",
            "daddr",
            "!=",
            "10.6.0.0/24",
            "ip",
            "daddr",
            "!=",
            "224.0.0.0/4",
            "masquerade",
            "comment",
            &comment,
        ]);
    }
    h.masquerade_check(&rule("testnet", "old1", "10.6.0.2/24"))
        .unwrap();
    h.masquerade_del("testnet", "old1").unwrap();
    h.masquerade_gc("testnet", &["current".to_string()])
        .unwrap();
    let text = ruleset(&host);
    assert!(!text.contains("id=old"), "{text}");
    assert_eq!(h.masquerade_list().unwrap().len(), 1, "{text}");
}

#[test]
fn del_of_names_add_would_refuse_succeeds_without_touching_rules() {
    if !privileged("del_of_names_add_would_refuse_succeeds_without_touching_rules") {
        return;
    }
    let host = TestNs::new("host");
    let h = LinuxBackend::new().open(&host.ns_ref()).unwrap();
    let kept = rule("testnet", "c1", "10.5.0.2/24");
    h.masquerade_add(&kept).unwrap();
    assert_eq!(
        h.masquerade_add(&rule("bad net", "c2", "10.5.0.3/24"))
            .unwrap_err()
            .kind,
        NetErrorKind::Invalid
    );
    h.masquerade_del("bad net", "c2").unwrap();
    h.masquerade_check(&kept).unwrap();
}
