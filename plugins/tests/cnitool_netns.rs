//! `cnitool netns add|list|del` makes namespaces `ip netns` sees, and removes them.

use std::process::Command;

const CNITOOL: &str = env!("CARGO_BIN_EXE_cnitool");

fn cnitool(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(CNITOOL).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ip_netns_list() -> String {
    String::from_utf8(
        Command::new("ip")
            .args(["netns", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
}

/// Removes the namespace even if an assertion fails half-way.
struct Cleanup(String);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn netns_add_list_del_round_trip() {
    if !cni_core::testsupport::privileged("netns_add_list_del_round_trip") {
        return;
    }
    let name = format!("t{}-cnitoolns", std::process::id());
    let _cleanup = Cleanup(name.clone());

    let (code, out, err) = cnitool(&["netns", "add", &name]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("/var/run/netns/{name}"));
    assert!(ip_netns_list()
        .lines()
        .any(|l| l.split_whitespace().next() == Some(name.as_str())));

    let (code, out, _) = cnitool(&["netns", "list"]);
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l == name), "{out}");

    let (code, _, err) = cnitool(&["netns", "add", &name]);
    assert_eq!(code, 1, "a second add of one name must fail");
    assert!(err.contains(&name), "error names the namespace: {err}");

    let (code, _, err) = cnitool(&["netns", "del", &name]);
    assert_eq!(code, 0, "{err}");
    assert!(!ip_netns_list().contains(&name));
}

#[test]
fn netns_add_refuses_a_name_with_a_slash() {
    let (code, _, err) = cnitool(&["netns", "add", "../etc"]);
    assert_eq!(code, 1);
    assert!(!err.is_empty());
}
