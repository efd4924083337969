//! The file operations under host-local's lease store and libcni's result
//! cache, behind one small trait so that tests can fail any single call
//! ([`FailingFs`]) and check that every state left behind can be finished by
//! a retry. [`RealFs`] never follows a symlink at the last path component.

mod fault;
mod real;

pub use fault::FailingFs;
pub use real::RealFs;

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// Every temporary file we create starts with this, so an orphan left by a
/// crash is recognised (and the reference, which reads every file under its
/// data directory, never mistakes one for a lease: it is not an address).
pub const TMP_PREFIX: &str = ".cni-rs-tmp-";

/// One call each; paths are used as given. Implementations must not follow a
/// symlink at the last component of any path they open or create.
pub trait FileOps: Send + Sync {
    /// Creates `dir` and missing parents with `mode`; `dir` itself must end up
    /// a real directory, not a symlink to one.
    fn create_dir_all(&self, dir: &Path, mode: u32) -> io::Result<()>;
    /// Opens a regular file for reading.
    fn open_read(&self, path: &Path) -> io::Result<File>;
    /// Opens a regular file for reading and writing, creating it if missing.
    fn open_or_create(&self, path: &Path, mode: u32) -> io::Result<File>;
    /// Creates a file that must not exist yet (AlreadyExists otherwise, a
    /// dangling symlink included).
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<File>;
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()>;
    /// fsync of a file's data and metadata.
    fn sync(&self, file: &File) -> io::Result<()>;
    /// fsync of a directory: makes creations, renames and removals in it durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// syncfs of the file system holding `dir` (after writing many files).
    fn sync_filesystem(&self, dir: &Path) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// The names in `dir`, without `.` and `..`.
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<OsString>>;
    /// The modification time of `path` itself (a symlink is not followed).
    fn modified(&self, path: &Path) -> io::Result<SystemTime>;
    /// Sets a directory's modification time; returns the time stored, which
    /// the file system may have rounded.
    fn set_dir_modified(&self, dir: &Path, time: SystemTime) -> io::Result<SystemTime>;
}

/// Reads a regular file of at most `cap` bytes (larger is InvalidData).
pub fn read_capped(fs: &dyn FileOps, path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let file = fs.open_read(path)?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            format!("larger than {cap} bytes"),
        ));
    }
    Ok(bytes)
}

/// `Ok(None)` for a missing file, otherwise as [`read_capped`].
pub fn read_if_exists(fs: &dyn FileOps, path: &Path, cap: u64) -> io::Result<Option<Vec<u8>>> {
    match read_capped(fs, path, cap) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Removes `path`; one already gone is fine.
pub fn remove_if_exists(fs: &dyn FileOps, path: &Path) -> io::Result<()> {
    match fs.remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A fresh temporary name in `dir` for a file that will become `final_name`;
/// it carries our process ID so that others can tell whether the writer lives.
pub fn tmp_path(dir: &Path, final_name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        "{TMP_PREFIX}{}-{n}-{final_name}",
        std::process::id()
    ))
}

/// The writer's process ID encoded in a name from [`tmp_path`].
pub fn tmp_writer_pid(name: &str) -> Option<u32> {
    name.strip_prefix(TMP_PREFIX)?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Replaces `path` with `bytes` atomically: a new temporary file in `tmp_dir`
/// (same file system), written, fsynced when `durable`, renamed over `path`.
/// Whatever was at `path` (a symlink included) is replaced, never written
/// through. The temporary file is removed on failure. Making the rename itself
/// durable (fsync of `path`'s directory) is the caller's choice.
pub fn replace_file(
    fs: &dyn FileOps,
    tmp_dir: &Path,
    path: &Path,
    bytes: &[u8],
    mode: u32,
    durable: bool,
) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tmp_path(tmp_dir, &name);
    let written = (|| {
        let mut file = fs.create_new(&tmp, mode)?;
        fs.write_all(&mut file, bytes)?;
        if durable {
            fs.sync(&file)?;
        }
        fs.rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs.remove_file(&tmp);
    }
    written
}

/// Rewrites `path` in place (creating it if missing): no new file, so none
/// is freed and made again each time. Not atomic, so only for records whose
/// torn state costs a retry or a rebuild, never a wrong answer.
pub fn overwrite_file(fs: &dyn FileOps, path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut file = fs.open_or_create(path, mode)?;
    fs.write_all(&mut file, bytes)?;
    file.set_len(bytes.len() as u64)
}

/// Removes the temporary files in `dir` that `is_orphan` (given the name)
/// says nobody is writing any more. Best effort: returns how many went.
pub fn remove_orphaned_tmp(
    fs: &dyn FileOps,
    dir: &Path,
    is_orphan: impl Fn(&str) -> bool,
) -> usize {
    let Ok(names) = fs.read_dir(dir) else {
        return 0;
    };
    names
        .iter()
        .filter_map(|n| n.to_str())
        .filter(|n| n.starts_with(TMP_PREFIX) && is_orphan(n))
        .filter(|n| fs.remove_file(&dir.join(n)).is_ok())
        .count()
}

/// Whether a process with this ID exists (in our PID namespace).
pub fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists; nothing is sent.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overwrite_file_leaves_exactly_the_new_bytes_in_the_same_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record");
        overwrite_file(&RealFs, &path, b"10.77.3.244", 0o644).unwrap();
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
        let first = inode(&path);
        overwrite_file(&RealFs, &path, b"10.77.3.9", 0o644).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"10.77.3.9");
        assert_eq!(inode(&path), first, "rewritten in place");
    }
}
