//! Random operation sequences keep the kernel's invariants.

use cni_backend_sim::SimKernel;
use cni_core::net::{
    AddressSpec, BridgeSpec, LinkKind, MacvlanMode, MacvlanSpec, NetBackend, NsRef, RouteSpec,
    VethSpec,
};
use proptest::prelude::*;

const NAMES: &[&str] = &["a", "b", "c", "eth0", "br0"];
const NETNS: &[&str] = &["/var/run/netns/p1", "/var/run/netns/p2"];

#[derive(Debug, Clone)]
enum Op {
    Bridge(usize, usize),
    Veth(usize, usize, usize, usize),
    Macvlan(usize, usize, usize, usize),
    Delete(usize, usize),
    Up(usize, usize, bool),
    Master(usize, usize, usize),
    AddAddr(usize, usize, u8),
    DelAddr(usize, usize, u8),
    Route(usize, u8),
    Move(usize, usize, usize),
    Rename(usize, usize, usize),
    RecreateNetns(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let ns = 0..3usize;
    let name = 0..NAMES.len();
    prop_oneof![
        (ns.clone(), name.clone()).prop_map(|(n, a)| Op::Bridge(n, a)),
        (ns.clone(), name.clone(), ns.clone(), name.clone())
            .prop_map(|(n, a, m, b)| Op::Veth(n, a, m, b)),
        (ns.clone(), name.clone(), ns.clone(), name.clone())
            .prop_map(|(n, a, m, b)| Op::Macvlan(n, a, m, b)),
        (ns.clone(), name.clone()).prop_map(|(n, a)| Op::Delete(n, a)),
        (ns.clone(), name.clone(), any::<bool>()).prop_map(|(n, a, u)| Op::Up(n, a, u)),
        (ns.clone(), name.clone(), name.clone()).prop_map(|(n, a, b)| Op::Master(n, a, b)),
        (ns.clone(), name.clone(), 0..4u8).prop_map(|(n, a, x)| Op::AddAddr(n, a, x)),
        (ns.clone(), name.clone(), 0..4u8).prop_map(|(n, a, x)| Op::DelAddr(n, a, x)),
        (ns.clone(), 0..4u8).prop_map(|(n, x)| Op::Route(n, x)),
        (ns.clone(), name.clone(), ns.clone()).prop_map(|(n, a, m)| Op::Move(n, a, m)),
        (ns.clone(), name.clone(), name.clone()).prop_map(|(n, a, b)| Op::Rename(n, a, b)),
        (1..3usize).prop_map(Op::RecreateNetns),
    ]
}

fn ns_ref(i: usize) -> NsRef {
    match i {
        0 => NsRef::Current,
        n => NsRef::path(NETNS[n - 1]),
    }
}

/// Applies one operation; kernel errors are expected and ignored.
fn apply(kernel: &SimKernel, op: &Op) {
    let open = |i: usize| kernel.open(&ns_ref(i)).ok();
    let index = |i: usize, name: usize| {
        open(i).and_then(|h| h.link_by_name(NAMES[name]).ok().map(|l| l.index))
    };
    let addr = |x: u8| format!("10.0.{x}.1/24").parse().unwrap();
    let Some(h) = open(match op {
        Op::Bridge(n, ..)
        | Op::Veth(n, ..)
        | Op::Macvlan(n, ..)
        | Op::Delete(n, ..)
        | Op::Up(n, ..)
        | Op::Master(n, ..)
        | Op::AddAddr(n, ..)
        | Op::DelAddr(n, ..)
        | Op::Route(n, ..)
        | Op::Move(n, ..)
        | Op::Rename(n, ..) => *n,
        Op::RecreateNetns(n) => {
            let _ = kernel.del_netns(NETNS[n - 1]);
            let _ = kernel.add_netns(NETNS[n - 1]);
            return;
        }
    }) else {
        return;
    };
    let _ = match op {
        Op::Bridge(_, a) => h
            .create_bridge(&BridgeSpec {
                name: NAMES[*a].into(),
                ..BridgeSpec::default()
            })
            .map(drop),
        Op::Veth(_, a, m, b) => {
            let spec = VethSpec {
                name: NAMES[*a].into(),
                peer_name: NAMES[*b].into(),
                ..VethSpec::default()
            };
            h.create_veth(&spec, &ns_ref(*m)).map(drop)
        }
        Op::Macvlan(n, a, m, b) => match index(*n, *a) {
            Some(parent) => {
                let spec = MacvlanSpec {
                    name: NAMES[*b].into(),
                    parent,
                    mode: MacvlanMode::Bridge,
                    mtu: None,
                    mac: None,
                    txqueuelen: None,
                    bc_queue_len: None,
                };
                h.create_macvlan(&spec, &ns_ref(*m)).map(drop)
            }
            None => Ok(()),
        },
        Op::Delete(n, a) => index(*n, *a).map_or(Ok(()), |i| h.delete_link(i)),
        Op::Up(n, a, up) => index(*n, *a).map_or(Ok(()), |i| h.set_up(i, *up)),
        Op::Master(n, a, b) => match (index(*n, *a), index(*n, *b)) {
            (Some(i), Some(m)) => h.set_master(i, Some(m)),
            _ => Ok(()),
        },
        Op::AddAddr(n, a, x) => {
            index(*n, *a).map_or(Ok(()), |i| h.add_address(i, &AddressSpec::new(addr(*x))))
        }
        Op::DelAddr(n, a, x) => index(*n, *a).map_or(Ok(()), |i| h.del_address(i, addr(*x))),
        Op::Route(_, x) => h.add_route(
            &RouteSpec::new("192.168.0.0/16".parse().unwrap())
                .via(format!("10.0.{x}.9").parse().unwrap()),
        ),
        Op::Move(n, a, m) => index(*n, *a).map_or(Ok(()), |i| h.move_to(i, &ns_ref(*m)).map(drop)),
        Op::Rename(n, a, b) => index(*n, *a).map_or(Ok(()), |i| h.rename(i, NAMES[*b])),
        Op::RecreateNetns(_) => Ok(()),
    };
}

fn check_invariants(kernel: &SimKernel) {
    let spaces: Vec<NsRef> = std::iter::once(NsRef::Current)
        .chain(kernel.netns_paths().into_iter().map(NsRef::Path))
        .collect();
    let handles: Vec<_> = spaces.iter().map(|r| kernel.open(r).unwrap()).collect();
    let all: Vec<Vec<_>> = handles.iter().map(|h| h.links().unwrap()).collect();
    for (n, links) in all.iter().enumerate() {
        let mut names: Vec<&str> = links.iter().map(|l| l.name.as_str()).collect();
        names.sort();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate names in {}", spaces[n]);
        for l in links {
            if l.kind == LinkKind::Veth {
                let p = l.peer_index.expect("veth without a peer");
                let back = all.iter().flatten().any(|o| {
                    o.index == p && o.kind == LinkKind::Veth && o.peer_index == Some(l.index)
                });
                assert!(back, "veth {} has no peer pointing back", l.name);
            }
            if let Some(m) = l.master {
                let master = links.iter().find(|o| o.index == m);
                assert!(master.is_some_and(|o| o.kind == LinkKind::Bridge), "{l:?}");
            }
        }
        let indexes: Vec<u32> = links.iter().map(|l| l.index).collect();
        for a in handles[n].addresses(None).unwrap() {
            assert!(
                indexes.contains(&a.index),
                "address on a missing link: {a:?}"
            );
        }
        for r in handles[n].routes().unwrap() {
            let oif = r.oif.expect("route without a link");
            let link = links.iter().find(|l| l.index == oif);
            assert!(
                link.is_some_and(|l| l.up),
                "route through a missing or down link: {r:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn random_operations_keep_invariants(ops in prop::collection::vec(op(), 1..40)) {
        let kernel = SimKernel::new();
        for path in NETNS {
            kernel.add_netns(path).unwrap();
        }
        for op in &ops {
            apply(&kernel, op);
            check_invariants(&kernel);
        }
    }
}
