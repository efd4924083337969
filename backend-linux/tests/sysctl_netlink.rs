//! The sysctls the backend reads (and, for IPv4 links, writes) over
//! netlink instead of /proc/sys agree with /proc/sys: same values, same
//! write semantics, same errors where netlink cannot answer.

mod common;

use cni_backend_linux::netlink::{DevconfKey, Rtnl};
use cni_backend_linux::netns::NetnsFile;
use cni_backend_linux::LinuxBackend;
use cni_core::net::{NetBackend, NetErrorKind, Netns};
use common::{privileged, TestNs};

const LINK_KEYS: &[&str] = &[
    "ipv4/conf/L/forwarding",
    "ipv4/conf/L/rp_filter",
    "ipv4/conf/L/arp_notify",
    "ipv6/conf/L/forwarding",
    "ipv6/conf/L/accept_ra",
    "ipv6/conf/L/autoconf",
    "ipv6/conf/L/disable_ipv6",
    "ipv6/conf/L/accept_dad",
    "ipv6/conf/L/ndisc_notify",
    "ipv6/conf/L/keep_addr_on_down",
];

fn proc_sys(ns: &TestNs, key: &str) -> String {
    ns.exec(&["cat", &format!("/proc/sys/net/{key}")])
        .trim()
        .to_string()
}

fn write_proc_sys(ns: &TestNs, key: &str, value: &str) {
    let write = format!("echo {value} > /proc/sys/net/{key}");
    ns.exec(&["sh", "-c", &write]);
}

/// Every key, read through the backend, equals the file; and netlink
/// itself answered it (the backend did not fall back to the file).
fn assert_reads_agree(ns: &TestNs, handle: &dyn Netns, keys: &[String]) {
    let rtnl = Rtnl::open_in(&NetnsFile::open(&ns.path).unwrap(), ns.name.clone()).unwrap();
    for key in keys {
        let file = proc_sys(ns, key);
        let ours = handle.sysctl_get(&format!("net/{key}")).unwrap();
        assert_eq!(ours, file, "net/{key}");
        let parsed = DevconfKey::parse(&format!("net/{key}")).expect(key);
        let over_netlink = rtnl.devconf_get(&parsed).map(|v| v.to_string());
        assert_eq!(
            over_netlink.as_deref(),
            Some(file.as_str()),
            "net/{key} over netlink"
        );
    }
}

#[test]
fn netlink_reads_what_proc_sys_shows() {
    if !privileged("netlink_reads_what_proc_sys_shows") {
        return;
    }
    let ns = TestNs::new("devconf");
    ns.ip(&[
        "link", "add", "dcva", "type", "veth", "peer", "name", "dcvb",
    ]);
    let handle = LinuxBackend::new().open(&ns.ns_ref()).unwrap();
    let mut keys: Vec<String> = LINK_KEYS.iter().map(|k| k.replace('L', "dcva")).collect();
    keys.extend(
        [
            "ipv4/ip_forward",
            "ipv4/conf/all/forwarding",
            "ipv6/conf/all/forwarding",
        ]
        .map(String::from),
    );
    assert_reads_agree(&ns, handle.as_ref(), &keys);
    // Every value away from its default, through the file.
    for key in &keys {
        let now: i64 = proc_sys(&ns, key).parse().unwrap();
        let other = if key.ends_with("rp_filter") {
            (now + 1) % 3
        } else {
            i64::from(now == 0)
        };
        write_proc_sys(&ns, key, &other.to_string());
    }
    assert_reads_agree(&ns, handle.as_ref(), &keys);
}

#[test]
fn an_ipv4_link_setting_written_over_netlink_is_set_as_the_file_sets_it() {
    if !privileged("an_ipv4_link_setting_written_over_netlink_is_set_as_the_file_sets_it") {
        return;
    }
    let ns = TestNs::new("devconfw");
    ns.ip(&[
        "link", "add", "dcwa", "type", "veth", "peer", "name", "dcwb",
    ]);
    let handle = LinuxBackend::new().open(&ns.ns_ref()).unwrap();
    let rtnl = Rtnl::open_in(&NetnsFile::open(&ns.path).unwrap(), ns.name.clone()).unwrap();
    let key = DevconfKey::parse("net/ipv4/conf/dcwa/arp_notify").unwrap();
    assert_eq!(rtnl.devconf_set(&key, "1"), Some(()), "netlink wrote it");
    assert_eq!(proc_sys(&ns, "ipv4/conf/dcwa/arp_notify"), "1");
    // Written (even to the value it had) means "set here": a later change
    // of the namespace's default no longer reaches it, as after a write of
    // the file; the untouched peer follows the default.
    handle
        .sysctl_set("net/ipv4/conf/dcwa/arp_notify", "0")
        .unwrap();
    write_proc_sys(&ns, "ipv4/conf/default/arp_notify", "1");
    assert_eq!(proc_sys(&ns, "ipv4/conf/dcwa/arp_notify"), "0");
    assert_eq!(proc_sys(&ns, "ipv4/conf/dcwb/arp_notify"), "1");
}

#[test]
fn where_netlink_cannot_answer_the_file_errors_are_kept() {
    if !privileged("where_netlink_cannot_answer_the_file_errors_are_kept") {
        return;
    }
    let ns = TestNs::new("devconfe");
    // Below 1280 bytes the kernel keeps no IPv6 state for a link.
    ns.ip(&[
        "link", "add", "dcea", "mtu", "1000", "type", "veth", "peer", "name", "dceb",
    ]);
    let handle = LinuxBackend::new().open(&ns.ns_ref()).unwrap();
    for key in [
        "net/ipv6/conf/dcea/accept_ra",
        "net/ipv4/conf/nosuchlink/arp_notify",
        "net/ipv6/conf/nosuchlink/accept_dad",
    ] {
        let e = handle.sysctl_get(key).unwrap_err();
        assert_eq!(e.kind, NetErrorKind::NotFound, "{key}: {e}");
        assert!(e.msg.contains(key), "{key}: {}", e.msg);
    }
    let e = handle
        .sysctl_set("net/ipv4/conf/nosuchlink/arp_notify", "1")
        .unwrap_err();
    assert_eq!(e.kind, NetErrorKind::NotFound, "{e}");
    assert!(
        e.msg.contains("net/ipv4/conf/nosuchlink/arp_notify"),
        "{}",
        e.msg
    );
    // Not a number: the file decides (and refuses it), nothing changes.
    assert!(handle
        .sysctl_set("net/ipv4/conf/dcea/arp_notify", "on")
        .is_err());
    assert_eq!(proc_sys(&ns, "ipv4/conf/dcea/arp_notify"), "0");
}
