//! The order host-local makes things durable in, from a log of every
//! file-system call: an index entry (its file and its directory) is on disk
//! before the lease file it covers is created; a lease file and its
//! directory entry are on disk before ADD returns; a removed lease is gone
//! on disk before its entry is; and sealing the index syncs nothing more.

use cni_core::fsio::{FileOps, RealFs};
use cni_core::ipam::config::validate_range_set;
use cni_core::ipam::{Attachment, RangeSet, RangeSpec};
use cni_plugins::host_local::index::INDEX_DIR;
use cni_plugins::host_local::ops;
use cni_plugins::host_local::DiskStore;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

const NET: &str = "net";

/// Every call as (operation, path); a `sync` of an open file is named by
/// the file created last (the store syncs a file right after writing it).
#[derive(Default)]
struct Recorder {
    log: Mutex<Vec<(&'static str, PathBuf)>>,
    last_created: Mutex<PathBuf>,
}

impl Recorder {
    fn note(&self, op: &'static str, path: &Path) {
        self.log.lock().unwrap().push((op, path.to_path_buf()));
    }
    fn calls(&self) -> Vec<(&'static str, PathBuf)> {
        self.log.lock().unwrap().clone()
    }
}

impl FileOps for Recorder {
    fn create_dir_all(&self, dir: &Path, mode: u32) -> io::Result<()> {
        RealFs.create_dir_all(dir, mode)
    }
    fn open_read(&self, path: &Path) -> io::Result<File> {
        RealFs.open_read(path)
    }
    fn open_or_create(&self, path: &Path, mode: u32) -> io::Result<File> {
        RealFs.open_or_create(path, mode)
    }
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<File> {
        self.note("create_new", path);
        *self.last_created.lock().unwrap() = path.to_path_buf();
        RealFs.create_new(path, mode)
    }
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        RealFs.write_all(file, bytes)
    }
    fn sync(&self, file: &File) -> io::Result<()> {
        let created = self.last_created.lock().unwrap().clone();
        self.note("sync", &created);
        RealFs.sync(file)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.note("sync_dir", dir);
        RealFs.sync_dir(dir)
    }
    fn sync_filesystem(&self, dir: &Path) -> io::Result<()> {
        self.note("sync_filesystem", dir);
        RealFs.sync_filesystem(dir)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.note("rename", to);
        RealFs.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.note("remove_file", path);
        RealFs.remove_file(path)
    }
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<OsString>> {
        RealFs.read_dir(dir)
    }
    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        RealFs.modified(path)
    }
    fn set_dir_modified(&self, dir: &Path, time: SystemTime) -> io::Result<SystemTime> {
        self.note("set_dir_modified", dir);
        RealFs.set_dir_modified(dir, time)
    }
}

fn sets() -> Vec<RangeSet> {
    let s = |subnet: &str| RangeSpec {
        subnet: Some(subnet.into()),
        ..Default::default()
    };
    vec![
        validate_range_set(&[s("10.5.0.0/29")], "ipam", true).unwrap(),
        validate_range_set(&[s("fd05::/125")], "ipam.ranges[0]", false).unwrap(),
    ]
}

fn is_lease(path: &Path, net: &Path) -> bool {
    path.parent() == Some(net)
        && path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.parse::<IpAddr>().is_ok())
}

fn position(calls: &[(&str, PathBuf)], from: usize, op: &str, path: &Path) -> Option<usize> {
    calls[from..]
        .iter()
        .position(|(o, p)| *o == op && p == path)
        .map(|i| i + from)
}

/// Everything after the seal's mtime is set: nothing there is synced.
fn assert_seal_syncs_nothing(calls: &[(&str, PathBuf)]) {
    let sealed = calls
        .iter()
        .rposition(|(op, _)| *op == "set_dir_modified")
        .expect("the index is sealed");
    let after: Vec<_> = calls[sealed..]
        .iter()
        .filter(|(op, _)| op.starts_with("sync"))
        .collect();
    assert!(after.is_empty(), "synced after sealing: {after:?}");
}

#[test]
fn an_add_makes_each_index_entry_durable_before_its_lease_and_the_lease_before_it_returns() {
    let data = tempfile::tempdir().unwrap();
    let net = data.path().join(NET);
    let index = net.join(INDEX_DIR);
    let fs = Arc::new(Recorder::default());
    let mut store = DiskStore::open_with(fs.clone(), data.path(), NET).unwrap();
    let who = Attachment::new("c1", "eth0");
    let allocs = ops::allocate(&sets(), &mut store, &who, &[]).unwrap();
    store.finish().unwrap();
    assert_eq!(allocs.len(), 2);

    let calls = fs.calls();
    let leases: Vec<usize> = (0..calls.len())
        .filter(|&i| calls[i].0 == "create_new" && is_lease(&calls[i].1, &net))
        .collect();
    assert_eq!(leases.len(), 2, "{calls:#?}");
    let mut entry_synced_at = 0;
    for &at in &leases {
        let lease = &calls[at].1;
        // The entry was renamed into the index, then the index synced,
        // after the previous lease and before this one.
        let renamed = (entry_synced_at..at)
            .rev()
            .find(|&i| calls[i].0 == "rename" && calls[i].1.parent() == Some(index.as_path()))
            .unwrap_or_else(|| panic!("no index entry before {lease:?}: {calls:#?}"));
        let synced = position(&calls, renamed, "sync_dir", &index)
            .filter(|&i| i < at)
            .unwrap_or_else(|| panic!("index not synced before {lease:?}: {calls:#?}"));
        entry_synced_at = synced + 1;
        let file = position(&calls, at, "sync", lease).expect("lease file synced");
        position(&calls, file, "sync_dir", &net).expect("lease's directory synced");
    }
    assert_seal_syncs_nothing(&calls);
}

#[test]
fn a_del_makes_the_removal_durable_before_the_entry_goes() {
    let data = tempfile::tempdir().unwrap();
    let net = data.path().join(NET);
    let index = net.join(INDEX_DIR);
    let who = Attachment::new("c1", "eth0");
    let mut store = DiskStore::open_with(Arc::new(RealFs), data.path(), NET).unwrap();
    ops::allocate(&sets(), &mut store, &who, &[]).unwrap();
    store.finish().unwrap();

    let fs = Arc::new(Recorder::default());
    let mut store = DiskStore::open_with(fs.clone(), data.path(), NET).unwrap();
    ops::release(&mut store, &who).unwrap();
    store.finish().unwrap();

    let calls = fs.calls();
    let last_removed = calls
        .iter()
        .rposition(|(op, p)| *op == "remove_file" && is_lease(p, &net))
        .expect("leases removed");
    let removals_synced =
        position(&calls, last_removed, "sync_dir", &net).expect("removals synced");
    let entry_gone = position(
        &calls,
        removals_synced,
        "remove_file",
        &index.join("c1~eth0"),
    )
    .expect("entry removed after the removals were durable");
    position(&calls, entry_gone, "sync_dir", &index).expect("entry's removal synced");
    assert_seal_syncs_nothing(&calls);
}
