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
    // 1.1.0 -> 1.0.0 only relabels.
    let v100 = rich.to_value_at("1.0.0").unwrap();
    let v110 = rich.to_value_at("1.1.0").unwrap();
    let mut relabeled = v110.clone();
    relabeled["cniVersion"] = "1.0.0".into();
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
