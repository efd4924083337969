//! Many plugin processes allocating from one data directory at once get
//! distinct addresses: the lock file serializes them.

mod host_local_util;
use host_local_util::*;
use std::collections::BTreeSet;

#[test]
fn fifty_concurrent_adds_get_fifty_distinct_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let c = conf(
        "1.0.0",
        dir.path(),
        r#""ranges":[[{"subnet":"10.8.0.0/24"}],[{"subnet":"fd08::/120"}]]"#,
    );
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || add(&ours(), &format!("c{i}"), &c).ips())
        })
        .collect();
    let all: Vec<Vec<String>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let v4: BTreeSet<&String> = all.iter().map(|ips| &ips[0]).collect();
    let v6: BTreeSet<&String> = all.iter().map(|ips| &ips[1]).collect();
    assert_eq!(v4.len(), 50);
    assert_eq!(v6.len(), 50);
    let leases = std::fs::read_dir(dir.path().join("testnet"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .parse::<std::net::IpAddr>()
                .is_ok()
        })
        .count();
    assert_eq!(leases, 100);
    // And all of them release concurrently too.
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || del(&ours(), &format!("c{i}"), &c).ok)
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap()));
    let left = std::fs::read_dir(dir.path().join("testnet"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .parse::<std::net::IpAddr>()
                .is_ok()
        })
        .count();
    assert_eq!(left, 0);
}
