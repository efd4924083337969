//! Rules about the forwarding-rule table: one set per attachment, listed and
//! checked as written, removed by DEL and GC by tag only.

use super::{open, SuiteEnv};
use cni_core::net::{FirewallRule, FirewallSet, NetErrorKind};

fn set(container_id: &str, last: u8) -> FirewallSet {
    let v4 = format!("10.91.0.{last}").parse().unwrap();
    let v6 = format!("fd91::{last}").parse().unwrap();
    FirewallSet {
        network: "suite-net".into(),
        container_id: container_id.into(),
        rules: vec![
            FirewallRule::DropNewTo {
                to: v4,
                except_in: Some("suite-br".into()),
            },
            FirewallRule::DropNewTo {
                to: v6,
                except_in: None,
            },
            FirewallRule::AcceptFrom(v4),
            FirewallRule::AcceptRepliesTo(v4),
            FirewallRule::AcceptFrom(v6),
            FirewallRule::AcceptRepliesTo(v6),
        ],
    }
}

pub fn firewall_sets_are_replaced_listed_checked_and_removed_by_tag(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let err = host.firewall_check(&set("ctr-a", 5)).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::NotFound, "{err}");
    host.firewall_add(&set("ctr-a", 5)).unwrap();
    host.firewall_add(&set("ctr-a", 5)).unwrap();
    host.firewall_add(&set("ctr-b", 6)).unwrap();
    host.firewall_add(&set("ctr-c", 7)).unwrap();
    let mut want = vec![set("ctr-a", 5), set("ctr-b", 6), set("ctr-c", 7)];
    for s in &mut want {
        s.rules.sort();
    }
    assert_eq!(host.firewall_list().unwrap(), want);
    host.firewall_check(&set("ctr-a", 5)).unwrap();
    let err = host.firewall_check(&set("ctr-a", 9)).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::NotFound, "{err}");
    assert!(
        err.msg.contains("10.91.0.9"),
        "does not name the missing rule: {err}"
    );
    host.firewall_del("suite-net", "ctr-a").unwrap();
    host.firewall_del("suite-net", "ctr-a").unwrap();
    host.firewall_gc("suite-net", &["ctr-c".to_string()])
        .unwrap();
    assert_eq!(host.firewall_list().unwrap(), want[2..]);
    host.firewall_del("suite-net", "ctr-c").unwrap();
    assert!(host.firewall_list().unwrap().is_empty());
}
