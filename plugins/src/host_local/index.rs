//! Our index beside the reference's lease files, so that finding and
//! releasing an attachment's leases opens one file instead of reading every
//! lease: `<network dir>/.cni-rs-index/<escaped containerID>~<escaped ifname>`
//! lists the attachment's addresses (format in [`parse_entry`]).
//!
//! The lease files are the truth; the index only says where to look, and the
//! store keeps it a superset of them: an entry gains an address before its
//! lease file is created and loses it only after the file is gone. Trust needs
//! one `stat`: after a session we set the network directory's mtime to a
//! "seal" time in the past and record it in `.cni-rs-index/seal`. Creating or
//! removing any lease file (the only changes the reference makes to the
//! directory) sets the mtime to the current time; then the index is rebuilt
//! from the lease files, once. An index that cannot be read, written or
//! rebuilt is distrusted: questions go to the lease files, and the seal is
//! removed so that the next run rebuilds.
//!
//! Nothing here, and no lease file, is fsynced. Within one boot every
//! process sees the writes in the order they were made, which is all the
//! superset rule needs. A power cut or kernel crash may lose any of them, but
//! it also ends every container the leases were for, and the seal names the
//! boot it was made in (the kernel's boot id): a seal from an earlier boot is
//! never trusted, so the first use after a crash rebuilds the index from the
//! lease files that survived. A lease file can survive empty (its name on
//! disk, its content not yet); it names no holder, so nobody could ever
//! release it, and the rebuild removes it.

use super::lease::{lease_path, parse_lease_name, read_owner};
use cni_core::fsio::{overwrite_file, read_capped, remove_if_exists, replace_file, FileOps};
use cni_core::ipam::{LeaseOwner, StoreError};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use thiserror::Error;

pub const INDEX_DIR: &str = ".cni-rs-index";
const SEAL: &str = "seal";
/// Bumped whenever the entry or seal format changes, so an older index is rebuilt.
const SEAL_VERSION: &str = "v3";
/// Changes at every boot: a seal from another boot is stale.
const BOOT_ID: &str = "/proc/sys/kernel/random/boot_id";
/// Longest escaped name we use as is; longer ones are hashed.
const MAX_NAME: usize = 200;
/// An entry lists the addresses of one attachment: a few lines.
const MAX_ENTRY_BYTES: u64 = 64 * 1024;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EntryError {
    #[error("index entry is missing its {0} line")]
    Missing(&'static str),
    #[error("index entry has a badly escaped {0}")]
    BadEscape(&'static str),
    #[error("index entry line {0} is not an address")]
    BadAddress(usize),
    #[error("index entry belongs to another attachment")]
    OtherOwner,
}

pub struct Index {
    fs: Arc<dyn FileOps>,
    net_dir: PathBuf,
    dir: PathBuf,
    tmp_dir: PathBuf,
    /// Whether this run rebuilt the index (tests and benchmarks look at it).
    pub rebuilt: bool,
    trusted: bool,
    /// The kernel's boot id, read once a run (checking the seal and writing
    /// it both need it).
    boot_id: std::io::Result<String>,
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |e| StoreError::io(op, path, e)
}

impl Index {
    /// Opens the index of `net_dir`, rebuilding it if the directory changed
    /// since we last sealed it. Never fails: an index we cannot use is
    /// distrusted. The caller holds the network's lock.
    pub fn open(fs: Arc<dyn FileOps>, net_dir: &Path, tmp_dir: &Path) -> Index {
        let dir = net_dir.join(INDEX_DIR);
        let boot_id = read_capped(&*fs, Path::new(BOOT_ID), 64)
            .map(|b| String::from_utf8_lossy(&b).trim().to_string());
        let mut index = Index {
            fs,
            net_dir: net_dir.to_path_buf(),
            dir,
            tmp_dir: tmp_dir.to_path_buf(),
            rebuilt: false,
            trusted: true,
            boot_id,
        };
        if !index.is_fresh() {
            if let Err(e) = index.rebuild() {
                index.distrust(&e);
            }
        }
        index
    }

    pub fn is_trusted(&self) -> bool {
        self.trusted
    }

    /// From now on the lease files answer every question, and finishing
    /// removes the seal.
    pub fn distrust(&mut self, why: &dyn std::fmt::Display) {
        if self.trusted {
            tracing::warn!("host-local: not using the lease index: {why}");
        }
        self.trusted = false;
    }

    fn seal_text(&self, mtime: SystemTime) -> Result<String, StoreError> {
        let boot = self.boot_id.as_ref().map_err(|e| {
            let e = std::io::Error::new(e.kind(), e.to_string());
            StoreError::io("reading", Path::new(BOOT_ID), e)
        })?;
        let d = mtime.duration_since(UNIX_EPOCH).unwrap_or_default();
        Ok(format!(
            "{SEAL_VERSION} {boot} {}.{:09}",
            d.as_secs(),
            d.subsec_nanos()
        ))
    }

    fn is_fresh(&self) -> bool {
        let Ok(sealed) = read_capped(&*self.fs, &self.dir.join(SEAL), 128) else {
            return false;
        };
        let Ok(mtime) = self.fs.modified(&self.net_dir) else {
            return false;
        };
        self.seal_text(mtime)
            .is_ok_and(|text| sealed == text.as_bytes())
    }

    /// Reads every lease file and writes the index anew.
    fn rebuild(&mut self) -> Result<(), StoreError> {
        self.rebuilt = true;
        self.fs
            .create_dir_all(&self.dir, 0o755)
            .map_err(io("creating", &self.dir))?;
        // Unseal first, so a crash mid-rebuild forces another rebuild.
        self.unseal()?;
        for name in self
            .fs
            .read_dir(&self.dir)
            .map_err(io("listing", &self.dir))?
        {
            let p = self.dir.join(name);
            remove_if_exists(&*self.fs, &p).map_err(io("removing", &p))?;
        }
        let mut by_owner: BTreeMap<LeaseOwner, Vec<IpAddr>> = BTreeMap::new();
        for (ip, owner) in scan_leases(&*self.fs, &self.net_dir)? {
            if owner.container_id.is_empty() {
                // What a power cut leaves of a lease written just before it:
                // no container ID is empty, so nobody holds it.
                let path = lease_path(&self.net_dir, ip);
                tracing::warn!(
                    "host-local: removing {}: it names no holder",
                    path.display()
                );
                remove_if_exists(&*self.fs, &path).map_err(io("removing", &path))?;
                continue;
            }
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
        let stored = self
            .fs
            .set_dir_modified(&self.net_dir, target)
            .map_err(io("setting mtime of", &self.net_dir))?;
        let seal = self.dir.join(SEAL);
        let text = self.seal_text(stored)?;
        // In place: a torn seal only costs a rebuild, and nobody reads it
        // outside the network's lock.
        overwrite_file(&*self.fs, &seal, text.as_bytes(), 0o644).map_err(io("writing", &seal))
    }

    pub fn unseal(&self) -> Result<(), StoreError> {
        let seal = self.dir.join(SEAL);
        remove_if_exists(&*self.fs, &seal).map_err(io("removing", &seal))
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

    /// The addresses listed for `owner`. An entry that cannot be read or
    /// parsed, or names someone else, is an error: the caller must then ask
    /// the lease files.
    pub fn get(&self, owner: &LeaseOwner) -> Result<Vec<IpAddr>, StoreError> {
        let path = self.entry_path(owner);
        let bytes = match cni_core::fsio::read_if_exists(&*self.fs, &path, MAX_ENTRY_BYTES) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Vec::new()),
            Err(e) => return Err(StoreError::io("reading", &path, e)),
        };
        let invalid = |e: EntryError| {
            StoreError::io(
                "reading",
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        };
        let (listed, ips) = parse_entry(&bytes).map_err(invalid)?;
        if listed != *owner {
            return Err(invalid(EntryError::OtherOwner));
        }
        Ok(ips)
    }

    /// Lists `ip` for `owner` (before its lease file is created).
    pub fn add(&self, owner: &LeaseOwner, ip: IpAddr) -> Result<(), StoreError> {
        let mut ips = self.get(owner)?;
        if ips.contains(&ip) {
            return Ok(());
        }
        ips.push(ip);
        self.write_entry(owner, &ips)
    }

    /// Unlists `gone` for `owner` (after their lease files are removed).
    pub fn remove(&self, owner: &LeaseOwner, gone: &[IpAddr]) -> Result<(), StoreError> {
        let mut ips = self.get(owner)?;
        let before = ips.len();
        ips.retain(|i| !gone.contains(i));
        if ips.len() == before {
            return Ok(());
        }
        self.write_entry(owner, &ips)
    }

    /// Writes (or, with no addresses, removes) `owner`'s entry.
    fn write_entry(&self, owner: &LeaseOwner, ips: &[IpAddr]) -> Result<(), StoreError> {
        let path = self.entry_path(owner);
        if ips.is_empty() {
            return remove_if_exists(&*self.fs, &path).map_err(io("removing", &path));
        }
        let text = entry_text(owner, ips);
        replace_file(
            &*self.fs,
            &self.tmp_dir,
            &path,
            text.as_bytes(),
            0o644,
            false,
        )
        .map_err(io("writing", &path))
    }
}

/// An entry: the escaped container ID, the escaped interface name (empty for
/// a legacy ID-only lease), then one address per line.
pub fn entry_text(owner: &LeaseOwner, ips: &[IpAddr]) -> String {
    let mut text = format!(
        "{}\n{}\n",
        escape(&owner.container_id),
        escape(owner.ifname.as_deref().unwrap_or(""))
    );
    for ip in ips {
        text.push_str(&ip.to_string());
        text.push('\n');
    }
    text
}

/// Reads an entry strictly: a line that is not an address means the entry is
/// damaged, and silently dropping it could hide a lease.
pub fn parse_entry(bytes: &[u8]) -> Result<(LeaseOwner, Vec<IpAddr>), EntryError> {
    let text = std::str::from_utf8(bytes).map_err(|_| EntryError::BadEscape("content"))?;
    let mut lines = text.lines();
    let id = lines.next().ok_or(EntryError::Missing("container ID"))?;
    let ifname = lines.next().ok_or(EntryError::Missing("interface name"))?;
    let owner = LeaseOwner {
        container_id: unescape(id).ok_or(EntryError::BadEscape("container ID"))?,
        ifname: match unescape(ifname).ok_or(EntryError::BadEscape("interface name"))? {
            name if name.is_empty() => None,
            name => Some(name),
        },
    };
    let ips = lines
        .enumerate()
        .map(|(n, l)| l.parse().map_err(|_| EntryError::BadAddress(n + 3)))
        .collect::<Result<_, _>>()?;
    Ok((owner, ips))
}

/// Every lease file in `net_dir` with its holder (GC and rebuilds). An entry
/// that cannot be read is skipped, as the reference skips it: its address
/// stays taken (reserving uses O_EXCL), and one bad file must not make the
/// whole network unusable.
pub fn scan_leases(
    fs: &dyn FileOps,
    net_dir: &Path,
) -> Result<Vec<(IpAddr, LeaseOwner)>, StoreError> {
    let mut out = Vec::new();
    for name in fs.read_dir(net_dir).map_err(io("listing", net_dir))? {
        let Some(ip) = name.to_str().and_then(parse_lease_name) else {
            continue;
        };
        match read_owner(fs, &lease_path(net_dir, ip)) {
            Ok(Some(owner)) => out.push((ip, owner)),
            Ok(None) => {}
            Err(e) => tracing::warn!("host-local: skipping lease: {e}"),
        }
    }
    Ok(out)
}

/// Keeps `[A-Za-z0-9._-]`, percent-encodes every other byte (so `~`, `/` and
/// line breaks never appear raw).
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

fn unescape(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        if b != b'%' {
            out.push(b);
            continue;
        }
        let hex = [bytes.next()?, bytes.next()?];
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
    }
    String::from_utf8(out).ok()
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

    #[test]
    fn entry_round_trips_owners_with_line_breaks() {
        let owner = LeaseOwner {
            container_id: "a\nb %".into(),
            ifname: Some("eth0".into()),
        };
        let ips: Vec<IpAddr> = vec!["10.0.0.2".parse().unwrap(), "fd00::2".parse().unwrap()];
        let text = entry_text(&owner, &ips);
        assert_eq!(parse_entry(text.as_bytes()), Ok((owner, ips)));
    }

    #[test]
    fn damaged_entry_is_an_error_not_an_empty_list() {
        assert_eq!(
            parse_entry(b"c1\neth0\n10.0.0.2\nbogus\n"),
            Err(EntryError::BadAddress(4))
        );
        assert_eq!(
            parse_entry(b"c1\n"),
            Err(EntryError::Missing("interface name"))
        );
        assert_eq!(
            parse_entry(b"c%4\neth0\n"),
            Err(EntryError::BadEscape("container ID"))
        );
    }
}
