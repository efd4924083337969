//! Rules about the port-mapping table: one set per attachment, listed and
//! checked as written, removed by DEL and GC by tag only.

use super::{open, SuiteEnv};
use cni_core::net::{NetErrorKind, PortMapRule, PortMapSet, PortProtocol};

fn set(container_id: &str, host_port: u16) -> PortMapSet {
    PortMapSet {
        network: "suite-net".into(),
        container_id: container_id.into(),
        rules: vec![
            PortMapRule::Dnat {
                protocol: PortProtocol::Tcp,
                host_ip: None,
                host_port,
                to: "10.90.0.5:80".parse().unwrap(),
            },
            PortMapRule::Dnat {
                protocol: PortProtocol::Udp,
                host_ip: Some("fd90::1".parse().unwrap()),
                host_port,
                to: "[fd90::5]:53".parse().unwrap(),
            },
            PortMapRule::Masquerade {
                from: Some("10.90.0.0/24".parse().unwrap()),
                to: "10.90.0.5".parse().unwrap(),
            },
            PortMapRule::Masquerade {
                from: None,
                to: "fd90::5".parse().unwrap(),
            },
        ],
    }
}

pub fn portmap_sets_are_replaced_listed_checked_and_removed_by_tag(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let err = host.portmap_check(&set("ctr-a", 8080)).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::NotFound, "{err}");
    host.portmap_add(&set("ctr-a", 8080)).unwrap();
    host.portmap_add(&set("ctr-a", 8080)).unwrap();
    host.portmap_add(&set("ctr-b", 8081)).unwrap();
    host.portmap_add(&set("ctr-c", 8082)).unwrap();
    let mut want = vec![set("ctr-a", 8080), set("ctr-b", 8081), set("ctr-c", 8082)];
    for s in &mut want {
        s.rules.sort();
    }
    assert_eq!(host.portmap_list().unwrap(), want);
    host.portmap_check(&set("ctr-a", 8080)).unwrap();
    let err = host.portmap_check(&set("ctr-a", 9090)).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::NotFound, "{err}");
    assert!(
        err.msg.contains("9090"),
        "does not name the missing rule: {err}"
    );
    host.portmap_del("suite-net", "ctr-a").unwrap();
    host.portmap_del("suite-net", "ctr-a").unwrap();
    host.portmap_gc("suite-net", &["ctr-c".to_string()])
        .unwrap();
    assert_eq!(host.portmap_list().unwrap(), want[2..]);
    host.portmap_del("suite-net", "ctr-c").unwrap();
    assert!(host.portmap_list().unwrap().is_empty());
}
