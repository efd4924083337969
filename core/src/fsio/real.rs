//! [`FileOps`] on the real file system, refusing symlinks where a file or the
//! directory itself is expected.

use super::FileOps;
use std::ffi::OsString;
use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::time::SystemTime;

#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

/// ELOOP from O_NOFOLLOW says "too many levels of symbolic links"; say what happened.
fn explain_symlink(e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        io::Error::new(
            ErrorKind::InvalidInput,
            "is a symbolic link, refusing to follow it",
        )
    } else {
        e
    }
}

fn require_regular(file: File) -> io::Result<File> {
    if file.metadata()?.is_file() {
        Ok(file)
    } else {
        Err(io::Error::new(
            ErrorKind::InvalidInput,
            "is not a regular file",
        ))
    }
}

/// A directory that is not a symlink, opened for fsync or futimens.
fn open_dir(dir: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(dir)
        .map_err(explain_symlink)
}

impl FileOps for RealFs {
    fn create_dir_all(&self, dir: &Path, mode: u32) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(mode)
            .create(dir)?;
        if fs::symlink_metadata(dir)?.file_type().is_symlink() {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                "is a symbolic link, refusing to use it as a directory",
            ));
        }
        Ok(())
    }

    fn open_read(&self, path: &Path) -> io::Result<File> {
        // O_NONBLOCK: opening a FIFO must not hang; regular files ignore it.
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(explain_symlink)?;
        require_regular(file)
    }

    fn open_or_create(&self, path: &Path, mode: u32) -> io::Result<File> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
            .map_err(explain_symlink)?;
        require_regular(file)
    }

    fn create_new(&self, path: &Path, mode: u32) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
    }

    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        file.write_all(bytes)
    }

    fn sync(&self, file: &File) -> io::Result<()> {
        file.sync_all()
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        open_dir(dir)?.sync_all()
    }

    fn sync_filesystem(&self, dir: &Path) -> io::Result<()> {
        let d = open_dir(dir)?;
        // SAFETY: syncfs on a descriptor we own; no memory is passed.
        if unsafe { libc::syncfs(d.as_raw_fd()) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<OsString>> {
        fs::read_dir(dir)?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect()
    }

    fn modified(&self, path: &Path) -> io::Result<SystemTime> {
        fs::symlink_metadata(path)?.modified()
    }

    fn set_dir_modified(&self, dir: &Path, time: SystemTime) -> io::Result<SystemTime> {
        let d = open_dir(dir)?;
        d.set_times(FileTimes::new().set_modified(time))?;
        d.metadata()?.modified()
    }
}
