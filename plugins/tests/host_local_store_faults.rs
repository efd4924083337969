//! Every file-system call of host-local's ADD and DEL failed in turn (the
//! store over `FailingFs`): whatever the failure left, the index still finds
//! every lease, no temporary file stays, a retried DEL frees everything, and
//! no address is ever handed to two attachments.

use cni_core::fsio::{FailingFs, FileOps, RealFs, TMP_PREFIX};
use cni_core::ipam::config::validate_range_set;
use cni_core::ipam::{Attachment, LeaseOwner, RangeSet, RangeSpec, Store};
use cni_plugins::host_local::index::{parse_entry, scan_leases, INDEX_DIR};
use cni_plugins::host_local::ops;
use cni_plugins::host_local::DiskStore;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const NET: &str = "net";

fn sets() -> Vec<RangeSet> {
    let s = |subnet: &str| RangeSpec {
        subnet: Some(subnet.into()),
        ..Default::default()
    };
    vec![
        validate_range_set(&[s("10.4.0.0/29")], "ipam", true).unwrap(),
        validate_range_set(&[s("fd04::/125")], "ipam.ranges[0]", false).unwrap(),
    ]
}

fn att(id: &str) -> Attachment {
    Attachment::new(id, "eth0")
}

/// ADD as the plugin runs it: open, allocate, finish.
fn add(data: &Path, fs: Arc<dyn FileOps>, who: &Attachment) -> Result<Vec<IpAddr>, String> {
    let mut store = DiskStore::open_with(fs, data, NET).map_err(|e| e.to_string())?;
    let out = ops::allocate(&sets(), &mut store, who, &[])
        .map(|allocs| allocs.iter().map(|a| a.address.addr()).collect())
        .map_err(|e| e.to_string());
    store.finish().map_err(|e| e.to_string())?;
    out
}

/// DEL as the plugin runs it.
fn del(data: &Path, fs: Arc<dyn FileOps>, who: &Attachment) -> Result<(), String> {
    let mut store = DiskStore::open_with(fs, data, NET).map_err(|e| e.to_string())?;
    let out = ops::release(&mut store, who).map_err(|e| e.to_string());
    store.finish().map_err(|e| e.to_string())?;
    out
}

fn real() -> Arc<dyn FileOps> {
    Arc::new(RealFs)
}

fn leases(data: &Path) -> BTreeMap<IpAddr, LeaseOwner> {
    scan_leases(&RealFs, &data.join(NET))
        .unwrap()
        .into_iter()
        .collect()
}

fn held_by(data: &Path, who: &Attachment) -> BTreeSet<IpAddr> {
    leases(data)
        .into_iter()
        .filter(|(_, o)| *o == LeaseOwner::of(who))
        .map(|(ip, _)| ip)
        .collect()
}

fn tmp_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            tmp_files(&entry.path(), found);
        } else if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
            found.push(entry.path());
        }
    }
}

/// Every index entry, as (owner, address) pairs.
fn index_entries(data: &Path) -> BTreeSet<(LeaseOwner, IpAddr)> {
    let dir = data.join(NET).join(INDEX_DIR);
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() == "seal" {
            continue;
        }
        let (owner, ips) = parse_entry(&std::fs::read(entry.path()).unwrap()).unwrap();
        out.extend(ips.into_iter().map(|ip| (owner.clone(), ip)));
    }
    out
}

/// What must hold right after any failure: no temporary file, and a fresh
/// store finds every lease of every holder (DEL cannot miss one).
fn assert_recoverable(data: &Path, context: &str) {
    let mut tmp = Vec::new();
    tmp_files(&data.join(NET), &mut tmp);
    assert!(tmp.is_empty(), "{context}: temporary files left: {tmp:?}");
    let all = leases(data);
    let mut store = DiskStore::open(data, NET).unwrap();
    for (ip, owner) in &all {
        let who = Attachment::new(
            owner.container_id.clone(),
            owner.ifname.clone().unwrap_or_default(),
        );
        let found = store.ips_of(&who).unwrap();
        assert!(
            found.contains(ip),
            "{context}: {ip} of {owner:?} is not found"
        );
    }
    store.finish().unwrap();
}

/// After a clean retry: the index lists exactly the leases.
fn assert_index_exact(data: &Path, context: &str) {
    let listed = index_entries(data);
    let held: BTreeSet<(LeaseOwner, IpAddr)> =
        leases(data).into_iter().map(|(ip, o)| (o, ip)).collect();
    assert_eq!(listed, held, "{context}: index and leases differ");
}

/// Runs `step` with call 1, 2, ... failing until a run completes without
/// reaching the failing call; returns the operations that were failed.
fn sweep(mut step: impl FnMut(&Path, Arc<FailingFs>, &str)) -> BTreeSet<String> {
    let mut failed_ops = BTreeSet::new();
    for n in 1.. {
        let tmp = tempfile::tempdir().unwrap();
        let fs = Arc::new(FailingFs::failing_call(n));
        step(tmp.path(), fs.clone(), &format!("call {n}"));
        match fs.failed() {
            Some(call) => failed_ops.insert(call.split(' ').next().unwrap_or_default().to_string()),
            None => break,
        };
        assert!(n < 500, "the sweep does not end");
    }
    failed_ops
}

fn assert_covers(failed: &BTreeSet<String>, kinds: &[&str]) {
    for kind in kinds {
        assert!(
            failed.contains(*kind),
            "no {kind} call was failed; failed: {failed:?}"
        );
    }
}

#[test]
fn every_failed_call_during_add_leaves_a_state_a_retried_del_finishes() {
    let failed = sweep(|data, fs, context| {
        let other = add(data, real(), &att("other")).unwrap();
        let result = add(data, fs.clone(), &att("a"));
        let context = format!("{context} ({:?}): {result:?}", fs.failed());
        assert_recoverable(data, &context);
        let held = held_by(data, &att("a"));
        match &result {
            Ok(ips) => assert_eq!(held, ips.iter().copied().collect(), "{context}"),
            Err(_) => assert!(held.is_empty(), "{context}: a failed ADD kept {held:?}"),
        }
        del(data, real(), &att("a")).unwrap();
        assert!(
            held_by(data, &att("a")).is_empty(),
            "{context}: the DEL left leases"
        );
        assert_index_exact(data, &context);
        let next = add(data, real(), &att("c")).unwrap();
        assert!(
            next.iter().all(|ip| !other.contains(ip)),
            "{context}: {next:?} handed out twice"
        );
    });
    assert_covers(&failed, &["create_new", "write_all", "rename"]);
}

#[test]
fn every_failed_call_during_del_leaves_a_state_a_retried_del_finishes() {
    let failed = sweep(|data, fs, context| {
        let other = add(data, real(), &att("other")).unwrap();
        let mine = add(data, real(), &att("a")).unwrap();
        let result = del(data, fs.clone(), &att("a"));
        let context = format!("{context} ({:?}): {result:?}", fs.failed());
        assert_recoverable(data, &context);
        if result.is_ok() {
            assert!(
                held_by(data, &att("a")).is_empty(),
                "{context}: DEL succeeded but left leases"
            );
        }
        del(data, real(), &att("a")).unwrap();
        assert!(
            held_by(data, &att("a")).is_empty(),
            "{context}: the retried DEL left leases"
        );
        assert_eq!(
            held_by(data, &att("other")),
            other.iter().copied().collect(),
            "{context}"
        );
        assert_index_exact(data, &context);
        // The freed addresses are usable again, and never someone else's.
        let next = add(data, real(), &att("c")).unwrap();
        assert!(
            next.iter().all(|ip| !other.contains(ip)),
            "{context}: {next:?} handed out twice"
        );
        assert!(!mine.is_empty());
    });
    assert_covers(
        &failed,
        &[
            "remove_file",
            "read_dir",
            "open_read",
            "set_dir_modified",
            "open_or_create",
            "write_all",
        ],
    );
}
