//! Noticing that a container's namespace file is gone, without polling.
//!
//! The attachment's sockets keep its namespace alive, so a runtime that
//! removes the namespace without a DEL never makes its interface disappear:
//! the only sign is the namespace file leaving its directory (`ip netns del`,
//! a runtime unmounting and unlinking `/run/netns/<id>`). inotify on that
//! directory reports it. `/proc/<pid>/ns/net` paths cannot be watched this
//! way; for them the check at every timer is what remains.

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::ffi::OsString;
use std::path::Path;
use tokio::io::unix::AsyncFd;

pub struct NetnsWatch {
    inotify: AsyncFd<InotifyFd>,
    name: OsString,
}

/// The inotify instance as tokio registers it (by raw descriptor).
struct InotifyFd(Inotify);

impl std::os::fd::AsRawFd for InotifyFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsFd::as_fd(&self.0).as_raw_fd()
    }
}

impl NetnsWatch {
    /// A watch on `netns`'s directory; `None` where inotify cannot watch it.
    pub fn new(netns: &str) -> Option<NetnsWatch> {
        let path = Path::new(netns);
        if path.starts_with("/proc") {
            return None;
        }
        let (dir, name) = (path.parent()?, path.file_name()?.to_os_string());
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
        inotify
            .add_watch(
                dir,
                AddWatchFlags::IN_DELETE
                    | AddWatchFlags::IN_MOVED_FROM
                    | AddWatchFlags::IN_DELETE_SELF,
            )
            .ok()?;
        // SAFETY: the descriptor belongs to `InotifyFd`, which the AsyncFd
        // owns: it stays open exactly as long as the registration.
        let inotify = unsafe { AsyncFd::register(InotifyFd(inotify)) }.ok()?;
        Some(NetnsWatch { inotify, name })
    }

    /// Resolves when the namespace file (or its directory) has left.
    pub async fn removed(&self) {
        loop {
            let Ok(mut ready) = self.inotify.readable().await else {
                return std::future::pending().await;
            };
            match ready.get_inner().0.read_events() {
                Ok(events) => {
                    let gone = events.iter().any(|e| {
                        e.mask.contains(AddWatchFlags::IN_DELETE_SELF)
                            || e.name.as_deref() == Some(self.name.as_os_str())
                    });
                    if gone {
                        return;
                    }
                }
                Err(nix::errno::Errno::EAGAIN) => ready.clear_ready(),
                Err(_) => return std::future::pending().await,
            }
        }
    }
}

/// Waits on `watch` when there is one, else never.
pub async fn removed(watch: Option<&NetnsWatch>) {
    match watch {
        Some(watch) => watch.removed().await,
        None => std::future::pending().await,
    }
}
