//! What the host-local fuzz targets run, shared with the corpus replay test
//! (`host_local_fuzz_corpus.rs`) so that CI runs every corpus file on stable.
//! Each function panics when a property fails.
#![allow(dead_code)]

use cni_core::ipam::config::validate_range_set;
use cni_core::ipam::{Attachment, LeaseOwner, RangeSet, RangeSpec, Store};
use cni_plugins::host_local::dns::parse_resolv_conf_bytes;
use cni_plugins::host_local::index::{entry_text, parse_entry, scan_leases, INDEX_DIR};
use cni_plugins::host_local::lease::{lease_content, parse_last_reserved, parse_owner};
use cni_plugins::host_local::ops;
use cni_plugins::host_local::DiskStore;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What a fuzz target runs on one input.
pub type Property = fn(&[u8]);

/// The fuzz targets, by corpus directory name.
pub const TARGETS: &[(&str, Property)] = &[
    ("host_local_lease", lease_formats),
    ("host_local_index_entry", index_entry),
    ("host_local_resolv_conf", resolv_conf),
    ("host_local_disk_ops", disk_ops),
];

/// A lease file's bytes and a `last_reserved_ip` file's bytes: parsing never
/// fails, and what we would write for a parsed holder reads back the same.
pub fn lease_formats(data: &[u8]) {
    let owner = parse_owner(data);
    if let Some(ifname) = &owner.ifname {
        if owner.container_id == owner.container_id.trim() {
            let att = Attachment::new(owner.container_id.clone(), ifname.clone());
            assert_eq!(parse_owner(lease_content(&att).as_bytes()), owner);
        }
    }
    if let Some(ip) = parse_last_reserved(data) {
        assert_eq!(parse_last_reserved(ip.to_string().as_bytes()), Some(ip));
    }
}

/// An index entry's bytes: whatever parses is written back identically.
pub fn index_entry(data: &[u8]) {
    if let Ok((owner, ips)) = parse_entry(data) {
        let text = entry_text(&owner, &ips);
        assert_eq!(parse_entry(text.as_bytes()), Ok((owner, ips)));
    }
}

/// resolv.conf bytes: never fails, and every value is one whitespace-free word.
pub fn resolv_conf(data: &[u8]) {
    let dns = parse_resolv_conf_bytes(data);
    let words = dns
        .nameservers
        .iter()
        .chain(&dns.search)
        .chain(&dns.options);
    for w in words.chain(std::iter::once(&dns.domain)) {
        assert!(!w.contains(char::is_whitespace), "{w:?}");
    }
}

fn sets() -> Vec<RangeSet> {
    let s = |subnet: &str| RangeSpec {
        subnet: Some(subnet.into()),
        ..Default::default()
    };
    vec![validate_range_set(&[s("10.7.0.0/29")], "ipam", true).unwrap()]
}

/// A directory removed on drop (the fuzz build has no tempfile).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("cni-rs-fuzz-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Damages our own files the way a crash or a stranger might.
fn tamper(net: &Path, kind: u8, n: u8) {
    let index = net.join(INDEX_DIR);
    let _ = match kind % 4 {
        0 => std::fs::remove_file(index.join("seal")),
        1 => std::fs::write(
            index.join(format!("c{n}~eth0")),
            b"c9\neth0\nnot an address\n",
        ),
        2 => std::fs::write(index.join(format!("c{n}~eth0")), b""),
        // Another implementation reserving, as the reference does: O_EXCL.
        _ => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(net.join(format!("10.7.0.{}", n % 8)))
            .and_then(|mut f| f.write_all(format!("c{n}\r\neth0").as_bytes())),
    };
}

/// Random ADD/DEL/GC with tampering in between: the store never loses track
/// of a lease (DEL frees it), and after DEL of everyone nothing is held.
pub fn disk_ops(data: &[u8]) {
    let scratch = Scratch::new();
    let (dir, net) = (&scratch.0, scratch.0.join("net"));
    let sets = sets();
    let att = |b: u8| Attachment::new(format!("c{}", b % 6), "eth0");
    for pair in data.chunks(2).take(64) {
        let (op, arg) = (pair[0], pair.get(1).copied().unwrap_or(0));
        if op % 5 == 4 {
            // Between our runs: another implementation takes the network's
            // lock file as we do, so it never writes while a store is open.
            tamper(&net, arg, op / 5);
            continue;
        }
        let mut store = DiskStore::open(dir, "net").unwrap();
        match op % 5 {
            0 | 1 => drop(ops::allocate(&sets, &mut store, &att(arg), &[])),
            2 => ops::release(&mut store, &att(arg)).unwrap(),
            _ => drop(ops::gc(&mut store, &[att(arg), att(arg + 1)]).unwrap()),
        }
        store.finish().unwrap();
    }
    let mut store = DiskStore::open(dir, "net").unwrap();
    // Everyone: our attachments and those another implementation reserved
    // (`tamper` names its own containers).
    let mut everyone: Vec<Attachment> = (0..6).map(att).collect();
    for (ip, owner) in scan_leases(&cni_core::fsio::RealFs, &net).unwrap() {
        let who = Attachment::new(
            owner.container_id.clone(),
            owner.ifname.clone().unwrap_or_default(),
        );
        assert!(
            store.ips_of(&who).unwrap().contains(&ip),
            "{ip} of {owner:?} is lost"
        );
        everyone.push(who);
    }
    for who in &everyone {
        ops::release(&mut store, who).unwrap();
    }
    store.finish().unwrap();
    let left: Vec<(std::net::IpAddr, LeaseOwner)> =
        scan_leases(&cni_core::fsio::RealFs, &net).unwrap();
    assert!(
        left.is_empty(),
        "leases left after DEL of everyone: {left:?}"
    );
}
