//! cnitool as a process, with shell-script plugins that record what they get.

use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CNITOOL: &str = env!("CARGO_BIN_EXE_cnitool");
/// `cnitool-` + sha512("/var/run/netns/test")[..10], computed with sha512sum.
const TEST_CONTAINER_ID: &str = "cnitool-7b8a61d5d8e94d07cbe4";

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(conflist: Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["net.d", "bin"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        std::fs::write(
            dir.path().join("net.d/10-test.conflist"),
            conflist.to_string(),
        )
        .unwrap();
        let setup = Setup { dir };
        // Records "COMMAND|CONTAINERID|NETNS|IFNAME|ARGS|PATH" and stdin, answers ADD.
        setup.plugin(
            "rec",
            r#"input=$(cat)
echo "$CNI_COMMAND|$CNI_CONTAINERID|$CNI_NETNS|$CNI_IFNAME|$CNI_ARGS|$CNI_PATH" >> "$LOGDIR/calls"
printf '%s\n' "$input" >> "$LOGDIR/stdin"
echo "plugin log line" >&2
if [ "$CNI_COMMAND" = ADD ]; then printf '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}'; fi"#,
        );
        setup.plugin(
            "fail",
            r#"cat >/dev/null
echo "$CNI_COMMAND" >> "$LOGDIR/calls"
printf '{"cniVersion":"1.0.0","code":7,"msg":"bad subnet","details":"field ipam.subnet"}'
exit 1"#,
        );
        setup
    }

    fn plugin(&self, name: &str, body: &str) {
        let path = self.dir.path().join("bin").join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(CNITOOL);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("NETCONFPATH", self.path("net.d"))
            .env(
                "CNI_PATH",
                format!("/nonexistent:{}", self.path("bin").display()),
            )
            .env("CNI_CACHE_DIR", self.path("cache"))
            .env("LOGDIR", self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn stdins(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path("stdin"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn cache_file(&self, network: &str) -> PathBuf {
        self.path(&format!("cache/results/{network}-{TEST_CONTAINER_ID}-eth0"))
    }
}

fn net(version: &str, plugins: &[&str]) -> Value {
    json!({"cniVersion": version, "name": "testnet", "plugins": plugins.iter().map(|t| json!({"type": t})).collect::<Vec<_>>()})
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn add_prints_the_result_like_the_reference_and_caches_it() {
    let s = Setup::new(net("1.0.0", &["rec"]));
    let out = s.run(
        &["add", "testnet", "/var/run/netns/../netns/test"],
        &[("CNI_ARGS", "IgnoreUnknown=1;K=V")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout, "{\n    \"cniVersion\": \"1.0.0\",\n    \"ips\": [\n        {\n            \"address\": \"10.9.0.2/24\"\n        }\n    ]\n}");
    assert!(
        stderr(&out).contains("plugin log line"),
        "plugin stderr reaches the user"
    );
    let bin = s.path("bin");
    assert_eq!(
        s.calls(),
        [format!(
            "ADD|{TEST_CONTAINER_ID}|/var/run/netns/test|eth0|IgnoreUnknown=1;K=V|/nonexistent:{}",
            bin.display()
        )]
    );
    let cached: Value =
        serde_json::from_slice(&std::fs::read(s.cache_file("testnet")).unwrap()).unwrap();
    assert_eq!(cached["containerId"], TEST_CONTAINER_ID);
    assert_eq!(
        cached["cniArgs"],
        json!([["IgnoreUnknown", "1"], ["K", "V"]])
    );
}

#[test]
fn check_and_del_reuse_the_cached_result_then_del_clears_it() {
    let s = Setup::new(net("1.0.0", &["rec"]));
    assert!(s
        .run(&["add", "testnet", "/var/run/netns/test"], &[])
        .status
        .success());
    let out = s.run(&["check", "testnet", "/var/run/netns/test"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(&["del", "testnet", "/var/run/netns/test"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let stdins = s.stdins();
    assert_eq!(stdins.len(), 3);
    let expected_prev = json!({"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]});
    assert_eq!(stdins[1]["prevResult"], expected_prev);
    assert_eq!(stdins[2]["prevResult"], expected_prev);
    assert!(!s.cache_file("testnet").exists());
}

#[test]
fn the_parent_cni_variables_do_not_leak_into_plugins() {
    let s = Setup::new(net("1.0.0", &["rec"]));
    let out = s.run(
        &["add", "testnet", "/var/run/netns/test"],
        &[
            ("CNI_COMMAND", "DEL"),
            ("CNI_CONTAINERID", "bogus"),
            ("CNI_IFNAME", "net7"),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        s.calls()[0].starts_with(&format!(
            "ADD|{TEST_CONTAINER_ID}|/var/run/netns/test|net7|"
        )),
        "{:?}",
        s.calls()
    );
}

#[test]
fn a_plugin_error_is_shown_and_the_exit_status_is_1() {
    let s = Setup::new(net("1.0.0", &["rec", "fail", "rec"]));
    let out = s.run(&["add", "testnet", "/var/run/netns/test"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("type=\"fail\"")
            && err.contains("bad subnet")
            && err.contains("field ipam.subnet"),
        "{err}"
    );
    assert_eq!(
        s.calls().len(),
        2,
        "the plugin after the failing one never ran"
    );
    assert!(!s.cache_file("testnet").exists());
}

#[test]
fn status_and_gc_take_no_namespace() {
    let s = Setup::new(net("1.1.0", &["rec"]));
    assert!(s
        .run(&["add", "testnet", "/var/run/netns/test"], &[])
        .status
        .success());
    let out = s.run(&["status", "testnet"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(&["gc", "testnet"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let calls = s.calls();
    assert!(calls[1].starts_with("STATUS||||"), "{calls:?}");
    assert!(
        calls[2].starts_with(&format!("DEL|{TEST_CONTAINER_ID}|")),
        "GC first deletes the cached attachment: {calls:?}"
    );
    assert!(calls[3].starts_with("GC||||"), "{calls:?}");
    assert_eq!(s.stdins()[3]["cni.dev/valid-attachments"], json!([]));
    assert!(!s.cache_file("testnet").exists());
}

#[test]
fn status_below_1_1_0_is_refused() {
    let s = Setup::new(net("1.0.0", &["rec"]));
    let out = s.run(&["status", "testnet"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("STATUS needs 1.1.0"),
        "{}",
        stderr(&out)
    );
    assert!(s.calls().is_empty());
}

#[test]
fn bad_environment_and_arguments_are_clear_errors() {
    let s = Setup::new(net("1.0.0", &["rec"]));
    for (env, needle) in [
        (("CNI_ARGS", "novalue"), "CNI_ARGS"),
        (("CAP_ARGS", "[1]"), "CAP_ARGS"),
        (("CAP_ARGS", "{"), "CAP_ARGS"),
        (("CNI_IFNAME", "way-too-long-interface"), "ifName"),
    ] {
        let out = s.run(&["add", "testnet", "/var/run/netns/test"], &[env]);
        assert_eq!(out.status.code(), Some(1), "{env:?}");
        assert!(stderr(&out).contains(needle), "{env:?}: {}", stderr(&out));
    }
    let out = s.run(&["add", "nosuchnet", "/var/run/netns/test"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("\"nosuchnet\""), "{}", stderr(&out));
    let out = s.run(&["add", "testnet"], &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "usage errors exit 1 like the reference"
    );
    assert!(s.calls().is_empty());
}

#[test]
fn a_path_traversal_plugin_type_is_refused_naming_the_field() {
    let s = Setup::new(
        json!({"cniVersion":"1.0.0","name":"testnet","plugins":[{"type":"../bin/rec"}]}),
    );
    let out = s.run(&["add", "testnet", "/var/run/netns/test"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("plugins[0].type"), "{}", stderr(&out));
    assert!(s.calls().is_empty());
}

#[test]
fn help_explains_usage_with_examples() {
    let out = Command::new(CNITOOL).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "add",
        "check",
        "del",
        "gc",
        "status",
        "NETCONFPATH",
        "CNI_PATH",
        "CNI_IFNAME",
        "CAP_ARGS",
        "Examples:",
        "cnitool add mynet /var/run/netns/demo",
    ] {
        assert!(help.contains(needle), "help lacks {needle}");
    }
}

#[test]
fn process_exec_finds_only_executable_plain_names() {
    use cni_core::invoke::Exec;
    use cni_core::invoke::RawExec as ProcessExec;
    let s = Setup::new(net("1.0.0", &["rec"]));
    std::fs::write(s.path("bin/notexec"), "#!/bin/sh\n").unwrap();
    let paths = [PathBuf::from("/nonexistent"), s.path("bin")];
    assert_eq!(
        ProcessExec.find_in_path("rec", &paths).unwrap(),
        s.path("bin/rec")
    );
    for bad in ["notexec", "missing", "../bin/rec", "a/b", ""] {
        assert!(ProcessExec.find_in_path(bad, &paths).is_err(), "{bad}");
    }
    let err = ProcessExec.find_in_path("missing", &paths).unwrap_err();
    assert!(
        err.msg.contains("/nonexistent") && err.msg.contains(&s.path("bin").display().to_string()),
        "{}",
        err.msg
    );
    // Exactly the given environment, and the error document parsed on failure.
    let out = ProcessExec
        .exec_plugin(
            Path::new("/usr/bin/env"),
            b"",
            &[("ONLY".into(), "this".into())],
        )
        .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "ONLY=this\n");
    let fail = s.path("bin/fail");
    let env = [("LOGDIR".to_string(), s.dir.path().display().to_string())];
    let err = ProcessExec.exec_plugin(&fail, b"{}", &env).unwrap_err();
    assert_eq!(
        (err.code, err.msg.as_str(), err.details.as_str()),
        (7, "bad subnet", "field ipam.subnet")
    );
}
