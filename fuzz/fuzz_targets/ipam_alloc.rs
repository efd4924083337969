#![no_main]
//! The allocator over the in-memory store driven by arbitrary ADD/DEL/GC
//! sequences: no address twice, never a gateway, everything released.
use cni_core::ipam::config::validate_range_set;
use cni_core::ipam::{Attachment, MemStore, RangeSpec};
use cni_plugins::host_local::ops;
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;

fuzz_target!(|data: &[u8]| {
    let Some((&shape, ops_bytes)) = data.split_first() else {
        return;
    };
    let v4 = RangeSpec {
        subnet: Some(format!("10.3.0.0/{}", 24 + u32::from(shape % 7))),
        ..Default::default()
    };
    let v6 = RangeSpec {
        subnet: Some(format!("fd03::/{}", 120 + u32::from((shape >> 3) % 7))),
        ..Default::default()
    };
    let sets = vec![
        validate_range_set(&[v4], "ipam", true).unwrap(),
        validate_range_set(&[v6], "ipam.ranges[0]", false).unwrap(),
    ];
    let mut store = MemStore::new();
    let mut live = BTreeSet::new();
    for b in ops_bytes {
        let att = Attachment::new(format!("c{}", b & 0x3f), "eth0");
        match b >> 6 {
            0 | 1 => {
                if let Ok(allocs) = ops::allocate(&sets, &mut store, &att, &[]) {
                    for a in allocs {
                        let ip = a.address.addr();
                        assert!(live.insert(ip), "{ip} handed out twice");
                        assert!(sets
                            .iter()
                            .all(|s| s.ranges.iter().all(|r| r.gateway != ip)));
                    }
                }
            }
            2 => {
                ops::release(&mut store, &att).unwrap();
            }
            _ => {
                ops::gc(&mut store, &[att]).unwrap();
            }
        }
        live = store.all().keys().copied().collect();
    }
});
