//! The disk store, index included, behaves exactly like the in-memory store
//! under random ADD/DEL/GC sequences interleaved with lease files written and
//! removed behind its back (as the reference does).

use cni_core::ipam::config::validate_range_set;
use cni_core::ipam::{Attachment, LeaseOwner, MemStore, RangeSet, RangeSpec, Store};
use cni_plugins::host_local::ops;
use cni_plugins::host_local::DiskStore;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

fn sets() -> Vec<RangeSet> {
    let s = |subnet: &str| RangeSpec {
        subnet: Some(subnet.into()),
        ..Default::default()
    };
    vec![
        validate_range_set(&[s("10.4.0.0/28")], "ipam", true).unwrap(),
        validate_range_set(&[s("fd04::/124")], "ipam.ranges[0]", false).unwrap(),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    Add(u8),
    Del(u8),
    Gc(Vec<u8>),
    /// Another implementation writes a lease for container n at host offset.
    ForeignAdd(u8, u8),
    /// Another implementation releases container n.
    ForeignDel(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..12).prop_map(Op::Add),
        3 => (0u8..12).prop_map(Op::Del),
        1 => proptest::collection::vec(0u8..12, 0..6).prop_map(Op::Gc),
        2 => (12u8..16, 2u8..14).prop_map(|(n, h)| Op::ForeignAdd(n, h)),
        1 => (0u8..16).prop_map(Op::ForeignDel),
    ]
}

fn att(n: u8) -> Attachment {
    Attachment::new(format!("c{n}"), "eth0")
}

fn disk_leases(dir: &Path) -> BTreeMap<IpAddr, LeaseOwner> {
    let mut s = DiskStore::open(dir, "net").unwrap();
    let all = s.leases().unwrap().into_iter().collect();
    s.finish().unwrap();
    all
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn disk_store_matches_memory_store(seq in proptest::collection::vec(op(), 1..40)) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let net = dir.join("net");
        let sets = sets();
        let mut mem = MemStore::new();
        for op in seq {
            match op {
                Op::Add(n) => {
                    let mut disk = DiskStore::open(dir, "net").unwrap();
                    let d = ops::allocate(&sets, &mut disk, &att(n), &[]).map_err(|e| e.to_string());
                    disk.finish().unwrap();
                    let m = ops::allocate(&sets, &mut mem, &att(n), &[]).map_err(|e| e.to_string());
                    prop_assert_eq!(d, m);
                }
                Op::Del(n) => {
                    let mut disk = DiskStore::open(dir, "net").unwrap();
                    ops::release(&mut disk, &att(n)).unwrap();
                    disk.finish().unwrap();
                    ops::release(&mut mem, &att(n)).unwrap();
                }
                Op::Gc(valid) => {
                    let valid: Vec<Attachment> = valid.into_iter().map(att).collect();
                    let mut disk = DiskStore::open(dir, "net").unwrap();
                    ops::gc(&mut disk, &valid).unwrap();
                    disk.finish().unwrap();
                    ops::gc(&mut mem, &valid).unwrap();
                }
                Op::ForeignAdd(n, host) => {
                    let ip: IpAddr = format!("10.4.0.{host}").parse().unwrap();
                    if mem.insert(ip, LeaseOwner::of(&att(n))) {
                        std::fs::create_dir_all(&net).unwrap();
                        std::fs::write(net.join(ip.to_string()), format!("c{n}\r\neth0")).unwrap();
                    }
                }
                Op::ForeignDel(n) => {
                    for ip in mem.release(&att(n)).unwrap() {
                        std::fs::remove_file(net.join(ip.to_string())).unwrap();
                    }
                }
            }
            prop_assert_eq!(&disk_leases(dir), mem.all());
            // The index agrees with the lease files for every attachment.
            let mut disk = DiskStore::open(dir, "net").unwrap();
            for n in 0..16 {
                let mut d = disk.ips_of(&att(n)).unwrap();
                let mut m = mem.ips_of(&att(n)).unwrap();
                d.sort();
                m.sort();
                prop_assert_eq!(d, m, "ips_of c{}", n);
            }
            disk.finish().unwrap();
        }
    }
}
