//! Policy-routing rules of both families: add, delete, dump.

use super::Rtnl;
use cni_core::net::{NetError, NetErrorKind, NetResult, RuleInfo, RuleSpec};
use ipnet::IpNet;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

fn rule_message(rule: &RuleSpec) -> RuleMessage {
    let mut msg = RuleMessage::default();
    let h = &mut msg.header;
    h.family = if rule.src.addr().is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    h.src_len = rule.src.prefix_len();
    h.action = RuleAction::ToTable;
    // The header holds 8 bits; larger table ids go in FRA_TABLE only (as iproute2 does).
    h.table = u8::try_from(rule.table).unwrap_or(0);
    let attrs = &mut msg.attributes;
    attrs.push(RuleAttribute::Table(rule.table));
    if rule.src.prefix_len() > 0 {
        attrs.push(RuleAttribute::Source(rule.src.addr()));
    }
    if let Some(p) = rule.priority {
        attrs.push(RuleAttribute::Priority(p));
    }
    msg
}

/// Our view of a kernel rule; `None` for other families (multicast routing)
/// and for rules that do more than look up a table by source (fwmark, iif,
/// goto, ...), which no plugin of ours writes.
pub fn rule_info_from(msg: &RuleMessage) -> Option<RuleInfo> {
    let h = &msg.header;
    let ipv6 = match h.family {
        AddressFamily::Inet => false,
        AddressFamily::Inet6 => true,
        _ => return None,
    };
    if h.action != RuleAction::ToTable {
        return None;
    }
    let mut info = RuleInfo {
        ipv6,
        priority: 0,
        src: None,
        table: u32::from(h.table),
    };
    for attr in &msg.attributes {
        match attr {
            RuleAttribute::Source(ip) => info.src = IpNet::new(*ip, h.src_len).ok(),
            RuleAttribute::Table(t) => info.table = *t,
            RuleAttribute::Priority(p) => info.priority = *p,
            _ => {}
        }
    }
    Some(info)
}

impl Rtnl {
    pub fn rules(&self) -> NetResult<Vec<RuleInfo>> {
        let replies = self
            .sock
            .dump(RouteNetlinkMessage::GetRule(RuleMessage::default()), || {
                format!("list rules in {}", self.ns)
            })?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewRule(r) => rule_info_from(r),
                _ => None,
            })
            .collect())
    }

    pub fn add_rule(&self, rule: &RuleSpec) -> NetResult<()> {
        self.sock.request(
            RouteNetlinkMessage::NewRule(rule_message(rule)),
            NLM_F_CREATE | NLM_F_EXCL,
            || format!("add rule {rule} in {}", self.ns),
        )
    }

    pub fn del_rule(&self, rule: &RuleSpec) -> NetResult<()> {
        let what = || format!("delete rule {rule} in {}", self.ns);
        let result = self
            .sock
            .request(RouteNetlinkMessage::DelRule(rule_message(rule)), 0, what);
        result.map_err(|e| match e.kind {
            NetErrorKind::NotFound => NetError::not_found(format!("{}: no such rule", what())),
            _ => e,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_message_round_trips_to_rule_info() {
        let spec = RuleSpec {
            src: "fd00::5/128".parse().unwrap(),
            table: 1000,
            priority: Some(200),
        };
        let msg = rule_message(&spec);
        assert_eq!(msg.header.table, 0);
        let info = rule_info_from(&msg).unwrap();
        assert_eq!(info.to_spec(), Some(spec));
        assert!(info.ipv6);
    }

    #[test]
    fn rules_that_are_not_table_lookups_are_not_listed() {
        let mut msg = rule_message(&RuleSpec {
            src: "10.0.0.1/32".parse().unwrap(),
            table: 100,
            priority: None,
        });
        msg.header.action = RuleAction::Blackhole;
        assert!(rule_info_from(&msg).is_none());
    }
}
