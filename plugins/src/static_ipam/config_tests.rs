use super::*;
use serde_json::{json, Value};

fn conf(version: &str, extra: Value) -> Vec<u8> {
    let mut c = json!({"cniVersion": version, "name": "n", "type": "bridge",
        "ipam": {"type": "static"}});
    if let (Value::Object(base), Value::Object(more)) = (&mut c, extra) {
        for (k, v) in more {
            base.insert(k, v);
        }
    }
    c.to_string().into_bytes()
}

fn ipam(version: &str, ipam: Value) -> Vec<u8> {
    let mut ipam = ipam;
    ipam["type"] = json!("static");
    conf(version, json!({ "ipam": ipam }))
}

fn addresses(c: &StaticConf) -> Vec<(String, Option<String>)> {
    c.addresses
        .iter()
        .map(|a| (a.address.to_string(), a.gateway.map(|g| g.to_string())))
        .collect()
}

fn pair(a: &str, gw: Option<&str>) -> (String, Option<String>) {
    (a.to_string(), gw.map(str::to_string))
}

/// The error's code and message, for a config that must be refused.
fn refused(stdin: &[u8], cni_args: &str) -> (u32, String) {
    let e = parse(stdin, cni_args).expect_err("must be refused");
    (e.code, e.msg)
}

#[test]
fn config_addresses_keep_host_bits_gateways_routes_and_dns() {
    let c = parse(
        &ipam(
            "1.0.0",
            json!({"addresses": [{"address": "10.10.0.1/24", "gateway": "10.10.0.254"},
                                 {"address": "3ffe:ffff:0:01ff::1/64"}],
                   "routes": [{"dst": "0.0.0.0/0"}, {"dst": "192.168.0.0/16", "gw": "10.10.5.1"},
                              {"dst": "0.0.0.0/0", "gw": "10.10.0.253"}],
                   "dns": {"nameservers": ["8.8.8.8"], "domain": "example.com",
                           "search": ["example.com"], "options": ["ndots:2"]}}),
        ),
        "",
    )
    .unwrap();
    assert_eq!(
        addresses(&c),
        [
            pair("10.10.0.1/24", Some("10.10.0.254")),
            pair("3ffe:ffff:0:1ff::1/64", None)
        ]
    );
    let routes: Vec<String> = c
        .routes
        .iter()
        .map(|r| format!("{} {:?}", r.dst, r.gw))
        .collect();
    assert_eq!(
        routes,
        [
            "0.0.0.0/0 None",
            "192.168.0.0/16 Some(10.10.5.1)",
            "0.0.0.0/0 Some(10.10.0.253)"
        ]
    );
    assert_eq!(c.dns.nameservers, ["8.8.8.8"]);
    assert_eq!(
        (c.dns.domain.as_str(), &c.dns.options[..]),
        ("example.com", &["ndots:2".to_string()][..])
    );
}

#[test]
fn cni_args_ips_follow_config_addresses_and_take_gateways_by_subnet() {
    let c = parse(
        &ipam(
            "1.0.0",
            json!({"addresses": [{"address": "10.9.0.1/24", "gateway": "10.9.0.254"}]}),
        ),
        "IgnoreUnknown=1;K8S_POD_NAME=p;IP=10.10.0.1/24, 11.11.0.1/24 ,10.10.0.2/16;GATEWAY=10.10.0.254",
    )
    .unwrap();
    assert_eq!(
        addresses(&c),
        [
            pair("10.9.0.1/24", Some("10.9.0.254")),
            pair("10.10.0.1/24", Some("10.10.0.254")),
            pair("11.11.0.1/24", None),
            pair("10.10.0.2/16", Some("10.10.0.254")),
        ]
    );
}

#[test]
fn runtime_config_ips_win_over_args_which_win_over_config_and_cni_args() {
    let base = json!({
        "ipam": {"type": "static", "addresses": [{"address": "10.9.0.1/24"}]},
        "args": {"cni": {"ips": ["10.10.0.2/24"]}},
        "RuntimeConfig": {"ips": ["10.10.0.1/24", "3ffe:ffff:0:01ff::1/64"]}
    });
    let cni_args = "IP=10.10.0.3/24;GATEWAY=10.10.0.254";
    let c = parse(&conf("1.0.0", base.clone()), cni_args).unwrap();
    assert_eq!(
        addresses(&c),
        [
            pair("10.10.0.1/24", None),
            pair("3ffe:ffff:0:1ff::1/64", None)
        ]
    );
    let mut without_runtime = base.clone();
    without_runtime["RuntimeConfig"]["ips"] = json!([]);
    let c = parse(&conf("1.0.0", without_runtime.clone()), cni_args).unwrap();
    assert_eq!(addresses(&c), [pair("10.10.0.2/24", None)]);
    without_runtime["args"]["cni"]["ips"] = Value::Null;
    let c = parse(&conf("1.0.0", without_runtime), cni_args).unwrap();
    assert_eq!(
        addresses(&c),
        [
            pair("10.9.0.1/24", None),
            pair("10.10.0.3/24", Some("10.10.0.254"))
        ]
    );
}

#[test]
fn every_source_is_validated_even_when_a_higher_one_replaces_it() {
    let with_runtime = |ipam_addresses: Value, args_ips: Value| {
        conf(
            "1.0.0",
            json!({"ipam": {"type": "static", "addresses": ipam_addresses},
                   "args": {"cni": {"ips": args_ips}},
                   "runtimeConfig": {"ips": ["10.1.0.1/24"]}}),
        )
    };
    let (c, msg) = refused(&with_runtime(json!([{"address": "bogus"}]), json!([])), "");
    assert_eq!(c, 7);
    assert!(msg.starts_with("ipam.addresses[0].address: "), "{msg}");
    let (c, msg) = refused(&with_runtime(json!([]), json!(["10.2.0.1"])), "");
    assert_eq!(c, 7);
    assert!(msg.starts_with("args.cni.ips[0]: "), "{msg}");
    let (c, msg) = refused(&with_runtime(json!([]), json!([])), "IP=10.3.0.1");
    assert_eq!(c, 4);
    assert!(msg.starts_with("CNI_ARGS IP: "), "{msg}");
}

#[test]
fn bad_values_are_code_7_wrong_types_code_6_each_naming_its_field() {
    let cases: &[(Value, u32, &str)] = &[
        (
            json!({"addresses": [{"address": "10.10.0.1"}]}),
            7,
            "ipam.addresses[0].address",
        ),
        (
            json!({"addresses": [{"gateway": "10.0.0.1"}]}),
            7,
            "ipam.addresses[0].address",
        ),
        (
            json!({"addresses": [{"address": "10.0.0.2/24", "gateway": "10.0.0.x"}]}),
            7,
            "ipam.addresses[0].gateway",
        ),
        (
            json!({"addresses": [{"address": "10.0.0.2/24", "gateway": "fd00::1"}]}),
            7,
            "ipam.addresses[0].gateway",
        ),
        (
            json!({"addresses": [{"address": "10.0.0.2/33"}]}),
            7,
            "ipam.addresses[0].address",
        ),
        (
            json!({"addresses": [{"address": "10.0.0.2/+24"}]}),
            7,
            "ipam.addresses[0].address",
        ),
        (
            json!({"addresses": [{"address": "::ffff:10.0.0.2/64"}]}),
            7,
            "ipam.addresses[0].address",
        ),
        (
            json!({"addresses": [{"address": 5}]}),
            6,
            "ipam.addresses[0].address",
        ),
        (
            json!({"addresses": {"address": "10.0.0.2/24"}}),
            6,
            "ipam.addresses",
        ),
        (
            json!({"routes": [{"gw": "10.0.0.1"}]}),
            7,
            "ipam.routes[0].dst",
        ),
        (
            json!({"routes": [{"dst": "10.0.0.0/8", "gw": "nope"}]}),
            7,
            "ipam.routes[0].gw",
        ),
        (
            json!({"routes": [{"dst": "::ffff:0:0/64"}]}),
            7,
            "ipam.routes[0].dst",
        ),
        (
            json!({"dns": {"nameservers": "8.8.8.8"}}),
            6,
            "ipam.dns.nameservers",
        ),
    ];
    for (body, want_code, field) in cases {
        let (c, msg) = refused(&ipam("1.0.0", body.clone()), "");
        assert_eq!(c, *want_code, "{body}: {msg}");
        assert!(msg.starts_with(&format!("{field}: ")), "{body}: {msg}");
    }
    let (c, msg) = refused(&conf("1.0.0", json!({"ipam": null})), "");
    assert_eq!((c, msg.as_str()), (7, "ipam: missing"));
    let (c, msg) = refused(&conf("1.0.0", json!({"runtimeConfig": {"ips": [5]}})), "");
    assert_eq!(c, 6);
    assert!(msg.starts_with("runtimeConfig.ips[0]: "), "{msg}");
}

#[test]
fn cni_args_errors_are_code_4_naming_the_key() {
    let c = ipam("1.0.0", json!({}));
    for (args, key) in [
        ("IP=10.0.0.1/24,", "CNI_ARGS IP"),
        ("IP=10.0.0.1", "CNI_ARGS IP"),
        ("IP=10.0.0.1/24;GATEWAY=10.0.0.x", "CNI_ARGS GATEWAY"),
        ("IP=10.0.0.1/24;GATEWAY=10.1.0.1", "CNI_ARGS GATEWAY"),
        ("GATEWAY=10.0.0.1", "CNI_ARGS GATEWAY"),
        ("IP", "CNI_ARGS"),
    ] {
        let (code, msg) = refused(&c, args);
        assert_eq!(code, 4, "{args}: {msg}");
        assert!(msg.starts_with(key), "{args}: {msg}");
    }
}

#[test]
fn ipv4_mapped_addresses_count_and_print_as_ipv4() {
    let c = parse(
        &ipam(
            "0.2.0",
            json!({"addresses": [{"address": "::ffff:10.0.0.2/120", "gateway": "::ffff:10.0.0.1"},
                                 {"address": "fd00::2/64"}],
                   "routes": [{"dst": "::ffff:0:0/96", "gw": "::ffff:10.0.0.1"}]}),
        ),
        "",
    )
    .unwrap();
    assert_eq!(
        addresses(&c),
        [
            pair("10.0.0.2/24", Some("10.0.0.1")),
            pair("fd00::2/64", None)
        ]
    );
    assert_eq!(c.routes[0].dst.to_string(), "0.0.0.0/0");
    assert_eq!(
        c.routes[0].gw.map(|g| g.to_string()).as_deref(),
        Some("10.0.0.1")
    );
}

#[test]
fn before_0_3_0_one_address_per_family_naming_where_they_came_from() {
    let two_v4 = "IP=10.10.0.1/24,11.11.0.1/24";
    for version in ["0.1.0", "0.2.0"] {
        let (c, msg) = refused(&ipam(version, json!({})), two_v4);
        assert_eq!(c, 7);
        assert_eq!(
            msg,
            format!("CNI_ARGS IP: CNI version {version} does not support more than 1 address per family")
        );
        let rc = conf(
            version,
            json!({"runtimeConfig": {"ips": ["fd00::1/64", "fd01::1/64"]}}),
        );
        assert!(refused(&rc, "").1.starts_with("runtimeConfig.ips: "));
    }
    for version in ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] {
        assert_eq!(
            parse(&ipam(version, json!({})), two_v4)
                .unwrap()
                .addresses
                .len(),
            2
        );
    }
    let one_each = ipam(
        "0.2.0",
        json!({"addresses": [{"address": "10.0.0.1/24"}, {"address": "fd00::1/64"}]}),
    );
    assert_eq!(parse(&one_each, "").unwrap().addresses.len(), 2);
}

#[test]
fn keys_match_ignoring_case_as_the_reference_decoder() {
    let c = parse(
        &conf(
            "1.0.0",
            json!({"IPAM": {"Type": "static", "Addresses": [{"Address": "10.0.0.1/24", "Gateway": "10.0.0.9"}]}}),
        ),
        "",
    )
    .unwrap();
    assert_eq!(addresses(&c), [pair("10.0.0.1/24", Some("10.0.0.9"))]);
}

#[test]
fn parse_cidr_reads_as_go_does() {
    assert_eq!(
        parse_cidr("10.0.0.1/024").unwrap().to_string(),
        "10.0.0.1/24"
    );
    assert_eq!(
        parse_cidr("fd00::1/128").unwrap().to_string(),
        "fd00::1/128"
    );
    for bad in [
        "",
        "/24",
        "10.0.0.1/",
        "10.0.0.1/ 24",
        "10.0.0.1/-1",
        "fe80::1%eth0/64",
        "10.0.0.01/24",
    ] {
        assert!(parse_cidr(bad).is_err(), "{bad:?} accepted");
    }
}
