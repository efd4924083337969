//! Network namespaces: open and verify, create persistent named ones, delete
//! them, and run code inside one without ever switching the caller's thread.

use crate::error::{errno_error, io_error};
use cni_core::net::{NetError, NetResult};
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::stat::{fstat, stat, Mode};
use nix::sys::statfs::{fstatfs, NSFS_MAGIC};
use std::any::Any;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, OnceLock};

/// Where iproute2 keeps named namespaces (`ip netns add NAME`).
pub const NETNS_RUN_DIR: &str = "/var/run/netns";

/// The network namespace the process (its main thread) runs in.
pub const PROCESS_NETNS: &str = "/proc/self/ns/net";

/// The network namespace the calling thread runs in.
const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

/// An open, verified network namespace file.
#[derive(Debug)]
pub struct NetnsFile {
    fd: OwnedFd,
    path: PathBuf,
}

impl NetnsFile {
    /// Opens `path` and checks that it is a network namespace: `NotFound` when
    /// it does not exist, `Invalid` when it is something else.
    pub fn open(path: impl AsRef<Path>) -> NetResult<Self> {
        let path = path.as_ref();
        let fd = open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
            .map_err(|e| errno_error(format!("open netns {}", path.display()), e, None))?;
        // SAFETY: `open` just returned this descriptor and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        verify_is_netns(fd.as_fd(), path)?;
        Ok(NetnsFile {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The namespace of this process.
    pub fn process() -> NetResult<Self> {
        Self::open(PROCESS_NETNS)
    }

    /// The namespace of the calling thread: the process's, unless this thread
    /// entered another one (as tests that play a host in a namespace do).
    pub fn calling_thread() -> NetResult<Self> {
        Self::open(THREAD_NETNS)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// (device, inode): equal for two files exactly when they are the same namespace.
    pub fn id(&self) -> NetResult<(u64, u64)> {
        let st = fstat(self.fd.as_raw_fd())
            .map_err(|e| errno_error(format!("stat netns {}", self.path.display()), e, None))?;
        Ok((st.st_dev, st.st_ino))
    }

    /// Whether the calling thread already runs in this namespace.
    pub fn is_current_thread_ns(&self) -> NetResult<bool> {
        Ok(self.id()? == current_thread_ns_id()?)
    }

    /// Another descriptor on the same namespace.
    pub fn try_clone(&self) -> NetResult<Self> {
        let fd = self
            .fd
            .try_clone()
            .map_err(|e| io_error(format!("dup netns {}", self.path.display()), &e))?;
        Ok(NetnsFile {
            fd,
            path: self.path.clone(),
        })
    }
}

impl AsFd for NetnsFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// (device, inode) of the calling thread's network namespace.
pub fn current_thread_ns_id() -> NetResult<(u64, u64)> {
    let st =
        stat(THREAD_NETNS).map_err(|e| errno_error(format!("stat {THREAD_NETNS}"), e, None))?;
    Ok((st.st_dev, st.st_ino))
}

fn verify_is_netns(fd: BorrowedFd<'_>, path: &Path) -> NetResult<()> {
    let fs = fstatfs(fd)
        .map_err(|e| errno_error(format!("statfs netns {}", path.display()), e, None))?;
    if fs.filesystem_type() != NSFS_MAGIC {
        return Err(NetError::invalid(format!(
            "{} is not a network namespace (not an nsfs file)",
            path.display()
        )));
    }
    // SAFETY: NS_GET_NSTYPE takes no argument and only reads the descriptor.
    let nstype = unsafe { libc::ioctl(fd.as_raw_fd(), libc::NS_GET_NSTYPE) };
    if nstype < 0 {
        // Kernels before 4.11 lack the ioctl; the nsfs check above has to do.
        return match Errno::last() {
            Errno::ENOTTY | Errno::EINVAL => Ok(()),
            e => Err(errno_error(
                format!("query namespace type of {}", path.display()),
                e,
                None,
            )),
        };
    }
    if nstype != libc::CLONE_NEWNET {
        return Err(NetError::invalid(format!(
            "{} is a namespace but not a network namespace",
            path.display()
        )));
    }
    Ok(())
}

fn validate_name(name: &str) -> NetResult<()> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.contains('\0')
        || name.len() > 255
    {
        return Err(NetError::invalid(format!(
            "invalid netns name {name:?}: must be 1-255 bytes, no '/', not '.' or '..'"
        )));
    }
    Ok(())
}

/// `/var/run/netns/NAME`.
pub fn named_path(name: &str) -> NetResult<PathBuf> {
    validate_name(name)?;
    Ok(Path::new(NETNS_RUN_DIR).join(name))
}

/// Makes the run directory a shared mount point as iproute2 does, so that
/// namespaces mounted there appear in every mount namespace that shares it.
fn prepare_run_dir() -> NetResult<()> {
    let dir = Path::new(NETNS_RUN_DIR);
    std::fs::create_dir_all(dir).map_err(|e| io_error(format!("create {NETNS_RUN_DIR}"), &e))?;
    let make_shared = || {
        mount(
            None::<&str>,
            dir,
            None::<&str>,
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        )
    };
    match make_shared() {
        Ok(()) => Ok(()),
        // Not a mount point yet: bind it onto itself first.
        Err(Errno::EINVAL) => {
            mount(
                Some(dir),
                dir,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .map_err(|e| errno_error(format!("bind-mount {NETNS_RUN_DIR} onto itself"), e, None))?;
            make_shared()
                .map_err(|e| errno_error(format!("make {NETNS_RUN_DIR} a shared mount"), e, None))
        }
        Err(e) => Err(errno_error(
            format!("make {NETNS_RUN_DIR} a shared mount"),
            e,
            None,
        )),
    }
}

/// Creates a persistent namespace `/var/run/netns/NAME` (like `ip netns add`).
/// It lives on after the creating thread, until [`delete_named`]. `Exists` if
/// the name is taken.
pub fn create_named(name: &str) -> NetResult<NetnsFile> {
    let path = named_path(name)?;
    prepare_run_dir()?;
    let created = open(
        &path,
        OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| errno_error(format!("create netns file {}", path.display()), e, None))?;
    // SAFETY: `open` just returned this descriptor; closing it is all we need.
    drop(unsafe { OwnedFd::from_raw_fd(created) });

    let mount_result = std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("netns-create".into())
            .spawn_scoped(s, || -> NetResult<()> {
                // This thread alone moves to the new namespace and then exits;
                // the bind mount keeps the namespace alive.
                unshare(CloneFlags::CLONE_NEWNET)
                    .map_err(|e| errno_error("unshare network namespace", e, None))?;
                mount(
                    Some(THREAD_NETNS),
                    &path,
                    None::<&str>,
                    MsFlags::MS_BIND,
                    None::<&str>,
                )
                .map_err(|e| {
                    errno_error(
                        format!("bind-mount new netns onto {}", path.display()),
                        e,
                        None,
                    )
                })
            })
            .map_err(|e| io_error("spawn thread to create netns", &e))?;
        join_result(handle.join(), &path)?
    });
    if let Err(e) = mount_result {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    NetnsFile::open(&path)
}

/// Deletes a named namespace (like `ip netns del`). `NotFound` if absent.
pub fn delete_named(name: &str) -> NetResult<()> {
    delete_path(&named_path(name)?)
}

/// Unmounts and removes a namespace file. The namespace itself lives on while
/// a process or an open descriptor still uses it.
pub fn delete_path(path: &Path) -> NetResult<()> {
    match umount2(path, MntFlags::MNT_DETACH) {
        // EINVAL: not a mount point (already unmounted); the file may remain.
        Ok(()) | Err(Errno::EINVAL) => {}
        Err(e) => {
            return Err(errno_error(
                format!("unmount netns {}", path.display()),
                e,
                None,
            ))
        }
    }
    std::fs::remove_file(path)
        .map_err(|e| io_error(format!("remove netns file {}", path.display()), &e))
}

/// Runs `f` on a new OS thread that has entered `ns`, and returns its result.
/// The caller's thread never changes namespace. A panic in `f` becomes an error.
pub fn run_in<T, F>(ns: &NetnsFile, f: F) -> NetResult<T>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    let fd = ns.as_fd();
    let path = ns.path();
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("netns-run".into())
            .spawn_scoped(s, move || -> NetResult<T> {
                setns(fd, CloneFlags::CLONE_NEWNET)
                    .map_err(|e| errno_error(format!("enter netns {}", path.display()), e, None))?;
                Ok(f())
            })
            .map_err(|e| io_error("spawn thread to enter netns", &e))?;
        join_result(handle.join(), path)?
    })
}

/// Like [`run_in`], but runs `f` right here when this thread already is in
/// `ns`: saves a thread for the common case of working in one's own namespace.
pub fn run_here_or_in<T, F>(ns: &NetnsFile, f: F) -> NetResult<T>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    if ns.is_current_thread_ns()? {
        catch_unwind(AssertUnwindSafe(f)).map_err(|p| panicked(p, ns.path()))
    } else {
        run_in(ns, f)
    }
}

/// Runs closures inside one namespace: right here when the calling thread
/// already is in it, otherwise on one thread that enters it at the first
/// job and stays there while this lives. A handle of a container's
/// namespace opens its socket and reaches its /proc/sys through the same
/// thread instead of starting one for each.
pub struct InNetns {
    file: NetnsFile,
    thread: OnceLock<NsThread>,
}

impl InNetns {
    pub fn new(file: NetnsFile) -> Self {
        InNetns {
            file,
            thread: OnceLock::new(),
        }
    }

    pub fn file(&self) -> &NetnsFile {
        &self.file
    }

    /// `f`'s result, run inside the namespace. A panic in `f` becomes an error.
    pub fn run<T, F>(&self, f: F) -> NetResult<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let path = self.file.path();
        if self.file.is_current_thread_ns()? {
            return catch_unwind(AssertUnwindSafe(f)).map_err(|p| panicked(p, path));
        }
        let thread = match self.thread.get() {
            Some(t) => t,
            None => {
                let started = NsThread::start(&self.file)?;
                self.thread.get_or_init(|| started)
            }
        };
        thread.run(f, path)
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A thread inside a namespace, running the jobs it is sent until its
/// queue closes (when this is dropped, which waits for it to end).
struct NsThread {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NsThread {
    fn start(ns: &NetnsFile) -> NetResult<NsThread> {
        let entry = ns.try_clone()?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, entered) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("netns-run".into())
            .spawn(move || {
                let result = setns(entry.as_fd(), CloneFlags::CLONE_NEWNET).map_err(|e| {
                    errno_error(format!("enter netns {}", entry.path().display()), e, None)
                });
                let ok = result.is_ok();
                let _ = ready.send(result);
                drop(entry);
                if ok {
                    for job in queue {
                        job();
                    }
                }
            })
            .map_err(|e| io_error("spawn thread to enter netns", &e))?;
        let started = NsThread {
            jobs: Some(jobs),
            thread: Some(thread),
        };
        match entered.recv() {
            Ok(Ok(())) => Ok(started),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(NetError::other(format!(
                "thread to enter netns {} ended before it reported",
                ns.path().display()
            ))),
        }
    }

    fn run<T, F>(&self, f: F, path: &Path) -> NetResult<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let gone = || NetError::other(format!("thread inside netns {} is gone", path.display()));
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = reply.send(catch_unwind(AssertUnwindSafe(f)));
        });
        let jobs = self.jobs.as_ref().ok_or_else(gone)?;
        jobs.send(job).map_err(|_| gone())?;
        match answer.recv() {
            Ok(result) => result.map_err(|p| panicked(p, path)),
            Err(_) => Err(gone()),
        }
    }
}

impl Drop for NsThread {
    fn drop(&mut self) {
        // Closing the queue ends the thread's loop.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn join_result<T>(joined: Result<T, Box<dyn Any + Send>>, path: &Path) -> NetResult<T> {
    joined.map_err(|p| panicked(p, path))
}

fn panicked(payload: Box<dyn Any + Send>, path: &Path) -> NetError {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string());
    NetError::other(format!(
        "code running in netns {} panicked: {what}",
        path.display()
    ))
}
