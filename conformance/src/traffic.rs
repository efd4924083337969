//! Traffic between namespaces a test made: a TCP server answering "ok" on
//! port 80 inside one, connection attempts from threads that entered
//! another (never the machine's own namespace), and the waits that make an
//! attempt meaningful (IPv6 duplicate address detection).

use crate::realns::TestNet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Runs `f` on a fresh thread that entered namespace `ns` (never reused).
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = TestNet::path(ns);
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("opening the namespace");
        // SAFETY: setns on a valid namespace fd; this thread is ours alone.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}");
        f()
    })
    .join()
    .expect("namespace thread")
}

/// A server answering "ok" on port 80 (both families) in a namespace,
/// until dropped.
pub struct Server(Arc<AtomicBool>);

impl Server {
    pub fn start(ns: &str) -> Server {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let listener = in_netns(ns, || {
            TcpListener::bind("[::]:80").expect("binding port 80")
        });
        listener.set_nonblocking(true).expect("nonblocking");
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.write_all(b"ok");
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Server(stop)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Whether a TCP connection from `ns` to `to` (`addr:port`, `[v6]:port`)
/// reaches a [`Server`] within two seconds.
pub fn reaches(ns: &str, to: &str) -> bool {
    let addr: SocketAddr = to.parse().expect("address");
    in_netns(ns, move || {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut got = String::new();
        let _ = s.read_to_string(&mut got);
        got == "ok"
    })
}

/// Waits until no IPv6 address in `ns` is tentative (the bridge's gateway
/// and the containers' addresses may run DAD); they are unusable until then.
pub fn wait_for_dad(ns: &str) {
    for _ in 0..100 {
        let out = Command::new("ip")
            .args(["-n", ns, "-6", "addr", "show", "tentative"])
            .output()
            .expect("ip");
        if out.stdout.is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("IPv6 addresses in {ns} still tentative after 5 s");
}
