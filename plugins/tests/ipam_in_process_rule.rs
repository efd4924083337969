//! The IPAM plugin runs in process only when the file `CNI_PATH` leads to is
//! a binary of this very build (it carries our build stamp); any other file
//! named `host-local` is exec'd.

use cni_core::invoke::RawExec;
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::testsupport;
use cni_core::{CniError, CniResult};
use cni_plugins::build_stamp;
use cni_plugins::common::delegate::{InProcessDelegate, SiblingDelegate};
use cni_plugins::common::IpamDelegate;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Stands in for host-local in process: its fixed answer shows it ran.
struct Fixed;
impl Plugin for Fixed {
    fn add(&self, _: &CmdArgs) -> Result<CniResult, CniError> {
        Ok(
            serde_json::from_str(r#"{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}"#)
                .unwrap(),
        )
    }
    fn del(&self, _: &CmdArgs) -> Result<(), CniError> {
        Ok(())
    }
    fn check(&self, _: &CmdArgs) -> Result<(), CniError> {
        Ok(())
    }
    fn about(&self) -> String {
        String::new()
    }
}

const IN_PROCESS: &str = "10.9.0.2/24";
/// What a real host-local hands out on `SUBNET` when exec'd.
const EXECD: &str = "10.77.0.2/24";
const SUBNET: &str = "10.77.0.0/24";

fn our_host_local() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_host-local"))
}

/// A `CNI_PATH` directory whose `host-local` is a copy of `source`.
fn dir_with_host_local(source: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(source, dir.path().join("host-local")).unwrap();
    dir
}

/// ADD through the binaries' delegate; the address says who answered.
fn add_through_sibling_delegate(cni_path: &Path) -> Result<String, CniError> {
    let data = tempfile::tempdir().unwrap();
    let conf = serde_json::json!({
        "cniVersion": "1.0.0", "name": "n", "type": "bridge",
        "ipam": {"type": "host-local", "subnet": SUBNET, "dataDir": data.path()},
    });
    let args = CmdArgs {
        container_id: "c1".into(),
        netns: "/var/run/netns/x".into(),
        ifname: "eth0".into(),
        path: vec![cni_path.to_path_buf()],
        stdin: serde_json::to_vec(&conf).unwrap(),
        ..Default::default()
    };
    let delegate = SiblingDelegate::for_this_binary(
        RawExec,
        InProcessDelegate::new().with("host-local", &Fixed),
    );
    let result = delegate.add("host-local", &args.stdin, &args)?;
    Ok(result.ips[0].address.to_string())
}

#[test]
fn every_plugin_binary_carries_this_builds_stamp() {
    for exe in [
        env!("CARGO_BIN_EXE_host-local"),
        env!("CARGO_BIN_EXE_bridge"),
        env!("CARGO_BIN_EXE_ptp"),
        env!("CARGO_BIN_EXE_macvlan"),
        env!("CARGO_BIN_EXE_loopback"),
        env!("CARGO_BIN_EXE_static"),
    ] {
        assert_eq!(
            build_stamp::of_file(Path::new(exe)),
            Some(build_stamp::own()),
            "{exe}"
        );
    }
}

#[test]
fn our_host_local_next_to_our_bridge_runs_in_process() {
    let dir = dir_with_host_local(&our_host_local());
    std::fs::copy(env!("CARGO_BIN_EXE_bridge"), dir.path().join("bridge")).unwrap();
    assert_eq!(
        add_through_sibling_delegate(dir.path()).unwrap(),
        IN_PROCESS
    );
}

#[test]
fn our_host_local_from_another_build_is_execd() {
    let dir = dir_with_host_local(&our_host_local());
    let copy = dir.path().join("host-local");
    let mut bytes = std::fs::read(&copy).unwrap();
    let stamp = build_stamp::own();
    let at = bytes
        .windows(stamp.len())
        .position(|w| w == stamp)
        .expect("our host-local holds the stamp");
    bytes[at] ^= 0xff; // another build: another stamp, same code
    std::fs::write(&copy, bytes).unwrap();
    assert_eq!(add_through_sibling_delegate(dir.path()).unwrap(), EXECD);
}

#[test]
fn a_shell_script_named_host_local_is_execd() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("host-local");
    std::fs::write(
        &script,
        "#!/bin/sh\necho '{\"code\":42,\"msg\":\"exec was used\"}'\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = add_through_sibling_delegate(dir.path()).unwrap_err();
    assert_eq!((e.code, e.msg.as_str()), (42, "exec was used"));
}

#[test]
fn the_reference_host_local_is_execd() {
    let reference = Path::new("/usr/lib/cni/host-local");
    let test = "the_reference_host_local_is_execd";
    if !testsupport::require(test, "/usr/lib/cni/host-local", reference.exists()) {
        return;
    }
    let dir = dir_with_host_local(reference);
    assert_eq!(add_through_sibling_delegate(dir.path()).unwrap(), EXECD);
}
