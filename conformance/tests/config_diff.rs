//! The configuration differential fuzzer, bounded: fixed seeds and a bounded
//! number of cases per plugin through our binary and the reference's (about
//! a minute for the IPAM and main plugins, 20 s for the chained ones). Every
//! difference must be on the reviewed list (`config_diff::deliberate`), and
//! enough cases must agree outright.

use cni_conformance::config_diff::{fuzz, seeds, targets, Report};
use std::path::Path;

const SEED: u64 = 20240601;

fn required() -> bool {
    std::env::var("CNI_TEST_REQUIRE_PRIVILEGED").as_deref() == Ok("1")
}

/// Whether `plugin`'s reference (and root, for the main plugins) is here;
/// a skip is a failure under `CNI_TEST_REQUIRE_PRIVILEGED=1`.
fn can_run(plugin: &str, needs_root: bool) -> bool {
    let reference = Path::new(targets::REFERENCE_DIR).join(plugin);
    let root = !needs_root || cni_conformance::realns::privileged(plugin);
    if reference.exists() && root {
        return true;
    }
    assert!(
        !required(),
        "{plugin}: needs {} and root",
        reference.display()
    );
    eprintln!("SKIPPED (needs {} and root): {plugin}", reference.display());
    false
}

/// `min_same_per_10`: how many cases in ten must agree outright (host-local
/// is lower: its DEL of an ID never added is a reviewed difference).
fn run(plugin: &str, cases: usize, min_same_per_10: usize) -> Report {
    let mut target = targets::by_name(plugin).unwrap();
    let report = fuzz(target.as_mut(), cases, SEED).unwrap();
    let unexplained: Vec<String> = report
        .unexplained
        .iter()
        .map(|(c, d)| {
            format!(
                "{:?} at step {} {}: {}\n  config {}\n  CNI_IFNAME {} CNI_ARGS {:?}",
                d.kind, d.step, d.verb, d.detail, c.config, c.ifname, c.cni_args
            )
        })
        .collect();
    assert!(
        unexplained.is_empty(),
        "{plugin}: differences not on the reviewed list:\n{}",
        unexplained.join("\n")
    );
    // The run must exercise agreement, not only reviewed differences.
    assert!(
        report.same * 10 > report.cases * min_same_per_10,
        "{plugin}: {report:?}"
    );
    assert_eq!(report.compared(), cases, "{plugin}: {report:?}");
    report
}

#[test]
fn host_local_configs_differ_from_the_reference_only_where_reviewed() {
    if can_run("host-local", false) {
        run("host-local", 300, 1);
    }
}

#[test]
fn static_configs_differ_from_the_reference_only_where_reviewed() {
    if can_run("static", false) {
        run("static", 300, 4);
    }
}

/// One test for the three: they share the machine's namespaces budget. A
/// case ends at its first difference, and a generated config of the wrong
/// type stops many at DEL (ours succeeds, the reference cannot load it), so
/// fewer cases agree to the end than for the IPAM plugins.
#[test]
fn main_plugin_configs_differ_from_the_reference_only_where_reviewed() {
    for plugin in ["bridge", "ptp", "macvlan"] {
        if can_run(plugin, true) {
            run(plugin, 25, 2);
        }
    }
}

/// portmap, firewall, tuning, bandwidth and sbr after a synthetic main
/// plugin, in namespaces (about 4 s each). Many generated configs are
/// refused by both ADDs and then part at DEL (ours deletes, the
/// reference cannot load the config), so fewer cases agree to the end.
#[test]
fn chained_plugin_configs_differ_from_the_reference_only_where_reviewed() {
    for plugin in ["portmap", "firewall", "tuning", "bandwidth", "sbr"] {
        if can_run(plugin, true) {
            run(plugin, 50, 1);
        }
    }
}

#[test]
fn the_reference_test_configurations_are_used_as_seeds() {
    if !required() && !Path::new(seeds::REFERENCE_TESTS).exists() {
        eprintln!("SKIPPED (needs golang-github-containernetworking-plugins-dev)");
        return;
    }
    let target =
        cni_conformance::config_diff::host_local::HostLocal::new("unused".into(), "unused".into());
    assert!(
        target.has_seeds(),
        "no configurations read from {}",
        seeds::REFERENCE_TESTS
    );
}
