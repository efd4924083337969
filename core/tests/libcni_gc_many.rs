//! GC's legacy key and GC across several network lists in one call.

mod libcni_support;

use cni_core::libcni::{GcAttachment, LibcniError, RuntimeConf};
use libcni_support::*;
use serde_json::{json, Value};

fn net(name: &str, version: &str, plugins: Value) -> Value {
    json!({"cniVersion": version, "name": name, "plugins": plugins})
}

fn rt(id: &str) -> RuntimeConf {
    RuntimeConf {
        container_id: id.into(),
        netns: format!("/var/run/netns/{id}"),
        ifname: "eth0".into(),
        ..Default::default()
    }
}

fn exec() -> FakeExec {
    FakeExec::new()
        .with_chaining("bridge")
        .with_chaining("portmap")
        .with_chaining("tuning")
}

fn valid() -> Vec<GcAttachment> {
    vec![GcAttachment {
        container_id: "keep".into(),
        ifname: "eth0".into(),
    }]
}

#[test]
fn gc_sends_the_valid_attachments_under_the_legacy_key_too() {
    let exec = exec();
    let cache = tempfile::tempdir().unwrap();
    let list = list(net("a", "1.1.0", json!([{"type": "bridge"}])));
    config(&exec, cache.path())
        .gc_network_list(&list, Some(&valid()))
        .unwrap();
    let gc = &exec.calls_of("GC")[0];
    let expected = json!([{"containerID": "keep", "ifname": "eth0"}]);
    assert_eq!(gc.stdin["cni.dev/valid-attachments"], expected);
    assert_eq!(gc.stdin["cni.dev/attachments"], expected);
    // Without valid attachments neither key is sent.
    exec.clear();
    config(&exec, cache.path())
        .gc_network_list(&list, None)
        .unwrap();
    let gc = &exec.calls_of("GC")[0];
    assert!(gc.stdin.get("cni.dev/valid-attachments").is_none());
    assert!(gc.stdin.get("cni.dev/attachments").is_none());
}

#[test]
fn gc_of_many_lists_deletes_each_networks_stale_attachments() {
    let exec = exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let a = list(net("a", "1.1.0", json!([{"type": "bridge"}])));
    let b = list(net("b", "1.1.0", json!([{"type": "tuning"}])));
    let untouched = list(net("c", "1.1.0", json!([{"type": "tuning"}])));
    for id in ["keep", "gone"] {
        cfg.add_network_list(&a, &rt(id)).unwrap();
        cfg.add_network_list(&b, &rt(id)).unwrap();
        cfg.add_network_list(&untouched, &rt(id)).unwrap();
    }
    exec.clear();
    cfg.gc_network_lists(&[&a, &b], Some(&valid())).unwrap();
    let dels: Vec<(String, String)> = exec
        .calls_of("DEL")
        .iter()
        .map(|c| {
            (
                c.stdin["name"].as_str().unwrap().to_string(),
                c.var("CNI_CONTAINERID").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        dels,
        [("a".into(), "gone".into()), ("b".into(), "gone".into())]
    );
    let results = cache.path().join("results");
    for kept in ["a-keep-eth0", "b-keep-eth0", "c-keep-eth0", "c-gone-eth0"] {
        assert!(results.join(kept).exists(), "{kept}");
    }
    for gone in ["a-gone-eth0", "b-gone-eth0"] {
        assert!(!results.join(gone).exists(), "{gone}");
    }
}

#[test]
fn gc_of_many_lists_sends_each_distinct_request_once() {
    let exec = exec();
    let cache = tempfile::tempdir().unwrap();
    let shared = json!({"type": "portmap", "capabilities": {"portMappings": true}});
    let a = list(net("a", "1.1.0", json!([{"type": "bridge"}, shared])));
    // The same network given twice, and a list with one plugin config twice.
    let a_again = a.clone();
    let b = list(net("b", "1.1.0", json!([shared, shared])));
    config(&exec, cache.path())
        .gc_network_lists(&[&a, &a_again, &b], Some(&valid()))
        .unwrap();
    let gcs: Vec<(String, String)> = exec
        .calls_of("GC")
        .iter()
        .map(|c| {
            (
                c.plugin.clone(),
                c.stdin["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // portmap runs once per network (its configuration names the network),
    // never twice with the same request.
    assert_eq!(
        gcs,
        [
            ("bridge".into(), "a".into()),
            ("portmap".into(), "a".into()),
            ("portmap".into(), "b".into())
        ]
    );
}

#[test]
fn gc_of_many_lists_reports_old_lists_and_still_collects_the_others() {
    let exec = exec();
    let cache = tempfile::tempdir().unwrap();
    let old = list(net("old", "1.0.0", json!([{"type": "bridge"}])));
    let mut disabled = net("off", "1.1.0", json!([{"type": "bridge"}]));
    disabled["disableGC"] = json!(true);
    let disabled = list(disabled);
    let current = list(net(
        "new",
        "1.1.0",
        json!([{"type": "tuning"}, {"type": "missing"}]),
    ));
    let err = config(&exec, cache.path())
        .gc_network_lists(&[&old, &disabled, &current], None)
        .unwrap_err();
    let LibcniError::Multiple(errors) = &err else {
        panic!("expected every failure: {err}");
    };
    assert!(
        matches!(&errors[0], LibcniError::VerbNotSupported { network, verb: "GC", .. } if network == "old"),
        "{err}"
    );
    assert!(
        matches!(&errors[1], LibcniError::Plugin { verb: "gc", .. }),
        "{err}"
    );
    let gcs: Vec<String> = exec
        .calls_of("GC")
        .iter()
        .map(|c| c.stdin["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(gcs, ["new"], "disableGC skips, 1.0.0 is refused");
}
