//! cnitool's `-i/--ifname`, `gc --keep/--keep-netns/--all`, and the trace
//! context reaching plugins. Shell-script plugins record what they get.

use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CNITOOL: &str = env!("CARGO_BIN_EXE_cnitool");

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(networks: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["net.d", "bin"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        for name in networks {
            let conf = json!({"cniVersion": "1.1.0", "name": name, "plugins": [{"type": "rec"}]});
            std::fs::write(
                dir.path().join(format!("net.d/10-{name}.conflist")),
                conf.to_string(),
            )
            .unwrap();
        }
        let plugin = dir.path().join("bin/rec");
        std::fs::write(
            &plugin,
            r#"#!/bin/sh
input=$(cat)
echo "$CNI_COMMAND|$CNI_CONTAINERID|$CNI_IFNAME|$TRACEPARENT" >> "$LOGDIR/calls"
printf '%s\n' "$input" >> "$LOGDIR/stdin"
if [ "$CNI_COMMAND" = ADD ]; then printf '{"cniVersion":"1.1.0","ips":[{"address":"10.9.0.2/24"}]}'; fi
"#,
        )
        .unwrap();
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
        Setup { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let out = Command::new(CNITOOL)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("NETCONFPATH", self.path("net.d"))
            .env("CNI_PATH", self.path("bin"))
            .env("CNI_CACHE_DIR", self.path("cache"))
            .env("LOGDIR", self.dir.path())
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cnitool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Takes the recorded calls (`COMMAND|CONTAINERID|IFNAME|TRACEPARENT`).
    fn take_calls(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.path("calls")).unwrap_or_default();
        let _ = std::fs::remove_file(self.path("calls"));
        let _ = std::fs::remove_file(self.path("stdin"));
        text.lines().map(str::to_string).collect()
    }

    fn last_stdin(&self) -> Value {
        let text = std::fs::read_to_string(self.path("stdin")).unwrap();
        serde_json::from_str(text.lines().last().unwrap()).unwrap()
    }

    fn cached(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path("cache/results"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn id_of(netns: &str) -> String {
    cni_plugins::cnitool::container_id(Path::new(netns))
}

#[test]
fn ifname_flag_overrides_cni_ifname() {
    let s = Setup::new(&["a"]);
    s.run(
        &["-i", "net1", "add", "a", "/var/run/netns/x"],
        &[("CNI_IFNAME", "eth9")],
    );
    s.run(&["del", "a", "/var/run/netns/x", "--ifname", "net1"], &[]);
    let calls = s.take_calls();
    let x = id_of("/var/run/netns/x");
    assert_eq!(calls, [format!("ADD|{x}|net1|"), format!("DEL|{x}|net1|")]);
}

#[test]
fn gc_keeps_the_attachments_it_is_told_to() {
    let s = Setup::new(&["a"]);
    for ns in ["x", "y", "z"] {
        s.run(&["add", "a", &format!("/var/run/netns/{ns}")], &[]);
    }
    s.run(&["-i", "net1", "add", "a", "/var/run/netns/x"], &[]);
    s.take_calls();
    let (x, y, z) = (
        id_of("/var/run/netns/x"),
        id_of("/var/run/netns/y"),
        id_of("/var/run/netns/z"),
    );
    s.run(
        &[
            "gc",
            "a",
            "--keep",
            &format!("{y}:eth0"),
            "--keep-netns",
            "/var/run/netns/x",
        ],
        &[],
    );
    let calls = s.take_calls();
    let mut dels: Vec<&String> = calls.iter().filter(|c| c.starts_with("DEL")).collect();
    dels.sort();
    let mut expected = [format!("DEL|{x}|net1|"), format!("DEL|{z}|eth0|")];
    expected.sort();
    assert_eq!(dels, expected.iter().collect::<Vec<_>>());
    assert_eq!(calls.last().unwrap(), "GC|||");
    assert_eq!(s.cached(), [format!("a-{x}-eth0"), format!("a-{y}-eth0")]);
}

#[test]
fn gc_sends_the_kept_attachments_under_both_keys() {
    let s = Setup::new(&["a"]);
    s.run(&["gc", "a", "--keep", "abc"], &[]);
    let gc = s.last_stdin();
    let expected = json!([{"containerID": "abc", "ifname": "eth0"}]);
    assert_eq!(gc["cni.dev/valid-attachments"], expected);
    assert_eq!(gc["cni.dev/attachments"], expected);
}

#[test]
fn gc_all_collects_every_network_once() {
    let s = Setup::new(&["a", "b"]);
    s.run(&["add", "a", "/var/run/netns/x"], &[]);
    s.run(&["add", "b", "/var/run/netns/x"], &[]);
    s.take_calls();
    s.run(&["gc", "--all"], &[]);
    let calls = s.take_calls();
    assert_eq!(calls.iter().filter(|c| c.starts_with("DEL")).count(), 2);
    assert_eq!(calls.iter().filter(|c| c.starts_with("GC")).count(), 2);
    assert!(s.cached().is_empty());
}

#[test]
fn a_bad_keep_is_refused_before_anything_runs() {
    let s = Setup::new(&["a"]);
    let out = Command::new(CNITOOL)
        .args(["gc", "a", "--keep", "abc:"])
        .env("NETCONFPATH", s.path("net.d"))
        .env("CNI_PATH", s.path("bin"))
        .env("CNI_CACHE_DIR", s.path("cache"))
        .env("LOGDIR", s.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--keep"));
    assert!(s.take_calls().is_empty());
}

#[test]
fn plugins_get_the_trace_context() {
    let s = Setup::new(&["a"]);
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    s.run(
        &["add", "a", "/var/run/netns/x"],
        &[("TRACEPARENT", parent)],
    );
    let calls = s.take_calls();
    assert!(calls[0].ends_with(&format!("|{parent}")), "{calls:?}");
}
