//! Policy-routing rules, modelled on the kernel's fib rules: each family
//! starts with its default rules, a rule added without a priority gets one
//! just below the second rule of its family, and an equal rule at the same
//! priority is `EEXIST` (the request carries `NLM_F_EXCL`).

use crate::model::{Net, NsId};
use cni_core::net::{NetError, NetResult, RuleInfo, RuleSpec};

const TABLE_LOCAL: u32 = 255;
const TABLE_MAIN: u32 = 254;
const TABLE_DEFAULT: u32 = 253;

fn default_rules() -> Vec<RuleInfo> {
    let rule = |ipv6, priority, table| RuleInfo {
        ipv6,
        priority,
        src: None,
        table,
    };
    vec![
        rule(false, 0, TABLE_LOCAL),
        rule(false, 32766, TABLE_MAIN),
        rule(false, 32767, TABLE_DEFAULT),
        rule(true, 0, TABLE_LOCAL),
        rule(true, 32766, TABLE_MAIN),
    ]
}

/// Whether the namespace's rules are still exactly the kernel's defaults.
pub(crate) fn untouched(rules: &Option<Vec<RuleInfo>>) -> bool {
    rules.as_ref().is_none_or(|r| *r == default_rules())
}

pub(crate) fn list(net: &Net, ns: &NsId) -> NetResult<Vec<RuleInfo>> {
    let mut rules = net.ns(ns)?.rules.clone().unwrap_or_else(default_rules);
    rules.sort();
    Ok(rules)
}

/// `fib_default_rule_pref`: one below the second rule of the family.
fn default_priority(rules: &[RuleInfo], ipv6: bool) -> u32 {
    let mut prios: Vec<u32> = rules
        .iter()
        .filter(|r| r.ipv6 == ipv6)
        .map(|r| r.priority)
        .collect();
    prios.sort_unstable();
    prios.get(1).map_or(0, |p| p.saturating_sub(1))
}

fn info_of(spec: &RuleSpec, priority: u32) -> RuleInfo {
    RuleInfo {
        ipv6: spec.src.addr().is_ipv6(),
        priority,
        src: (spec.src.prefix_len() > 0).then_some(spec.src.trunc()),
        table: spec.table,
    }
}

pub(crate) fn add(net: &mut Net, ns: &NsId, spec: &RuleSpec) -> NetResult<()> {
    let rules = net.ns_mut(ns)?.rules.get_or_insert_with(default_rules);
    let ipv6 = spec.src.addr().is_ipv6();
    let priority = spec
        .priority
        .unwrap_or_else(|| default_priority(rules, ipv6));
    let rule = info_of(spec, priority);
    if rules.contains(&rule) {
        return Err(NetError::exists(format!("rule {rule} already exists")));
    }
    rules.push(rule);
    Ok(())
}

pub(crate) fn del(net: &mut Net, ns: &NsId, spec: &RuleSpec) -> NetResult<()> {
    let rules = net.ns_mut(ns)?.rules.get_or_insert_with(default_rules);
    let wanted = info_of(spec, 0);
    let pos = rules
        .iter()
        .position(|r| {
            r.ipv6 == wanted.ipv6
                && r.src == wanted.src
                && r.table == wanted.table
                && spec.priority.is_none_or(|p| r.priority == p)
        })
        .ok_or_else(|| NetError::not_found(format!("rule {spec} not found")))?;
    rules.remove(pos);
    Ok(())
}

/// The rules that are not the kernel's defaults, for the state snapshot.
pub(crate) fn lines(rules: &Option<Vec<RuleInfo>>) -> Vec<String> {
    if untouched(rules) {
        return Vec::new();
    }
    let mut all = rules.clone().unwrap_or_default();
    all.sort();
    all.iter().map(|r| r.to_string()).collect()
}
