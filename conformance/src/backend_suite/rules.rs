//! Rules about policy-routing rules: a fresh namespace lists the kernel's
//! defaults, a rule without a priority gets one below the main table's, an
//! equal rule is `Exists`, and deleting one that is gone is `NotFound`.

use super::{open, SuiteEnv};
use cni_core::net::{NetErrorKind, RuleInfo, RuleSpec};

fn defaults() -> Vec<RuleInfo> {
    let rule = |ipv6, priority, table| RuleInfo {
        ipv6,
        priority,
        src: None,
        table,
    };
    let mut all = vec![
        rule(false, 0, 255),
        rule(false, 32766, 254),
        rule(false, 32767, 253),
        rule(true, 0, 255),
        rule(true, 32766, 254),
    ];
    all.sort();
    all
}

fn sorted(mut rules: Vec<RuleInfo>) -> Vec<RuleInfo> {
    rules.sort();
    rules
}

pub fn rules_get_default_priorities_and_are_removed_exactly(env: &mut dyn SuiteEnv) {
    let ns = env.new_netns();
    let ns = open(env, &ns);
    assert_eq!(sorted(ns.rules().unwrap()), defaults());
    let v4 = |src: &str, table| RuleSpec {
        src: src.parse().unwrap(),
        table,
        priority: None,
    };
    ns.add_rule(&v4("10.1.0.5/32", 100)).unwrap();
    ns.add_rule(&v4("10.1.0.6/32", 1000)).unwrap();
    let v6 = RuleSpec {
        src: "fd01::5/128".parse().unwrap(),
        table: 101,
        priority: Some(200),
    };
    ns.add_rule(&v6).unwrap();
    let err = ns.add_rule(&v6).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::Exists, "{err}");
    let added: Vec<RuleInfo> = sorted(ns.rules().unwrap())
        .into_iter()
        .filter(|r| r.src.is_some())
        .collect();
    let shown: Vec<String> = added.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        shown,
        [
            "inet 32764: from 10.1.0.6/32 lookup 1000",
            "inet 32765: from 10.1.0.5/32 lookup 100",
            "inet6 200: from fd01::5/128 lookup 101",
        ]
    );
    for rule in &added {
        ns.del_rule(&rule.to_spec().unwrap()).unwrap();
    }
    assert_eq!(sorted(ns.rules().unwrap()), defaults());
    let err = ns.del_rule(&v4("10.1.0.5/32", 100)).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::NotFound, "{err}");
}
