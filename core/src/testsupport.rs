//! Skipping tests that need what this machine lacks — loudly, and never in CI.
//!
//! A test that needs root (real namespaces) or an outside tool calls
//! [`require`]: it returns true when the test can run; otherwise it prints a
//! `SKIPPED` banner, or panics when `CNI_TEST_REQUIRE_PRIVILEGED=1` (CI sets
//! it: there, nothing skips).

pub const REQUIRE_ENV: &str = "CNI_TEST_REQUIRE_PRIVILEGED";

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// True when `available`; else skip loudly (or fail under `REQUIRE_ENV=1`).
pub fn require(test: &str, what: &str, available: bool) -> bool {
    if available {
        return true;
    }
    if std::env::var(REQUIRE_ENV).as_deref() == Ok("1") {
        panic!("{test}: needs {what}, and {REQUIRE_ENV}=1 forbids skipping");
    }
    eprintln!("\n*** SKIPPED (needs {what}): {test} ***\n");
    false
}

/// For tests on real network namespaces.
pub fn privileged(test: &str) -> bool {
    require(test, "root", is_root())
}
