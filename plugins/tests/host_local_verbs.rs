//! The host-local binary end to end: every verb, requested addresses from
//! every source, DNS and routes, leases the reference wrote, GC and STATUS.

mod host_local_util;
use host_local_util::*;
use std::fs;

fn net_dir(data: &std::path::Path) -> std::path::PathBuf {
    data.join("testnet")
}

#[test]
fn add_returns_addresses_routes_and_dns_at_the_config_version() {
    let dir = tempfile::tempdir().unwrap();
    let resolv = dir.path().join("resolv.conf");
    fs::write(&resolv, "nameserver 10.0.0.53\nsearch example.com\n").unwrap();
    let ipam = format!(
        r#""ranges":[[{{"subnet":"10.5.0.0/24"}}],[{{"subnet":"fd05::/64","gateway":"fd05::fe"}}]],"routes":[{{"dst":"0.0.0.0/0"}},{{"dst":"::/0","gw":"fd05::fe"}}],"resolvConf":"{}""#,
        resolv.display()
    );
    let c = conf("1.0.0", dir.path(), &ipam);
    let out = add(&ours(), "c1", &c);
    let v = out.json();
    assert_eq!(v["cniVersion"], "1.0.0");
    // With the gateway elsewhere, the range starts at the first address, as in the reference.
    assert_eq!(out.ips(), ["10.5.0.2/24", "fd05::1/64"]);
    assert_eq!(v["ips"][1]["gateway"], "fd05::fe");
    assert!(v["ips"][0].get("version").is_none());
    assert_eq!(v["routes"][1]["gw"], "fd05::fe");
    assert_eq!(v["dns"]["nameservers"][0], "10.0.0.53");
    assert_eq!(v["dns"]["search"][0], "example.com");

    let old = conf(
        "0.4.0",
        &dir.path().join("old"),
        r#""subnet":"10.6.0.0/24""#,
    );
    let v = add(&ours(), "c1", &old).json();
    assert_eq!(v["ips"][0]["version"], "4");
}

#[test]
fn requested_addresses_from_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let base = conf("1.0.0", dir.path(), r#""subnet":"10.5.0.0/24""#);
    let out = run(
        &ours(),
        "ADD",
        "c1",
        "eth0",
        &base,
        "IgnoreUnknown=1;IP=10.5.0.40",
    );
    assert_eq!(out.ips(), ["10.5.0.40/24"]);
    let with_args = base.replacen('{', r#"{"args":{"cni":{"ips":["10.5.0.41"]}},"#, 1);
    assert_eq!(add(&ours(), "c2", &with_args).ips(), ["10.5.0.41/24"]);
    let with_rt = base.replacen('{', r#"{"runtimeConfig":{"ips":["10.5.0.42/24"]},"#, 1);
    assert_eq!(add(&ours(), "c3", &with_rt).ips(), ["10.5.0.42/24"]);
    // Taken: a clear error, and nothing reserved for c4.
    let out = run(&ours(), "ADD", "c4", "eth0", &base, "IP=10.5.0.40");
    assert!(
        out.msg().contains("10.5.0.40 is not available"),
        "{}",
        out.msg()
    );
    // Two addresses, one per range set, comma-separated.
    let dual = conf(
        "1.0.0",
        &dir.path().join("dual"),
        r#""ranges":[[{"subnet":"10.7.0.0/24"}],[{"subnet":"fd07::/64"}]]"#,
    );
    let out = run(&ours(), "ADD", "c5", "eth0", &dual, "IP=fd07::9,10.7.0.9");
    assert_eq!(out.ips(), ["10.7.0.9/24", "fd07::9/64"]);
}

#[test]
fn del_is_idempotent_and_releases_everything() {
    let dir = tempfile::tempdir().unwrap();
    let c = conf(
        "1.0.0",
        dir.path(),
        r#""ranges":[[{"subnet":"10.5.0.0/24"}],[{"subnet":"fd05::/64"}]]"#,
    );
    add(&ours(), "c1", &c).ips();
    let dup = add(&ours(), "c1", &c);
    assert!(
        dup.msg().contains("duplicate allocation is not allowed"),
        "{}",
        dup.stdout
    );
    assert!(net_dir(dir.path()).join("10.5.0.2").exists());
    let out = del(&ours(), "c1", &c);
    assert!(out.ok && out.stdout.is_empty(), "{}", out.stdout);
    assert!(!net_dir(dir.path()).join("10.5.0.2").exists());
    assert!(!net_dir(dir.path()).join("fd05::2").exists());
    assert!(del(&ours(), "c1", &c).ok);
    assert!(del(&ours(), "never-added", &c).ok);
}

#[test]
fn check_uses_prev_result() {
    let dir = tempfile::tempdir().unwrap();
    let c = conf("1.0.0", dir.path(), r#""subnet":"10.5.0.0/24""#);
    let result = add(&ours(), "c1", &c).json();
    let with_prev = |r: &serde_json::Value| {
        let mut v: serde_json::Value = serde_json::from_str(&c).unwrap();
        v["prevResult"] = r.clone();
        v.to_string()
    };
    assert!(run(&ours(), "CHECK", "c1", "eth0", &with_prev(&result), "").ok);
    let mut wrong = result.clone();
    wrong["ips"][0]["address"] = "10.5.0.99/24".into();
    let out = run(&ours(), "CHECK", "c1", "eth0", &with_prev(&wrong), "");
    assert!(out.msg().contains("10.5.0.99"), "{}", out.stdout);
    assert!(!run(&ours(), "CHECK", "other", "eth0", &c, "").ok);
}

#[test]
fn leases_written_by_the_reference_are_found_released_and_gc_d() {
    let dir = tempfile::tempdir().unwrap();
    let c = conf("1.1.0", dir.path(), r#""subnet":"10.5.0.0/24""#);
    // Our index exists...
    add(&ours(), "mine", &c).ips();
    // ...then leases appear as the reference writes them, without it.
    let nd = net_dir(dir.path());
    fs::write(nd.join("10.5.0.50"), "ref1\r\neth0").unwrap();
    fs::write(nd.join("10.5.0.51"), "ref2\r\neth0").unwrap();
    fs::write(nd.join("10.5.0.52"), "legacy").unwrap();
    let dup = add(&ours(), "ref1", &c);
    assert!(
        dup.msg().contains("10.5.0.50 has been allocated to ref1"),
        "{}",
        dup.stdout
    );
    assert!(del(&ours(), "ref1", &c).ok);
    assert!(!nd.join("10.5.0.50").exists());
    assert!(del(&ours(), "legacy", &c).ok);
    assert!(!nd.join("10.5.0.52").exists());

    let gc = c.replacen(
        '{',
        r#"{"cni.dev/valid-attachments":[{"containerID":"mine","ifname":"eth0"}],"#,
        1,
    );
    assert!(run(&ours(), "GC", "", "", &gc, "").ok);
    assert!(!nd.join("10.5.0.51").exists());
    assert!(nd.join("10.5.0.2").exists());
}

#[test]
fn status_reports_an_exhausted_range_set_with_code_50() {
    let dir = tempfile::tempdir().unwrap();
    let c = conf("1.1.0", dir.path(), r#""subnet":"10.5.0.0/30""#);
    assert!(run(&ours(), "STATUS", "", "", &c, "").ok);
    add(&ours(), "c1", &c).ips();
    let out = run(&ours(), "STATUS", "", "", &c, "");
    assert_eq!(out.code(), 50, "{}", out.stdout);
    let full = add(&ours(), "c2", &c);
    assert!(
        full.msg()
            .contains("no IP addresses available in range set: 10.5.0.1-10.5.0.2"),
        "{}",
        full.stdout
    );
}

#[test]
fn index_is_not_rebuilt_while_only_we_write() {
    use cni_core::ipam::Attachment;
    use cni_plugins::host_local::ops;
    use cni_plugins::host_local::DiskStore;
    let dir = tempfile::tempdir().unwrap();
    let nd = net_dir(dir.path());
    fs::create_dir_all(&nd).unwrap();
    for i in 0..2000u32 {
        let ip = std::net::Ipv4Addr::from(0x0a05_0000 + 10 + i);
        fs::write(nd.join(ip.to_string()), format!("pre{i}\r\neth0")).unwrap();
    }
    let sets = cni_plugins::host_local::config::parse(
        conf("1.0.0", dir.path(), r#""subnet":"10.5.0.0/16""#).as_bytes(),
        "",
    )
    .unwrap()
    .ranges;
    let s = DiskStore::open(dir.path(), "testnet").unwrap();
    assert!(
        s.rebuilt_index(),
        "the first open must index the existing leases"
    );
    s.finish().unwrap();
    for i in 0..5 {
        let mut s = DiskStore::open(dir.path(), "testnet").unwrap();
        assert!(!s.rebuilt_index(), "open {i} rebuilt the index");
        let att = Attachment::new(format!("pre{}", i * 7), "eth0");
        ops::release(&mut s, &att).unwrap();
        ops::allocate(
            &sets,
            &mut s,
            &Attachment::new(format!("new{i}"), "eth0"),
            &[],
        )
        .unwrap();
        s.finish().unwrap();
    }
    assert!(!nd.join("10.5.0.10").exists());
    assert!(!nd.join("10.5.0.38").exists());
    // A lease file removed behind our back is noticed.
    fs::remove_file(nd.join("10.5.0.11")).unwrap();
    let s = DiskStore::open(dir.path(), "testnet").unwrap();
    assert!(s.rebuilt_index());
}
