//! Test namespaces: every test works only in namespaces it creates, named with
//! a prefix unique to this process, and removes them on drop (also on panic).
#![allow(dead_code)]

use cni_backend_linux::netns;
use cni_core::net::NsRef;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub use cni_core::testsupport::privileged;

pub fn unique_prefix() -> String {
    format!(
        "t{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A named namespace `/var/run/netns/<prefix>-<role>`, deleted on drop.
pub struct TestNs {
    pub name: String,
    pub path: PathBuf,
}

impl TestNs {
    /// Created with our own netns API.
    pub fn new(role: &str) -> TestNs {
        let name = format!("{}-{role}", unique_prefix());
        let file = netns::create_named(&name).expect("create test netns");
        TestNs {
            path: file.path().to_path_buf(),
            name,
        }
    }

    /// Created with `ip netns add`, as operators do.
    pub fn with_iproute(role: &str) -> TestNs {
        let name = format!("{}-{role}", unique_prefix());
        run("ip", &["netns", "add", &name]);
        TestNs {
            path: PathBuf::from(netns::NETNS_RUN_DIR).join(&name),
            name,
        }
    }

    pub fn ns_ref(&self) -> NsRef {
        NsRef::Path(self.path.clone())
    }

    /// Runs `ip -n <ns> <args>` and returns its stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Runs a command inside the namespace (`ip netns exec`).
    pub fn exec(&self, cmd: &[&str]) -> String {
        let mut all = vec!["netns", "exec", self.name.as_str()];
        all.extend_from_slice(cmd);
        run("ip", &all)
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        if let Err(e) = netns::delete_path(&self.path) {
            if !e.is_not_found() {
                eprintln!("cleanup of test netns {} failed: {e}", self.path.display());
            }
        }
    }
}

pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
