//! Every bad configuration gets its code and a message naming the field, and
//! changes nothing on disk.

mod host_local_util;
use host_local_util::*;

fn refused(ipam: &str, cni_args: &str) -> (u64, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(
        &ours(),
        "ADD",
        "c1",
        "eth0",
        &conf("1.0.0", &data, ipam),
        cni_args,
    );
    assert!(!data.exists(), "a refused ADD created {}", data.display());
    (out.code(), out.msg())
}

fn assert_refused(ipam: &str, cni_args: &str, code: u64, field: &str) {
    let (c, msg) = refused(ipam, cni_args);
    assert_eq!(c, code, "{ipam}: {msg}");
    assert!(
        msg.contains(field),
        "{ipam}: message {msg:?} does not name {field}"
    );
}

#[test]
fn missing_subnet_names_the_field() {
    assert_refused(
        r#""ranges":[[{"rangeStart":"10.0.0.5"}]]"#,
        "",
        7,
        "ipam.ranges[0][0].subnet",
    );
    assert_refused(r#""rangeStart":"10.0.0.5""#, "", 7, "ipam.subnet");
    assert_refused("", "", 7, "ipam.ranges");
}

#[test]
fn bad_cidr_names_the_field() {
    assert_refused(r#""subnet":"10.0.0/24""#, "", 7, "ipam.subnet");
    assert_refused(
        r#""ranges":[[{"subnet":"10.1.0.0/24"},{"subnet":"300.0.0.0/8"}]]"#,
        "",
        7,
        "ipam.ranges[0][1].subnet",
    );
    assert_refused(r#""subnet":"10.0.0.0/31""#, "", 7, "ipam.subnet");
}

#[test]
fn start_outside_subnet_names_the_field() {
    assert_refused(
        r#""subnet":"10.0.0.0/24","rangeStart":"10.0.1.5""#,
        "",
        7,
        "ipam.rangeStart",
    );
    assert_refused(
        r#""subnet":"10.0.0.0/24","rangeEnd":"10.0.1.5""#,
        "",
        7,
        "ipam.rangeEnd",
    );
}

#[test]
fn start_after_end_names_the_field() {
    assert_refused(
        r#""ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.0.50","rangeEnd":"10.0.0.10"}]]"#,
        "",
        7,
        "ipam.ranges[0][0].rangeStart",
    );
}

#[test]
fn gateway_outside_subnet_names_the_field() {
    assert_refused(
        r#""subnet":"10.0.0.0/24","gateway":"10.0.1.1""#,
        "",
        7,
        "ipam.gateway",
    );
}

#[test]
fn overlapping_ranges_name_the_field() {
    assert_refused(
        r#""ranges":[[{"subnet":"10.0.0.0/24"}],[{"subnet":"10.0.0.0/16"}]]"#,
        "",
        7,
        "ipam.ranges[1]",
    );
    assert_refused(
        r#""subnet":"10.0.0.0/24","ranges":[[{"subnet":"10.0.0.128/25"}]]"#,
        "",
        7,
        "ipam.ranges[0]",
    );
}

#[test]
fn wrong_types_and_bad_requests_name_the_field() {
    assert_refused(r#""subnet":24"#, "", 6, "ipam.subnet");
    assert_refused(
        r#""subnet":"10.0.0.0/24","routes":[{"dst":"x"}]"#,
        "",
        7,
        "ipam.routes[0].dst",
    );
    assert_refused(
        r#""subnet":"10.0.0.0/24""#,
        "IP=10.0.0.300",
        4,
        "CNI_ARGS IP",
    );
    assert_refused(
        r#""subnet":"10.0.0.0/24""#,
        "IgnoreUnknown=1;IP=10.9.9.9",
        7,
        "10.9.9.9",
    );
    assert_refused(r#""subnet":"10.0.0.0/24""#, "IP=10.0.0.1", 7, "gateway");
}

#[test]
fn missing_ipam_name_and_bad_json() {
    let dir = tempfile::tempdir().unwrap();
    let no_ipam = r#"{"cniVersion":"1.0.0","name":"n","type":"bridge"}"#;
    let out = add(&ours(), "c1", no_ipam);
    assert_eq!(out.code(), 7);
    assert!(out.msg().contains("ipam"), "{}", out.msg());
    let no_name = format!(
        r#"{{"cniVersion":"1.0.0","ipam":{{"subnet":"10.0.0.0/24","dataDir":"{}"}}}}"#,
        dir.path().display()
    );
    let out = add(&ours(), "c1", &no_name);
    assert_eq!(out.code(), 7);
    // skel refuses it before the plugin runs, with the reference's message.
    assert_eq!(out.msg(), "missing network name");
    let traversal = no_name.replace(r#""cniVersion""#, r#""name":"..","cniVersion""#);
    assert_eq!(add(&ours(), "c1", &traversal).code(), 7);
    assert_eq!(add(&ours(), "c1", "{not json").code(), 6);
}

#[test]
fn unreadable_resolv_conf_is_an_io_error_naming_the_field() {
    let (c, msg) = refused(
        r#""subnet":"10.0.0.0/24","resolvConf":"/nonexistent/resolv.conf""#,
        "",
    );
    assert_eq!(c, 5);
    assert!(msg.contains("ipam.resolvConf"), "{msg}");
}

#[test]
fn keys_spelled_in_another_case_are_read_as_the_reference_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let ipam = r#""Subnet":"10.9.0.0/24","rangeStart":"10.9.0.10","rangeend":"10.9.0.10","Gateway":"10.9.0.254""#;
    let out = add(&ours(), "c1", &conf("1.0.0", dir.path(), ipam));
    assert!(out.ok, "{}", out.stdout);
    let result: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(result["ips"][0]["address"], "10.9.0.10/24");
    assert_eq!(result["ips"][0]["gateway"], "10.9.0.254");
}

#[test]
fn del_releases_the_lease_under_a_config_that_add_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let added = add(
        &ours(),
        "c1",
        &conf("1.0.0", dir.path(), r#""subnet":"10.8.0.0/24""#),
    );
    assert!(added.ok, "{}", added.stdout);
    let lease = dir.path().join("testnet").join("10.8.0.2");
    assert!(lease.exists());
    // Gateway outside the subnet, a range starting on the network address and
    // a requested address in no range: ADD refuses each, DEL must not care.
    let changed = conf(
        "1.0.0",
        dir.path(),
        r#""subnet":"10.8.0.0/24","gateway":"10.9.9.9","ranges":[[{"subnet":"10.7.0.0/24","rangeStart":"10.7.0.0"}]]"#,
    );
    let refused = run(&ours(), "ADD", "c2", "eth0", &changed, "IP=192.0.2.1");
    assert_eq!(refused.code(), 7, "{}", refused.stdout);
    let deleted = run(&ours(), "DEL", "c1", "eth0", &changed, "IP=192.0.2.1");
    assert!(deleted.ok, "{}", deleted.stdout);
    assert!(!lease.exists(), "DEL left the lease behind");
}

/// A relative `dataDir` would follow whatever directory the runtime runs in:
/// ADD refuses it naming the field and writes nothing; DEL still succeeds.
#[test]
fn relative_data_dir_is_refused_by_add_but_not_by_del() {
    let cwd = tempfile::tempdir().unwrap();
    let conf = conf(
        "1.0.0",
        std::path::Path::new("relative/data"),
        r#""subnet":"10.9.0.0/24""#,
    );
    let run_in = |verb: &str| {
        let mut cmd = std::process::Command::new(ours());
        cmd.current_dir(cwd.path());
        run_with(cmd, verb, "c1", "eth0", &conf, "")
    };
    let out = run_in("ADD");
    assert_eq!(out.code(), 7, "{}", out.stdout);
    assert!(out.msg().starts_with("ipam.dataDir"), "{}", out.msg());
    assert!(!cwd.path().join("relative").exists(), "nothing written");
    assert!(run_in("DEL").ok, "DEL succeeds");
}
