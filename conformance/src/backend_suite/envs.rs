//! The two places the suite runs: the simulator, and the real kernel in
//! namespaces made for the test (a unique prefix; removed on drop, also when a
//! rule panics). The kernel env never touches the machine's own namespace.

use super::SuiteEnv;
use cni_backend_linux::{netns, LinuxBackend};
use cni_backend_sim::SimKernel;
use cni_core::net::{NetBackend, NsRef};
use std::sync::atomic::{AtomicU32, Ordering};

pub struct SimEnv {
    pub kernel: SimKernel,
    host: NsRef,
    made: usize,
}

impl SimEnv {
    pub fn new() -> Self {
        let kernel = SimKernel::new();
        // The suite's host is a path namespace, as on the real kernel.
        let host = kernel
            .add_netns("/var/run/netns/suite-host")
            .expect("a fresh simulator has no namespaces");
        SimEnv {
            kernel,
            host,
            made: 0,
        }
    }
}

impl Default for SimEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl SuiteEnv for SimEnv {
    fn backend(&self) -> &dyn NetBackend {
        &self.kernel
    }
    fn host(&self) -> NsRef {
        self.host.clone()
    }
    fn new_netns(&mut self) -> NsRef {
        self.made += 1;
        self.kernel
            .add_netns(format!("/var/run/netns/suite-{}", self.made))
            .expect("simulated namespace names are unique")
    }
    fn absent_netns(&self) -> NsRef {
        NsRef::path("/var/run/netns/suite-absent")
    }
}

static KERNEL_ENVS: AtomicU32 = AtomicU32::new(0);

/// Real namespaces `bs<pid>x<n>-<role>`; needs root.
pub struct KernelEnv {
    backend: LinuxBackend,
    prefix: String,
    names: Vec<String>,
    host: NsRef,
}

impl KernelEnv {
    pub fn new() -> Self {
        let n = KERNEL_ENVS.fetch_add(1, Ordering::SeqCst);
        let mut env = KernelEnv {
            backend: LinuxBackend::new(),
            prefix: format!("bs{}x{n}", std::process::id()),
            names: Vec::new(),
            host: NsRef::Current,
        };
        env.host = env.create("host");
        env
    }

    fn create(&mut self, role: &str) -> NsRef {
        let name = format!("{}-{role}", self.prefix);
        let ns = netns::create_named(&name)
            .unwrap_or_else(|e| panic!("creating test namespace {name}: {e}"));
        self.names.push(name);
        NsRef::path(ns.path())
    }
}

impl Default for KernelEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for KernelEnv {
    fn drop(&mut self) {
        for name in self.names.drain(..).rev() {
            let _ = netns::delete_named(&name);
        }
    }
}

impl SuiteEnv for KernelEnv {
    fn backend(&self) -> &dyn NetBackend {
        &self.backend
    }
    fn host(&self) -> NsRef {
        self.host.clone()
    }
    fn new_netns(&mut self) -> NsRef {
        let role = format!("n{}", self.names.len());
        self.create(&role)
    }
    fn absent_netns(&self) -> NsRef {
        NsRef::path(format!("/var/run/netns/{}-absent", self.prefix))
    }
}
