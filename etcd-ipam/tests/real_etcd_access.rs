//! etcd-ipam's ways into etcd against real servers: TLS with client
//! certificates, a user from `credentialsFile`; and requested addresses.

mod support;

use cni_core::testsupport::require;
use serde_json::json;
use support::{finish, have_etcd, make_certs, netconf, run, spawn_args, Etcd};

#[test]
fn tls_with_client_certificate() {
    if !have_etcd("tls_with_client_certificate") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let openssl = std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_ok();
    if !require("tls_with_client_certificate", "openssl", openssl) {
        return;
    }
    let (server, cert, key) = make_certs(dir.path()).expect("certificates");
    let ca = server.ca.clone();
    let etcd = Etcd::start_with(1, Some(server));
    let eps = etcd.endpoints();
    let tls = json!({"subnet": "10.70.0.0/24", "caFile": ca, "certFile": cert, "keyFile": key});
    let conf = netconf("1.0.0", "tls", &eps, "node-a", tls);
    let add = run("ADD", "t1", &conf);
    assert!(add.ok, "{} {}", add.json, add.stderr);
    assert!(run("DEL", "t1", &conf).ok);
    // Without a client certificate the server refuses: no address, an error.
    let no_cert = netconf(
        "1.0.0",
        "tls",
        &eps,
        "node-a",
        json!({"subnet": "10.70.0.0/24", "caFile": ca}),
    );
    let add = run("ADD", "t2", &no_cert);
    assert!(!add.ok, "{}", add.json);
    assert!(
        add.json["msg"].as_str().unwrap_or("").contains("etcd"),
        "{}",
        add.json
    );
}

#[test]
fn credentials_file_user() {
    if !have_etcd("credentials_file_user") {
        return;
    }
    let etcd = Etcd::start(1);
    let eps = etcd.endpoints();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = etcd_client::Client::connect(&eps, None).await.unwrap();
        let _ = c.role_add("root").await;
        c.user_add("root", "s3cr:et", None).await.unwrap();
        c.user_grant_role("root", "root").await.unwrap();
        c.auth_enable().await.unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let bad = dir.path().join("bad");
    std::fs::write(&good, "root:s3cr:et\n").unwrap();
    std::fs::write(&bad, "root:wrong\n").unwrap();
    let conf = |file: Option<&std::path::Path>| {
        let mut ipam = json!({"subnet": "10.71.0.0/24"});
        if let Some(f) = file {
            ipam["credentialsFile"] = json!(f);
        }
        netconf("1.0.0", "auth", &eps, "node-a", ipam)
    };
    let add = run("ADD", "u1", &conf(Some(&good)));
    assert!(add.ok, "{} {}", add.json, add.stderr);
    for c in [conf(Some(&bad)), conf(None)] {
        let r = run("ADD", "u2", &c);
        assert!(!r.ok, "{}", r.json);
        // Refused, not unavailable: retrying will not help.
        assert_eq!(r.code(), 5, "{}", r.json);
    }
}

#[test]
fn requested_addresses_from_cni_args_and_config() {
    if !have_etcd("requested_addresses_from_cni_args_and_config") {
        return;
    }
    let etcd = Etcd::start(1);
    let eps = etcd.endpoints();
    let conf = netconf(
        "1.0.0",
        "req",
        &eps,
        "node-a",
        json!({"subnet": "10.72.0.0/24"}),
    );
    let r = finish(spawn_args("ADD", "r1", &conf, "IP=10.72.0.99"));
    assert!(r.ok, "{}", r.json);
    assert_eq!(r.addrs(), ["10.72.0.99/24"]);
    // Held: another container asking for it is told who holds it.
    let r = finish(spawn_args("ADD", "r2", &conf, "IP=10.72.0.99"));
    assert_eq!(r.code(), 999, "{}", r.json);
    assert!(
        r.json["msg"].as_str().unwrap_or("").contains("r1"),
        "{}",
        r.json
    );
    let mut by_args = conf.clone();
    by_args["args"] = json!({"cni": {"ips": ["10.72.0.100"]}});
    let r = run("ADD", "r3", &by_args);
    assert_eq!(r.addrs(), ["10.72.0.100/24"], "{}", r.json);
    // Outside every range: a configuration error before etcd is asked.
    let r = finish(spawn_args("ADD", "r4", &conf, "IP=10.99.0.5"));
    assert_eq!(r.code(), 7, "{}", r.json);
}
