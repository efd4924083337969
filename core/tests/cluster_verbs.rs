//! The cluster allocator's verbs on the in-memory store, one behaviour each.

mod cluster_support;

use cluster_support::{check_invariants, keys, set, SimPace};
use cni_core::error::code;
use cni_core::ipam::cluster::{Cluster, ClusterError, Keys, MemKv, Settings};
use cni_core::ipam::RangeSet;
use cni_core::spec::config::Attachment;
use std::net::IpAddr;

struct Host {
    kv: MemKv,
    keys: Keys,
    settings: Settings,
    pace: SimPace,
}

impl Host {
    fn new(kv: &MemKv, node: &str, pace: &SimPace) -> Host {
        Host {
            kv: kv.clone(),
            keys: keys(),
            settings: Settings::new(node),
            pace: pace.clone(),
        }
    }
    fn c(&mut self) -> Cluster<'_, MemKv, SimPace> {
        Cluster {
            kv: &mut self.kv,
            keys: &self.keys,
            settings: &self.settings,
            pace: &mut self.pace,
        }
    }
}

fn att(id: &str) -> Attachment {
    Attachment::new(id, "eth0")
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn dual() -> Vec<RangeSet> {
    vec![set("10.0.0.0/29"), set("fd00::/125")]
}

#[test]
fn add_is_idempotent_and_del_frees() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    let mut h = Host::new(&kv, "n1", &pace);
    let sets = dual();
    let first = h.c().add(&att("a"), &sets, &[]).unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].gateway, ip("10.0.0.1"));
    assert_eq!(first[0].address.prefix_len(), 29);
    let again = h.c().add(&att("a"), &sets, &[]).unwrap();
    assert_eq!(first, again);
    check_invariants(&kv, &h.keys, &sets);
    let freed = h.c().del(&att("a")).unwrap();
    assert_eq!(freed.len(), 2);
    assert!(kv.dump().is_empty(), "{:?}", kv.dump());
    // DEL of nothing succeeds.
    assert_eq!(h.c().del(&att("a")).unwrap(), Vec::<IpAddr>::new());
}

#[test]
fn exhaustion_is_all_or_nothing_and_names_the_set() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    let mut h = Host::new(&kv, "n1", &pace);
    // v4 has 5 usable addresses, v6 6: the sixth dual-stack ADD fails on v4
    // and must not keep its v6 address.
    let sets = dual();
    for i in 0..5 {
        h.c().add(&att(&format!("c{i}")), &sets, &[]).unwrap();
    }
    let before = kv.dump();
    let err = h.c().add(&att("c5"), &sets, &[]).unwrap_err();
    assert!(
        matches!(err, ClusterError::Exhausted { index: 0, .. }),
        "{err}"
    );
    assert_eq!(err.code(), code::GENERIC);
    assert!(
        err.to_string().contains("no IP addresses available"),
        "{err}"
    );
    assert_eq!(kv.dump(), before);
    let status = h.c().status(&sets).unwrap_err();
    assert_eq!(status.code(), code::NOT_AVAILABLE);
}

#[test]
fn requested_addresses_are_granted_or_refused_by_holder() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    let (mut a, mut b) = (Host::new(&kv, "n1", &pace), Host::new(&kv, "n2", &pace));
    let sets = vec![set("10.0.0.0/24")];
    let got = a.c().add(&att("a"), &sets, &[ip("10.0.0.77")]).unwrap();
    assert_eq!(got[0].address.addr(), ip("10.0.0.77"));
    let err = b.c().add(&att("b"), &sets, &[ip("10.0.0.77")]).unwrap_err();
    assert!(matches!(err, ClusterError::RequestedTaken { .. }), "{err}");
    let err = b
        .c()
        .add(&att("b"), &sets, &[ip("10.0.0.5"), ip("10.0.0.6")])
        .unwrap_err();
    assert_eq!(err.code(), code::INVALID_NETWORK_CONFIG, "{err}");
}

#[test]
fn quarantine_holds_a_freed_address_until_it_expires() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    pace.0.set(1_000_000);
    let mut h = Host::new(&kv, "n1", &pace);
    h.settings.quarantine_ms = 30_000;
    let sets = vec![set("10.0.0.0/30")]; // one usable address: .2
    h.c().add(&att("a"), &sets, &[]).unwrap();
    h.c().del(&att("a")).unwrap();
    let err = h.c().add(&att("b"), &sets, &[]).unwrap_err();
    assert!(matches!(err, ClusterError::Exhausted { .. }), "{err}");
    let err = h.c().add(&att("b"), &sets, &[ip("10.0.0.2")]).unwrap_err();
    assert!(
        matches!(err, ClusterError::RequestedQuarantined { .. }),
        "{err}"
    );
    pace.0.set(1_030_000);
    let got = h.c().add(&att("b"), &sets, &[]).unwrap();
    assert_eq!(got[0].address.addr(), ip("10.0.0.2"));
    // The expired quarantine entry was consumed by the claim.
    assert!(!kv.dump().contains_key(&h.keys.quarantine(ip("10.0.0.2"))));
}

#[test]
fn gc_frees_only_this_nodes_invalid_attachments() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    let (mut a, mut b) = (Host::new(&kv, "n1", &pace), Host::new(&kv, "n2", &pace));
    let sets = vec![set("10.0.0.0/24")];
    for id in ["a1", "a2", "a3"] {
        a.c().add(&att(id), &sets, &[]).unwrap();
    }
    b.c().add(&att("b1"), &sets, &[]).unwrap();
    let freed = a.c().gc(&[att("a2")]).unwrap();
    assert_eq!(freed, vec![att("a1"), att("a3")]);
    let left: Vec<String> = check_invariants(&kv, &a.keys, &sets).into_keys().collect();
    assert_eq!(
        left,
        [a.keys.attachment(&att("a2")), a.keys.attachment(&att("b1"))]
    );
}

#[test]
fn release_node_frees_exactly_that_node() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    let (mut a, mut b) = (Host::new(&kv, "n1", &pace), Host::new(&kv, "n2", &pace));
    let sets = vec![set("10.0.0.0/24")];
    a.c().add(&att("a1"), &sets, &[]).unwrap();
    b.c().add(&att("b1"), &sets, &[]).unwrap();
    b.c().add(&att("b2"), &sets, &[]).unwrap();
    assert_eq!(
        a.c().release_node("n2").unwrap(),
        vec![att("b1"), att("b2")]
    );
    let left: Vec<String> = check_invariants(&kv, &a.keys, &sets).into_keys().collect();
    assert_eq!(left, [a.keys.attachment(&att("a1"))]);
}

#[test]
fn check_finds_missing_and_foreign_addresses() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    let mut h = Host::new(&kv, "n1", &pace);
    let sets = vec![set("10.0.0.0/24")];
    assert!(matches!(
        h.c().check(&att("a"), &sets, None).unwrap_err(),
        ClusterError::NotHeld { .. }
    ));
    let got = h.c().add(&att("a"), &sets, &[]).unwrap();
    let mine = got[0].address.addr();
    h.c().check(&att("a"), &sets, Some(&[mine])).unwrap();
    let other = if mine == ip("10.0.0.9") {
        ip("10.0.0.8")
    } else {
        ip("10.0.0.9")
    };
    assert!(matches!(
        h.c().check(&att("a"), &sets, Some(&[other])).unwrap_err(),
        ClusterError::PrevNotHeld { .. }
    ));
}

#[test]
fn same_attachment_from_another_node_is_refused() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    let (mut a, mut b) = (Host::new(&kv, "n1", &pace), Host::new(&kv, "n2", &pace));
    let sets = vec![set("10.0.0.0/24")];
    a.c().add(&att("x"), &sets, &[]).unwrap();
    assert!(matches!(
        b.c().add(&att("x"), &sets, &[]).unwrap_err(),
        ClusterError::HeldByOtherNode { .. }
    ));
}

#[test]
fn unavailable_store_fails_closed_with_code_11() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    let mut h = Host::new(&kv, "n1", &pace);
    kv.set_down(true);
    let err = h
        .c()
        .add(&att("a"), &[set("10.0.0.0/24")], &[])
        .unwrap_err();
    assert_eq!(err.code(), code::TRY_AGAIN_LATER, "{err}");
    assert!(kv.dump().is_empty());
}

#[test]
fn a_lost_race_is_retried_with_another_address() {
    let kv = MemKv::new();
    let pace = SimPace::default();
    let mut a = Host::new(&kv, "n1", &pace);
    let mut b = Host::new(&kv, "n2", &pace);
    let sets = vec![set("10.0.0.0/29")];
    // Before a's claim lands, b takes every address but one.
    kv.interrupt_next_txn(move || {
        for i in 0..4 {
            b.c().add(&att(&format!("b{i}")), &sets_b(), &[]).unwrap();
        }
    });
    let got = a.c().add(&att("a"), &sets, &[]).unwrap();
    assert_eq!(got.len(), 1);
    check_invariants(&kv, &a.keys, &sets);
    assert_eq!(check_invariants(&kv, &a.keys, &sets).len(), 5);
}

fn sets_b() -> Vec<RangeSet> {
    vec![set("10.0.0.0/29")]
}
