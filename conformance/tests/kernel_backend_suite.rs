//! The backend conformance suite on the real kernel through the Linux backend:
//! the same rules the simulator passes, one test per rule, each in namespaces
//! of its own (never the machine's own). Needs root; skips loudly without it,
//! and fails instead under CNI_TEST_REQUIRE_PRIVILEGED=1 (CI).

use cni_conformance::backend_suite::KernelEnv;

macro_rules! kernel_tests {
    ((); $($rule:ident),* $(,)?) => {
        $(
            #[test]
            fn $rule() {
                if !cni_core::testsupport::privileged(stringify!($rule)) {
                    return;
                }
                let mut env = KernelEnv::new();
                cni_conformance::backend_suite::$rule(&mut env);
            }
        )*
    };
}

cni_conformance::backend_suite_rules!([kernel_tests]());
