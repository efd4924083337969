//! Random ADD/DEL/GC sequences on the in-memory store: no address is handed
//! out twice, none is a network, broadcast or gateway address, and DEL and GC
//! release exactly what they should.

use cni_core::ipam::config::validate_range_set;
use cni_core::ipam::{Attachment, MemStore, RangeSet, RangeSpec};
use cni_plugins::host_local::ops;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

fn set(subnet: &str, start: Option<&str>, end: Option<&str>) -> RangeSet {
    let spec = RangeSpec {
        subnet: Some(subnet.into()),
        range_start: start.map(Into::into),
        range_end: end.map(Into::into),
        gateway: None,
    };
    validate_range_set(&[spec], "ipam", true).unwrap()
}

fn config() -> Vec<RangeSet> {
    // Small ranges so that sequences exhaust them; two range sets, dual stack.
    vec![
        set("10.7.0.0/28", None, None),
        set("fd07::/124", Some("fd07::3"), Some("fd07::c")),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Add(u8),
    Del(u8),
    Gc(Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..20).prop_map(Op::Add),
        4 => (0u8..20).prop_map(Op::Del),
        1 => proptest::collection::vec(0u8..20, 0..10).prop_map(Op::Gc),
    ]
}

fn att(n: u8) -> Attachment {
    Attachment::new(format!("c{n}"), "eth0")
}

fn forbidden(sets: &[RangeSet], ip: IpAddr) -> bool {
    let Some(r) = sets.iter().flat_map(|s| &s.ranges).find(|r| r.contains(ip)) else {
        return true;
    };
    ip == r.gateway || ip == r.subnet.network() || (ip.is_ipv4() && ip == r.subnet.broadcast())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn add_del_gc_never_double_allocate(ops_seq in proptest::collection::vec(op(), 1..80)) {
        let sets = config();
        let mut store = MemStore::new();
        // Our model of who holds what.
        let mut held: BTreeMap<u8, Vec<IpAddr>> = BTreeMap::new();
        for op in ops_seq {
            match op {
                Op::Add(n) => match ops::allocate(&sets, &mut store, &att(n), &[]) {
                    Ok(allocs) => {
                        prop_assert!(!held.contains_key(&n), "second ADD for c{} succeeded", n);
                        let ips: Vec<IpAddr> = allocs.iter().map(|a| a.address.addr()).collect();
                        prop_assert_eq!(ips.len(), 2);
                        for ip in &ips {
                            prop_assert!(!forbidden(&sets, *ip), "handed out {}", ip);
                            prop_assert!(
                                held.values().flatten().all(|h| h != ip),
                                "{} handed out twice", ip
                            );
                        }
                        held.insert(n, ips);
                    }
                    Err(e) => {
                        // Only a duplicate or a full range set may refuse.
                        let full = held.len() >= 10;
                        prop_assert!(held.contains_key(&n) || full, "unexpected: {}", e);
                    }
                },
                Op::Del(n) => {
                    ops::release(&mut store, &att(n)).unwrap();
                    held.remove(&n);
                    let id = format!("c{n}");
                    prop_assert!(store.all().values().all(|o| o.container_id != id));
                }
                Op::Gc(valid) => {
                    let valid_atts: Vec<Attachment> = valid.iter().map(|n| att(*n)).collect();
                    ops::gc(&mut store, &valid_atts).unwrap();
                    held.retain(|n, _| valid.contains(n));
                }
            }
            // The store holds exactly the model's leases, and no rollback leaked.
            let in_store: BTreeSet<IpAddr> = store.all().keys().copied().collect();
            let in_model: BTreeSet<IpAddr> = held.values().flatten().copied().collect();
            prop_assert_eq!(in_store, in_model);
        }
        for n in held.keys().copied().collect::<Vec<_>>() {
            ops::release(&mut store, &att(n)).unwrap();
        }
        prop_assert!(store.all().is_empty());
    }
}
