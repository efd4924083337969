//! Every plugin binary says its version, and `CNI_RS_LOG_FILE` (or the
//! config's `logFile`) gives operators one JSON object a line with the
//! invocation's identity and the runtime's trace context. Unprivileged
//! (host-local on a temporary dataDir).

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};

const PLUGINS: &[(&str, &str)] = &[
    ("bridge", env!("CARGO_BIN_EXE_bridge")),
    ("ptp", env!("CARGO_BIN_EXE_ptp")),
    ("macvlan", env!("CARGO_BIN_EXE_macvlan")),
    ("ipvlan", env!("CARGO_BIN_EXE_ipvlan")),
    ("vlan", env!("CARGO_BIN_EXE_vlan")),
    ("veth", env!("CARGO_BIN_EXE_veth")),
    ("host-device", env!("CARGO_BIN_EXE_host-device")),
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
    host_local_with(dir, command, extra, json!({}))
}

/// host-local with `top` merged into the config's top level.
fn host_local_with(
    dir: &std::path::Path,
    command: &str,
    extra: &[(&str, &str)],
    top: Value,
) -> Output {
    // `Subnet` (not `subnet`) is accepted as Go accepts it, with a warning.
    let mut conf = json!({"cniVersion": "1.0.0", "name": "logs", "type": "host-local",
        "ipam": {"type": "host-local", "Subnet": "10.77.0.0/24",
                 "dataDir": dir.join("data"), "password": "s3cret"}});
    for (k, v) in top.as_object().unwrap() {
        conf[k] = v.clone();
    }
    run(HOST_LOCAL, false, command, &conf, extra)
}

fn run(
    program: &str,
    isolated: bool,
    command: &str,
    conf: &Value,
    extra: &[(&str, &str)],
) -> Output {
    let mut command_line = if isolated && cni_core::testsupport::is_root() {
        // As root, in a network namespace of its own that ends with it: a
        // main plugin never touches the machine's.
        let mut c = Command::new("/usr/bin/unshare");
        c.arg("--net").arg(program);
        c
    } else {
        Command::new(program)
    };
    let mut child = command_line
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

/// The one warning host-local's ADD logs (`Subnet` spelled so), or none.
fn logged(log: &std::path::Path) -> Vec<Value> {
    match std::fs::read_to_string(log) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
            .collect(),
        Err(e) => panic!("{}: {e}", log.display()),
    }
}

#[test]
fn the_configs_log_file_and_level_are_used_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let from_config = dir.path().join("config.log");
    let keys = json!({"logFile": from_config, "logLevel": "warn"});
    let out = host_local_with(dir.path(), "ADD", &[], keys.clone());
    assert!(out.status.success(), "{out:?}");
    let lines = logged(&from_config);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "warn");
    assert_eq!(lines[0]["command"], "ADD");

    // The config's level filters: `error` drops the warning.
    let quiet = dir.path().join("quiet.log");
    let out = host_local_with(
        dir.path(),
        "DEL",
        &[],
        json!({"logFile": quiet, "LogLevel": "error"}),
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        logged(&quiet).is_empty(),
        "the file is opened, nothing at error level"
    );

    // Both set: the environment's file and level win, the config's file is
    // not written.
    let from_env = dir.path().join("env.log");
    let env = [
        ("CNI_RS_LOG_FILE", from_env.to_str().unwrap()),
        ("CNI_RS_LOG_FILE_LEVEL", "info"),
    ];
    let out = host_local_with(
        dir.path(),
        "ADD",
        &env,
        json!({"logFile": from_config, "logLevel": "error"}),
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        logged(&from_env).len(),
        1,
        "the env level (info) keeps the warning"
    );
    assert_eq!(logged(&from_config).len(), 1, "only the first ADD's line");
}

#[test]
fn a_bad_log_key_is_said_naming_it_and_never_fails_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    for (keys, said) in [
        (
            json!({"logFile": "relative.log"}),
            "logFile: \"relative.log\" is not an absolute path",
        ),
        (json!({"logFile": 7}), "logFile: expected a string path"),
        (
            json!({"logFile": dir.path().join("x.log"), "logLevel": "verbose"}),
            "logLevel: \"verbose\" is not one of",
        ),
    ] {
        // A data directory each: every ADD is a first one.
        let data = tempfile::tempdir_in(dir.path()).unwrap();
        let out = host_local_with(data.path(), "ADD", &[], keys.clone());
        assert!(out.status.success(), "{keys}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(said), "{keys}: {stderr}");
    }
    assert!(!dir.path().join("relative.log").exists());
    // With an unknown level the file is still written, at the default level.
    assert_eq!(logged(&dir.path().join("x.log")).len(), 1);
}

/// Every binary reads `logFile` in the one place that sets up its logs,
/// before its own config parsing: the file is opened (created) whatever the
/// plugin then makes of the config (most of these fail this ADD unprivileged
/// or without a `prevResult`).
#[test]
fn every_plugin_opens_the_log_file_its_config_names() {
    let dir = tempfile::tempdir().unwrap();
    for (name, path) in PLUGINS {
        let log = dir.path().join(format!("{name}.log"));
        let conf = json!({"cniVersion": "1.0.0", "name": "logs", "type": name,
            "logFile": log, "ipam": {"type": "host-local", "subnet": "10.77.0.0/24",
            "dataDir": dir.path().join("data")}});
        let out = run(path, true, "ADD", &conf, &[]);
        assert!(
            log.exists(),
            "{name} did not open its config's logFile: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
