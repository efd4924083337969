use super::*;

const BRIDGE: &str = r#"{"cniVersion":"1.0.0","name":"net","type":"bridge","bridge":"cni0",
    "ipam":{"type":"host-local","ranges":[[{"subnet":"10.1.0.0/24"}]]},"dns":{"nameservers":["1.1.1.1"]},
    "runtimeConfig":{"portMappings":[]},"zzz":1}"#;

#[test]
fn reads_common_fields_and_keeps_every_key_for_the_plugin() {
    let c = NetConf::parse(BRIDGE.as_bytes()).unwrap();
    assert_eq!(
        (c.version(), c.name.as_str(), c.plugin_type.as_str()),
        ("1.0.0", "net", "bridge")
    );
    assert_eq!(c.ipam_type(), Some("host-local"));
    assert_eq!(c.dns.nameservers, vec!["1.1.1.1"]);
    assert_eq!(c.fields().get::<String>("bridge").unwrap().unwrap(), "cni0");
    assert_eq!(c.fields().get::<u32>("zzz").unwrap(), Some(1));
}

#[test]
fn common_keys_are_matched_ignoring_case_as_the_reference_does() {
    let c = NetConf::parse(br#"{"CNIVersion":"0.4.0","Name":"n","IPAM":{"Type":"host-local"}}"#)
        .unwrap();
    assert_eq!((c.version(), c.name.as_str()), ("0.4.0", "n"));
    assert_eq!(c.ipam_type(), Some("host-local"));
}

#[test]
fn wrong_types_are_code_6_naming_the_field() {
    for (input, field) in [
        (&br#"{"name":5}"#[..], "name"),
        (br#"{"ipam":{"type":1}}"#, "ipam.type"),
        (br#"{"ipam":[]}"#, "ipam"),
        (br#"{"dns":{"nameservers":"x"}}"#, "dns.nameservers"),
    ] {
        let e = NetConf::parse(input).unwrap_err();
        assert_eq!((e.field(), e.code()), (field, 6), "{e}");
        assert!(CniError::from(e).msg.starts_with(field));
    }
    assert_eq!(CniError::from(NetConf::parse(b"").unwrap_err()).code, 6);
    assert_eq!(CniError::from(NetConf::parse(b"[]").unwrap_err()).code, 6);
}

#[test]
fn a_plugin_input_without_a_name_is_code_7() {
    let e = plugin_input(br#"{"cniVersion":"1.0.0"}"#).unwrap_err();
    assert_eq!(e.code, 7);
    assert!(e.msg.starts_with("name:"), "{}", e.msg);
    assert_eq!(plugin_input(b"{not json").unwrap_err().code, 6);
}

#[test]
fn a_config_without_a_version_is_the_0_1_0_format() {
    let c = NetConf::parse(br#"{"name":"n"}"#).unwrap();
    assert_eq!((c.cni_version.as_str(), c.version()), ("", "0.1.0"));
}

#[test]
fn requested_mac_prefers_runtime_config_then_args_then_cni_args() {
    let c = NetConf::parse(
        br#"{"name":"n","runtimeConfig":{"mac":"0a:00:00:00:00:01"},"args":{"cni":{"mac":"0a:00:00:00:00:02"}}}"#,
    )
    .unwrap();
    let mac = c.requested_mac("MAC=0a:00:00:00:00:03").unwrap().unwrap();
    assert_eq!(mac.to_string(), "0a:00:00:00:00:01");
    let c = NetConf::parse(br#"{"name":"n","args":{"cni":{"mac":"0a:00:00:00:00:02"}}}"#).unwrap();
    let mac = c.requested_mac("MAC=0a:00:00:00:00:03").unwrap().unwrap();
    assert_eq!(mac.to_string(), "0a:00:00:00:00:02");
    let c = NetConf::parse(br#"{"name":"n"}"#).unwrap();
    let mac = c
        .requested_mac("IgnoreUnknown=1;MAC=0a:00:00:00:00:03")
        .unwrap()
        .unwrap();
    assert_eq!(mac.to_string(), "0a:00:00:00:00:03");
    let err = c.requested_mac("MAC=zz").unwrap_err();
    assert_eq!(err.code, 7);
    assert!(err.msg.contains("CNI_ARGS MAC"), "{}", err.msg);
}

#[test]
fn an_empty_requested_mac_is_not_a_request() {
    let c = NetConf::parse(br#"{"name":"n","runtimeConfig":{"mac":""},"args":{"cni":{"mac":""}}}"#)
        .unwrap();
    assert_eq!(c.requested_mac("MAC=").unwrap(), None);
}

#[test]
fn requested_multicast_or_zero_macs_are_refused_naming_the_field() {
    let c = NetConf::parse(br#"{"name":"n","runtimeConfig":{"mac":"01:00:5e:00:00:01"}}"#).unwrap();
    let err = c.requested_mac("").unwrap_err();
    assert_eq!(err.code, 7);
    assert!(err.msg.starts_with("runtimeConfig.mac:"), "{}", err.msg);
    assert!(err.msg.contains("multicast"), "{}", err.msg);
    let c = NetConf::parse(br#"{"name":"n"}"#).unwrap();
    let err = c.requested_mac("MAC=00:00:00:00:00:00").unwrap_err();
    assert!(err.msg.contains("all-zero"), "{}", err.msg);
}

#[test]
fn prev_result_takes_the_config_version_and_is_required_only_when_asked() {
    let c = NetConf::parse(
        br#"{"cniVersion":"0.4.0","name":"n","type":"x",
        "prevResult":{"ips":[{"version":"4","address":"10.0.0.2/24"}]}}"#,
    )
    .unwrap();
    let r = c.prev_result().unwrap();
    assert_eq!(r.cni_version, "0.4.0");
    assert_eq!(r.ips[0].address.to_string(), "10.0.0.2/24");
    let bare = NetConf::parse(br#"{"cniVersion":"0.4.0","name":"n"}"#).unwrap();
    assert_eq!(bare.previous_result().unwrap(), None);
    let e = bare.prev_result().unwrap_err();
    assert!(
        (e.code, e.msg.starts_with("prevResult:")) == (7, true),
        "{e}"
    );
}

#[test]
fn valid_attachments_need_both_ids_and_name_the_entry() {
    let c = NetConf::parse(
        br#"{"name":"n","cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}]}"#,
    )
    .unwrap();
    assert_eq!(
        c.valid_attachments().unwrap(),
        Some(vec![Attachment::new("a", "eth0")])
    );
    assert_eq!(NetConf::default().valid_attachments().unwrap(), None);
    let c = NetConf::parse(br#"{"name":"n","cni.dev/valid-attachments":[{"containerID":"a"}]}"#)
        .unwrap();
    let e = c.valid_attachments().unwrap_err();
    assert_eq!(
        (e.field(), e.code()),
        ("cni.dev/valid-attachments[0].ifname", 7)
    );
}

#[test]
fn conf_dns_wins_per_field() {
    let ipam = Dns {
        nameservers: vec!["10.0.0.53".into()],
        domain: "ipam.example".into(),
        search: vec!["a".into()],
        options: vec![],
    };
    let conf = Dns {
        nameservers: vec![],
        domain: "conf.example".into(),
        search: vec![],
        options: vec!["ndots:2".into()],
    };
    let merged = merge_dns(&ipam, &conf);
    assert_eq!(merged.nameservers, vec!["10.0.0.53"]);
    assert_eq!(merged.domain, "conf.example");
    assert_eq!(merged.search, vec!["a"]);
    assert_eq!(merged.options, vec!["ndots:2"]);
}

#[test]
fn a_prev_result_that_is_not_an_object_is_refused_naming_it() {
    for bad in ["[]", "\"x\"", "5"] {
        let text = format!(r#"{{"cniVersion":"1.0.0","name":"n","prevResult":{bad}}}"#);
        let e = NetConf::parse(text.as_bytes())
            .unwrap()
            .previous_result()
            .unwrap_err();
        assert_eq!(e.code, 6, "{bad}: {e:?}");
        assert!(e.msg.starts_with("prevResult"), "{bad}: {e:?}");
    }
}

#[test]
fn capabilities_must_be_a_map_of_flags_as_the_reference_decodes_them() {
    for ok in [r#"{"portMappings":true}"#, r#"{"mac":null}"#, "null", "{}"] {
        let text = format!(r#"{{"name":"n","capabilities":{ok}}}"#);
        NetConf::parse(text.as_bytes()).unwrap();
    }
    for bad in ["[]", r#"{"mac":"yes"}"#, "true"] {
        let text = format!(r#"{{"name":"n","capabilities":{bad}}}"#);
        let e = NetConf::parse(text.as_bytes()).unwrap_err();
        assert_eq!((e.field(), e.code()), ("capabilities", 6), "{bad}");
    }
}
