//! Differential runs against the reference host-local (Debian's
//! containernetworking-plugins): the same sequence hands out the same
//! addresses and leaves the same files, and each can release what the other
//! allocated in one data directory.

mod host_local_util;
use host_local_util::*;
use std::collections::BTreeMap;
use std::path::Path;

const IPAM: &str = r#""ranges":[[{"subnet":"10.9.0.0/24","rangeStart":"10.9.0.10","rangeEnd":"10.9.0.20"}],[{"subnet":"fd09::/124"}]]"#;

/// The reference's files in a network directory (ours sit in a subdirectory).
fn files(net_dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(net_dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            let name = e.file_name().into_string().unwrap();
            let body = std::fs::read_to_string(e.path()).unwrap();
            (name, body)
        })
        .collect()
}

/// A fixed pseudo-random ADD/DEL sequence that exhausts both ranges and
/// wraps round-robin several times.
fn sequence() -> Vec<(&'static str, String, String)> {
    let mut x: u32 = 12345;
    let mut ops = Vec::new();
    for step in 0..120 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let id = format!("c{}", (x >> 16) % 17);
        let verb = if (x >> 8) % 5 < 3 { "ADD" } else { "DEL" };
        let args = if step % 23 == 0 {
            format!("IP=10.9.0.{}", 10 + step % 11)
        } else {
            String::new()
        };
        ops.push((verb, id, args));
    }
    ops
}

#[test]
fn same_sequence_same_addresses_same_files() {
    let Some(reference) = reference("same_sequence_same_addresses_same_files") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (ref_data, our_data) = (dir.path().join("ref"), dir.path().join("ours"));
    let (ref_conf, our_conf) = (
        conf("1.0.0", &ref_data, IPAM),
        conf("1.0.0", &our_data, IPAM),
    );
    let (mut granted, mut refused) = (0, 0);
    for (n, (verb, id, args)) in sequence().into_iter().enumerate() {
        let r = run(&reference, verb, &id, "eth0", &ref_conf, &args);
        let o = run(&ours(), verb, &id, "eth0", &our_conf, &args);
        assert_eq!(
            r.ok, o.ok,
            "step {n} {verb} {id} {args}: reference {} ours {}",
            r.stdout, o.stdout
        );
        if verb == "ADD" {
            if r.ok {
                granted += 1
            } else {
                refused += 1
            }
        }
        if verb == "ADD" && r.ok {
            assert_eq!(r.ips(), o.ips(), "step {n} {verb} {id}");
            assert_eq!(r.json()["ips"], {
                // Same gateways too; the reference omits nothing we add at 1.0.0.
                o.json()["ips"].clone()
            });
        }
        assert_eq!(
            files(&ref_data.join("testnet")),
            files(&our_data.join("testnet")),
            "files differ after step {n} {verb} {id}"
        );
    }
    // The sequence must have exercised both outcomes to prove anything.
    assert!(
        granted >= 20 && refused >= 5,
        "granted {granted}, refused {refused}"
    );
}

#[test]
fn each_releases_what_the_other_allocated() {
    let Some(reference) = reference("each_releases_what_the_other_allocated") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = conf("1.0.0", dir.path(), IPAM);
    let mut held = Vec::new();
    for i in 0..8 {
        let bin = if i % 2 == 0 {
            ours()
        } else {
            reference.clone()
        };
        let ips = add(&bin, &format!("c{i}"), &c).ips();
        held.extend(ips);
    }
    let mut sorted = held.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        held.len(),
        "an address was handed out twice: {held:?}"
    );
    // Each DELs what the other added.
    for i in 0..8 {
        let bin = if i % 2 == 0 {
            reference.clone()
        } else {
            ours()
        };
        assert!(del(&bin, &format!("c{i}"), &c).ok);
    }
    let leases: Vec<String> = files(&dir.path().join("testnet"))
        .into_keys()
        .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
        .collect();
    assert!(leases.is_empty(), "left behind: {leases:?}");
    // And the duplicate check sees the other's leases.
    add(&reference, "x", &c).ips();
    assert!(add(&ours(), "x", &c).msg().contains("duplicate allocation"));
    add(&ours(), "y", &c).ips();
    assert!(!add(&reference, "y", &c).ok);
}

#[test]
fn ours_and_the_reference_at_once_never_share_an_address() {
    let Some(reference) = reference("ours_and_the_reference_at_once_never_share_an_address") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = conf("1.0.0", dir.path(), r#""subnet":"10.10.0.0/24""#);
    let handles: Vec<_> = (0..40)
        .map(|i| {
            let c = c.clone();
            let bin = if i % 2 == 0 {
                ours()
            } else {
                reference.clone()
            };
            std::thread::spawn(move || add(&bin, &format!("c{i}"), &c).ips().remove(0))
        })
        .collect();
    let mut got: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 40);
    // Our index learns the reference's leases: every DEL through us frees them.
    for i in 0..40 {
        assert!(del(&ours(), &format!("c{i}"), &c).ok);
    }
    let left: Vec<String> = files(&dir.path().join("testnet"))
        .into_keys()
        .filter(|n| n.parse::<std::net::IpAddr>().is_ok())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
