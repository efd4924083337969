//! The built `static` binary as a runtime runs it: every verb at every spec
//! version, and the codes of bad input.

mod host_local_util;
use host_local_util::{run, Out};
use serde_json::{json, Value};
use std::path::PathBuf;

const VERSIONS: [&str; 7] = [
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
];

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_static"))
}

fn conf(version: &str) -> Value {
    json!({"cniVersion": version, "name": "mynet", "type": "bridge",
        "ipam": {"type": "static",
            "addresses": [{"address": "10.10.0.1/24", "gateway": "10.10.0.254"},
                          {"address": "3ffe:ffff:0:01ff::1/64", "gateway": "3ffe:ffff:0::1"}],
            "routes": [{"dst": "0.0.0.0/0"},
                       {"dst": "192.168.0.0/16", "gw": "10.10.5.1", "mtu": 1400, "table": 100},
                       {"dst": "3ffe:ffff:0:01ff::1/64"}],
            "dns": {"nameservers": ["8.8.8.8"], "domain": "example.com", "search": ["example.com"]}}})
}

fn verb(cmd: &str, conf: &Value, cni_args: &str) -> Out {
    run(&ours(), cmd, "dummy", "eth0", &conf.to_string(), cni_args)
}

fn ok_empty(out: &Out, what: &str) {
    assert!(out.ok && out.stdout.is_empty(), "{what}: {}", out.stdout);
}

#[test]
fn add_renders_the_result_at_every_version() {
    for version in VERSIONS {
        let out = verb("ADD", &conf(version), "");
        assert!(out.ok, "{version}: {}", out.stdout);
        let r = out.json();
        assert_eq!(r["cniVersion"], version);
        assert_eq!(r["dns"]["nameservers"], json!(["8.8.8.8"]), "{version}");
        if version < "0.3.0" {
            assert_eq!(r["ip4"]["ip"], "10.10.0.1/24", "{version}");
            assert_eq!(r["ip4"]["gateway"], "10.10.0.254", "{version}");
            assert_eq!(r["ip6"]["ip"], "3ffe:ffff:0:1ff::1/64", "{version}");
            assert_eq!(
                r["ip4"]["routes"][1],
                json!({"dst": "192.168.0.0/16", "gw": "10.10.5.1"})
            );
            assert_eq!(r["ip6"]["routes"].as_array().map(Vec::len), Some(1));
            continue;
        }
        let ips = r["ips"].as_array().expect("ips");
        let has_version_field = version < "1.0.0";
        assert_eq!(ips[0]["address"], "10.10.0.1/24", "{version}");
        assert_eq!(ips[1]["gateway"], "3ffe:ffff::1", "{version}");
        assert_eq!(
            ips[0].get("version").is_some(),
            has_version_field,
            "{version}"
        );
        assert_eq!(r["routes"][1]["gw"], "10.10.5.1", "{version}");
        // The route's 1.1.0 fields exist only in 1.1.0 results (and configs).
        let (mtu, table) = match version {
            "1.1.0" => (json!(1400), json!(100)),
            _ => (Value::Null, Value::Null),
        };
        assert_eq!(r["routes"][1]["mtu"], mtu, "{version}");
        assert_eq!(r["routes"][1]["table"], table, "{version}");
        assert!(
            r.get("interfaces").is_none(),
            "{version}: IPAM has no interfaces"
        );
    }
}

#[test]
fn del_succeeds_at_every_version_even_on_a_config_add_refuses() {
    let broken = |version: &str| {
        json!({"cniVersion": version, "name": "mynet", "type": "bridge",
            "ipam": {"type": "static", "addresses": [{"address": "not-a-cidr"}]}})
    };
    for version in VERSIONS {
        ok_empty(&verb("DEL", &conf(version), ""), version);
        assert_eq!(verb("ADD", &broken(version), "").code(), 7, "{version}");
        ok_empty(&verb("DEL", &broken(version), "IP=garbage"), version);
        let no_ipam = json!({"cniVersion": version, "name": "mynet", "type": "bridge"});
        ok_empty(&verb("DEL", &no_ipam, ""), version);
    }
}

#[test]
fn check_compares_prev_result_from_0_4_0_on() {
    for version in ["0.4.0", "1.0.0", "1.1.0"] {
        let mut c = conf(version);
        c["prevResult"] = verb("ADD", &conf(version), "").json();
        ok_empty(&verb("CHECK", &c, ""), version);
        c["prevResult"]["ips"][0]["gateway"] = json!("10.10.0.253");
        let out = verb("CHECK", &c, "");
        assert_eq!(out.code(), 999, "{version}");
        assert!(out.msg().contains("10.10.0.1/24"), "{}", out.msg());
        c["prevResult"]["ips"]
            .as_array_mut()
            .map(|ips| ips.remove(0));
        assert!(verb("CHECK", &c, "")
            .msg()
            .contains("missing from prevResult"));
        assert_eq!(verb("CHECK", &conf(version), "").code(), 7, "no prevResult");
    }
    for version in ["0.1.0", "0.2.0", "0.3.0", "0.3.1"] {
        assert_eq!(verb("CHECK", &conf(version), "").code(), 1, "{version}");
    }
}

#[test]
fn gc_and_status_succeed_at_1_1_0_and_are_refused_before() {
    for cmd in ["GC", "STATUS"] {
        ok_empty(&verb(cmd, &conf("1.1.0"), ""), cmd);
        assert_eq!(verb(cmd, &conf("1.0.0"), "").code(), 1, "{cmd}");
    }
}

#[test]
fn version_lists_every_spec_version() {
    // VERSION reads no stdin: the config is not even offered.
    let out = std::process::Command::new(ours())
        .env_clear()
        .env("CNI_COMMAND", "VERSION")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<String> = serde_json::from_value(info["supportedVersions"].clone()).unwrap();
    assert_eq!(listed, VERSIONS);
}

#[test]
fn bad_input_is_refused_with_its_code_naming_the_field() {
    let undecodable = run(&ours(), "ADD", "dummy", "eth0", "{not json", "");
    assert_eq!(undecodable.code(), 6);
    let mut c = conf("1.0.0");
    c["ipam"]["addresses"][1]["address"] = json!("3ffe::1");
    let out = verb("ADD", &c, "");
    assert_eq!(out.code(), 7);
    assert!(
        out.msg().starts_with("ipam.addresses[1].address: "),
        "{}",
        out.msg()
    );
    let out = verb("ADD", &conf("1.0.0"), "IP=10.1.0.1/24;GATEWAY=10.2.0.1");
    assert_eq!(out.code(), 4);
    assert!(out.msg().starts_with("CNI_ARGS GATEWAY: "), "{}", out.msg());
    let out = verb("ADD", &conf("0.2.0"), "IP=10.1.0.1/24");
    assert_eq!(out.code(), 7);
    assert!(
        out.msg().contains("more than 1 address per family"),
        "{}",
        out.msg()
    );
}
