//! The reference's libcni (Go, Debian `golang-github-appc-cni-dev`) and ours
//! read each other's result cache: one ADDs, the other CHECKs and DELs with
//! the cached result as `prevResult`. Unprivileged (shell-script plugins);
//! needs `go` and the reference source, skipped loudly without them unless
//! CNI_TEST_REQUIRE_REFERENCE_LIBCNI=1.

#[path = "reference_libcni/build.rs"]
mod reference_build;

use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

const CNITOOL: &str = env!("CARGO_BIN_EXE_cnitool");
const NETNS: &str = "/var/run/netns/refcache";

struct Setup {
    dir: tempfile::TempDir,
    reference: PathBuf,
}

impl Setup {
    /// None (after a loud skip) when the reference cannot be built here.
    fn new(test: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let reference = reference_build::build(test, dir.path())?;
        for sub in ["net.d", "bin"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        let conf = json!({"cniVersion":"1.0.0","name":"refcache","plugins":[{"type":"rec"},{"type":"rec","name":"second"}]});
        std::fs::write(
            dir.path().join("net.d/10-refcache.conflist"),
            conf.to_string(),
        )
        .unwrap();
        let plugin = dir.path().join("bin/rec");
        std::fs::write(
            &plugin,
            r#"#!/bin/sh
input=$(cat)
printf '%s\n' "$input" >> "$LOGDIR/stdin"
if [ "$CNI_COMMAND" = ADD ]; then printf '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24","gateway":"10.9.0.1"}]}'; fi
"#,
        )
        .unwrap();
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
        Some(Setup { dir, reference })
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("CNI_PATH", self.path("bin"))
            .env("LOGDIR", self.dir.path());
    }

    fn ours(&self, verb: &str) -> Output {
        let mut cmd = Command::new(CNITOOL);
        self.env(&mut cmd);
        cmd.args(["--cache-dir"])
            .arg(self.path("cache"))
            .args([verb, "refcache", NETNS]);
        cmd.env("NETCONFPATH", self.path("net.d"))
            .env("CNI_ARGS", "IgnoreUnknown=1");
        checked(cmd.output().unwrap(), verb)
    }

    fn reference(&self, verb: &str) -> Output {
        let mut cmd = Command::new(&self.reference);
        self.env(&mut cmd);
        cmd.arg(verb)
            .arg(self.path("net.d"))
            .args(["refcache", NETNS])
            .arg(self.path("cache"));
        checked(cmd.output().unwrap(), verb)
    }

    fn stdins(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.path("stdin")).unwrap_or_default();
        let values = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        std::fs::remove_file(self.path("stdin")).ok();
        values
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.path("cache/results"))
            .map(|d| d.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default()
    }
}

fn checked(out: Output, verb: &str) -> Output {
    assert!(
        out.status.success(),
        "{verb}: {:?}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn assert_prev_result_is_the_add_result(stdins: &[Value], count: usize) {
    assert_eq!(stdins.len(), count);
    for stdin in stdins {
        assert_eq!(stdin["prevResult"]["cniVersion"], "1.0.0", "{stdin}");
        assert_eq!(
            stdin["prevResult"]["ips"],
            json!([{"address":"10.9.0.2/24","gateway":"10.9.0.1"}]),
            "{stdin}"
        );
    }
}

#[test]
fn ours_checks_and_deletes_what_the_reference_added() {
    let Some(s) = Setup::new("ours_checks_and_deletes_what_the_reference_added") else {
        return;
    };
    s.reference("add");
    s.stdins();
    let files = s.cache_files();
    assert_eq!(files.len(), 1);
    let written = std::fs::read(&files[0]).unwrap();
    match cni_core::libcni::cache::parse(&written).unwrap() {
        cni_core::libcni::CacheEntry::V1(info) => {
            assert_eq!(info.network_name, "refcache");
            assert_eq!(
                info.cni_args,
                [("IgnoreUnknown".to_string(), "1".to_string())]
            );
            assert_eq!(
                info.config,
                std::fs::read(s.path("net.d/10-refcache.conflist")).unwrap()
            );
        }
        other => panic!("the reference wrote something else: {other:?}"),
    }

    s.ours("check");
    assert_prev_result_is_the_add_result(&s.stdins(), 2);
    s.ours("del");
    assert_prev_result_is_the_add_result(&s.stdins(), 2);
    assert!(s.cache_files().is_empty());
}

#[test]
fn the_reference_checks_and_deletes_what_ours_added() {
    let Some(s) = Setup::new("the_reference_checks_and_deletes_what_ours_added") else {
        return;
    };
    s.ours("add");
    s.stdins();
    assert_eq!(s.cache_files().len(), 1);
    s.reference("check");
    assert_prev_result_is_the_add_result(&s.stdins(), 2);
    s.reference("del");
    assert_prev_result_is_the_add_result(&s.stdins(), 2);
    assert!(s.cache_files().is_empty());
}
