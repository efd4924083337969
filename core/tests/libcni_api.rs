//! libcni running network lists through a fake Exec: chaining, ordering,
//! injected fields, environment, version gating, GC and STATUS.

mod libcni_support;

use cni_core::libcni::{GcAttachment, LibcniError, RuntimeConf};
use cni_core::CniError;
use libcni_support::*;
use serde_json::{json, Map, Value};

fn three_plugins(version: &str) -> Value {
    json!({"cniVersion": version, "name": "net1", "plugins": [
        {"type": "a", "name": "ignored", "cniVersion": "0.1.0", "keep": 1},
        {"type": "b"},
        {"type": "c"}
    ]})
}

fn rt(id: &str) -> RuntimeConf {
    RuntimeConf {
        container_id: id.into(),
        netns: format!("/var/run/netns/{id}"),
        ifname: "eth0".into(),
        args: vec![
            ("K8S_POD_NAME".into(), "web".into()),
            ("IgnoreUnknown".into(), "1".into()),
        ],
        ..Default::default()
    }
}

fn chaining_exec() -> FakeExec {
    FakeExec::new()
        .with_chaining("a")
        .with_chaining("b")
        .with_chaining("c")
}

#[test]
fn add_chains_prev_result_from_plugin_to_plugin() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let result = config(&exec, cache.path())
        .add_network_list(&list(three_plugins("1.0.0")), &rt("c1"))
        .unwrap();

    let adds = exec.calls_of("ADD");
    assert_eq!(
        adds.iter().map(|c| c.plugin.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert!(
        adds[0].stdin.get("prevResult").is_none(),
        "the first plugin gets no prevResult"
    );
    assert_eq!(
        adds[1].stdin["prevResult"],
        json!({"cniVersion":"1.0.0","interfaces":[{"name":"a"}]})
    );
    assert_eq!(
        adds[2].stdin["prevResult"],
        json!({"cniVersion":"1.0.0","interfaces":[{"name":"a"},{"name":"b"}]})
    );
    assert_eq!(
        Value::Object(result),
        json!({"cniVersion":"1.0.0","interfaces":[{"name":"a"},{"name":"b"},{"name":"c"}]})
    );
}

#[test]
fn every_plugin_gets_the_list_name_and_version() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    config(&exec, cache.path())
        .add_network_list(&list(three_plugins("0.4.0")), &rt("c1"))
        .unwrap();
    for call in exec.calls() {
        assert_eq!(call.stdin["name"], "net1");
        assert_eq!(call.stdin["cniVersion"], "0.4.0");
    }
    assert_eq!(
        exec.calls()[0].stdin["keep"],
        1,
        "other fields pass through"
    );
}

#[test]
fn add_environment_is_exactly_the_six_cni_variables() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    config(&exec, cache.path())
        .add_network_list(&list(three_plugins("1.0.0")), &rt("c1"))
        .unwrap();
    let expected: Vec<(String, String)> = [
        ("CNI_COMMAND", "ADD"),
        ("CNI_CONTAINERID", "c1"),
        ("CNI_NETNS", "/var/run/netns/c1"),
        ("CNI_ARGS", "K8S_POD_NAME=web;IgnoreUnknown=1"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", "/fake/cni/bin:/opt/other"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(exec.calls()[0].env, expected);
}

#[test]
fn base_environment_follows_and_cannot_override_cni_variables() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path()).with_base_env(vec![
        ("PATH".into(), "/usr/bin".into()),
        ("CNI_COMMAND".into(), "DEL".into()),
    ]);
    cfg.add_network_list(&list(three_plugins("1.0.0")), &rt("c1"))
        .unwrap();
    let env = &exec.calls()[0].env;
    assert_eq!(env.len(), 7);
    assert_eq!(env[6], ("PATH".to_string(), "/usr/bin".to_string()));
    assert_eq!(exec.calls()[0].var("CNI_COMMAND"), Some("ADD"));
}

#[test]
fn del_runs_in_reverse_with_the_cached_result_and_clears_the_cache() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let net = list(three_plugins("1.0.0"));
    let added = cfg.add_network_list(&net, &rt("c1")).unwrap();
    exec.clear();

    cfg.del_network_list(&net, &rt("c1")).unwrap();
    let dels = exec.calls_of("DEL");
    assert_eq!(
        dels.iter().map(|c| c.plugin.as_str()).collect::<Vec<_>>(),
        ["c", "b", "a"]
    );
    for call in &dels {
        assert_eq!(call.stdin["prevResult"], Value::Object(added.clone()));
    }
    assert!(!cache.path().join("results/net1-c1-eth0").exists());
    assert_eq!(
        cfg.get_network_list_cached_result(&net, &rt("c1")).unwrap(),
        None
    );
}

#[test]
fn del_without_a_cache_entry_still_runs_every_plugin() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    config(&exec, cache.path())
        .del_network_list(&list(three_plugins("1.0.0")), &rt("never-added"))
        .unwrap();
    let dels = exec.calls_of("DEL");
    assert_eq!(dels.len(), 3);
    assert!(dels.iter().all(|c| c.stdin.get("prevResult").is_none()));
}

#[test]
fn del_below_0_4_0_sends_no_prev_result() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let net = list(three_plugins("0.3.1"));
    cfg.add_network_list(&net, &rt("c1")).unwrap();
    cfg.del_network_list(&net, &rt("c1")).unwrap();
    let dels = exec.calls_of("DEL");
    assert_eq!(dels.len(), 3);
    assert!(dels.iter().all(|c| c.stdin.get("prevResult").is_none()));
    assert!(
        !cache.path().join("results/net1-c1-eth0").exists(),
        "the entry ADD wrote is removed"
    );
}

#[test]
fn del_with_a_corrupt_cache_entry_runs_without_prev_result_and_removes_it() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cache.path().join("results")).unwrap();
    std::fs::write(cache.path().join("results/net1-c1-eth0"), "not json").unwrap();
    config(&exec, cache.path())
        .del_network_list(&list(three_plugins("1.0.0")), &rt("c1"))
        .unwrap();
    assert!(exec
        .calls_of("DEL")
        .iter()
        .all(|c| c.stdin.get("prevResult").is_none()));
    assert!(!cache.path().join("results/net1-c1-eth0").exists());
}

#[test]
fn check_runs_in_order_with_the_cached_result() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let net = list(three_plugins("1.0.0"));
    let added = cfg.add_network_list(&net, &rt("c1")).unwrap();
    exec.clear();
    cfg.check_network_list(&net, &rt("c1")).unwrap();
    let checks = exec.calls_of("CHECK");
    assert_eq!(
        checks.iter().map(|c| c.plugin.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert!(checks
        .iter()
        .all(|c| c.stdin["prevResult"] == Value::Object(added.clone())));
}

#[test]
fn check_without_a_previous_add_is_a_clear_error() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let err = config(&exec, cache.path())
        .check_network_list(&list(three_plugins("1.0.0")), &rt("c9"))
        .unwrap_err();
    assert!(matches!(err, LibcniError::NoCachedResult { .. }), "{err}");
    assert!(exec.calls().is_empty());
}

#[test]
fn check_is_refused_below_0_4_0_and_skipped_when_disabled() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let err = cfg
        .check_network_list(&list(three_plugins("0.3.1")), &rt("c1"))
        .unwrap_err();
    assert!(
        matches!(err, LibcniError::VerbNotSupported { verb: "CHECK", .. }),
        "{err}"
    );

    let mut disabled = three_plugins("1.0.0");
    disabled["disableCheck"] = json!(true);
    cfg.check_network_list(&list(disabled), &rt("c1")).unwrap();
    assert!(exec.calls().is_empty());
}

#[test]
fn gc_and_status_are_refused_below_1_1_0() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    for v in ["0.4.0", "1.0.0"] {
        let net = list(three_plugins(v));
        assert!(matches!(
            cfg.gc_network_list(&net, Some(&[])),
            Err(LibcniError::VerbNotSupported { verb: "GC", .. })
        ));
        assert!(matches!(
            cfg.get_status_network_list(&net),
            Err(LibcniError::VerbNotSupported { verb: "STATUS", .. })
        ));
    }
    assert!(exec.calls().is_empty());
}

#[test]
fn gc_deletes_stale_attachments_then_sends_gc_with_valid_attachments() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let net = list(three_plugins("1.1.0"));
    let mut other = three_plugins("1.1.0");
    other["name"] = json!("net2");
    let other = list(other);
    for id in ["c1", "c2", "c3"] {
        cfg.add_network_list(&net, &rt(id)).unwrap();
    }
    cfg.add_network_list(&other, &rt("c1")).unwrap();
    exec.clear();

    let valid = [GcAttachment {
        container_id: "c2".into(),
        ifname: "eth0".into(),
    }];
    cfg.gc_network_list(&net, Some(&valid)).unwrap();

    let calls = exec.calls();
    let seq: Vec<(String, String, String)> = calls
        .iter()
        .map(|c| {
            (
                c.command().to_string(),
                c.plugin.clone(),
                c.var("CNI_CONTAINERID").unwrap().to_string(),
            )
        })
        .collect();
    let expect: Vec<(String, String, String)> = [
        ("DEL", "c", "c1"),
        ("DEL", "b", "c1"),
        ("DEL", "a", "c1"),
        ("DEL", "c", "c3"),
        ("DEL", "b", "c3"),
        ("DEL", "a", "c3"),
        ("GC", "a", ""),
        ("GC", "b", ""),
        ("GC", "c", ""),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(seq, expect);
    // The stale DELs run with what the cache recorded.
    assert_eq!(calls[0].var("CNI_NETNS"), Some("/var/run/netns/c1"));
    assert_eq!(
        calls[0].var("CNI_ARGS"),
        Some("K8S_POD_NAME=web;IgnoreUnknown=1")
    );
    for gc in exec.calls_of("GC") {
        assert_eq!(
            gc.stdin["cni.dev/valid-attachments"],
            json!([{"containerID":"c2","ifname":"eth0"}])
        );
        assert_eq!(gc.stdin["name"], "net1");
        assert!(gc.stdin.get("prevResult").is_none());
        for var in ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS"] {
            assert_eq!(
                gc.var(var),
                Some(""),
                "{var} is set empty, as the reference does"
            );
        }
        assert_eq!(gc.var("CNI_PATH"), Some("/fake/cni/bin:/opt/other"));
    }
    let results = cache.path().join("results");
    assert!(!results.join("net1-c1-eth0").exists());
    assert!(results.join("net1-c2-eth0").exists());
    assert!(!results.join("net1-c3-eth0").exists());
    assert!(
        results.join("net2-c1-eth0").exists(),
        "other networks are not touched"
    );
}

#[test]
fn gc_is_skipped_when_disabled() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let mut conf = three_plugins("1.1.0");
    conf["disableGC"] = json!(true);
    let net = list(conf);
    cfg.add_network_list(&net, &rt("c1")).unwrap();
    exec.clear();
    cfg.gc_network_list(&net, Some(&[])).unwrap();
    assert!(exec.calls().is_empty());
    assert!(cache.path().join("results/net1-c1-eth0").exists());
}

#[test]
fn status_asks_every_plugin_and_returns_the_first_error_unchanged() {
    let unavailable = CniError::new(50, "IPAM exhausted").with_version("1.1.0");
    let returned = unavailable.clone();
    let exec = FakeExec::new()
        .with_chaining("a")
        .register("b", move |_| Err(returned.clone()))
        .with_chaining("c");
    let cache = tempfile::tempdir().unwrap();
    let err = config(&exec, cache.path())
        .get_status_network_list(&list(three_plugins("1.1.0")))
        .unwrap_err();
    assert_eq!(err.plugin_error(), Some(&unavailable));
    let calls = exec.calls();
    assert_eq!(
        calls.iter().map(|c| c.plugin.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert!(calls
        .iter()
        .all(|c| c.command() == "STATUS" && c.var("CNI_CONTAINERID") == Some("")));
}

#[test]
fn runtime_config_carries_only_declared_capabilities() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let net = list(json!({"cniVersion":"1.0.0","name":"net1","plugins":[
        {"type":"a","capabilities":{"portMappings":true,"bandwidth":false},"runtimeConfig":{"stale":1}},
        {"type":"b","runtimeConfig":{"mine":1}},
        {"type":"c","capabilities":{"ips":true,"mac":true}}
    ]}));
    let mut runtime = rt("c1");
    runtime.capability_args = obj(
        json!({"portMappings":[{"hostPort":8080,"containerPort":80}],"bandwidth":{"rate":1},"ips":["10.0.0.5/24"]}),
    );
    config(&exec, cache.path())
        .add_network_list(&net, &runtime)
        .unwrap();
    let adds = exec.calls_of("ADD");
    assert_eq!(
        adds[0].stdin["runtimeConfig"],
        json!({"portMappings":[{"hostPort":8080,"containerPort":80}]})
    );
    assert_eq!(
        adds[0].stdin["capabilities"],
        json!({"portMappings":true,"bandwidth":false}),
        "kept, as the reference does"
    );
    assert_eq!(
        adds[1].stdin["runtimeConfig"],
        json!({"mine":1}),
        "no capabilities: the file's runtimeConfig is left alone"
    );
    assert_eq!(
        adds[2].stdin["runtimeConfig"],
        json!({"ips":["10.0.0.5/24"]})
    );
}

#[test]
fn a_failing_middle_plugin_stops_add_and_its_error_comes_back_unchanged() {
    let failure = CniError::invalid_config("bad subnet")
        .with_details("field ipam.subnet")
        .with_version("1.0.0");
    let returned = failure.clone();
    let exec = FakeExec::new()
        .with_chaining("a")
        .register("b", move |c| {
            if c.command() == "ADD" {
                Err(returned.clone())
            } else {
                Ok(vec![])
            }
        })
        .with_chaining("c");
    let cache = tempfile::tempdir().unwrap();
    let err = config(&exec, cache.path())
        .add_network_list(&list(three_plugins("1.0.0")), &rt("c1"))
        .unwrap_err();
    assert_eq!(err.plugin_error(), Some(&failure));
    assert!(err.to_string().contains("type=\"b\""), "{err}");
    assert_eq!(
        exec.calls()
            .iter()
            .map(|c| c.plugin.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert!(
        !cache.path().join("results").exists(),
        "nothing cached for a failed ADD"
    );
}

#[test]
fn a_plugin_that_cannot_be_found_names_it() {
    let exec = FakeExec::new().with_chaining("a");
    let cache = tempfile::tempdir().unwrap();
    let err = config(&exec, cache.path())
        .add_network_list(&list(three_plugins("1.0.0")), &rt("c1"))
        .unwrap_err();
    assert!(err.to_string().contains("type=\"b\""), "{err}");
    assert!(err
        .plugin_error()
        .is_some_and(|e| e.msg.contains("failed to find plugin")));
}

#[test]
fn invalid_runtime_identifiers_are_refused_before_any_plugin_runs() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let net = list(three_plugins("1.0.0"));
    for (id, ifname, field) in [
        ("../x", "eth0", "containerID"),
        ("", "eth0", "containerID"),
        ("c1", "eth0/../x", "ifName"),
        ("c1", "", "ifName"),
    ] {
        let mut runtime = rt("c1");
        runtime.container_id = id.into();
        runtime.ifname = ifname.into();
        match cfg.add_network_list(&net, &runtime) {
            Err(LibcniError::Runtime { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{id}/{ifname}: {other:?}"),
        }
        assert!(cfg.del_network_list(&net, &runtime).is_err());
    }
    assert!(exec.calls().is_empty());
}

#[test]
fn a_result_without_version_takes_the_list_version() {
    let exec = FakeExec::new().register("a", |c| {
        Ok(if c.command() == "ADD" {
            br#"{"ips":[]}"#.to_vec()
        } else {
            vec![]
        })
    });
    let cache = tempfile::tempdir().unwrap();
    let net = list(json!({"cniVersion":"0.4.0","name":"net1","plugins":[{"type":"a"}]}));
    let result = config(&exec, cache.path())
        .add_network_list(&net, &rt("c1"))
        .unwrap();
    assert_eq!(result["cniVersion"], "0.4.0");
}

#[test]
fn an_invalid_result_is_an_error_naming_the_plugin() {
    let exec = FakeExec::new().register("a", |_| Ok(b"{not json".to_vec()));
    let cache = tempfile::tempdir().unwrap();
    let net = list(json!({"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"a"}]}));
    let err = config(&exec, cache.path())
        .add_network_list(&net, &rt("c1"))
        .unwrap_err();
    assert!(
        matches!(err, LibcniError::BadResult { verb: "add", .. }),
        "{err}"
    );
}

#[test]
fn validate_probes_every_plugin_for_the_list_version() {
    let exec = FakeExec::new()
        .with_chaining("a")
        .register("old", |c| {
            assert_eq!(c.command(), "VERSION");
            assert_eq!(c.stdin, json!({"cniVersion":"1.1.0"}));
            assert_eq!(c.var("CNI_NETNS"), Some("dummy"));
            Ok(br#"{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}"#.to_vec())
        })
        .register("ancient", |_| {
            Err(CniError::new(4, "unknown CNI_COMMAND: VERSION"))
        });
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());

    let ok = list(json!({"cniVersion":"1.0.0","name":"n","plugins":[
        {"type":"a","capabilities":{"portMappings":true,"mac":false}},{"type":"old","capabilities":{"bandwidth":true,"portMappings":true}}]}));
    assert_eq!(
        cfg.validate_network_list(&ok).unwrap(),
        ["bandwidth", "portMappings"]
    );

    let too_new = list(
        json!({"cniVersion":"1.1.0","name":"n","plugins":[{"type":"a"},{"type":"old"},{"type":"missing"}]}),
    );
    match cfg.validate_network_list(&too_new).unwrap_err() {
        LibcniError::Multiple(errors) => {
            assert_eq!(errors.len(), 2);
            assert!(
                matches!(&errors[0], LibcniError::PluginVersion { plugin, .. } if plugin == "old")
            );
            assert!(errors[1].to_string().contains("missing"));
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        cfg.get_version_info("ancient").unwrap().supported_versions,
        ["0.1.0"]
    );
}

#[test]
fn cached_results_are_handed_out_at_the_list_version() {
    let exec = chaining_exec();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let exec_ip = FakeExec::new().register("a", |c| {
        Ok(if c.command() == "ADD" {
            br#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}"#.to_vec()
        } else {
            vec![]
        })
    });
    let cfg_ip = config(&exec_ip, cache.path());
    let v1 = list(json!({"cniVersion":"1.0.0","name":"net1","plugins":[{"type":"a"}]}));
    cfg_ip.add_network_list(&v1, &rt("c1")).unwrap();
    // The same network name read with an older config version.
    let v04 = list(json!({"cniVersion":"0.4.0","name":"net1","plugins":[{"type":"a"}]}));
    let cached: Map<String, Value> = cfg
        .get_network_list_cached_result(&v04, &rt("c1"))
        .unwrap()
        .unwrap();
    assert_eq!(
        Value::Object(cached),
        json!({"cniVersion":"0.4.0","ips":[{"address":"10.0.0.2/24","version":"4"}]})
    );
}

#[test]
fn gc_reports_every_failure_and_still_sends_gc() {
    let exec = FakeExec::new()
        .with_chaining("a")
        .register("b", |c| match c.command() {
            "ADD" => Ok(br#"{"cniVersion":"1.1.0"}"#.to_vec()),
            "DEL" => Err(CniError::try_again_later("busy")),
            _ => Ok(vec![]),
        });
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&exec, cache.path());
    let net =
        list(json!({"cniVersion":"1.1.0","name":"net1","plugins":[{"type":"a"},{"type":"b"}]}));
    cfg.add_network_list(&net, &rt("c1")).unwrap();
    cfg.add_network_list(&net, &rt("c2")).unwrap();
    exec.clear();
    match cfg.gc_network_list(&net, None).unwrap_err() {
        LibcniError::Multiple(errors) => {
            assert_eq!(errors.len(), 2);
            for (e, id) in errors.iter().zip(["c1", "c2"]) {
                assert!(
                    matches!(e, LibcniError::StaleAttachment { container_id, .. } if container_id == id),
                    "{e}"
                );
            }
        }
        other => panic!("{other}"),
    }
    let gcs = exec.calls_of("GC");
    assert_eq!(gcs.len(), 2, "GC is sent even after failed DELs");
    assert!(
        gcs.iter()
            .all(|c| c.stdin.get("cni.dev/valid-attachments").is_none()),
        "None omits the key, as the reference does"
    );
    assert!(
        cache.path().join("results/net1-c1-eth0").exists(),
        "a failed DEL keeps its cache entry"
    );
}
