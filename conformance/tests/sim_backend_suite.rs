//! The backend conformance suite on the simulator: one test per kernel rule.

use cni_conformance::backend_suite::SimEnv;

cni_conformance::backend_suite_tests!(SimEnv::new());

#[test]
fn run_all_passes_on_the_simulator() {
    cni_conformance::backend_suite::run_all(SimEnv::new);
}
