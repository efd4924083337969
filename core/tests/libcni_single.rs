//! The single-plugin APIs (a `.conf` run on its own) and the trace context
//! every plugin gets.

mod libcni_support;

use cni_core::libcni::{load_conf, LibcniError, NetworkConfig, RuntimeConf};
use libcni_support::*;
use serde_json::json;

const CONF: &str = r#"{"cniVersion":"1.0.0","name":"single","type":"bridge","capabilities":{"mac":true},"keep":1}"#;

fn rt() -> RuntimeConf {
    RuntimeConf {
        container_id: "c1".into(),
        netns: "/var/run/netns/c1".into(),
        ifname: "eth0".into(),
        capability_args: obj(json!({"mac": "0a:00:00:00:00:01"})),
        ..Default::default()
    }
}

#[test]
fn add_check_del_one_plugin_and_cache_the_conf_as_written() {
    let exec = FakeExec::new().with_chaining("bridge");
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let net = NetworkConfig::from_bytes(CONF.as_bytes(), "single.conf").unwrap();
    assert_eq!((net.name(), net.cni_version()), ("single", "1.0.0"));

    let result = cfg.add_network(&net, &rt()).unwrap();
    assert_eq!(result["interfaces"], json!([{"name": "bridge"}]));
    let add = &exec.calls_of("ADD")[0];
    assert_eq!(add.stdin["keep"], 1);
    assert_eq!(
        add.stdin["runtimeConfig"],
        json!({"mac": "0a:00:00:00:00:01"})
    );
    let (bytes, _) = cfg.get_network_cached_config(&net, &rt()).unwrap().unwrap();
    assert_eq!(bytes, CONF.as_bytes(), "the cache records the .conf itself");
    assert_eq!(
        cfg.get_network_cached_result(&net, &rt()).unwrap().unwrap(),
        result
    );

    cfg.check_network(&net, &rt()).unwrap();
    assert_eq!(
        exec.calls_of("CHECK")[0].stdin["prevResult"],
        serde_json::Value::Object(result.clone())
    );
    cfg.del_network(&net, &rt()).unwrap();
    assert_eq!(
        exec.calls_of("DEL")[0].stdin["prevResult"],
        serde_json::Value::Object(result)
    );
    assert!(cfg
        .get_network_cached_result(&net, &rt())
        .unwrap()
        .is_none());
}

#[test]
fn check_is_gated_by_the_confs_version_and_validate_names_capabilities() {
    let exec = FakeExec::new().with_chaining("bridge");
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let old =
        NetworkConfig::from_bytes(br#"{"cniVersion":"0.3.1","name":"n","type":"bridge"}"#, "o")
            .unwrap();
    assert!(matches!(
        cfg.check_network(&old, &rt()),
        Err(LibcniError::VerbNotSupported { verb: "CHECK", .. })
    ));
    let net = NetworkConfig::from_bytes(CONF.as_bytes(), "single.conf").unwrap();
    assert_eq!(cfg.validate_network(&net).unwrap(), ["mac"]);
    let missing =
        NetworkConfig::from_bytes(br#"{"cniVersion":"1.0.0","name":"n","type":"nope"}"#, "m")
            .unwrap();
    assert!(cfg.validate_network(&missing).is_err());
}

#[test]
fn load_conf_finds_a_single_configuration_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("20-single.conf"), CONF).unwrap();
    std::fs::write(
        dir.path().join("10-other.json"),
        r#"{"cniVersion":"1.0.0","name":"other","type":"x"}"#,
    )
    .unwrap();
    let net = load_conf(dir.path(), "single").unwrap();
    assert_eq!(net.bytes(), CONF.as_bytes());
    assert_eq!(net.plugin().plugin_type(), "bridge");
    assert!(matches!(
        load_conf(dir.path(), "absent"),
        Err(LibcniError::NetworkNotFound { .. })
    ));
    assert!(matches!(
        load_conf(&dir.path().join("none"), "single"),
        Err(LibcniError::NoConfigsFound { .. })
    ));
}

#[test]
fn every_plugin_gets_the_trace_context() {
    let exec = FakeExec::new().with_chaining("bridge");
    let cache = tempfile::tempdir().unwrap();
    let net = NetworkConfig::from_bytes(CONF.as_bytes(), "single.conf").unwrap();
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let cfg = config(&exec, cache.path())
        .with_trace_context(Some(parent.into()), Some("vendor=1".into()));
    cfg.add_network(&net, &rt()).unwrap();
    cfg.validate_network(&net).unwrap();
    cfg.del_network(&net, &rt()).unwrap();
    for call in exec.calls() {
        assert_eq!(call.var("TRACEPARENT"), Some(parent), "{}", call.command());
        assert_eq!(call.var("TRACESTATE"), Some("vendor=1"));
    }
    // A trace context in the runtime's base environment wins, once.
    exec.clear();
    let cfg = config(&exec, cache.path()).with_base_env(vec![
        ("PATH".into(), "/bin".into()),
        ("TRACEPARENT".into(), "00-aa-bb-01".into()),
    ]);
    cfg.add_network(&net, &rt()).unwrap();
    let add = &exec.calls_of("ADD")[0];
    let parents: Vec<_> = add.env.iter().filter(|(k, _)| k == "TRACEPARENT").collect();
    assert_eq!(
        parents,
        [&("TRACEPARENT".to_string(), "00-aa-bb-01".to_string())]
    );
    assert_eq!(add.var("TRACESTATE"), None);
}
