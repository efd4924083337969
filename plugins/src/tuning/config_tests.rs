use super::*;

const BASE: &str = r#""cniVersion":"1.0.0","name":"n","type":"tuning""#;

fn parse(extra: &str, cni_args: &str) -> Result<TuningConf, CniError> {
    TuningConf::parse(format!("{{{BASE}{extra}}}").as_bytes(), cni_args)
}

#[test]
fn every_option_is_read_and_the_defaults_change_nothing() {
    let c = parse("", "").unwrap();
    assert!(!c.changes_link() && c.sysctls.is_empty());
    assert_eq!(c.data_dir, PathBuf::from("/run/cni/tuning"));
    let c = parse(
        r#","sysctl":{"net.core.somaxconn":"500","net.ipv4.conf.IFNAME.proxy_arp":"1"},
        "mac":"0a:00:00:00:00:09","mtu":1400,"promisc":true,"allmulti":false,"txQLen":2000,
        "dataDir":"/tmp/t""#,
        "",
    )
    .unwrap();
    assert_eq!(
        c.sysctls,
        [
            ("net.core.somaxconn".to_string(), "500".to_string()),
            (
                "net.ipv4.conf.IFNAME.proxy_arp".to_string(),
                "1".to_string()
            )
        ]
    );
    assert_eq!(c.mac.unwrap().to_string(), "0a:00:00:00:00:09");
    assert_eq!(
        (c.mtu, c.promisc, c.allmulti, c.txqlen),
        (Some(1400), true, Some(false), Some(2000))
    );
    assert_eq!(c.data_dir, PathBuf::from("/tmp/t"));
}

#[test]
fn mac_precedence_is_cni_args_then_runtime_config_then_args_cni() {
    let env = "IgnoreUnknown=1;MAC=0a:00:00:00:00:01;K8S_POD_NAME=p";
    let m = |extra: &str, env: &str| parse(extra, env).unwrap().mac.map(|m| m.to_string());
    assert_eq!(
        m(r#","mac":"0a:00:00:00:00:00""#, env).unwrap(),
        "0a:00:00:00:00:01"
    );
    let rc = r#","mac":"0a:00:00:00:00:00","runtimeConfig":{"mac":"0a:00:00:00:00:02"}"#;
    assert_eq!(m(rc, env).unwrap(), "0a:00:00:00:00:02");
    let args = format!(r#"{rc},"args":{{"cni":{{"mac":"0a:00:00:00:00:03"}}}}"#);
    assert_eq!(m(&args, env).unwrap(), "0a:00:00:00:00:03");
}

#[test]
fn only_the_mac_that_wins_is_read_and_an_empty_args_mac_takes_it_away() {
    let m = |extra: &str, env: &str| parse(extra, env).map(|c| c.mac.map(|m| m.to_string()));
    let good = Some("0a:00:00:00:00:03".to_string());
    let args = r#","args":{"cni":{"mac":"0a:00:00:00:00:03"}}"#;
    for bad in [r#","mac":"zz""#, r#","runtimeConfig":{"mac":"zz"}"#] {
        assert_eq!(m(&format!("{bad}{args}"), "MAC=zz").unwrap(), good, "{bad}");
    }
    let cleared = r#","mac":"0a:00:00:00:00:01","args":{"cni":{"mac":""}}"#;
    assert_eq!(m(cleared, "").unwrap(), None);
    let e = m(r#","mac":"0a:00:00:00:00:01""#, "MAC=zz").unwrap_err();
    assert!(e.msg.starts_with("CNI_ARGS MAC:"), "{e}");
}

#[test]
fn args_cni_zero_mtu_takes_the_change_away_and_a_negative_txqlen_is_none() {
    let c = parse(r#","mtu":1400,"txQLen":-1,"args":{"cni":{"mtu":0}}"#, "").unwrap();
    assert_eq!((c.mtu, c.txqlen), (None, None));
    let c = parse(r#","mtu":67,"args":{"cni":{"mtu":1300}}"#, "").unwrap();
    assert_eq!(c.mtu, Some(1300), "only the MTU that wins is checked");
    let c = parse(r#","txQLen":2000,"args":{"cni":{"txQLen":-1}}"#, "").unwrap();
    assert_eq!(c.txqlen, None);
    assert!(!c.changes_link());
}

#[test]
fn args_cni_overrides_every_option_and_merges_sysctls() {
    let c = parse(
        r#","sysctl":{"net.core.somaxconn":"500"},"mtu":1400,"promisc":true,
        "args":{"cni":{"sysctl":{"net.core.somaxconn":"600","net.ipv4.ip_forward":"1"},
        "mtu":9000,"promisc":false,"allmulti":true,"txQLen":10}}"#,
        "",
    )
    .unwrap();
    assert_eq!(
        c.sysctls,
        [
            ("net.core.somaxconn".to_string(), "600".to_string()),
            ("net.ipv4.ip_forward".to_string(), "1".to_string())
        ]
    );
    assert_eq!(
        (c.mtu, c.promisc, c.allmulti, c.txqlen),
        (Some(9000), false, Some(true), Some(10))
    );
}

#[test]
fn bad_values_are_refused_naming_the_field() {
    for (extra, field, code) in [
        (r#","mac":"01:00:5e:00:00:01""#, "mac", 7),
        (r#","mac":"nope""#, "mac", 7),
        (r#","mtu":10"#, "mtu", 7),
        (r#","mtu":-1"#, "mtu", 7),
        (r#","txQLen":"5""#, "txQLen", 6),
        (r#","promisc":"yes""#, "promisc", 6),
        (
            r#","sysctl":{"net.core.somaxconn":5}"#,
            "sysctl.net.core.somaxconn",
            6,
        ),
        (r#","sysctl":[]"#, "sysctl", 6),
        (r#","runtimeConfig":{"mac":"zz"}"#, "runtimeConfig.mac", 7),
        (r#","args":{"cni":{"mtu":70000}}"#, "args.cni.mtu", 7),
        (r#","sysctl":{"net.a":"1","net.a":"2"}"#, "sysctl", 7),
    ] {
        let e = parse(extra, "").unwrap_err();
        assert_eq!(e.code, code, "{extra}: {e}");
        assert!(e.msg.starts_with(field), "{extra}: {e}");
    }
}

#[test]
fn cni_args_with_unknown_keys_are_refused_unless_ignore_unknown() {
    assert!(parse("", "FOO=1").unwrap_err().msg.contains("FOO"));
    parse("", "IgnoreUnknown=true;FOO=1").unwrap();
    let e = parse("", "MAC=ff:ff:ff:ff:ff:ff").unwrap_err();
    assert!(e.msg.starts_with("CNI_ARGS MAC"), "{e}");
}

#[test]
fn del_reads_only_the_data_dir() {
    let conf = cni_core::spec::config::NetConf::parse(br#"{"dataDir":"/x","mtu":"bad"}"#).unwrap();
    assert_eq!(data_dir(&conf.fields()).unwrap(), PathBuf::from("/x"));
}
