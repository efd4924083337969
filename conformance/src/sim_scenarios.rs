//! The main plugins in process ([`InProcess`]) on the kernel simulator,
//! reached through a [`FaultyBackend`] so tests can fail any operation.

use crate::faults::{FaultyBackend, NetOp};
pub use crate::in_process::{
    add_uplink, gc_keeping, with_prev_result, Attachment, Failure, InProcess, NETNS_DIR,
};
use crate::plugin_corpus::Scenario;
use crate::plugin_state::{attachment_owned, host_and_containers};
use cni_backend_sim::SimKernel;
use cni_core::net::{NetBackend, NetErrorKind, Netns, NsRef};
use cni_core::skel::Outcome;
use serde_json::Value;
use std::path::PathBuf;

/// A simulated kernel plus host-local's scratch `dataDir`.
pub struct SimWorld {
    pub kernel: SimKernel,
    /// The kernel as the plugins reach it: fault injection and the op log.
    pub faults: FaultyBackend<SimKernel>,
    plugins: InProcess,
}

impl Default for SimWorld {
    fn default() -> Self {
        Self::new()
    }
}

impl SimWorld {
    pub fn new() -> Self {
        let kernel = SimKernel::new();
        SimWorld {
            faults: FaultyBackend::new(kernel.clone()),
            kernel,
            plugins: InProcess::new(),
        }
    }

    /// A fresh kernel set up for `scenario`: its uplink when it needs one,
    /// container `ctr1`, and its config at `version`.
    pub fn for_scenario(scenario: &Scenario, version: &str) -> (SimWorld, Attachment, Value) {
        let world = SimWorld::new();
        if scenario.needs_uplink {
            world.add_uplink("uplink0", "uplink1");
        }
        let att = Attachment::new("ctr1");
        world.add_container(&att);
        let conf = world.netconf(&(scenario.conf)(), version);
        (world, att, conf)
    }

    /// A fresh kernel with the containers `ids` attached by `main` (a main
    /// plugin's config at 1.0.0, e.g. bridge with host-local), each with
    /// its ADD result: the `prevResult` of a plugin chained after it.
    pub fn with_attached(main: &Value, ids: &[&str]) -> (SimWorld, Vec<(Attachment, Value)>) {
        let world = SimWorld::new();
        let conf = world.netconf(main, "1.0.0");
        let attached = ids
            .iter()
            .map(|id| {
                let att = Attachment::new(id);
                world.add_container(&att);
                let prev = world
                    .call("ADD", &conf, &att)
                    .unwrap_or_else(|e| panic!("ADD of {id} on {main}: {e}"));
                (att, prev)
            })
            .collect();
        (world, attached)
    }

    /// Each backend operation of an ADD of `conf` failed in turn. The ADD
    /// runs once to count its operations (returned, for the caller to look
    /// for its own) and is deleted; then, for each `n`, the ADD with its
    /// `n`th operation failing must fail with code 5, and `after(n)` looks
    /// at what it left, faults cleared, before the next.
    pub fn fail_each_op_of_add(
        &self,
        conf: &Value,
        att: &Attachment,
        mut after: impl FnMut(u64),
    ) -> Vec<NetOp> {
        let first = self.faults.op_count();
        self.call("ADD", conf, att)
            .unwrap_or_else(|e| panic!("ADD: {e}"));
        let ops: Vec<NetOp> = self.faults.ops()[first as usize..]
            .iter()
            .map(|o| o.op)
            .collect();
        self.call("DEL", conf, att)
            .unwrap_or_else(|e| panic!("DEL: {e}"));
        for n in 1..=ops.len() as u64 {
            self.faults.fail_nth(n, NetErrorKind::Other);
            let e = self
                .call("ADD", conf, att)
                .expect_err("an ADD with a failed operation");
            assert_eq!(e.code, 5, "op {n}: {}", e.msg);
            self.faults.clear_faults();
            after(n);
        }
        ops
    }

    /// Makes the container's namespace (as the runtime does before ADD).
    pub fn add_container(&self, att: &Attachment) {
        self.kernel
            .add_netns(&att.netns)
            .expect("creating a container namespace");
    }

    pub fn host(&self) -> Box<dyn Netns> {
        self.kernel.open(&NsRef::Current).expect("opening the host")
    }

    /// The container's namespace, for tests that look or tamper inside it.
    pub fn container(&self, att: &Attachment) -> Box<dyn Netns> {
        self.kernel
            .open(&NsRef::path(&att.netns))
            .expect("opening a container namespace")
    }

    /// A link in the host for macvlan to sit on (see [`add_uplink`]).
    pub fn add_uplink(&self, name: &str, peer: &str) {
        add_uplink(&*self.host(), name, peer);
    }

    /// The config as the runtime hands it over (see [`InProcess::netconf`]).
    pub fn netconf(&self, conf: &Value, version: &str) -> Value {
        self.plugins.netconf(conf, version)
    }

    /// Runs one verb through the fault injector on the simulator.
    pub fn run(&self, verb: &str, conf: &Value, att: &Attachment) -> Outcome {
        self.plugins.run(&self.faults, verb, conf, att)
    }

    /// Runs a verb and reads its answer (see [`InProcess::call`]).
    pub fn call(&self, verb: &str, conf: &Value, att: &Attachment) -> Result<Value, Failure> {
        self.plugins.call(&self.faults, verb, conf, att)
    }

    /// An ADD that must fail, leaving the kernel exactly as it was and no
    /// lease behind; its failure.
    pub fn add_refused(&self, conf: &Value, att: &Attachment) -> Failure {
        let before = self.kernel.snapshot();
        let e = self.call("ADD", conf, att).expect_err("ADD must fail");
        assert_eq!(
            self.kernel.snapshot(),
            before,
            "a failed ADD left something"
        );
        assert!(self.leases().is_empty(), "lease kept: {:?}", self.leases());
        e
    }

    /// host-local's leases on disk (see [`InProcess::leases`]).
    pub fn leases(&self) -> Vec<PathBuf> {
        self.plugins.leases()
    }

    /// The leases by name (see [`InProcess::lease_names`]).
    pub fn lease_names(&self) -> Vec<String> {
        self.plugins.lease_names()
    }

    /// The host and the containers as [`world_state`] renders them.
    pub fn state(&self, containers: &[&Attachment]) -> String {
        host_and_containers(&self.kernel, containers, &self.lease_names())
            .unwrap_or_else(|e| panic!("reading the simulator's state: {e}"))
    }

    /// What a failed ADD must not leave ([`attachment_owned`]).
    pub fn attachment_owned(&self, containers: &[&Attachment]) -> String {
        attachment_owned(&self.kernel, containers, &self.lease_names())
            .unwrap_or_else(|e| panic!("reading the simulator's state: {e}"))
    }

    /// Another container's ADD and DEL, so the network's shared host objects
    /// (bridge, gateway addresses, forwarding) exist as on a busy node.
    pub fn warm_up(&self, conf: &Value) {
        let other = Attachment::new("warm");
        self.add_container(&other);
        self.call("ADD", conf, &other)
            .unwrap_or_else(|e| panic!("warm-up ADD failed: {e}"));
        self.call("DEL", conf, &other)
            .unwrap_or_else(|e| panic!("warm-up DEL failed: {e}"));
    }

    pub fn scratch_path(&self, name: &str) -> PathBuf {
        self.plugins.scratch_path(name)
    }
}
