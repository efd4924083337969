//! The lease store on disk, compatible with the reference: the same files in
//! `<dataDir>/<network>`, the same `lock` file held with flock for the whole
//! operation, plus our index (see [`super::index`]).

use super::index::{scan_leases, Index};
use super::lease::{lease_content, lease_path, read_owner, LAST_IP_PREFIX};
use cni_core::ipam::{Attachment, LeaseOwner, Store, StoreError};
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

pub struct DiskStore {
    dir: PathBuf,
    index: Index,
    changed: bool,
    // Held for the store's lifetime; closing it releases the flock.
    _lock: File,
}

fn lock_exclusive(file: &File, path: &Path) -> Result<(), StoreError> {
    loop {
        // SAFETY: flock on a descriptor we own; no memory is passed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Err(StoreError::io("locking", path, err));
        }
    }
}

impl DiskStore {
    /// Opens (creating) `<data_dir>/<network>` and takes its lock.
    pub fn open(data_dir: &Path, network: &str) -> Result<DiskStore, StoreError> {
        let dir = data_dir.join(network);
        fs::create_dir_all(&dir).map_err(|e| StoreError::io("creating", &dir, e))?;
        let lock_path = dir.join("lock");
        // Mode as the reference's lock library creates it; we never write to it,
        // but std only creates files opened for writing.
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o750)
            .open(&lock_path)
            .map_err(|e| StoreError::io("opening", &lock_path, e))?;
        lock_exclusive(&lock, &lock_path)?;
        let index = Index::open(&dir)?;
        let changed = index.rebuilt;
        Ok(DiskStore {
            dir,
            index,
            changed,
            _lock: lock,
        })
    }

    /// Seals the index if anything changed, then releases the lock.
    pub fn finish(self) -> Result<(), StoreError> {
        if self.changed {
            self.index.seal()?;
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether opening found the index stale and rebuilt it.
    pub fn rebuilt_index(&self) -> bool {
        self.index.rebuilt
    }

    /// Removes the lease file of `ip` if `owner` holds it.
    fn remove_if_held(&mut self, ip: IpAddr, owner: &LeaseOwner) -> Result<bool, StoreError> {
        let path = lease_path(&self.dir, ip);
        if read_owner(&path)?.as_ref() != Some(owner) {
            return Ok(false);
        }
        self.changed = true;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io("removing", &path, e)),
        }
    }
}

impl Store for DiskStore {
    fn reserve(
        &mut self,
        att: &Attachment,
        ip: IpAddr,
        range_set: usize,
    ) -> Result<bool, StoreError> {
        let path = lease_path(&self.dir, ip);
        let mut f = match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(StoreError::io("creating", &path, e)),
        };
        self.changed = true;
        if let Err(e) = f.write_all(lease_content(att).as_bytes()) {
            let _ = fs::remove_file(&path);
            return Err(StoreError::io("writing", &path, e));
        }
        drop(f);
        let last = self.dir.join(format!("{LAST_IP_PREFIX}{range_set}"));
        fs::write(&last, ip.to_string()).map_err(|e| StoreError::io("writing", &last, e))?;
        self.index.add(&LeaseOwner::of(att), ip)?;
        Ok(true)
    }

    fn last_reserved(&mut self, range_set: usize) -> Result<Option<IpAddr>, StoreError> {
        let path = self.dir.join(format!("{LAST_IP_PREFIX}{range_set}"));
        match fs::read_to_string(&path) {
            // An unreadable record only costs round-robin this once, as in the reference.
            Ok(s) => Ok(s.trim().parse().ok()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io("reading", &path, e)),
        }
    }

    fn ips_of(&mut self, att: &Attachment) -> Result<Vec<IpAddr>, StoreError> {
        let mut ips = self.index.get(&LeaseOwner::of(att))?;
        ips.extend(self.index.get(&legacy(att))?);
        Ok(ips)
    }

    fn holder(&mut self, ip: IpAddr) -> Result<Option<LeaseOwner>, StoreError> {
        read_owner(&lease_path(&self.dir, ip))
    }

    fn release_ip(&mut self, att: &Attachment, ip: IpAddr) -> Result<(), StoreError> {
        let owner = LeaseOwner::of(att);
        self.remove_if_held(ip, &owner)?;
        self.changed = true;
        self.index.remove(&owner, ip)
    }

    fn release(&mut self, att: &Attachment) -> Result<Vec<IpAddr>, StoreError> {
        let mut freed = Vec::new();
        for owner in [LeaseOwner::of(att), legacy(att)] {
            let listed = self.index.take(&owner)?;
            if !listed.is_empty() {
                self.changed = true;
            }
            for ip in listed {
                if self.remove_if_held(ip, &owner)? {
                    freed.push(ip);
                }
            }
            // Legacy leases only go when the exact ones were none, as in the reference.
            if !freed.is_empty() {
                break;
            }
        }
        Ok(freed)
    }

    fn leases(&mut self) -> Result<Vec<(IpAddr, LeaseOwner)>, StoreError> {
        scan_leases(&self.dir)
    }

    fn remove_lease(&mut self, ip: IpAddr) -> Result<(), StoreError> {
        if let Some(owner) = self.holder(ip)? {
            self.remove_if_held(ip, &owner)?;
            self.index.remove(&owner, ip)?;
        }
        Ok(())
    }
}

fn legacy(att: &Attachment) -> LeaseOwner {
    LeaseOwner {
        container_id: att.container_id.clone(),
        ifname: None,
    }
}
