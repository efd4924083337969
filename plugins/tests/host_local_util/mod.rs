//! Running a host-local binary (ours or the reference) as a runtime would.
#![allow(dead_code)]

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const REFERENCE: &str = "/usr/lib/cni/host-local";

pub fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_host-local"))
}

/// The reference binary, or None after saying loudly why the test is skipped
/// (a failure instead when CNI_TEST_REQUIRE_PRIVILEGED=1).
pub fn reference(test: &str) -> Option<PathBuf> {
    let p = PathBuf::from(REFERENCE);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CNI_TEST_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
        panic!("{test}: {REFERENCE} is missing and CNI_TEST_REQUIRE_PRIVILEGED=1");
    }
    eprintln!("SKIPPED (needs {REFERENCE}, apt-get install containernetworking-plugins): {test}");
    None
}

pub struct Out {
    pub ok: bool,
    pub stdout: String,
}

impl Out {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {:?}", self.stdout))
    }
    pub fn code(&self) -> u64 {
        assert!(!self.ok, "expected a failure, got {}", self.stdout);
        self.json()["code"].as_u64().unwrap()
    }
    pub fn msg(&self) -> String {
        self.json()["msg"].as_str().unwrap_or_default().to_string()
    }
    pub fn ips(&self) -> Vec<String> {
        assert!(self.ok, "expected success, got {}", self.stdout);
        self.json()["ips"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["address"].as_str().unwrap().to_string())
            .collect()
    }
}

pub fn run(bin: &Path, cmd: &str, id: &str, ifname: &str, conf: &str, cni_args: &str) -> Out {
    run_with(Command::new(bin), cmd, id, ifname, conf, cni_args)
}

/// [`run`] with a command prepared by the caller (working directory, ...).
pub fn run_with(
    mut command: Command,
    cmd: &str,
    id: &str,
    ifname: &str,
    conf: &str,
    cni_args: &str,
) -> Out {
    let mut child = command
        .env_clear()
        .env("CNI_COMMAND", cmd)
        .env("CNI_CONTAINERID", id)
        .env("CNI_NETNS", "/var/run/netns/not-needed")
        .env("CNI_IFNAME", ifname)
        .env("CNI_PATH", "/nonexistent")
        .env("CNI_ARGS", cni_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(conf.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Out {
        ok: out.status.success(),
        stdout: String::from_utf8(out.stdout).unwrap(),
    }
}

pub fn add(bin: &Path, id: &str, conf: &str) -> Out {
    run(bin, "ADD", id, "eth0", conf, "")
}

pub fn del(bin: &Path, id: &str, conf: &str) -> Out {
    run(bin, "DEL", id, "eth0", conf, "")
}

/// A host-local configuration at `version` with `ipam` extra fields and the
/// given data directory.
pub fn conf(version: &str, data_dir: &Path, ipam: &str) -> String {
    format!(
        r#"{{"cniVersion":"{version}","name":"testnet","type":"bridge","ipam":{{"type":"host-local","dataDir":"{}"{}{ipam}}}}}"#,
        data_dir.display(),
        if ipam.is_empty() { "" } else { "," }
    )
}
