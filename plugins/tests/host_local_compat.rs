//! What a node that switches to our host-local keeps: every attachment stays
//! deletable whatever its configuration became, and a configuration means
//! what it meant to the reference (or is refused on ADD, changing nothing).

mod host_local_util;
use host_local_util::*;
use std::path::Path;

const GOOD: &str = r#""subnet":"10.8.0.0/24""#;

/// `conf` with `top` (`"key":value,...`) added to the top-level object.
fn conf_with(version: &str, data: &Path, ipam: &str, top: &str) -> String {
    let base = conf(version, data, ipam);
    format!("{},{top}}}", &base[..base.len() - 1])
}

/// ADDs `c1` under a good config, then DELs it under `changed` (with
/// `cni_args`): the DEL must succeed and free the lease.
fn assert_del_frees_lease_under(changed: &str, cni_args: &str) {
    assert_del_frees_lease(changed, "", cni_args)
}

/// The same, with `top` added to the changed config's top-level object.
fn assert_del_frees_lease_under_top(changed: &str, top: &str) {
    assert_del_frees_lease(changed, top, "")
}

fn assert_del_frees_lease(changed: &str, top: &str, cni_args: &str) {
    let dir = tempfile::tempdir().unwrap();
    let added = add(&ours(), "c1", &conf("1.0.0", dir.path(), GOOD));
    assert!(added.ok, "{}", added.stdout);
    let lease = dir.path().join("testnet").join("10.8.0.2");
    assert!(lease.exists());
    let changed = match top {
        "" => conf("1.0.0", dir.path(), changed),
        top => conf_with("1.0.0", dir.path(), changed, top),
    };
    let deleted = run(&ours(), "DEL", "c1", "eth0", &changed, cni_args);
    assert!(deleted.ok, "DEL under {changed}: {}", deleted.stdout);
    assert!(!lease.exists(), "DEL under {changed} left the lease");
}

/// Lease files are named by their address.
fn lease_files(data: &Path) -> usize {
    match std::fs::read_dir(data.join("testnet")) {
        Ok(dir) => dir
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .parse::<std::net::IpAddr>()
                    .is_ok()
            })
            .count(),
        Err(_) => 0,
    }
}

#[test]
fn del_succeeds_when_cni_args_requests_an_address_outside_every_range() {
    assert_del_frees_lease_under(GOOD, "IP=192.0.2.1");
}

#[test]
fn del_succeeds_when_args_cni_ips_requests_an_address_outside_every_range() {
    assert_del_frees_lease_under_top(GOOD, r#""args":{"cni":{"ips":["192.0.2.1"]}}"#);
}

#[test]
fn del_succeeds_when_runtime_config_requests_the_gateway() {
    assert_del_frees_lease_under_top(GOOD, r#""runtimeConfig":{"ips":["10.8.0.1"]}"#);
}

#[test]
fn del_succeeds_when_range_start_is_the_network_address() {
    assert_del_frees_lease_under(r#""subnet":"10.8.0.0/24","rangeStart":"10.8.0.0""#, "");
}

#[test]
fn del_succeeds_when_gateway_is_the_broadcast_address() {
    assert_del_frees_lease_under(r#""subnet":"10.8.0.0/24","gateway":"10.8.0.255""#, "");
}

#[test]
fn del_succeeds_when_gateway_is_outside_the_subnet() {
    assert_del_frees_lease_under(r#""subnet":"10.8.0.0/24","gateway":"10.9.9.9""#, "");
}

#[test]
fn del_succeeds_when_legacy_range_keys_sit_next_to_ranges() {
    assert_del_frees_lease_under(
        r#""subnet":"10.8.0.0/24","ranges":[[{"subnet":"10.8.0.0/24"}]]"#,
        "",
    );
}

#[test]
fn del_succeeds_when_the_subnet_has_host_bits_or_leading_zeros() {
    assert_del_frees_lease_under(r#""subnet":"10.8.0.7/24""#, "");
    assert_del_frees_lease_under(r#""subnet":"010.8.0.0/24""#, "");
}

#[test]
fn gc_succeeds_under_a_config_that_add_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    assert!(add(&ours(), "c1", &conf("1.1.0", dir.path(), GOOD)).ok);
    let bad = conf_with(
        "1.1.0",
        dir.path(),
        r#""subnet":"10.8.0.7/24","gateway":"10.9.9.9""#,
        r#""cni.dev/valid-attachments":[]"#,
    );
    let gc = run(&ours(), "GC", "", "", &bad, "IP=192.0.2.1");
    assert!(gc.ok, "{}", gc.stdout);
    assert_eq!(
        lease_files(dir.path()),
        0,
        "GC kept a lease no attachment holds"
    );
}

#[test]
fn add_refuses_a_subnet_with_host_bits_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = add(
        &ours(),
        "c1",
        &conf("1.0.0", dir.path(), r#""subnet":"192.0.2.12/24""#),
    );
    assert_eq!(out.code(), 7);
    assert!(out.msg().starts_with("ipam.subnet:"), "{}", out.msg());
    assert!(out.msg().contains("host bits"), "{}", out.msg());
    assert_eq!(lease_files(dir.path()), 0);
}

#[test]
fn add_refuses_an_ipv4_mapped_ipv6_subnet() {
    let dir = tempfile::tempdir().unwrap();
    let ipam = r#""ranges":[[{"subnet":"::ffff:10.0.132.0/124"}]]"#;
    let out = add(&ours(), "c1", &conf("1.0.0", dir.path(), ipam));
    assert_eq!(out.code(), 7, "{}", out.stdout);
    assert!(
        out.msg().starts_with("ipam.ranges[0][0].subnet:"),
        "{}",
        out.msg()
    );
}

#[test]
fn add_refuses_leading_zero_octets_in_cidrs_and_requested_addresses() {
    let dir = tempfile::tempdir().unwrap();
    for (ipam, args) in [
        (r#""subnet":"010.1.2.0/24""#, ""),
        (
            r#""subnet":"10.1.2.0/24","routes":[{"dst":"00.0.0.0/0"}]"#,
            "",
        ),
        (r#""subnet":"10.1.2.0/24""#, "IP=10.1.2.010"),
    ] {
        let out = run(
            &ours(),
            "ADD",
            "c1",
            "eth0",
            &conf("1.0.0", dir.path(), ipam),
            args,
        );
        assert!(!out.ok, "{ipam} {args}: {}", out.stdout);
        assert!(out.msg().contains("invalid"), "{}", out.msg());
    }
    let top = r#""runtimeConfig":{"ips":["10.1.2.08"]}"#;
    let c = conf_with("1.0.0", dir.path(), r#""subnet":"10.1.2.0/24""#, top);
    let out = add(&ours(), "c1", &c);
    assert!(!out.ok, "{c}: {}", out.stdout);
    assert!(out.msg().contains("invalid"), "{}", out.msg());
    assert_eq!(lease_files(dir.path()), 0);
}

#[test]
fn add_accepts_a_prefix_length_with_a_leading_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = add(
        &ours(),
        "c1",
        &conf("1.0.0", dir.path(), r#""subnet":"10.1.2.0/024""#),
    );
    assert_eq!(out.ips(), vec!["10.1.2.2/24"]);
}

#[test]
fn add_with_empty_version_and_two_ipv4_range_sets_is_refused_before_reserving() {
    let dir = tempfile::tempdir().unwrap();
    let ipam = r#""ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"10.2.0.0/24"}]]"#;
    let out = add(&ours(), "c1", &conf("", dir.path(), ipam));
    assert_eq!(out.code(), 7, "{}", out.stdout);
    assert!(
        out.msg().contains("more than 1 address per family"),
        "{}",
        out.msg()
    );
    assert_eq!(
        lease_files(dir.path()),
        0,
        "a refused ADD reserved addresses"
    );
}

#[test]
fn cni_args_key_unknown_to_host_local_is_refused_unless_ignore_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let c = conf("1.0.0", dir.path(), GOOD);
    let refused = run(&ours(), "ADD", "c1", "eth0", &c, "K8S_POD_NAME=web");
    assert!(!refused.ok, "{}", refused.stdout);
    assert!(
        refused.msg().contains("K8S_POD_NAME=web"),
        "{}",
        refused.msg()
    );
    assert_eq!(lease_files(dir.path()), 0);
    let accepted = run(
        &ours(),
        "ADD",
        "c1",
        "eth0",
        &c,
        "IgnoreUnknown=1;K8S_POD_NAME=web",
    );
    assert_eq!(accepted.ips(), vec!["10.8.0.2/24"]);
}

const EXTRA_ROUTE: &str =
    r#""subnet":"10.1.2.0/24","routes":[{"dst":"0.0.0.0/0","mtu":1400,"table":"main"}]"#;

#[test]
fn route_fields_of_1_1_0_in_an_older_config_are_neither_checked_nor_returned() {
    let dir = tempfile::tempdir().unwrap();
    for version in ["0.3.1", "0.4.0", "1.0.0"] {
        let out = run(
            &ours(),
            "ADD",
            version,
            "eth0",
            &conf(version, dir.path(), EXTRA_ROUTE),
            "",
        );
        assert!(out.ok, "{version}: {}", out.stdout);
        assert_eq!(
            out.json()["routes"],
            serde_json::json!([{"dst":"0.0.0.0/0"}]),
            "{version}"
        );
    }
}

#[test]
fn route_fields_of_1_1_0_are_checked_and_returned_in_a_1_1_0_config() {
    let dir = tempfile::tempdir().unwrap();
    let bad = add(&ours(), "c1", &conf("1.1.0", dir.path(), EXTRA_ROUTE));
    assert_eq!(bad.code(), 6, "{}", bad.stdout);
    assert!(bad.msg().contains("ipam.routes[0].table"), "{}", bad.msg());
    let good = r#""subnet":"10.1.2.0/24","routes":[{"dst":"0.0.0.0/0","mtu":1400}]"#;
    let out = add(&ours(), "c1", &conf("1.1.0", dir.path(), good));
    assert_eq!(out.json()["routes"][0]["mtu"], 1400);
}
