//! The result cache: the reference's file format, place and permissions, in
//! both directions (a hand-written fixture of the reference's `cachedInfo`).

mod libcni_support;

use cni_core::libcni::{cache, CacheEntry, NetworkConfigList, RuntimeConf};
use libcni_support::*;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;

const FIXTURE: &str = include_str!("libcni_fixtures/reference_cache_v1.json");
const FIXTURE_CONFIG: &[u8] = include_bytes!("libcni_fixtures/reference_cache_v1.conflist");

fn ref_rt() -> RuntimeConf {
    RuntimeConf {
        container_id: "ctr-ref1".into(),
        netns: "/var/run/netns/ctr-ref1".into(),
        ifname: "eth0".into(),
        ..Default::default()
    }
}

fn install_fixture(cache_dir: &std::path::Path) {
    std::fs::create_dir_all(cache_dir.join("results")).unwrap();
    std::fs::write(cache_dir.join("results/refnet-ctr-ref1-eth0"), FIXTURE).unwrap();
}

fn ref_list() -> NetworkConfigList {
    NetworkConfigList::from_bytes(FIXTURE_CONFIG, "fixture").unwrap()
}

#[test]
fn add_writes_the_reference_format_with_private_permissions() {
    let exec = FakeExec::new().with_chaining("a");
    let cache_dir = tempfile::tempdir().unwrap();
    let net = list(json!({"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"a"}]}));
    let mut runtime = RuntimeConf {
        container_id: "c1".into(),
        netns: "/run/netns/x".into(),
        ifname: "eth1".into(),
        ..Default::default()
    };
    runtime.args = vec![("IgnoreUnknown".into(), "1".into())];
    runtime.capability_args = obj(json!({"mac":"aa:bb:cc:dd:ee:ff"}));
    let result = config(&exec, cache_dir.path())
        .add_network_list(&net, &runtime)
        .unwrap();

    let results = cache_dir.path().join("results");
    let file = results.join("net1-c1-eth1");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&results).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let names: Vec<_> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["net1-c1-eth1"], "no temporary file left behind");

    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let keys: Vec<&str> = written
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "kind",
            "containerId",
            "config",
            "ifName",
            "networkName",
            "netns",
            "cniArgs",
            "capabilityArgs",
            "result"
        ]
    );
    assert_eq!(written["kind"], "cniCacheV1");
    assert_eq!(written["containerId"], "c1");
    assert_eq!(written["ifName"], "eth1");
    assert_eq!(written["networkName"], "net1");
    assert_eq!(written["netns"], "/run/netns/x");
    assert_eq!(written["cniArgs"], json!([["IgnoreUnknown", "1"]]));
    assert_eq!(
        written["capabilityArgs"],
        json!({"mac":"aa:bb:cc:dd:ee:ff"})
    );
    assert_eq!(written["result"], Value::Object(result));
    match cache::parse(&std::fs::read(&file).unwrap()).unwrap() {
        CacheEntry::V1(info) => assert_eq!(
            info.config, net.bytes,
            "config is the list's bytes, base64 in the file"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn what_ours_writes_has_the_fields_of_the_reference_fixture() {
    let ours = serde_json::to_value(cache::CachedInfo {
        kind: "cniCacheV1".into(),
        container_id: "c".into(),
        config: b"{}".to_vec(),
        ifname: "eth0".into(),
        network_name: "n".into(),
        netns: "/x".into(),
        cni_args: vec![("A".into(), "B".into())],
        capability_args: obj(json!({"k":1})),
        result: Some(obj(json!({"cniVersion":"1.0.0"}))),
    })
    .unwrap();
    let reference: Value = serde_json::from_str(FIXTURE).unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&ours), keys(&reference));
}

#[test]
fn empty_optional_fields_are_omitted_like_go_omitempty() {
    let v = serde_json::to_value(cache::CachedInfo {
        kind: "cniCacheV1".into(),
        container_id: "c".into(),
        config: vec![],
        ifname: "eth0".into(),
        network_name: "n".into(),
        netns: String::new(),
        cni_args: vec![],
        capability_args: Default::default(),
        result: None,
    })
    .unwrap();
    assert_eq!(
        v,
        json!({"kind":"cniCacheV1","containerId":"c","config":"","ifName":"eth0","networkName":"n"})
    );
}

#[test]
fn the_reference_cache_fixture_parses() {
    let CacheEntry::V1(info) = cache::parse(FIXTURE.as_bytes()).unwrap() else {
        panic!("not a V1 entry")
    };
    assert_eq!(info.container_id, "ctr-ref1");
    assert_eq!(info.ifname, "eth0");
    assert_eq!(info.network_name, "refnet");
    assert_eq!(info.netns, "/var/run/netns/ctr-ref1");
    assert_eq!(info.config, FIXTURE_CONFIG);
    assert_eq!(
        info.cni_args,
        [
            ("IgnoreUnknown".to_string(), "1".to_string()),
            ("K8S_POD_NAME".to_string(), "web".to_string())
        ]
    );
    assert_eq!(info.capability_args["portMappings"][0]["hostPort"], 8080);
    assert_eq!(info.result.unwrap()["ips"][0]["address"], "10.88.0.5/16");
}

#[test]
fn the_reference_cache_serves_cached_result_config_and_del() {
    let exec = FakeExec::new()
        .with_chaining("bridge")
        .with_chaining("portmap");
    let cache_dir = tempfile::tempdir().unwrap();
    install_fixture(cache_dir.path());
    let cfg = config(&exec, cache_dir.path());
    let net = ref_list();

    let result = cfg
        .get_network_list_cached_result(&net, &ref_rt())
        .unwrap()
        .unwrap();
    assert_eq!(
        result["interfaces"][2]["sandbox"],
        "/var/run/netns/ctr-ref1"
    );

    let (bytes, rt) = cfg
        .get_network_list_cached_config(&net, &ref_rt())
        .unwrap()
        .unwrap();
    assert_eq!(bytes, FIXTURE_CONFIG);
    assert_eq!(rt.args[1], ("K8S_POD_NAME".to_string(), "web".to_string()));
    assert_eq!(rt.capability_args["portMappings"][0]["containerPort"], 80);

    assert_eq!(cfg.get_cached_attachments("ctr-ref1").unwrap().len(), 1);
    assert!(cfg.get_cached_attachments("other").unwrap().is_empty());

    cfg.del_network_list(&net, &ref_rt()).unwrap();
    let dels = exec.calls_of("DEL");
    assert_eq!(dels.len(), 2);
    assert_eq!(dels[0].plugin, "portmap");
    assert_eq!(dels[0].stdin["prevResult"], Value::Object(result));
    assert!(!cache_dir
        .path()
        .join("results/refnet-ctr-ref1-eth0")
        .exists());
}

#[test]
fn a_legacy_bare_result_cache_is_read() {
    let exec = FakeExec::new()
        .with_chaining("bridge")
        .with_chaining("portmap");
    let cache_dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cache_dir.path().join("results")).unwrap();
    std::fs::write(
        cache_dir.path().join("results/refnet-ctr-ref1-eth0"),
        r#"{"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/24"}]}"#,
    )
    .unwrap();
    let cfg = config(&exec, cache_dir.path());
    let result = cfg
        .get_network_list_cached_result(&ref_list(), &ref_rt())
        .unwrap()
        .unwrap();
    assert_eq!(result["ips"][0]["address"], "10.1.0.2/24");
    assert!(
        cfg.get_network_list_cached_config(&ref_list(), &ref_rt())
            .is_err(),
        "a bare result holds no config"
    );
}

#[test]
fn cache_file_names_refuse_path_components() {
    let dir = std::path::Path::new("/var/lib/cni");
    assert_eq!(
        cache::cache_file_path(dir, "n", "c", "eth0").unwrap(),
        dir.join("results/n-c-eth0")
    );
    assert!(cache::cache_file_path(dir, "../n", "c", "eth0").is_err());
    assert!(cache::cache_file_path(dir, "n", "c/../../x", "eth0").is_err());
    assert!(cache::cache_file_path(dir, "n", "c", "a/b").is_err());
}

#[test]
fn default_cache_dir_is_the_references() {
    let exec = FakeExec::new();
    let cfg = cni_core::libcni::CniConfig::new(vec![], &exec);
    assert_eq!(
        cfg.cache_dir(None),
        std::path::PathBuf::from("/var/lib/cni")
    );
    let rt = RuntimeConf {
        cache_dir: Some("/tmp/x".into()),
        ..Default::default()
    };
    assert_eq!(cfg.cache_dir(Some(&rt)), std::path::PathBuf::from("/tmp/x"));
    assert_eq!(
        cfg.with_cache_dir("/c").cache_dir(Some(&rt)),
        std::path::PathBuf::from("/c")
    );
}

/// Found by the `result_cache` fuzz target: a key written twice made the
/// whole entry a bare result; Go takes the last value.
#[test]
fn a_duplicated_key_in_a_cache_entry_takes_its_last_value() {
    let entry = cache::parse(br#"{"kind":"cniCacheV1","ifName":"x","ifName":"eth0"}"#).unwrap();
    let CacheEntry::V1(info) = entry else {
        panic!("{entry:?}")
    };
    assert_eq!(info.ifname, "eth0");
}
