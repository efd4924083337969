//! One rich result (2 interfaces, IPv4+IPv6, 1.1.0 route fields, DNS) rendered
//! at every spec version and read back; snapshots pin the exact documents.

#[path = "support/echo_plugin.rs"]
mod echo_plugin;

use cni_core::spec::version::ALL;
use cni_core::spec::{CniResult, ResultError};
use echo_plugin::rich_result;

#[test]
fn rich_result_at_every_version() {
    let rich = rich_result();
    for v in ALL {
        let json = rich.to_json_at(v).unwrap();
        insta::assert_snapshot!(format!("rich_result_at_{v}"), json);
    }
}

#[test]
fn rich_result_back_from_every_version() {
    let rich = rich_result();
    for v in ALL {
        let json = rich.to_json_at(v).unwrap();
        let back = CniResult::parse(json.as_bytes()).unwrap();
        assert_eq!(back.cni_version, *v);
        // Reading back and writing again at the same version changes nothing.
        assert_eq!(back.to_json_at(v).unwrap(), json, "{v}");
        insta::assert_json_snapshot!(
            format!("rich_result_from_{v}_as_1.1.0"),
            back.to_value_at("1.1.0").unwrap()
        );
    }
}

#[test]
fn reference_details_of_conversion() {
    let rich = rich_result();
    // 1.x -> 0.4.0 adds `version` to each IP and drops the 1.1.0 interface fields.
    let v040 = rich.to_value_at("0.4.0").unwrap();
    assert_eq!(v040["ips"][0]["version"], "4");
    assert_eq!(v040["ips"][1]["version"], "6");
    assert!(v040["interfaces"][1].get("mtu").is_none());
    assert!(v040["interfaces"][1].get("pciID").is_none());
    // 0.3.x/0.4.0 -> 0.2.0 keeps the first address of each family only.
    let v020 = rich.to_value_at("0.2.0").unwrap();
    assert_eq!(v020["ip4"]["ip"], "10.1.0.5/24");
    assert_eq!(v020["ip6"]["ip"], "fd00:1::5/64");
    assert!(v020["ip4"]["routes"][0].get("mtu").is_none());
    assert!(v020.get("interfaces").is_none());
    // 1.1.0 -> 1.0.0 relabels and drops the 1.1.0 route fields.
    let v100 = rich.to_value_at("1.0.0").unwrap();
    let v110 = rich.to_value_at("1.1.0").unwrap();
    let mut relabeled = v110.clone();
    relabeled["cniVersion"] = "1.0.0".into();
    for route in relabeled["routes"].as_array_mut().unwrap() {
        route
            .as_object_mut()
            .unwrap()
            .retain(|k, _| k == "dst" || k == "gw");
    }
    assert_eq!(v100, relabeled);
}

#[test]
fn impossible_conversions_are_errors() {
    let no_ips = CniResult {
        cni_version: "1.0.0".into(),
        ..Default::default()
    };
    assert!(matches!(
        no_ips.to_value_at("0.2.0"),
        Err(ResultError::CannotConvert { .. })
    ));
    assert!(matches!(
        no_ips.to_value_at("2.0.0"),
        Err(ResultError::UnsupportedVersion(_))
    ));
    assert!(matches!(
        CniResult::parse(br#"{"cniVersion":"9.9.9"}"#),
        Err(ResultError::UnsupportedVersion(_))
    ));
    assert!(matches!(
        CniResult::parse(br#"{"cniVersion":"1.0.0","ips":[{"address":"nope"}]}"#),
        Err(ResultError::Decode { .. })
    ));
}

#[test]
fn go_leniencies_are_accepted() {
    let r = CniResult::parse(br#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24","gateway":""}],"dns":null,"routes":null}"#).unwrap();
    assert_eq!(r.ips[0].gateway, None);
    let r = CniResult::parse(br#"{"ip4":{"ip":"10.0.0.2/24","routes":[{"dst":"0.0.0.0/0"}]}}"#)
        .unwrap();
    assert_eq!(r.cni_version, "0.1.0");
    assert_eq!(r.routes.len(), 1);
}

#[test]
fn route_fields_of_1_1_0_appear_only_in_1_1_0_results() {
    let rich = rich_result();
    for v in ["0.3.0", "0.3.1", "0.4.0", "1.0.0"] {
        let doc = rich.to_value_at(v).unwrap();
        for route in doc["routes"].as_array().unwrap() {
            let keys: Vec<&String> = route.as_object().unwrap().keys().collect();
            assert!(
                keys.iter().all(|k| *k == "dst" || *k == "gw"),
                "{v}: {route}"
            );
        }
    }
    let v110 = rich.to_value_at("1.1.0").unwrap();
    assert_eq!(v110["routes"][0]["mtu"], 1400);
}

#[test]
fn route_fields_of_1_1_0_in_an_older_result_are_ignored_not_checked() {
    let doc = br#"{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.0.5/24"}],
        "routes":[{"dst":"0.0.0.0/0","mtu":"not a number","table":-1}]}"#;
    let parsed = CniResult::parse(doc).unwrap();
    assert_eq!(parsed.routes.len(), 1);
    assert_eq!(parsed.routes[0].mtu, None);
    assert_eq!(parsed.routes[0].table, None);
}
