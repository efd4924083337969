//! The lease store on disk, compatible with the reference: the same files in
//! `<dataDir>/<network>`, the same `lock` file held with flock for the whole
//! operation, plus our index (see [`super::index`]).
//!
//! Every step is ordered so that a crash or an error anywhere leaves a state
//! from which a retry finishes the job: a lease is listed in the index before
//! its file is created and unlisted only after the file is gone. Nothing is
//! fsynced, as in the reference: a power cut ends every container the leases
//! were for, and what it leaves behind is repaired at the first use after the
//! reboot (see [`super::index`]). Nothing in a data directory is opened
//! through a symlink.

use super::index::{scan_leases, Index};
use super::lease::{
    last_reserved_path, lease_content, lease_path, parse_last_reserved, read_owner,
};
use cni_core::fsio::{
    overwrite_file, read_if_exists, remove_orphaned_tmp, replace_file, FileOps, RealFs,
};
use cni_core::ipam::{Attachment, LeaseOwner, Store, StoreError};
use std::fs::File;
use std::io::ErrorKind;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Our temporary files, beside the leases (same file system, so they rename
/// into place) but in a directory of their own, so that finding orphans never
/// lists the leases.
pub const TMP_DIR: &str = ".cni-rs-tmp";

pub struct DiskStore {
    fs: Arc<dyn FileOps>,
    dir: PathBuf,
    tmp_dir: PathBuf,
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
        DiskStore::open_with(Arc::new(RealFs), data_dir, network)
    }

    /// As [`DiskStore::open`], every file operation going through `fs`.
    pub fn open_with(
        fs: Arc<dyn FileOps>,
        data_dir: &Path,
        network: &str,
    ) -> Result<DiskStore, StoreError> {
        let dir = data_dir.join(network);
        fs.create_dir_all(&dir, 0o755)
            .map_err(|e| StoreError::io("creating", &dir, e))?;
        let lock_path = dir.join("lock");
        // Mode as the reference's lock library creates it.
        let lock = fs
            .open_or_create(&lock_path, 0o750)
            .map_err(|e| StoreError::io("opening", &lock_path, e))?;
        lock_exclusive(&lock, &lock_path)?;
        let tmp_dir = dir.join(TMP_DIR);
        fs.create_dir_all(&tmp_dir, 0o755)
            .map_err(|e| StoreError::io("creating", &tmp_dir, e))?;
        // We hold the lock, and every writer of ours does: all are orphans.
        remove_orphaned_tmp(&*fs, &tmp_dir, |_| true);
        let index = Index::open(fs.clone(), &dir, &tmp_dir);
        Ok(DiskStore {
            fs,
            dir,
            tmp_dir,
            index,
            changed: false,
            _lock: lock,
        })
    }

    /// Seals the index if it is trusted and anything changed (or it was
    /// rebuilt), otherwise removes the seal; then releases the lock. The index
    /// is only a hint, so failing to seal it fails nothing: the next run
    /// rebuilds it.
    pub fn finish(self) -> Result<(), StoreError> {
        let sealed = match (self.index.is_trusted(), self.changed || self.index.rebuilt) {
            (true, true) => self.index.seal(),
            (true, false) => Ok(()),
            (false, _) => Err(StoreError::io(
                "distrusted",
                &self.dir,
                std::io::Error::other("index not used in this run"),
            )),
        };
        if let Err(e) = sealed {
            tracing::debug!("host-local: index left unsealed: {e}");
            if let Err(e) = self.index.unseal() {
                tracing::warn!("host-local: {e}");
            }
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

    /// Whether this run still answers from the index (false once anything
    /// about it failed, until the next run rebuilds it).
    pub fn index_trusted(&self) -> bool {
        self.index.is_trusted()
    }

    fn exists(&self, path: &Path) -> Result<bool, StoreError> {
        match self.fs.modified(path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io("stat", path, e)),
        }
    }

    /// The addresses recorded for exactly `owner`: from the index while it is
    /// trusted, otherwise from the lease files.
    fn lookup(&mut self, owner: &LeaseOwner) -> Result<Vec<IpAddr>, StoreError> {
        if self.index.is_trusted() {
            match self.index.get(owner) {
                Ok(ips) => return Ok(ips),
                Err(e) => self.index.distrust(&e),
            }
        }
        Ok(scan_leases(&*self.fs, &self.dir)?
            .into_iter()
            .filter(|(_, o)| o == owner)
            .map(|(ip, _)| ip)
            .collect())
    }

    fn index_add(&mut self, owner: &LeaseOwner, ip: IpAddr) {
        if self.index.is_trusted() {
            self.changed = true;
            if let Err(e) = self.index.add(owner, ip) {
                self.index.distrust(&e);
            }
        }
    }

    fn index_remove(&mut self, owner: &LeaseOwner, gone: &[IpAddr]) {
        if self.index.is_trusted() && !gone.is_empty() {
            self.changed = true;
            if let Err(e) = self.index.remove(owner, gone) {
                self.index.distrust(&e);
            }
        }
    }

    /// Creates the lease file of `ip` for `att`; false if taken.
    fn create_lease(&mut self, att: &Attachment, ip: IpAddr) -> Result<bool, StoreError> {
        let path = lease_path(&self.dir, ip);
        let mut file = match self.fs.create_new(&path, 0o644) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(StoreError::io("creating", &path, e)),
        };
        self.changed = true;
        let written = self
            .fs
            .write_all(&mut file, lease_content(att).as_bytes())
            .map_err(|e| StoreError::io("writing", &path, e));
        if written.is_err() {
            let _ = self.fs.remove_file(&path);
        }
        written.map(|()| true)
    }

    /// Removes the lease file of `ip` if `owner` holds it.
    fn remove_if_held(&mut self, ip: IpAddr, owner: &LeaseOwner) -> Result<bool, StoreError> {
        let path = lease_path(&self.dir, ip);
        if read_owner(&*self.fs, &path)?.as_ref() != Some(owner) {
            return Ok(false);
        }
        match self.fs.remove_file(&path) {
            Ok(()) => {
                self.changed = true;
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(StoreError::io("removing", &path, e)),
        }
    }

    /// Frees every address of `ips` that `owner` holds; unlists those settled
    /// (freed, or held by nobody or someone else). Every address is tried even
    /// when one fails; the first error is returned.
    fn release_listed(
        &mut self,
        owner: &LeaseOwner,
        ips: Vec<IpAddr>,
    ) -> Result<Vec<IpAddr>, StoreError> {
        let mut freed = Vec::new();
        let mut settled = Vec::new();
        let mut first_error = None;
        for ip in ips {
            match self.remove_if_held(ip, owner) {
                Ok(removed) => {
                    if removed {
                        freed.push(ip);
                    }
                    settled.push(ip);
                }
                Err(e) => {
                    self.index.distrust(&e);
                    first_error.get_or_insert(e);
                }
            }
        }
        self.index_remove(owner, &settled);
        first_error.map_or(Ok(freed), Err)
    }
}

impl Store for DiskStore {
    fn reserve(
        &mut self,
        att: &Attachment,
        ip: IpAddr,
        range_set: usize,
    ) -> Result<bool, StoreError> {
        // Under the lock nobody else creates leases: a cheap check spares the
        // index writes for addresses already taken.
        if self.exists(&lease_path(&self.dir, ip))? {
            return Ok(false);
        }
        let owner = LeaseOwner::of(att);
        self.index_add(&owner, ip);
        match self.create_lease(att, ip) {
            Ok(true) => {}
            Ok(false) => {
                self.index_remove(&owner, &[ip]);
                return Ok(false);
            }
            Err(e) => {
                self.index_remove(&owner, &[ip]);
                return Err(e);
            }
        }
        // In place and not fsynced, as the reference writes it: a lost or
        // torn record only costs round-robin this once. Where it cannot be
        // opened as a file of its own (a symlink), it is replaced instead.
        let last = last_reserved_path(&self.dir, range_set);
        let text = ip.to_string();
        let recorded = overwrite_file(&*self.fs, &last, text.as_bytes(), 0o644)
            .or_else(|_| {
                replace_file(
                    &*self.fs,
                    &self.tmp_dir,
                    &last,
                    text.as_bytes(),
                    0o644,
                    false,
                )
            })
            .map_err(|e| StoreError::io("writing", &last, e));
        if let Err(e) = recorded {
            // A reservation that reports failure must hold nothing: the
            // caller only undoes what succeeded.
            let _ = self.release_listed(&owner, vec![ip]);
            return Err(e);
        }
        Ok(true)
    }

    fn last_reserved(&mut self, range_set: usize) -> Result<Option<IpAddr>, StoreError> {
        let path = last_reserved_path(&self.dir, range_set);
        match read_if_exists(&*self.fs, &path, 256) {
            // An unreadable record only costs round-robin this once, as in the reference.
            Ok(bytes) => Ok(bytes.and_then(|b| parse_last_reserved(&b))),
            Err(e) => Err(StoreError::io("reading", &path, e)),
        }
    }

    fn ips_of(&mut self, att: &Attachment) -> Result<Vec<IpAddr>, StoreError> {
        let mut ips = self.lookup(&LeaseOwner::of(att))?;
        ips.extend(self.lookup(&legacy(att))?);
        Ok(ips)
    }

    fn holder(&mut self, ip: IpAddr) -> Result<Option<LeaseOwner>, StoreError> {
        read_owner(&*self.fs, &lease_path(&self.dir, ip))
    }

    fn release_ip(&mut self, att: &Attachment, ip: IpAddr) -> Result<(), StoreError> {
        self.release_listed(&LeaseOwner::of(att), vec![ip])
            .map(drop)
    }

    fn release(&mut self, att: &Attachment) -> Result<Vec<IpAddr>, StoreError> {
        let mut freed = Vec::new();
        for owner in [LeaseOwner::of(att), legacy(att)] {
            let listed = self.lookup(&owner)?;
            freed.extend(self.release_listed(&owner, listed)?);
            // Legacy leases only go when the exact ones were none, as in the reference.
            if !freed.is_empty() {
                break;
            }
        }
        Ok(freed)
    }

    fn leases(&mut self) -> Result<Vec<(IpAddr, LeaseOwner)>, StoreError> {
        scan_leases(&*self.fs, &self.dir)
    }

    fn remove_lease(&mut self, ip: IpAddr) -> Result<(), StoreError> {
        if let Some(owner) = self.holder(ip)? {
            self.release_listed(&owner, vec![ip])?;
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
