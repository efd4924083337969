//! The configuration differential fuzzer, bounded: a fixed seed and a few
//! hundred host-local cases through our binary and the reference's. Every
//! difference must be on the reviewed list (`config_diff::deliberate`).

use cni_conformance::config_diff::{fuzz, host_local::HostLocal};
use cni_conformance::realns::our_plugin;
use std::path::Path;

const REFERENCE: &str = "/usr/lib/cni/host-local";

#[test]
fn host_local_configs_differ_from_the_reference_only_where_reviewed() {
    if !Path::new(REFERENCE).exists() {
        assert!(
            std::env::var("CNI_TEST_REQUIRE_PRIVILEGED").as_deref() != Ok("1"),
            "{REFERENCE} is missing and CNI_TEST_REQUIRE_PRIVILEGED=1"
        );
        eprintln!("SKIPPED (needs {REFERENCE}): host_local_configs_differ_from_the_reference_only_where_reviewed");
        return;
    }
    let target = HostLocal::new(our_plugin("host-local"), REFERENCE.into());
    let report = fuzz(&target, 400, 20240601).unwrap();
    let unexplained: Vec<String> = report
        .unexplained
        .iter()
        .map(|(c, d)| {
            format!(
                "{:?} at step {} {}: {}\n  config {}\n  CNI_ARGS {:?}",
                d.kind, d.step, d.verb, d.detail, c.config, c.cni_args
            )
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "differences not on the reviewed list:\n{}",
        unexplained.join("\n")
    );
    // The run must exercise agreement, not only deliberate differences.
    assert!(report.same > report.cases / 10, "{report:?}");
}

#[test]
fn the_reference_test_configurations_are_used_as_seeds() {
    if std::env::var("CNI_TEST_REQUIRE_PRIVILEGED").as_deref() != Ok("1")
        && !Path::new(cni_conformance::config_diff::seeds::REFERENCE_TESTS).exists()
    {
        eprintln!("SKIPPED (needs golang-github-containernetworking-plugins-dev)");
        return;
    }
    let target = HostLocal::new(our_plugin("host-local"), REFERENCE.into());
    assert!(
        target.has_seeds(),
        "no configurations read from {}",
        cni_conformance::config_diff::seeds::REFERENCE_TESTS
    );
}
