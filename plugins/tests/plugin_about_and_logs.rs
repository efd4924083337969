//! Every plugin binary says its version, and `CNI_RS_LOG_FILE` gives
//! operators one JSON object a line with the invocation's identity and the
//! runtime's trace context. Unprivileged (host-local on a temporary dataDir).

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const PLUGINS: &[(&str, &str)] = &[
    ("bridge", env!("CARGO_BIN_EXE_bridge")),
    ("ptp", env!("CARGO_BIN_EXE_ptp")),
    ("macvlan", env!("CARGO_BIN_EXE_macvlan")),
    ("loopback", env!("CARGO_BIN_EXE_loopback")),
    ("host-local", env!("CARGO_BIN_EXE_host-local")),
    ("static", env!("CARGO_BIN_EXE_static")),
    ("portmap", env!("CARGO_BIN_EXE_portmap")),
    ("firewall", env!("CARGO_BIN_EXE_firewall")),
    ("tuning", env!("CARGO_BIN_EXE_tuning")),
    ("bandwidth", env!("CARGO_BIN_EXE_bandwidth")),
    ("sbr", env!("CARGO_BIN_EXE_sbr")),
];
const HOST_LOCAL: &str = env!("CARGO_BIN_EXE_host-local");
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn every_plugin_names_its_version_when_run_by_a_person() {
    let version = env!("CARGO_PKG_VERSION");
    for (name, path) in PLUGINS {
        let out = Command::new(path).env_clear().output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {stderr}");
        assert!(
            stderr.starts_with("CNI ") && stderr.contains(&format!("(cni-rs) v{version}")),
            "{name}: {stderr}"
        );
    }
}

fn host_local(dir: &std::path::Path, command: &str, extra: &[(&str, &str)]) -> Output {
    // `Subnet` (not `subnet`) is accepted as Go accepts it, with a warning.
    let conf = json!({"cniVersion": "1.0.0", "name": "logs", "type": "host-local",
        "ipam": {"type": "host-local", "Subnet": "10.77.0.0/24",
                 "dataDir": dir.join("data"), "password": "s3cret"}});
    let mut child = Command::new(HOST_LOCAL)
        .env_clear()
        .envs([
            ("CNI_COMMAND", command),
            ("CNI_CONTAINERID", "ctr1"),
            ("CNI_NETNS", "/var/run/netns/logs"),
            ("CNI_IFNAME", "eth0"),
            ("CNI_PATH", "/nonexistent"),
        ])
        .envs(extra.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(conf.to_string().as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn the_log_file_has_one_json_object_a_line_with_the_invocation() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("cni.log");
    let log_var = log.to_str().unwrap();
    let env = [
        ("CNI_RS_LOG_FILE", log_var),
        ("TRACEPARENT", TRACEPARENT),
        ("TRACESTATE", "vendor=1"),
    ];
    let out = host_local(dir.path(), "ADD", &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = host_local(dir.path(), "DEL", &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect();
    assert_eq!(lines.len(), 1, "ADD's one warning: {text}");
    for line in &lines {
        assert_eq!(line["plugin"], "host-local");
        assert_eq!(line["command"], "ADD");
        assert_eq!(line["containerID"], "ctr1");
        assert_eq!(line["netns"], "/var/run/netns/logs");
        assert_eq!(line["ifname"], "eth0");
        assert_eq!(line["traceparent"], TRACEPARENT);
        assert_eq!(line["tracestate"], "vendor=1");
        assert_eq!(line["level"], "warn");
        assert!(line["time"].as_str().unwrap().ends_with('Z'), "{line}");
        assert!(
            line["message"].as_str().unwrap().contains("subnet"),
            "{line}"
        );
    }
    assert!(
        !text.contains("s3cret"),
        "the configuration is never logged"
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&log).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn stderr_lines_carry_the_trace_context() {
    let dir = tempfile::tempdir().unwrap();
    let out = host_local(dir.path(), "ADD", &[("TRACEPARENT", TRACEPARENT)]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(TRACEPARENT), "{stderr}");
}

#[test]
fn a_log_file_that_cannot_be_opened_does_not_fail_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.log");
    let link = dir.path().join("link.log");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = host_local(
        dir.path(),
        "ADD",
        &[("CNI_RS_LOG_FILE", link.to_str().unwrap())],
    );
    assert!(out.status.success());
    assert!(!target.exists(), "never written through a symlink");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open log file"));
}
