//! The main plugins in process ([`InProcess`]) on the real kernel: the Linux
//! backend behind a [`FaultyBackend`], on a thread that entered a namespace
//! the test made to play the host, so `NsRef::Current` (and any thread the
//! backend spawns) is that namespace, never the machine's own. Namespaces
//! come from [`TestNet`]: a unique prefix, removed on drop, also on panic.

use crate::faults::FaultyBackend;
use crate::in_process::{Attachment, Failure, InProcess};
use crate::plugin_corpus::ChainedCase;
use crate::plugin_state::{attachment_owned, chained_state, host_and_containers};
use crate::realns::{nft_ruleset, TestNet};
use cni_backend_linux::netns::{self, NetnsFile};
use cni_backend_linux::{LinuxBackend, LinuxNetns};
use cni_core::net::{NetBackend, Netns, NsRef};
use serde_json::Value;

/// A host namespace, container namespaces beside it, host-local's `dataDir`.
pub struct KernelWorld {
    pub faults: FaultyBackend<LinuxBackend>,
    plugins: InProcess,
    host_name: String,
    host_path: String,
    net: TestNet,
}

impl Default for KernelWorld {
    fn default() -> Self {
        Self::new()
    }
}

impl KernelWorld {
    /// Needs root. Namespaces start as the kernel makes them (loopback down),
    /// as the simulator's do.
    pub fn new() -> Self {
        let mut net = TestNet::new();
        let host = net.add_bare_ns("host");
        KernelWorld {
            faults: FaultyBackend::new(LinuxBackend::new()),
            plugins: InProcess::new(),
            host_path: TestNet::path(&host),
            host_name: host,
            net,
        }
    }

    /// A container namespace `<prefix>-<role>` and an attachment `eth0` in it.
    pub fn add_container(&mut self, container_id: &str) -> Attachment {
        let name = self.net.add_bare_ns(container_id);
        Attachment {
            netns: TestNet::path(&name),
            ..Attachment::new(container_id)
        }
    }

    /// Runs `f` on a fresh thread inside the host namespace, after checking
    /// that the backend's `NsRef::Current` resolves there.
    pub fn in_host<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let host = NetnsFile::open(&self.host_path)
            .unwrap_or_else(|e| panic!("opening the test's host namespace: {e}"));
        let guarded = || {
            let current = LinuxNetns::open(&NsRef::Current)
                .and_then(|ns| ns.file().id())
                .unwrap_or_else(|e| panic!("opening the current namespace: {e}"));
            let expected = host.id().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                current, expected,
                "NsRef::Current is not the test's host namespace: refusing to run"
            );
            f()
        };
        netns::run_in(&host, guarded).unwrap_or_else(|e| panic!("in the host namespace: {e}"))
    }

    pub fn netconf(&self, conf: &Value, version: &str) -> Value {
        self.plugins.netconf(conf, version)
    }

    /// Runs a verb through the fault injector; call it inside [`Self::in_host`].
    pub fn call(&self, verb: &str, conf: &Value, att: &Attachment) -> Result<Value, Failure> {
        self.plugins.call(&self.faults, verb, conf, att)
    }

    pub fn lease_names(&self) -> Vec<String> {
        self.plugins.lease_names()
    }

    /// The host (`NsRef::Current`, so inside [`Self::in_host`]) and the
    /// containers, as [`host_and_containers`] renders them (the backend underneath,
    /// so looking neither counts nor fails).
    pub fn state(&self, containers: &[&Attachment]) -> String {
        host_and_containers(self.faults.inner(), containers, &self.lease_names())
            .unwrap_or_else(|e| panic!("reading the kernel's state: {e}"))
    }

    /// What a failed ADD must not leave ([`attachment_owned`]); inside
    /// [`Self::in_host`].
    pub fn attachment_owned(&self, containers: &[&Attachment]) -> String {
        attachment_owned(self.faults.inner(), containers, &self.lease_names())
            .unwrap_or_else(|e| panic!("reading the kernel's state: {e}"))
    }

    /// What `case`'s plugin may change, as [`chained_state`] renders it
    /// (inside [`Self::in_host`]), and the files tuning saved.
    pub fn chained_state(&self, containers: &[&Attachment], case: &ChainedCase) -> String {
        let state = chained_state(
            self.faults.inner(),
            containers,
            case.host_sysctls,
            case.container_sysctls,
        )
        .unwrap_or_else(|e| panic!("reading the kernel's state: {e}"));
        let saved = self.plugins.tuning_saved().join(" ");
        format!("{state}\n== tuning's saved state\n{saved}")
    }

    /// The host's whole nftables ruleset, as `nft list ruleset` prints it.
    pub fn host_ruleset(&self) -> String {
        nft_ruleset(&self.host_name)
    }

    /// The host namespace through the backend underneath.
    pub fn host(&self) -> Box<dyn Netns> {
        self.faults
            .inner()
            .open(&NsRef::Current)
            .unwrap_or_else(|e| panic!("opening the host namespace: {e}"))
    }
}
