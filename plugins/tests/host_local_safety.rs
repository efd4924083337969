//! host-local's data directory under hostile or failing conditions, through
//! the binary as a runtime runs it: a DEL that failed is finished by a retry,
//! nothing is written through a symlink, resolvConf cannot exhaust memory.

mod host_local_util;
use host_local_util::*;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One address only, so a leaked lease shows as exhaustion.
const ONE_ADDRESS: &str =
    r#""ranges":[[{"subnet":"10.9.0.0/24","rangeStart":"10.9.0.7","rangeEnd":"10.9.0.7"}]]"#;

fn net_dir(data: &Path) -> PathBuf {
    data.join("testnet")
}

/// A file that must never change, and the network's directory, created.
fn victim_and_net_dir(data: &Path) -> (PathBuf, PathBuf) {
    let victim = data.join("victim");
    fs::write(&victim, "precious").unwrap();
    let nd = net_dir(data);
    fs::create_dir_all(&nd).unwrap();
    (victim, nd)
}

fn chattr(flag: &str, path: &Path) -> bool {
    Command::new("chattr")
        .arg(flag)
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether this file system and user can make files immutable; a loud skip
/// otherwise (a failure when CNI_TEST_REQUIRE_PRIVILEGED=1).
fn immutable_supported(dir: &Path, test: &str) -> bool {
    let probe = dir.join("probe");
    fs::write(&probe, "x").unwrap();
    let ok = chattr("+i", &probe) && chattr("-i", &probe);
    fs::remove_file(&probe).unwrap();
    if !ok {
        if std::env::var("CNI_TEST_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
            panic!("{test}: chattr +i is unavailable and CNI_TEST_REQUIRE_PRIVILEGED=1");
        }
        eprintln!("SKIPPED (needs root and chattr +i on the temp dir): {test}");
    }
    ok
}

#[test]
fn retried_del_frees_a_lease_whose_first_removal_failed() {
    let dir = tempfile::tempdir().unwrap();
    if !immutable_supported(
        dir.path(),
        "retried_del_frees_a_lease_whose_first_removal_failed",
    ) {
        return;
    }
    let c = conf("1.0.0", dir.path(), ONE_ADDRESS);
    assert_eq!(add(&ours(), "c1", &c).ips(), ["10.9.0.7/24"]);
    let lease = net_dir(dir.path()).join("10.9.0.7");
    assert!(chattr("+i", &lease));
    let failed = del(&ours(), "c1", &c);
    assert!(chattr("-i", &lease));
    assert_eq!(failed.code(), 5, "{}", failed.stdout);
    assert!(failed.msg().contains("10.9.0.7"), "{}", failed.stdout);

    let retried = del(&ours(), "c1", &c);
    assert!(retried.ok, "{}", retried.stdout);
    assert!(!lease.exists(), "the retried DEL left the lease");
    assert_eq!(
        add(&ours(), "c2", &c).ips(),
        ["10.9.0.7/24"],
        "the address was never freed"
    );
}

#[test]
fn add_refuses_a_symlinked_last_reserved_ip_and_leaves_its_target_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (victim, nd) = victim_and_net_dir(dir.path());
    let link = nd.join("last_reserved_ip.0");
    symlink(&victim, &link).unwrap();
    let out = add(
        &ours(),
        "c1",
        &conf("1.0.0", dir.path(), r#""subnet":"10.9.0.0/24""#),
    );
    assert_eq!(out.code(), 5, "{}", out.stdout);
    assert!(
        out.msg().contains(&link.display().to_string()),
        "{}",
        out.stdout
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn requested_address_replaces_a_symlinked_last_reserved_ip_without_writing_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let (victim, nd) = victim_and_net_dir(dir.path());
    symlink(&victim, nd.join("last_reserved_ip.0")).unwrap();
    let c = conf("1.0.0", dir.path(), r#""subnet":"10.9.0.0/24""#);
    // A requested address skips reading the record; writing it must still
    // not follow the link.
    let out = run(&ours(), "ADD", "c1", "eth0", &c, "IP=10.9.0.9");
    assert_eq!(out.ips(), ["10.9.0.9/24"]);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn symlinked_lock_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (victim, nd) = victim_and_net_dir(dir.path());
    symlink(&victim, nd.join("lock")).unwrap();
    let out = add(
        &ours(),
        "c1",
        &conf("1.0.0", dir.path(), r#""subnet":"10.9.0.0/24""#),
    );
    assert_eq!(out.code(), 5, "{}", out.stdout);
    assert!(out.msg().contains("lock"), "{}", out.stdout);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
}

#[test]
fn symlinked_network_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    symlink(&elsewhere, net_dir(dir.path())).unwrap();
    let out = add(
        &ours(),
        "c1",
        &conf("1.0.0", dir.path(), r#""subnet":"10.9.0.0/24""#),
    );
    assert_eq!(out.code(), 5, "{}", out.stdout);
    assert!(out.msg().contains("testnet"), "{}", out.stdout);
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn symlinked_index_files_are_replaced_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let c = conf("1.0.0", dir.path(), r#""subnet":"10.9.0.0/24""#);
    add(&ours(), "c1", &c).ips();
    let index = net_dir(dir.path()).join(".cni-rs-index");
    let victim = dir.path().join("victim");
    fs::write(&victim, "precious").unwrap();
    for name in ["seal", "c1~eth0", "c2~eth0"] {
        let _ = fs::remove_file(index.join(name));
        symlink(&victim, index.join(name)).unwrap();
    }
    add(&ours(), "c2", &c).ips();
    assert!(del(&ours(), "c1", &c).ok);
    assert!(del(&ours(), "c2", &c).ok);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!net_dir(dir.path()).join("10.9.0.1").exists());
    assert!(!net_dir(dir.path()).join("10.9.0.2").exists());
}

#[test]
fn unreadable_entry_in_the_network_directory_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let nd = net_dir(dir.path());
    fs::create_dir_all(&nd).unwrap();
    // Named like leases but not readable as one: the reference skips them.
    fs::create_dir(nd.join("10.9.0.1")).unwrap();
    symlink("/nonexistent", nd.join("10.9.0.2")).unwrap();
    let c = conf("1.0.0", dir.path(), r#""subnet":"10.9.0.0/24""#);
    assert_eq!(add(&ours(), "c1", &c).ips(), ["10.9.0.3/24"]);
    assert!(del(&ours(), "c1", &c).ok);
    assert!(!nd.join("10.9.0.3").exists());
    // GC reads every lease.
    let gc = run(&ours(), "GC", "", "", &gc_conf(dir.path()), "");
    assert!(gc.ok, "{}", gc.stdout);
}

fn gc_conf(data_dir: &Path) -> String {
    format!(
        r#"{{"cniVersion":"1.1.0","name":"testnet","type":"bridge","cni.dev/valid-attachments":[],"ipam":{{"type":"host-local","dataDir":"{}","subnet":"10.9.0.0/24"}}}}"#,
        data_dir.display()
    )
}

fn resolv_conf_add(resolv: &Path) -> Out {
    let dir = tempfile::tempdir().unwrap();
    let ipam = format!(
        r#""subnet":"10.9.0.0/24","resolvConf":"{}""#,
        resolv.display()
    );
    add(&ours(), "c1", &conf("1.0.0", dir.path(), &ipam))
}

#[test]
fn resolv_conf_that_is_a_device_is_refused_without_reading_it() {
    let out = resolv_conf_add(Path::new("/dev/zero"));
    assert_eq!(out.code(), 7, "{}", out.stdout);
    assert!(out.msg().starts_with("ipam.resolvConf"), "{}", out.stdout);
}

#[test]
fn resolv_conf_larger_than_the_cap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("resolv.conf");
    let line = "nameserver 10.0.0.1\n";
    fs::write(&big, line.repeat((2 << 20) / line.len())).unwrap();
    let out = resolv_conf_add(&big);
    assert_eq!(out.code(), 7, "{}", out.stdout);
    assert!(out.msg().contains("larger than"), "{}", out.stdout);
}

#[test]
fn resolv_conf_with_non_utf8_bytes_still_yields_its_nameservers() {
    let dir = tempfile::tempdir().unwrap();
    let resolv = dir.path().join("resolv.conf");
    fs::write(
        &resolv,
        b"# caf\xe9\nnameserver 10.0.0.53\nsearch \xff.example\n",
    )
    .unwrap();
    let out = resolv_conf_add(&resolv);
    let v = out.json();
    assert!(out.ok, "{}", out.stdout);
    assert_eq!(v["dns"]["nameservers"][0], "10.0.0.53");
}

#[test]
fn resolv_conf_through_a_symlink_to_a_regular_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("stub-resolv.conf");
    fs::write(&real, "nameserver 10.0.0.54\n").unwrap();
    let link = dir.path().join("resolv.conf");
    symlink(&real, &link).unwrap();
    let out = resolv_conf_add(&link);
    assert!(out.ok, "{}", out.stdout);
    assert_eq!(out.json()["dns"]["nameservers"][0], "10.0.0.54");
}
