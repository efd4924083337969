//! Rules about namespaces, sysctls and the masquerade table.

use super::{expect_kind, link, open, two, SuiteEnv};
use cni_core::net::VethSpec;
use cni_core::net::{MasqRule, NetErrorKind};

pub fn open_absent_netns_is_not_found(env: &mut dyn SuiteEnv) {
    let absent = env.absent_netns();
    let err = env
        .backend()
        .open(&absent)
        .err()
        .expect("opened an absent netns");
    assert_eq!(err.kind, NetErrorKind::NotFound, "{err}");
    let cni_core::net::NsRef::Path(p) = &absent else {
        panic!("absent_netns must be a path");
    };
    assert!(
        err.msg.contains(&*p.to_string_lossy()),
        "error does not name the path: {err}"
    );
}

pub fn sysctls_have_kernel_defaults(env: &mut dyn SuiteEnv) {
    let (host, _c, cref) = two(env);
    host.create_veth(&VethSpec::new("sy0", "sy0p"), &cref)
        .unwrap();
    for key in [
        "net/ipv4/ip_forward",
        "net/ipv6/conf/all/forwarding",
        "net/ipv4/conf/sy0/forwarding",
        "net/ipv6/conf/sy0/disable_ipv6",
    ] {
        assert_eq!(host.sysctl_get(key).unwrap().trim(), "0", "{key}");
    }
}

pub fn sysctl_set_round_trips(env: &mut dyn SuiteEnv) {
    let (host, c, _cref) = two(env);
    host.sysctl_set("net/ipv4/ip_forward", "1").unwrap();
    assert_eq!(host.sysctl_get("net/ipv4/ip_forward").unwrap().trim(), "1");
    assert_eq!(
        c.sysctl_get("net/ipv4/ip_forward").unwrap().trim(),
        "0",
        "sysctls are per namespace"
    );
}

pub fn unknown_sysctl_is_not_found(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    expect_kind(
        host.sysctl_get("net/ipv4/no_such_knob"),
        NetErrorKind::NotFound,
        "unknown key",
    );
    expect_kind(
        host.sysctl_get("net/ipv4/conf/nosuchlink0/forwarding"),
        NetErrorKind::NotFound,
        "absent link",
    );
    assert_eq!(link(&*host, "lo").index, 1);
}

pub fn non_numeric_value_for_a_numeric_sysctl_fails(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    assert!(host.sysctl_set("net/ipv4/ip_forward", "yes").is_err());
    assert_eq!(host.sysctl_get("net/ipv4/ip_forward").unwrap().trim(), "0");
}

fn rule(container: &str, addr: &str) -> MasqRule {
    MasqRule {
        network: "suite-net".into(),
        container_id: container.into(),
        addrs: vec![addr.parse().unwrap()],
    }
}

pub fn masquerade_add_is_idempotent_and_del_removes(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let a = rule("ctr-a", "10.88.0.5/24");
    let b = rule("ctr-b", "10.88.0.6/24");
    host.masquerade_add(&a).unwrap();
    host.masquerade_add(&a).unwrap();
    host.masquerade_add(&b).unwrap();
    let listed = host.masquerade_list().unwrap();
    assert_eq!(listed.iter().filter(|r| **r == a).count(), 1, "{listed:?}");
    host.masquerade_del("suite-net", "ctr-a").unwrap();
    host.masquerade_del("suite-net", "ctr-a").unwrap();
    let listed = host.masquerade_list().unwrap();
    assert!(!listed.contains(&a) && listed.contains(&b), "{listed:?}");
}

pub fn masquerade_check_names_missing_rule(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let a = rule("ctr-c", "10.89.0.5/24");
    let err = host.masquerade_check(&a).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::NotFound, "{err}");
    host.masquerade_add(&a).unwrap();
    host.masquerade_check(&a).unwrap();
}
