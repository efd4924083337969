//! The allocator against the reference's behaviour: defaults, round-robin
//! order, gateways skipped, requested addresses, exhaustion, rollback.

use cni_core::error::code;
use cni_core::ipam::config::validate_range_set;
use cni_core::ipam::{Attachment, LeaseOwner, MemStore, RangeSet, RangeSpec, Store};
use cni_plugins::host_local::ops;
use std::net::IpAddr;

fn spec(subnet: &str) -> RangeSpec {
    RangeSpec {
        subnet: Some(subnet.into()),
        ..Default::default()
    }
}

fn one(s: RangeSpec) -> RangeSet {
    validate_range_set(&[s], "ipam", true).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn add(sets: &[RangeSet], store: &mut MemStore, id: &str) -> Result<Vec<String>, ops::OpError> {
    ops::allocate(sets, store, &Attachment::new(id, "eth0"), &[])
        .map(|v| v.iter().map(|a| a.address.to_string()).collect())
}

#[test]
fn defaults_skip_network_gateway_and_broadcast() {
    let sets = vec![one(spec("10.1.0.0/29"))];
    let r = &sets[0].ranges[0];
    assert_eq!(r.gateway, ip("10.1.0.1"));
    assert_eq!((r.start, r.end), (ip("10.1.0.1"), ip("10.1.0.6")));
    let mut store = MemStore::new();
    let got: Vec<String> = (0..5)
        .map(|i| add(&sets, &mut store, &format!("c{i}")).unwrap().remove(0))
        .collect();
    assert_eq!(
        got,
        [
            "10.1.0.2/29",
            "10.1.0.3/29",
            "10.1.0.4/29",
            "10.1.0.5/29",
            "10.1.0.6/29"
        ]
    );
    let e = add(&sets, &mut store, "c9").unwrap_err();
    assert_eq!(e.code(), code::GENERIC);
    assert_eq!(
        e.to_string(),
        "failed to allocate for range 0: no IP addresses available in range set: 10.1.0.1-10.1.0.6"
    );
}

#[test]
fn round_robin_continues_after_the_last_reserved_address() {
    let sets = vec![one(spec("10.1.0.0/29"))];
    let mut store = MemStore::new();
    add(&sets, &mut store, "a").unwrap();
    add(&sets, &mut store, "b").unwrap();
    ops::release(&mut store, &Attachment::new("a", "eth0")).unwrap();
    // .2 is free again, but the next address comes after .3.
    assert_eq!(add(&sets, &mut store, "c").unwrap(), ["10.1.0.4/29"]);
    add(&sets, &mut store, "d").unwrap();
    add(&sets, &mut store, "e").unwrap();
    // Wraps to the start, skipping the gateway.
    assert_eq!(add(&sets, &mut store, "f").unwrap(), ["10.1.0.2/29"]);
}

#[test]
fn ipv6_defaults_and_dual_stack() {
    let sets = vec![one(spec("fd00::/120")), one(spec("10.2.0.0/24"))];
    let r = &sets[0].ranges[0];
    assert_eq!((r.gateway, r.end), (ip("fd00::1"), ip("fd00::ff")));
    let mut store = MemStore::new();
    assert_eq!(
        add(&sets, &mut store, "a").unwrap(),
        ["fd00::2/120", "10.2.0.2/24"]
    );
}

#[test]
fn duplicate_add_is_refused_as_the_reference_does() {
    let sets = vec![one(spec("10.1.0.0/24"))];
    let mut store = MemStore::new();
    add(&sets, &mut store, "a").unwrap();
    let e = add(&sets, &mut store, "a").unwrap_err();
    assert!(
        e.to_string()
            .contains("10.1.0.2 has been allocated to a, duplicate allocation is not allowed"),
        "{e}"
    );
}

#[test]
fn requested_addresses_are_honoured_or_refused_clearly() {
    let sets = vec![one(spec("10.1.0.0/24")), one(spec("fd00::/120"))];
    let mut store = MemStore::new();
    let a = Attachment::new("a", "eth0");
    let got = ops::allocate(&sets, &mut store, &a, &[ip("fd00::9"), ip("10.1.0.50")]).unwrap();
    assert_eq!(got[0].address.to_string(), "10.1.0.50/24");
    assert_eq!(got[1].address.to_string(), "fd00::9/120");

    let b = Attachment::new("b", "eth0");
    let taken = ops::allocate(&sets, &mut store, &b, &[ip("10.1.0.50")]).unwrap_err();
    assert!(
        taken
            .to_string()
            .contains("requested IP address 10.1.0.50 is not available"),
        "{taken}"
    );
    let outside = ops::allocate(&sets, &mut store, &b, &[ip("10.9.9.9")]).unwrap_err();
    assert_eq!(outside.code(), code::INVALID_NETWORK_CONFIG);
    assert!(outside.to_string().contains("10.9.9.9"), "{outside}");
    let gw = ops::allocate(&sets, &mut store, &b, &[ip("10.1.0.1")]).unwrap_err();
    assert!(gw.to_string().contains("gateway"), "{gw}");
    // Every failed ADD above left nothing behind for b.
    assert!(store.ips_of(&b).unwrap().is_empty());
}

#[test]
fn failure_in_a_later_range_set_undoes_the_earlier_ones() {
    let sets = vec![one(spec("10.1.0.0/24")), one(spec("10.2.0.0/30"))];
    let mut store = MemStore::new();
    add(&sets, &mut store, "a").unwrap();
    assert!(add(&sets, &mut store, "b").is_err());
    assert!(store
        .ips_of(&Attachment::new("b", "eth0"))
        .unwrap()
        .is_empty());
    assert_eq!(store.all().len(), 2);
}

#[test]
fn legacy_id_only_leases_are_released_when_no_exact_lease_exists() {
    let sets = vec![one(spec("10.1.0.0/24"))];
    let mut store = MemStore::new();
    store.insert(
        ip("10.1.0.7"),
        LeaseOwner {
            container_id: "old".into(),
            ifname: None,
        },
    );
    let att = Attachment::new("old", "eth0");
    assert_eq!(store.ips_of(&att).unwrap(), [ip("10.1.0.7")]);
    ops::check(&sets, &mut store, &att, None).unwrap();
    ops::release(&mut store, &att).unwrap();
    assert!(store.all().is_empty());
}

#[test]
fn check_compares_with_prev_result() {
    let sets = vec![one(spec("10.1.0.0/24"))];
    let mut store = MemStore::new();
    let a = Attachment::new("a", "eth0");
    let got = ops::allocate(&sets, &mut store, &a, &[]).unwrap();
    let mine = got[0].address.addr();
    ops::check(&sets, &mut store, &a, Some(&[mine])).unwrap();
    let e = ops::check(&sets, &mut store, &a, Some(&[ip("10.1.0.77")])).unwrap_err();
    assert!(e.to_string().contains("10.1.0.77"), "{e}");
    // Addresses outside our ranges belong to other plugins: not ours to check.
    ops::check(&sets, &mut store, &a, Some(&[mine, ip("192.0.2.1")])).unwrap();
    let other = Attachment::new("b", "eth0");
    assert!(ops::check(&sets, &mut store, &other, None).is_err());
}

#[test]
fn status_is_unavailable_when_a_range_set_is_full() {
    let sets = vec![one(spec("10.1.0.0/24")), one(spec("10.2.0.0/30"))];
    let mut store = MemStore::new();
    ops::status(&sets, &mut store).unwrap();
    add(&sets, &mut store, "a").unwrap();
    let e = ops::status(&sets, &mut store).unwrap_err();
    assert_eq!(e.code(), code::NOT_AVAILABLE);
    assert!(e.to_string().contains("range set 1"), "{e}");
}
