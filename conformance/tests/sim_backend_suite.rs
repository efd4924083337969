//! The backend conformance suite on the simulator: one test per kernel rule.

use cni_backend_sim::SimKernel;
use cni_conformance::backend_suite::SuiteEnv;
use cni_core::net::{NetBackend, NsRef};

struct SimEnv {
    kernel: SimKernel,
    host: NsRef,
    made: usize,
}

impl SimEnv {
    fn new() -> Self {
        let kernel = SimKernel::new();
        // The suite's host is a path namespace, as on the real kernel.
        let host = kernel.add_netns("/var/run/netns/suite-host").unwrap();
        SimEnv {
            kernel,
            host,
            made: 0,
        }
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
            .unwrap()
    }
    fn absent_netns(&self) -> NsRef {
        NsRef::path("/var/run/netns/suite-absent")
    }
}

cni_conformance::backend_suite_tests!(SimEnv::new());

#[test]
fn run_all_passes_on_the_simulator() {
    cni_conformance::backend_suite::run_all(SimEnv::new);
}
