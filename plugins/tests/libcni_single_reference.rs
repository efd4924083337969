//! Differential: our libcni's single-plugin APIs (`add_network`,
//! `check_network`, `del_network`, `validate_network`) against the
//! reference's (`AddNetwork`, ... from Debian `golang-github-appc-cni-dev`)
//! on one `.conf`: the same stdin reaches the plugin, the same cache entry
//! is written, and each reads the other's cache. Unprivileged (a
//! shell-script plugin); needs `go`, skipped loudly without it unless
//! CNI_TEST_REQUIRE_REFERENCE_LIBCNI=1.

#[path = "reference_libcni/build.rs"]
mod reference_build;

use cni_core::invoke::RawExec;
use cni_core::libcni::{cache, load_conf, CacheEntry, CniConfig, RuntimeConf};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const NETNS: &str = "/var/run/netns/refsingle";
const CONF: &str = r#"{"cniVersion":"1.0.0","name":"refsingle","type":"rec","capabilities":{"portMappings":true,"mac":false},"keep":{"b":1,"a":[2]}}"#;

struct Setup {
    dir: tempfile::TempDir,
    reference: PathBuf,
}

impl Setup {
    fn new(test: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let reference = reference_build::build(test, dir.path())?;
        for sub in ["net.d", "bin"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        std::fs::write(dir.path().join("net.d/10-refsingle.conf"), CONF).unwrap();
        let plugin = dir.path().join("bin/rec");
        std::fs::write(
            &plugin,
            r#"#!/bin/sh
input=$(cat)
printf '%s|%s\n' "$CNI_COMMAND" "$input" >> "$LOGDIR/stdin"
case "$CNI_COMMAND" in
ADD) printf '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24","gateway":"10.9.0.1"}]}' ;;
VERSION) printf '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' ;;
esac
"#,
        )
        .unwrap();
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
        Some(Setup { dir, reference })
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn reference(&self, verb: &str) -> String {
        let out = Command::new(&self.reference)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CNI_PATH", self.path("bin"))
            .env("LOGDIR", self.dir.path())
            .arg(format!("{verb}-conf"))
            .arg(self.path("net.d"))
            .args(["refsingle", NETNS])
            .arg(self.path("cache"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "reference {verb}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn ours<T>(&self, run: impl FnOnce(&CniConfig<'_>, &RuntimeConf) -> T) -> T {
        let exec = RawExec;
        let cni = CniConfig::new(vec![self.path("bin")], &exec)
            .with_cache_dir(self.path("cache"))
            .with_base_env(vec![(
                "LOGDIR".into(),
                self.dir.path().display().to_string(),
            )]);
        let rt = RuntimeConf {
            container_id: cni_plugins::cnitool::container_id(Path::new(NETNS)),
            netns: NETNS.into(),
            ifname: "eth0".into(),
            args: vec![("IgnoreUnknown".into(), "1".into())],
            capability_args: json!({"portMappings": [{"hostPort": 80, "containerPort": 8080, "protocol": "tcp"}]})
                .as_object()
                .unwrap()
                .clone(),
            cache_dir: None,
        };
        run(&cni, &rt)
    }

    /// `(command, stdin)` of every plugin run since the last call.
    fn take_stdins(&self) -> Vec<(String, Value)> {
        let text = std::fs::read_to_string(self.path("stdin")).unwrap_or_default();
        let _ = std::fs::remove_file(self.path("stdin"));
        text.lines()
            .map(|l| {
                let (cmd, json) = l.split_once('|').unwrap();
                (cmd.to_string(), serde_json::from_str(json).unwrap())
            })
            .collect()
    }

    fn cache_entry(&self) -> Option<cache::CachedInfo> {
        let dir = self.path("cache/results");
        let file = std::fs::read_dir(&dir).ok()?.next()?.unwrap().path();
        match cache::parse(&std::fs::read(file).unwrap()).unwrap() {
            CacheEntry::V1(info) => Some(*info),
            other => panic!("not a cniCacheV1 entry: {other:?}"),
        }
    }
}

/// The reference re-encodes results through its typed model, which adds an
/// empty `dns`; ours passes the plugin's result on as printed (a documented
/// difference, see `libcni` module docs).
fn normalized(mut result: Value) -> Value {
    if result.get("dns") == Some(&json!({})) {
        result.as_object_mut().unwrap().remove("dns");
    }
    result
}

fn without_runtime_config(mut stdin: Value) -> Value {
    // The reference's driver passes no capability arguments.
    stdin.as_object_mut().unwrap().remove("runtimeConfig");
    stdin
}

#[test]
fn add_sends_the_same_stdin_and_caches_the_same_entry_as_the_reference() {
    let Some(s) = Setup::new("add_sends_the_same_stdin_and_caches_the_same_entry_as_the_reference")
    else {
        return;
    };
    let reference_result: Value = serde_json::from_str(&s.reference("add")).unwrap();
    let reference_stdin = s.take_stdins();
    let reference_cache = s.cache_entry().unwrap();
    s.reference("del");
    s.take_stdins();
    assert!(s.cache_entry().is_none());

    let net = load_conf(&s.path("net.d"), "refsingle").unwrap();
    let ours = s.ours(|cni, rt| cni.add_network(&net, rt)).unwrap();
    let our_stdin = s.take_stdins();
    let our_cache = s.cache_entry().unwrap();

    assert_eq!(Value::Object(ours), normalized(reference_result));
    assert_eq!(our_stdin.len(), 1);
    assert_eq!(our_stdin[0].0, reference_stdin[0].0);
    assert_eq!(
        our_stdin[0].1["runtimeConfig"],
        json!({"portMappings": [{"hostPort": 80, "containerPort": 8080, "protocol": "tcp"}]}),
        "only the declared, enabled capability"
    );
    assert_eq!(
        without_runtime_config(our_stdin[0].1.clone()),
        reference_stdin[0].1
    );
    // Both record the .conf itself, not a list around it.
    assert_eq!(reference_cache.config, CONF.as_bytes());
    assert_eq!(our_cache.config, reference_cache.config);
    assert_eq!(our_cache.network_name, reference_cache.network_name);
    assert_eq!(our_cache.container_id, reference_cache.container_id);
    assert_eq!(
        our_cache.result.map(Value::Object),
        reference_cache.result.map(Value::Object).map(normalized)
    );
}

#[test]
fn each_checks_and_deletes_what_the_other_added() {
    let Some(s) = Setup::new("each_checks_and_deletes_what_the_other_added") else {
        return;
    };
    let net = load_conf(&s.path("net.d"), "refsingle").unwrap();
    let prev = json!({"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24","gateway":"10.9.0.1"}]});

    s.reference("add");
    s.take_stdins();
    s.ours(|cni, rt| cni.check_network(&net, rt)).unwrap();
    s.ours(|cni, rt| cni.del_network(&net, rt)).unwrap();
    let stdins = s.take_stdins();
    assert_eq!(
        stdins.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
        ["CHECK", "DEL"]
    );
    for (_, stdin) in &stdins {
        assert_eq!(normalized(stdin["prevResult"].clone()), prev);
    }
    assert!(s.cache_entry().is_none());

    s.ours(|cni, rt| cni.add_network(&net, rt)).unwrap();
    s.take_stdins();
    s.reference("check");
    s.reference("del");
    let stdins = s.take_stdins();
    assert_eq!(stdins.len(), 2);
    for (_, stdin) in &stdins {
        assert_eq!(normalized(stdin["prevResult"].clone()), prev);
    }
    assert!(s.cache_entry().is_none());
}

#[test]
fn validate_reports_the_same_capabilities_as_the_reference() {
    let Some(s) = Setup::new("validate_reports_the_same_capabilities_as_the_reference") else {
        return;
    };
    let net = load_conf(&s.path("net.d"), "refsingle").unwrap();
    let ours = s.ours(|cni, _| cni.validate_network(&net)).unwrap();
    assert_eq!(ours.join(","), s.reference("validate").trim());
}
