//! Our `static` against the reference's (Debian's containernetworking-plugins
//! 1.1.1) on a table of configs, most from the reference's own tests: the same
//! outcome at every version both speak, the same result, and where both
//! refuse, both refuse. The rows marked as differences are the ones listed in
//! docs/DIFFERENCES.md; for them our behaviour is asserted instead.

mod host_local_util;
use cni_core::testsupport::require;
use host_local_util::{run, Out};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const REFERENCE: &str = "/usr/lib/cni/static";
/// The reference 1.1.1 stops at 1.0.0.
const VERSIONS: [&str; 6] = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0"];

fn ours() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_static"))
}

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Same outcome, same result.
    Same,
    /// We refuse with this code where the reference accepts.
    OursRefuse(u64),
    /// We accept where the reference refuses.
    OursAccept,
}

struct Case {
    name: &'static str,
    /// Top-level keys besides cniVersion, name and type.
    conf: &'static str,
    cni_args: &'static str,
    expect: Expect,
}

const CASES: &[Case] = &[
    Case {
        name: "addresses, routes and dns",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.10.0.1/24","gateway":"10.10.0.254"},
            {"address":"3ffe:ffff:0:01ff::1/64","gateway":"3ffe:ffff:0::1"}],
            "routes":[{"dst":"0.0.0.0/0"},{"dst":"192.168.0.0/16","gw":"10.10.5.1"},{"dst":"3ffe:ffff:0:01ff::1/64"}],
            "dns":{"nameservers":["8.8.8.8"],"domain":"example.com","search":["example.com"],"options":["ndots:2"]}}}"#,
    },
    Case {
        name: "ECMP routes",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.10.0.1/24","gateway":"10.10.0.254"}],
            "routes":[{"dst":"0.0.0.0/0","gw":"10.10.0.254"},{"dst":"0.0.0.0/0","gw":"10.10.0.253"}]}}"#,
    },
    Case {
        name: "CNI_ARGS IP and GATEWAY",
        cni_args: "IP=10.10.0.1/24;GATEWAY=10.10.0.254",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","routes":[{"dst":"0.0.0.0/0"},{"dst":"192.168.0.0/16","gw":"10.10.5.1"}],
            "dns":{"nameservers":["8.8.8.8"]}}}"#,
    },
    Case {
        name: "CNI_ARGS two IPv4 addresses",
        cni_args: "IP=10.10.0.1/24,11.11.0.1/24;GATEWAY=10.10.0.254",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static"}}"#,
    },
    Case {
        name: "config addresses then CNI_ARGS",
        cni_args: "IP=10.10.0.1/24,fd00::1/64;GATEWAY=fd00::9,10.10.0.9",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.9.0.1/24"}]}}"#,
    },
    Case {
        name: "runtimeConfig ips",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"capabilities":{"ips":true},"ipam":{"type":"static","routes":[{"dst":"0.0.0.0/0","gw":"10.10.0.254"}]},
            "RuntimeConfig":{"ips":["10.10.0.1/24","3ffe:ffff:0:01ff::1/64"]}}"#,
    },
    Case {
        name: "args ips",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static"},"args":{"cni":{"ips":["10.10.0.1/24","3ffe:ffff:0:01ff::1/64"]}}}"#,
    },
    Case {
        name: "runtimeConfig over args over CNI_ARGS",
        cni_args: "IP=10.10.0.3/24,11.11.0.3/24;GATEWAY=10.10.0.254",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.8.0.1/24"}]},
            "runtimeConfig":{"ips":["10.10.0.1/24","3ffe:ffff:0:01ff::1/64"]},
            "args":{"cni":{"ips":["10.10.0.2/24","3ffe:ffff:0:01ff::2/64"]}}}"#,
    },
    Case {
        name: "args over config",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.8.0.1/24","gateway":"10.8.0.9"}]},
            "args":{"cni":{"ips":["10.10.0.2/24"]}}}"#,
    },
    Case {
        name: "empty ips lists replace nothing",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.8.0.1/24"}]},
            "runtimeConfig":{"ips":[]},"args":{"cni":{"ips":[]}}}"#,
    },
    Case {
        name: "keys in other case",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"IPAM":{"Type":"static","Addresses":[{"address":"10.8.0.1/24","Gateway":"10.8.0.9"}],
            "Routes":[{"Dst":"10.0.0.0/8","GW":"10.8.0.9"}],"DNS":{"Nameservers":["1.1.1.1"]}}}"#,
    },
    Case {
        name: "IPv4-mapped address",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"::ffff:10.0.0.2/120","gateway":"::ffff:10.0.0.1"}]}}"#,
    },
    Case {
        name: "empty gateway",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.0.0.2/24","gateway":""}]}}"#,
    },
    Case {
        name: "no addresses",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","routes":[{"dst":"10.0.0.0/8"}]}}"#,
    },
    Case {
        name: "missing ipam with CNI_ARGS",
        cni_args: "IP=10.10.0.1/24;GATEWAY=10.10.0.254",
        expect: Expect::Same,
        conf: r#"{}"#,
    },
    Case {
        name: "missing ipam with runtimeConfig",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"runtimeConfig":{"ips":["10.10.0.1/24"]}}"#,
    },
    Case {
        name: "config address not CIDR",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.10.0.1"}]}}"#,
    },
    Case {
        name: "config gateway not an IP",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.10.0.1/24","gateway":"10.10.0"}]}}"#,
    },
    Case {
        name: "CNI_ARGS IP not CIDR",
        cni_args: "IP=10.10.0.1",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","routes":[{"dst":"0.0.0.0/0"}]}}"#,
    },
    Case {
        name: "CNI_ARGS IP trailing comma",
        cni_args: "IP=10.10.0.1/24,",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static"}}"#,
    },
    Case {
        name: "CNI_ARGS GATEWAY not an IP",
        cni_args: "IP=10.10.0.1/24;GATEWAY=x",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static"}}"#,
    },
    Case {
        name: "CNI_ARGS without a pair",
        cni_args: "IP",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static"}}"#,
    },
    Case {
        name: "args ips not CIDR",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static"},"args":{"cni":{"ips":["10.10.0.1"]}}}"#,
    },
    Case {
        name: "runtimeConfig ips not CIDR",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static"},"RuntimeConfig":{"ips":["10.10.0.1"]}}"#,
    },
    Case {
        name: "ips of the wrong type",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static"},"runtimeConfig":{"ips":"10.10.0.1/24"}}"#,
    },
    Case {
        name: "route dst not CIDR",
        cni_args: "",
        expect: Expect::Same,
        conf: r#"{"ipam":{"type":"static","routes":[{"dst":"10.0.0.0"}]}}"#,
    },
    // Deliberate differences (docs/DIFFERENCES.md, static).
    Case {
        name: "gateway of the other family",
        cni_args: "",
        expect: Expect::OursRefuse(7),
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.0.0.2/24","gateway":"fd00::1"}]}}"#,
    },
    Case {
        name: "GATEWAY in no IP subnet",
        cni_args: "IP=10.10.0.1/24;GATEWAY=10.20.0.1",
        expect: Expect::OursRefuse(4),
        conf: r#"{"ipam":{"type":"static"}}"#,
    },
    Case {
        name: "GATEWAY with config addresses only",
        cni_args: "GATEWAY=10.8.0.9",
        expect: Expect::OursRefuse(4),
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.8.0.1/24"}]}}"#,
    },
    Case {
        name: "bad config address under runtimeConfig ips",
        cni_args: "",
        expect: Expect::OursRefuse(7),
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"bogus"}]},"runtimeConfig":{"ips":["10.10.0.1/24"]}}"#,
    },
    Case {
        name: "route without dst",
        cni_args: "",
        expect: Expect::OursRefuse(7),
        conf: r#"{"ipam":{"type":"static","addresses":[{"address":"10.8.0.1/24"}],"routes":[{"gw":"10.8.0.9"}]}}"#,
    },
    // The reference's decoder matches `Address` to its internal IPNet field and fails.
    Case {
        name: "address key capitalised",
        cni_args: "",
        expect: Expect::OursAccept,
        conf: r#"{"ipam":{"type":"static","addresses":[{"Address":"10.8.0.1/24"}]}}"#,
    },
    Case {
        name: "other plugins' CNI_ARGS keys",
        cni_args: "K8S_POD_NAME=p;IP=10.10.0.1/24",
        expect: Expect::OursAccept,
        conf: r#"{"ipam":{"type":"static"}}"#,
    },
];

fn conf(case: &Case, version: &str) -> String {
    let mut c: Value = serde_json::from_str(case.conf).expect("case config");
    c["cniVersion"] = json!(version);
    c["name"] = json!("mynet");
    c["type"] = json!("bridge");
    c.to_string()
}

/// A result comparable across sides: the reference's 1.1.1 libcni writes an
/// empty `dns` as `{}` at 1.x, ours leaves it out (docs/DIFFERENCES.md).
fn normalized(out: &Out) -> Value {
    let mut v = out.json();
    if v["cniVersion"] == "1.0.0" && v["dns"] == json!({}) {
        v.as_object_mut().map(|o| o.remove("dns"));
    }
    v
}

fn add(bin: &Path, case: &Case, version: &str) -> Out {
    run(
        bin,
        "ADD",
        "dummy",
        "eth0",
        &conf(case, version),
        case.cni_args,
    )
}

/// CHECK (0.4.0 on) with the ADD result as prevResult, and DEL: both sides succeed.
fn check_and_del(reference: &Path, case: &Case, version: &str, result: &Value) {
    let mut c: Value = serde_json::from_str(&conf(case, version)).unwrap();
    c["prevResult"] = result.clone();
    let verbs: &[&str] = if version >= "0.4.0" {
        &["CHECK", "DEL"]
    } else {
        &["DEL"]
    };
    for verb in verbs {
        for bin in [reference, ours().as_path()] {
            let out = run(bin, verb, "dummy", "eth0", &c.to_string(), case.cni_args);
            assert!(
                out.ok,
                "{} @ {version} {verb} by {}: {}",
                case.name,
                bin.display(),
                out.stdout
            );
        }
    }
}

#[test]
fn same_outcome_and_result_as_the_reference_on_every_case() {
    let test = "same_outcome_and_result_as_the_reference_on_every_case";
    if !require(test, REFERENCE, Path::new(REFERENCE).exists()) {
        return;
    }
    let reference = PathBuf::from(REFERENCE);
    let (mut agreed_ok, mut agreed_err) = (0, 0);
    for case in CASES {
        for version in VERSIONS {
            let what = format!("{} @ {version}", case.name);
            let (r, o) = (add(&reference, case, version), add(&ours(), case, version));
            match case.expect {
                Expect::Same if r.ok && o.ok => {
                    assert_eq!(normalized(&r), normalized(&o), "{what}: results differ");
                    check_and_del(&reference, case, version, &r.json());
                    agreed_ok += 1;
                }
                Expect::Same => {
                    assert_eq!(
                        (r.ok, o.ok),
                        (false, false),
                        "{what}: ref {} ours {}",
                        r.stdout,
                        o.stdout
                    );
                    agreed_err += 1;
                }
                Expect::OursRefuse(code) => {
                    assert!(r.ok, "{what}: the reference now refuses: {}", r.stdout);
                    assert_eq!(o.code(), code, "{what}: {}", o.stdout);
                }
                Expect::OursAccept => {
                    assert!(!r.ok && o.ok, "{what}: ref {} ours {}", r.stdout, o.stdout);
                }
            }
        }
    }
    // Both outcomes must have been exercised for the comparison to mean anything.
    assert!(
        agreed_ok >= 60 && agreed_err >= 60,
        "ok {agreed_ok}, refused {agreed_err}"
    );
}

#[test]
fn the_one_address_per_family_limit_lifts_at_0_3_0_on_both_sides() {
    let case = &CASES[3];
    let reference = PathBuf::from(REFERENCE);
    if !require(case.name, REFERENCE, reference.exists()) {
        return;
    }
    for version in VERSIONS {
        let (r, o) = (add(&reference, case, version), add(&ours(), case, version));
        assert_eq!(
            (r.ok, o.ok),
            (version >= "0.3.0", version >= "0.3.0"),
            "{version}"
        );
    }
}
