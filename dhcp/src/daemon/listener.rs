//! The daemon's unix socket: 0600 and owned by root (whoever reaches it
//! can lease addresses into any namespace), refused when another daemon is
//! alive on it, a stale one from a crash replaced.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("another dhcp daemon is alive on {0} (it accepts connections); stop it first")]
    InUse(String),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: io::Error,
    },
}

pub fn bind(path: &Path) -> Result<UnixListener, ListenError> {
    let io_err = |what: &'static str| {
        move |source: io::Error| ListenError::Io {
            what,
            path: path.display().to_string(),
            source,
        }
    };
    if UnixStream::connect(path).is_ok() {
        return Err(ListenError::InUse(path.display().to_string()));
    }
    if let Some(dir) = path.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err("create the socket's directory"))?;
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket_like() => {
            fs::remove_file(path).map_err(io_err("remove the stale socket"))?
        }
        Ok(_) => {
            return Err(ListenError::Io {
                what: "refusing to replace",
                path: path.display().to_string(),
                source: io::Error::other("it exists and is not a socket"),
            })
        }
        Err(_) => {}
    }
    // Created 0600 from the start: no window in which others may connect.
    let listener = {
        // SAFETY: umask only changes this process's file creation mask; it
        // is restored right after the bind below.
        let old = unsafe { libc::umask(0o177) };
        let bound = UnixListener::bind(path);
        // SAFETY: as above.
        unsafe { libc::umask(old) };
        bound.map_err(io_err("listen on"))?
    };
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io_err("chmod"))?;
    std::os::unix::fs::lchown(path, Some(0), Some(0)).map_err(io_err("chown root"))?;
    Ok(listener)
}

trait SocketLike {
    fn is_socket_like(&self) -> bool;
}

impl SocketLike for fs::FileType {
    fn is_socket_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_socket(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn the_socket_is_0600_root_and_a_live_one_is_not_taken_over() {
        if !cni_core::testsupport::require(
            "the_socket_is_0600_root_and_a_live_one_is_not_taken_over",
            "root (chown)",
            cni_core::testsupport::is_root(),
        ) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/dhcp.sock");
        let listener = bind(&path).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!((meta.uid(), meta.gid()), (0, 0));
        assert!(matches!(bind(&path), Err(ListenError::InUse(_))));
        drop(listener);
        // Stale (nobody accepts): replaced.
        bind(&path).unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(matches!(bind(&file), Err(ListenError::Io { .. })));
    }
}
