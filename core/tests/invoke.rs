//! Running plugins: RawExec against the built test plugin (and the reference
//! plugins where installed), delegation and the in-memory Exec.

#[path = "support/echo_plugin.rs"]
mod echo_plugin;

use cni_core::invoke::testing::InMemoryExec;
use cni_core::invoke::{
    delegate_add_with_env, delegate_check_with_env, delegate_del_with_env, get_version_info, Exec,
    RawExec,
};
use cni_core::CniError;
use echo_plugin::{rich_result, EchoPlugin, SUPPORTED};
use std::path::{Path, PathBuf};

fn test_plugin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cni-skel-test-plugin"))
}

/// A CNI_PATH directory holding the test plugin as type `echo`.
fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(test_plugin(), dir.path().join("echo")).unwrap();
    dir
}

fn base_env(dir: &Path) -> Vec<(String, String)> {
    [
        ("CNI_COMMAND", "ADD"),
        ("CNI_CONTAINERID", "ctr1"),
        ("CNI_NETNS", "/var/run/netns/ctr1"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", &format!("/nonexistent:{}", dir.display())),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn raw_exec_delegates_add_check_del_to_a_real_process() {
    let dir = plugin_dir();
    let env = base_env(dir.path());
    let conf = br#"{"cniVersion":"0.4.0","name":"n","type":"echo"}"#;
    let r = delegate_add_with_env("echo", conf, &RawExec, &env).unwrap();
    assert_eq!(r.cni_version, "0.4.0");
    assert_eq!(r, rich_result().convert_to("0.4.0").unwrap());
    delegate_check_with_env("echo", conf, &RawExec, &env).unwrap();
    delegate_del_with_env("echo", conf, &RawExec, &env).unwrap();
}

#[test]
fn raw_exec_passes_the_plugin_error_unchanged() {
    let dir = plugin_dir();
    let conf = br#"{"cniVersion":"1.0.0","name":"n","type":"echo","fail":{"code":107,"msg":"custom","details":"why"}}"#;
    let e = delegate_add_with_env("echo", conf, &RawExec, &base_env(dir.path())).unwrap_err();
    assert_eq!(
        e,
        CniError::new(107, "custom")
            .with_details("why")
            .with_version("1.0.0")
    );
}

#[test]
fn raw_exec_uses_exactly_the_given_environment() {
    // With no CNI_* variables the plugin sees a person, not a runtime.
    let out = RawExec.exec_plugin(&test_plugin(), b"", &[]).unwrap();
    assert!(out.is_empty());
    let e = RawExec
        .exec_plugin(
            &test_plugin(),
            b"{}",
            &[("CNI_COMMAND".into(), "DEL".into())],
        )
        .unwrap_err();
    assert_eq!(e.code, 4, "{e:?}");
}

#[test]
fn raw_exec_reports_a_missing_binary_by_name() {
    let e = RawExec
        .exec_plugin(Path::new("/nonexistent/plugin"), b"", &[])
        .unwrap_err();
    assert_eq!(e.code, 5);
    assert!(e.msg.contains("/nonexistent/plugin"), "{}", e.msg);
}

#[test]
fn delegation_refuses_path_like_types_and_names_the_search_path() {
    let dir = plugin_dir();
    let env = base_env(dir.path());
    let e = delegate_add_with_env("../echo", b"{}", &RawExec, &env).unwrap_err();
    assert!(e.msg.contains("\"../echo\""), "{}", e.msg);
    let e = delegate_add_with_env("nope", b"{}", &RawExec, &env).unwrap_err();
    assert!(
        e.msg.contains("/nonexistent") && e.msg.contains(&dir.path().display().to_string()),
        "{}",
        e.msg
    );
}

#[test]
fn version_probe_of_our_plugin() {
    let info = get_version_info(&test_plugin(), &RawExec).unwrap();
    assert_eq!(info.cni_version, "1.1.0");
    assert_eq!(info.supported_versions, SUPPORTED);
}

#[test]
fn version_probe_of_the_reference_plugin() {
    let bridge = Path::new("/usr/lib/cni/bridge");
    if !bridge.exists() {
        if std::env::var("CNI_TEST_REQUIRE_PRIVILEGED").as_deref() == Ok("1") {
            panic!(
                "{} is missing and CNI_TEST_REQUIRE_PRIVILEGED=1",
                bridge.display()
            );
        }
        eprintln!("SKIPPED (needs /usr/lib/cni): version_probe_of_the_reference_plugin");
        return;
    }
    let info = get_version_info(bridge, &RawExec).unwrap();
    assert!(info.supports("0.4.0") && info.supports("1.0.0"), "{info:?}");
}

#[test]
fn in_memory_exec_runs_registered_plugins_through_the_dispatcher() {
    let mut exec = InMemoryExec::new();
    exec.register_plugin("echo", EchoPlugin, SUPPORTED);
    exec.register_fn("ipam", |inv| {
        assert_eq!(inv.command(), "ADD");
        Ok(br#"{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}"#.to_vec())
    });
    let env = base_env(Path::new("/opt/cni/bin"));
    let conf = br#"{"cniVersion":"1.1.0","name":"n","type":"echo","ipam":{"type":"ipam"}}"#;
    let r = delegate_add_with_env("echo", conf, &exec, &env).unwrap();
    assert_eq!(r, rich_result().convert_to("1.1.0").unwrap());
    let ipam = delegate_add_with_env("ipam", conf, &exec, &env).unwrap();
    assert_eq!(ipam.ips[0].address.to_string(), "10.9.0.2/24");
    let del_env: Vec<_> = env
        .iter()
        .filter(|(k, _)| k != "CNI_NETNS")
        .cloned()
        .collect();
    delegate_del_with_env("echo", conf, &exec, &del_env).unwrap();

    let calls = exec.calls();
    let seen: Vec<(&str, &str)> = calls
        .iter()
        .map(|c| (c.plugin_type.as_str(), c.command()))
        .collect();
    assert_eq!(
        seen,
        vec![("echo", "ADD"), ("ipam", "ADD"), ("echo", "DEL")]
    );
    assert_eq!(
        calls[0].stdin,
        conf.to_vec(),
        "the full config is passed on"
    );
    assert_eq!(
        calls[0].path,
        Path::new("/nonexistent/echo"),
        "the first CNI_PATH directory wins"
    );

    let e = delegate_add_with_env("missing", conf, &exec, &env).unwrap_err();
    assert!(
        e.msg.contains("\"missing\"") && e.msg.contains("/opt/cni/bin"),
        "{}",
        e.msg
    );
    // A dispatcher error comes back as the document the binary would print.
    let bad = br#"{"cniVersion":"9.0.0","name":"n","type":"echo"}"#;
    assert_eq!(
        delegate_add_with_env("echo", bad, &exec, &env)
            .unwrap_err()
            .code,
        1
    );
}

/// A main plugin that delegates IPAM, run in process: the IPAM error reaches
/// the runtime unchanged, and the IPAM result comes back through the chain.
mod delegating {
    use super::*;
    use cni_core::invoke::delegate_env;
    use cni_core::skel::{CmdArgs, Plugin};
    use cni_core::CniResult;

    pub struct Main(pub InMemoryExec);

    impl Plugin for Main {
        fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
            let conf = args.netconf()?;
            let ipam = conf
                .ipam_type()
                .ok_or_else(|| CniError::invalid_config("missing ipam"))?;
            delegate_add_with_env(ipam, &args.stdin, &self.0, &delegate_env(args))
        }
        fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
            let conf = args.netconf()?;
            let ipam = conf
                .ipam_type()
                .ok_or_else(|| CniError::invalid_config("missing ipam"))?;
            delegate_del_with_env(ipam, &args.stdin, &self.0, &delegate_env(args))
        }
        fn check(&self, _: &CmdArgs) -> Result<(), CniError> {
            Ok(())
        }
        fn about(&self) -> String {
            "main".into()
        }
    }
}

#[test]
fn ipam_errors_and_results_pass_through_a_delegating_plugin() {
    let mut ipam = InMemoryExec::new();
    ipam.register_fn("ipam", |inv| {
        let conf = inv.stdin_json();
        if conf["ipam"]["exhausted"] == true {
            return Err(CniError::new(110, "no addresses left")
                .with_details("range 10.9.0.0/30")
                .with_version("1.0.0"));
        }
        assert_eq!(inv.env["CNI_CONTAINERID"], "ctr1");
        assert_eq!(inv.env["CNI_PATH"], "/opt/a:/opt/b");
        Ok(format!(
            r#"{{"cniVersion":"1.0.0","ips":[{{"address":"10.9.0.2/30"}}],"x":"{}"}}"#,
            inv.command()
        )
        .into_bytes())
    });
    let main = delegating::Main(ipam.clone());
    let env: std::collections::BTreeMap<String, String> = [
        ("CNI_COMMAND", "ADD"),
        ("CNI_CONTAINERID", "ctr1"),
        ("CNI_NETNS", "/var/run/netns/ctr1"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", "/opt/a:/opt/b"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();

    let ok = br#"{"cniVersion":"0.3.1","name":"n","type":"main","ipam":{"type":"ipam"}}"#;
    let out = cni_core::skel::dispatch(&env, &mut &ok[..], &main, SUPPORTED);
    assert_eq!(out.exit_code, 0, "{out:?}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["cniVersion"], "0.3.1");
    assert_eq!(
        doc["ips"][0],
        serde_json::json!({"version":"4","address":"10.9.0.2/30"})
    );

    let exhausted = br#"{"cniVersion":"1.0.0","name":"n","type":"main","ipam":{"type":"ipam","exhausted":true}}"#;
    let out = cni_core::skel::dispatch(&env, &mut &exhausted[..], &main, SUPPORTED);
    assert_eq!(out.exit_code, 1);
    let doc: CniError = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        doc,
        CniError::new(110, "no addresses left")
            .with_details("range 10.9.0.0/30")
            .with_version("1.0.0")
    );
    assert_eq!(ipam.calls().len(), 2);
}

#[test]
fn a_delegate_printing_more_than_16_mib_is_an_error_naming_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // Prints forever: the cap must stop it, not the end of its output.
    let chatty = dir.path().join("chatty");
    std::fs::write(&chatty, "#!/bin/sh\nexec yes\n").unwrap();
    std::fs::set_permissions(&chatty, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = delegate_add_with_env("chatty", b"{}", &RawExec, &base_env(dir.path())).unwrap_err();
    assert_eq!(e.code, 5, "{e:?}");
    assert!(e.msg.contains(&chatty.display().to_string()), "{}", e.msg);
    assert!(e.msg.contains("16 MiB"), "{}", e.msg);
}
