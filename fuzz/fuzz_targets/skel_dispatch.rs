//! The dispatcher on arbitrary stdin and variables: never panics, always one
//! JSON document or nothing on stdout, exit code 0 or 1.
#![no_main]

use cni_core::skel::{dispatch, CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

struct Nop;

impl Plugin for Nop {
    fn add(&self, _: &CmdArgs) -> Result<CniResult, CniError> {
        Ok(CniResult::default())
    }
    fn del(&self, _: &CmdArgs) -> Result<(), CniError> {
        Ok(())
    }
    fn check(&self, _: &CmdArgs) -> Result<(), CniError> {
        Ok(())
    }
    fn about(&self) -> String {
        "fuzz".into()
    }
}

fuzz_target!(|data: &[u8]| {
    // First line: CNI_COMMAND;CNI_CONTAINERID;CNI_IFNAME; the rest is stdin.
    let (head, stdin) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut parts = head.split(';');
    let mut env = BTreeMap::new();
    for key in ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_IFNAME"] {
        env.insert(key.to_string(), parts.next().unwrap_or("").to_string());
    }
    env.insert("CNI_NETNS".into(), "/var/run/netns/x".into());
    env.insert("CNI_PATH".into(), "/opt/cni/bin".into());
    let out = dispatch(&env, &mut &stdin[..], &Nop, cni_core::spec::version::ALL);
    assert!(out.exit_code == 0 || out.exit_code == 1);
    if !out.stdout.is_empty() {
        serde_json::from_str::<serde_json::Value>(&out.stdout).expect("stdout is JSON");
    }
});
