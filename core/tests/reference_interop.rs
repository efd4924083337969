//! Differential checks against the reference plugins in /usr/lib/cni: results
//! they print parse into our model and render back byte for byte, and our
//! conversions equal what the reference itself prints at the lower version.
//! host-local with a private dataDir touches no network state.

use cni_core::invoke::{exec_plugin_with_result, Exec, RawExec};
use cni_core::spec::CniResult;
use std::path::Path;

const HOST_LOCAL: &str = "/usr/lib/cni/host-local";

fn reference_available() -> bool {
    if Path::new(HOST_LOCAL).exists() {
        return true;
    }
    if std::env::var("CNI_TEST_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
        panic!("{HOST_LOCAL} is missing and CNI_TEST_REQUIRE_PRIVILEGED=1");
    }
    eprintln!("SKIPPED (needs /usr/lib/cni): reference_interop");
    false
}

/// A dual-stack ADD on a fresh dataDir, so every version gets the same addresses.
fn host_local_add(version: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let conf = serde_json::json!({
        "cniVersion": version, "name": "interop", "type": "host-local",
        "ipam": {
            "type": "host-local", "dataDir": dir.path(),
            "ranges": [[{"subnet": "10.9.0.0/24", "gateway": "10.9.0.1"}], [{"subnet": "fd00:9::/64"}]],
            "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0", "gw": "fd00:9::1"}],
            "dns": {"nameservers": ["10.9.0.1"], "search": ["example.test"]}
        }
    });
    let conf = serde_json::to_vec(&conf).unwrap();
    let env: Vec<(String, String)> = [
        ("CNI_COMMAND", "ADD"),
        ("CNI_CONTAINERID", "interop1"),
        ("CNI_NETNS", "/var/run/netns/interop-does-not-exist"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", "/usr/lib/cni"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let out = RawExec
        .exec_plugin(Path::new(HOST_LOCAL), &conf, &env)
        .unwrap();
    (out, conf)
}

/// The 1.1.1 reference still prints an empty `"dns": {}` at 1.0.0; later
/// reference releases (and we) omit it.
fn without_empty_dns(mut v: serde_json::Value) -> serde_json::Value {
    if v["dns"] == serde_json::json!({}) {
        v.as_object_mut().unwrap().remove("dns");
    }
    v
}

#[test]
fn reference_results_render_back_identically() {
    if !reference_available() {
        return;
    }
    for version in ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"] {
        let (out, _) = host_local_add(version);
        let printed = String::from_utf8(out).unwrap();
        let ours = CniResult::parse(printed.as_bytes()).unwrap();
        assert_eq!(ours.cni_version, version);
        let rendered = ours.to_json_at(version).unwrap();
        if version == "1.0.0" {
            let theirs: serde_json::Value = serde_json::from_str(&printed).unwrap();
            let mine: serde_json::Value = serde_json::from_str(&rendered).unwrap();
            assert_eq!(mine, without_empty_dns(theirs));
        } else {
            assert_eq!(rendered, printed, "{version}");
        }
    }
}

#[test]
fn our_down_conversions_equal_what_the_reference_prints() {
    if !reference_available() {
        return;
    }
    let (newest, conf) = host_local_add("1.0.0");
    let model = exec_plugin_with_result_from(&newest, &conf);
    for version in ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0"] {
        let (theirs, _) = host_local_add(version);
        assert_eq!(
            model.to_json_at(version).unwrap(),
            String::from_utf8(theirs).unwrap(),
            "{version}"
        );
    }
}

/// Parses what the plugin printed as `exec_plugin_with_result` would.
fn exec_plugin_with_result_from(stdout: &[u8], conf: &[u8]) -> CniResult {
    struct Replay(Vec<u8>);
    impl Exec for Replay {
        fn exec_plugin(
            &self,
            _: &Path,
            _: &[u8],
            _: &[(String, String)],
        ) -> Result<Vec<u8>, cni_core::CniError> {
            Ok(self.0.clone())
        }
        fn find_in_path(
            &self,
            t: &str,
            p: &[std::path::PathBuf],
        ) -> Result<std::path::PathBuf, cni_core::CniError> {
            cni_core::invoke::find_in_path(t, p)
        }
    }
    exec_plugin_with_result(Path::new(HOST_LOCAL), conf, &[], &Replay(stdout.to_vec())).unwrap()
}
