//! Policy-routing rules (`ip rule`): which routing table a packet is looked
//! up in, chosen by its source address. Used by `sbr`.

use ipnet::IpNet;
use std::fmt;

/// A rule `from <src> lookup <table>` to add or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    /// The source network the rule matches; its family is the rule's family.
    pub src: IpNet,
    pub table: u32,
    /// `None`: the kernel picks one just below the first rule after
    /// priority 0 (32765, then 32764, ... on a fresh namespace). On delete,
    /// `None` matches any priority.
    pub priority: Option<u32>,
}

/// A rule as the kernel lists it. Only plain "lookup" rules are listed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleInfo {
    pub ipv6: bool,
    pub priority: u32,
    /// `None`: the rule matches every source ("from all").
    pub src: Option<IpNet>,
    pub table: u32,
}

impl RuleInfo {
    /// The spec that deletes exactly this rule; `None` for a rule without a source.
    pub fn to_spec(&self) -> Option<RuleSpec> {
        Some(RuleSpec {
            src: self.src?,
            table: self.table,
            priority: Some(self.priority),
        })
    }
}

impl fmt::Display for RuleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.priority {
            write!(f, "{p}: ")?;
        }
        write!(f, "from {} lookup {}", self.src, self.table)
    }
}

impl fmt::Display for RuleInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = if self.ipv6 { "inet6" } else { "inet" };
        write!(f, "{family} {}: from ", self.priority)?;
        match self.src {
            Some(src) => write!(f, "{src}")?,
            None => f.write_str("all")?,
        }
        write!(f, " lookup {}", self.table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_rule_becomes_the_spec_that_deletes_it() {
        let info = RuleInfo {
            ipv6: false,
            priority: 32765,
            src: Some("10.1.0.5/32".parse().unwrap()),
            table: 100,
        };
        let spec = info.to_spec().unwrap();
        assert_eq!(spec.priority, Some(32765));
        assert_eq!(spec.to_string(), "32765: from 10.1.0.5/32 lookup 100");
        assert_eq!(info.to_string(), "inet 32765: from 10.1.0.5/32 lookup 100");
        let all = RuleInfo { src: None, ..info };
        assert!(all.to_spec().is_none());
    }
}
