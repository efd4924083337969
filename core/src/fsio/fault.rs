//! A [`FileOps`] that fails one chosen call, for fault sweeps: run an
//! operation with the 1st, 2nd, ... call failing until a run needs fewer calls.

use super::{FileOps, RealFs};
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

#[derive(Debug, Default)]
pub struct FailingFs {
    /// 1-based number of the call that fails; 0 fails none.
    fail_at: usize,
    calls: AtomicUsize,
    failed: Mutex<Option<String>>,
}

impl FailingFs {
    pub fn failing_call(n: usize) -> Self {
        FailingFs {
            fail_at: n,
            ..Default::default()
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// The call that was failed (operation and path), if it was reached.
    pub fn failed(&self) -> Option<String> {
        self.failed.lock().map(|f| f.clone()).unwrap_or_default()
    }

    fn step(&self, op: &str, path: &Path) -> io::Result<()> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n != self.fail_at {
            return Ok(());
        }
        if let Ok(mut failed) = self.failed.lock() {
            *failed = Some(format!("{op} {}", path.display()));
        }
        Err(io::Error::from_raw_os_error(libc::EIO))
    }
}

/// Files have no path at hand; a placeholder names them in the log.
const OPEN_FILE: &str = "<open file>";

impl FileOps for FailingFs {
    fn create_dir_all(&self, dir: &Path, mode: u32) -> io::Result<()> {
        self.step("create_dir_all", dir)?;
        RealFs.create_dir_all(dir, mode)
    }
    fn open_read(&self, path: &Path) -> io::Result<File> {
        self.step("open_read", path)?;
        RealFs.open_read(path)
    }
    fn open_or_create(&self, path: &Path, mode: u32) -> io::Result<File> {
        self.step("open_or_create", path)?;
        RealFs.open_or_create(path, mode)
    }
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<File> {
        self.step("create_new", path)?;
        RealFs.create_new(path, mode)
    }
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        self.step("write_all", Path::new(OPEN_FILE))?;
        RealFs.write_all(file, bytes)
    }
    fn sync(&self, file: &File) -> io::Result<()> {
        self.step("sync", Path::new(OPEN_FILE))?;
        RealFs.sync(file)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.step("sync_dir", dir)?;
        RealFs.sync_dir(dir)
    }
    fn sync_filesystem(&self, dir: &Path) -> io::Result<()> {
        self.step("sync_filesystem", dir)?;
        RealFs.sync_filesystem(dir)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.step("rename", from)?;
        RealFs.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.step("remove_file", path)?;
        RealFs.remove_file(path)
    }
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<OsString>> {
        self.step("read_dir", dir)?;
        RealFs.read_dir(dir)
    }
    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        self.step("modified", path)?;
        RealFs.modified(path)
    }
    fn set_dir_modified(&self, dir: &Path, time: SystemTime) -> io::Result<SystemTime> {
        self.step("set_dir_modified", dir)?;
        RealFs.set_dir_modified(dir, time)
    }
}
