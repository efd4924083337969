//! Our index beside the reference's lease files, so that finding and
//! releasing an attachment's leases opens one file instead of reading every
//! lease: `<network dir>/.cni-rs-index/<escaped containerID>~<escaped ifname>`
//! lists the attachment's addresses.
//!
//! The reference does not know about the index, so it may be stale. Detecting
//! that costs one `stat`: after each change we set the network directory's
//! mtime to a "seal" time in the past and record it in `.cni-rs-index/seal`.
//! Creating or removing any lease file (the only changes the reference makes
//! to the directory) sets the mtime to the current time, which differs from
//! the seal; then the index is rebuilt from the lease files, once. The index
//! is a hint even then: a lease is only removed after its file was read and
//! found to name the attachment.

use super::lease::{lease_path, parse_lease_name, read_owner};
use cni_core::ipam::{LeaseOwner, StoreError};
use std::collections::BTreeMap;
use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{ErrorKind, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const INDEX_DIR: &str = ".cni-rs-index";
const SEAL: &str = "seal";
/// Longest escaped name we use as is; longer ones are hashed.
const MAX_NAME: usize = 200;

pub struct Index {
    net_dir: PathBuf,
    dir: PathBuf,
    /// Whether this run rebuilt the index (tests and benchmarks look at it).
    pub rebuilt: bool,
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |e| StoreError::io(op, path, e)
}

impl Index {
    /// Opens the index of `net_dir`, rebuilding it if the directory changed
    /// since we last sealed it. The caller holds the network's lock.
    pub fn open(net_dir: &Path) -> Result<Index, StoreError> {
        let dir = net_dir.join(INDEX_DIR);
        let mut index = Index {
            net_dir: net_dir.to_path_buf(),
            dir,
            rebuilt: false,
        };
        if !index.is_fresh()? {
            index.rebuild()?;
        }
        Ok(index)
    }

    fn is_fresh(&self) -> Result<bool, StoreError> {
        let seal_path = self.dir.join(SEAL);
        let sealed = match fs::read_to_string(&seal_path) {
            Ok(s) => s,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::io("reading", &seal_path, e)),
        };
        let mtime = fs::metadata(&self.net_dir)
            .and_then(|m| m.modified())
            .map_err(io("stat", &self.net_dir))?;
        Ok(sealed.trim() == stamp(mtime))
    }

    /// Reads every lease file and writes the index anew.
    pub fn rebuild(&mut self) -> Result<(), StoreError> {
        self.rebuilt = true;
        match fs::create_dir(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                // Unseal first, so a crash mid-rebuild forces another rebuild.
                let seal = self.dir.join(SEAL);
                match fs::remove_file(&seal) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(StoreError::io("removing", &seal, e)),
                }
                for entry in fs::read_dir(&self.dir).map_err(io("listing", &self.dir))? {
                    let entry = entry.map_err(io("listing", &self.dir))?;
                    let p = entry.path();
                    fs::remove_file(&p).map_err(io("removing", &p))?;
                }
            }
            Err(e) => return Err(StoreError::io("creating", &self.dir, e)),
        }
        let mut by_owner: BTreeMap<LeaseOwner, Vec<IpAddr>> = BTreeMap::new();
        for (ip, owner) in scan_leases(&self.net_dir)? {
            by_owner.entry(owner).or_default().push(ip);
        }
        for (owner, ips) in by_owner {
            self.write_entry(&owner, &ips)?;
        }
        Ok(())
    }

    /// Records that the index matches the directory as it is now.
    pub fn seal(&self) -> Result<(), StoreError> {
        // In the past, so that no later change by anyone can produce it.
        let target = SystemTime::now() - Duration::from_secs(1);
        let dir = File::open(&self.net_dir).map_err(io("opening", &self.net_dir))?;
        dir.set_times(FileTimes::new().set_modified(target))
            .map_err(io("setting mtime of", &self.net_dir))?;
        // Filesystems round timestamps: record what was stored.
        let stored = dir
            .metadata()
            .and_then(|m| m.modified())
            .map_err(io("stat", &self.net_dir))?;
        let seal = self.dir.join(SEAL);
        fs::write(&seal, stamp(stored)).map_err(io("writing", &seal))
    }

    fn entry_path(&self, owner: &LeaseOwner) -> PathBuf {
        let mut name = escape(&owner.container_id);
        name.push('~');
        name.push_str(&escape(owner.ifname.as_deref().unwrap_or("")));
        if name.len() > MAX_NAME {
            name = format!(
                "h-{:016x}{:016x}",
                fnv1a(name.as_bytes(), 0xcbf2_9ce4_8422_2325),
                fnv1a(name.as_bytes(), 0x8422_2325_cbf2_9ce4)
            );
        }
        self.dir.join(name)
    }

    /// The addresses listed for `owner`; empty if none or if the entry belongs
    /// to another owner (a hash collision).
    pub fn get(&self, owner: &LeaseOwner) -> Result<Vec<IpAddr>, StoreError> {
        let path = self.entry_path(owner);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io("reading", &path, e)),
        };
        let mut lines = text.lines();
        let id = lines.next().unwrap_or_default();
        let ifname = lines.next().unwrap_or_default();
        if id != owner.container_id || ifname != owner.ifname.as_deref().unwrap_or("") {
            return Ok(Vec::new());
        }
        Ok(lines.filter_map(|l| l.parse().ok()).collect())
    }

    pub fn add(&self, owner: &LeaseOwner, ip: IpAddr) -> Result<(), StoreError> {
        let mut ips = self.get(owner)?;
        if !ips.contains(&ip) {
            ips.push(ip);
        }
        self.write_entry(owner, &ips)
    }

    pub fn remove(&self, owner: &LeaseOwner, ip: IpAddr) -> Result<(), StoreError> {
        let mut ips = self.get(owner)?;
        ips.retain(|i| *i != ip);
        self.write_entry(owner, &ips)
    }

    /// Forgets `owner` and returns what was listed for it.
    pub fn take(&self, owner: &LeaseOwner) -> Result<Vec<IpAddr>, StoreError> {
        let ips = self.get(owner)?;
        if !ips.is_empty() {
            self.write_entry(owner, &[])?;
        }
        Ok(ips)
    }

    fn write_entry(&self, owner: &LeaseOwner, ips: &[IpAddr]) -> Result<(), StoreError> {
        let path = self.entry_path(owner);
        if ips.is_empty() {
            return match fs::remove_file(&path) {
                Err(e) if e.kind() != ErrorKind::NotFound => {
                    Err(StoreError::io("removing", &path, e))
                }
                _ => Ok(()),
            };
        }
        let mut text = format!(
            "{}\n{}\n",
            owner.container_id,
            owner.ifname.as_deref().unwrap_or("")
        );
        for ip in ips {
            text.push_str(&ip.to_string());
            text.push('\n');
        }
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(io("writing", &path))?;
        f.write_all(text.as_bytes()).map_err(io("writing", &path))
    }
}

/// Every lease file in `net_dir` with its holder (GC and rebuilds).
pub fn scan_leases(net_dir: &Path) -> Result<Vec<(IpAddr, LeaseOwner)>, StoreError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(net_dir).map_err(io("listing", net_dir))? {
        let entry = entry.map_err(io("listing", net_dir))?;
        let name = entry.file_name();
        let Some(ip) = name.to_str().and_then(parse_lease_name) else {
            continue;
        };
        if let Some(owner) = read_owner(&lease_path(net_dir, ip))? {
            out.push((ip, owner));
        }
    }
    Ok(out)
}

fn stamp(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// Keeps `[A-Za-z0-9._-]`, percent-encodes every other byte (so `~` and `/`
/// never appear raw).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.starts_with('.') {
        // Never `.` or `..`.
        out.replace_range(0..1, "%2E");
    }
    out
}

fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    bytes.iter().fold(seed, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_names_flat_and_distinct() {
        assert_eq!(escape("abc-1_2.3"), "abc-1_2.3");
        assert_eq!(escape("a/b~c"), "a%2Fb%7Ec");
        assert_eq!(escape(".."), "%2E.");
        let key = |id: &str, ifname: &str| format!("{}~{}", escape(id), escape(ifname));
        assert_ne!(key("a~b", "c"), key("a", "b~c"));
    }
}
