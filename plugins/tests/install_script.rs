//! `scripts/install.sh` installs into a temporary prefix (from the binaries
//! this test build made, so no static build here; CI's check-static covers
//! that), and what it installed runs: cnitool from `<prefix>/bin` drives a
//! plugin from the installed plugin directory.

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const CNITOOL: &str = env!("CARGO_BIN_EXE_cnitool");
const PLUGINS: &str =
    "bridge ptp macvlan loopback host-local static portmap firewall tuning bandwidth sbr";

#[test]
fn install_script_installs_plugins_and_cnitool_that_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (bin_dir, prefix) = (tmp.path().join("opt/cni/bin"), tmp.path().join("usr"));
    let built = Path::new(CNITOOL).parent().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(["--cni-bin-dir"])
        .arg(&bin_dir)
        .arg("--prefix")
        .arg(&prefix)
        .arg("--from")
        .arg(built)
        .args(["--plugins", PLUGINS])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "install.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for p in PLUGINS.split(' ') {
        let about = Command::new(bin_dir.join(p)).env_clear().output().unwrap();
        assert!(
            String::from_utf8_lossy(&about.stderr).contains(env!("CARGO_PKG_VERSION")),
            "{p}"
        );
    }
    // No temporary file is left beside the plugins.
    let names: Vec<String> = std::fs::read_dir(&bin_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");

    // cnitool from the prefix, plugins from the installed directory.
    let netd = tmp.path().join("net.d");
    std::fs::create_dir(&netd).unwrap();
    let conf = json!({"cniVersion": "1.0.0", "name": "inst", "type": "host-local",
        "ipam": {"type": "host-local", "subnet": "10.78.0.0/24",
                 "dataDir": tmp.path().join("ipam")}});
    std::fs::write(netd.join("10-inst.conf"), conf.to_string()).unwrap();
    let cnitool = |verb: &str| {
        Command::new(prefix.join("bin/cnitool"))
            .env_clear()
            .env("NETCONFPATH", &netd)
            .env("CNI_PATH", &bin_dir)
            .env("CNI_CACHE_DIR", tmp.path().join("cache"))
            .args([verb, "inst", "/var/run/netns/installed"])
            .output()
            .unwrap()
    };
    let add = cnitool("add");
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let result: Value = serde_json::from_slice(&add.stdout).unwrap();
    assert_eq!(result["ips"][0]["address"], "10.78.0.2/24");
    let del = cnitool("del");
    assert!(
        del.status.success(),
        "{}",
        String::from_utf8_lossy(&del.stderr)
    );
}

#[test]
fn install_script_refuses_unknown_plugins_and_missing_binaries() {
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install.sh");
    for plugins in ["nonesuch", "dhcp"] {
        let out = Command::new("bash")
            .arg(&script)
            .arg("--cni-bin-dir")
            .arg(tmp.path().join("bin"))
            .arg("--prefix")
            .arg(tmp.path())
            .arg("--from")
            .arg(tmp.path().join("empty"))
            .args(["--plugins", plugins])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{plugins}");
    }
}
