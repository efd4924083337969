//! How host-local survives a crash, from a log of every file-system call:
//! nothing is fsynced; an index entry is written before the lease it covers
//! and removed after it; a seal from another boot is not trusted, and the
//! rebuild it forces removes the empty lease files a power cut leaves.

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

fn in_index(path: &Path, index: &Path) -> bool {
    path.parent() == Some(index) && path.file_name().is_some_and(|n| n != "seal")
}

fn ops(calls: &[(&'static str, PathBuf)]) -> Vec<&'static str> {
    calls.iter().map(|(op, _)| *op).collect()
}

#[test]
fn an_add_lists_each_lease_before_creating_it_and_syncs_nothing() {
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
    for &at in &leases {
        // The entry listing this lease went into the index before it.
        let listed = calls[..at]
            .iter()
            .any(|(op, p)| *op == "rename" && in_index(p, &index));
        assert!(
            listed,
            "no index entry before {:?}: {calls:#?}",
            calls[at].1
        );
    }
    assert!(
        !ops(&calls).iter().any(|op| op.starts_with("sync")),
        "{:?}",
        ops(&calls)
    );
}

#[test]
fn a_del_removes_the_leases_before_their_entry_and_syncs_nothing() {
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
    let last_lease = calls
        .iter()
        .rposition(|(op, p)| *op == "remove_file" && is_lease(p, &net))
        .expect("leases removed");
    let entry = calls
        .iter()
        .position(|(op, p)| *op == "remove_file" && p == &index.join("c1~eth0"))
        .expect("entry removed");
    assert!(last_lease < entry, "{calls:#?}");
    assert!(
        !ops(&calls).iter().any(|op| op.starts_with("sync")),
        "{:?}",
        ops(&calls)
    );
}

/// Makes the seal look as an earlier boot left it (another boot id), the
/// directory's mtime kept.
fn as_if_rebooted(data: &Path) {
    let net = data.join(NET);
    let seal = net.join(INDEX_DIR).join("seal");
    let text = std::fs::read_to_string(&seal).unwrap();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert!(text.contains(boot.trim()), "{text}");
    let mtime = std::fs::metadata(&net).unwrap().modified().unwrap();
    let other = text.replace(boot.trim(), "00000000-0000-0000-0000-000000000000");
    std::fs::write(&seal, other).unwrap();
    File::open(&net).unwrap().set_modified(mtime).unwrap();
}

#[test]
fn a_seal_from_another_boot_is_not_trusted() {
    let data = tempfile::tempdir().unwrap();
    let who = Attachment::new("c1", "eth0");
    let open = || DiskStore::open_with(Arc::new(RealFs), data.path(), NET).unwrap();
    let mut store = open();
    ops::allocate(&sets(), &mut store, &who, &[]).unwrap();
    store.finish().unwrap();
    let store = open();
    assert!(!store.rebuilt_index(), "sealed in this boot: trusted");
    store.finish().unwrap();

    as_if_rebooted(data.path());
    let store = open();
    assert!(
        store.rebuilt_index(),
        "a seal of another boot must force a rebuild"
    );
    store.finish().unwrap();
}

#[test]
fn an_empty_lease_a_power_cut_left_is_removed_and_its_address_reused() {
    let data = tempfile::tempdir().unwrap();
    let open = || DiskStore::open_with(Arc::new(RealFs), data.path(), NET).unwrap();
    let mut store = open();
    let lost = ops::allocate(&sets(), &mut store, &Attachment::new("c1", "eth0"), &[]).unwrap();
    store.finish().unwrap();
    // The cut kept the files' names but not their content.
    let leases: Vec<PathBuf> = lost
        .iter()
        .map(|a| data.path().join(NET).join(a.address.addr().to_string()))
        .collect();
    for lease in &leases {
        std::fs::write(lease, "").unwrap();
    }
    as_if_rebooted(data.path());

    let mut store = open();
    assert!(store.rebuilt_index());
    for lease in &leases {
        assert!(!lease.exists(), "{} left behind", lease.display());
    }
    // Free again: a request for exactly those addresses is granted.
    let lost: Vec<IpAddr> = lost.iter().map(|a| a.address.addr()).collect();
    let again = ops::allocate(&sets(), &mut store, &Attachment::new("c2", "eth0"), &lost).unwrap();
    store.finish().unwrap();
    let again: Vec<IpAddr> = again.iter().map(|a| a.address.addr()).collect();
    assert_eq!(again, lost);
}
