//! firewall's configuration: the ingress policy and the reference's backend
//! options, every one validated before anything changes.

use crate::common::{conf, CommonConf};
use cni_core::spec::config::{ConfigError, Fields};
use cni_core::CniError;

/// Who may open connections to the container through the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngressPolicy {
    /// Anyone (the default).
    Open,
    /// Only the container's own bridge.
    SameBridge,
    /// No one: only replies to the container's own connections pass.
    Isolated,
}

#[derive(Debug, Clone)]
pub struct FirewallConf {
    pub common: CommonConf,
    pub ingress: IngressPolicy,
}

pub fn parse(stdin: &[u8]) -> Result<FirewallConf, CniError> {
    let common = conf::parse(stdin)?;
    let f = common.fields();
    // The reference picks iptables or firewalld.
    conf::nftables_only(&f, "backend", "filters forwarded traffic")?;
    if let Some(chain) = f.string("iptablesAdminChainName")? {
        // Our table has no admin chain to jump to: an administrator's own
        // chain at a lower priority than ours already runs first.
        tracing::debug!(
            chain,
            "iptablesAdminChainName ignored: cni-rs filters with nftables"
        );
    }
    f.string("firewalldZone")?;
    Ok(FirewallConf {
        ingress: ingress_policy(&f)?,
        common,
    })
}

fn ingress_policy(f: &Fields) -> Result<IngressPolicy, ConfigError> {
    match f.string("ingressPolicy")?.as_deref() {
        None | Some("") | Some("open") => Ok(IngressPolicy::Open),
        Some("same-bridge") => Ok(IngressPolicy::SameBridge),
        Some("isolated") => Ok(IngressPolicy::Isolated),
        Some(other) => Err(ConfigError::invalid(
            f.path_of("ingressPolicy"),
            format!("{other:?} is not open, same-bridge or isolated"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parsed(extra: Value) -> Result<FirewallConf, CniError> {
        let mut c = json!({"cniVersion": "1.0.0", "name": "n", "type": "firewall"});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        parse(&serde_json::to_vec(&c).unwrap())
    }

    #[test]
    fn ingress_policy_defaults_to_open_and_reads_each_value() {
        assert_eq!(parsed(json!({})).unwrap().ingress, IngressPolicy::Open);
        for (text, want) in [
            ("open", IngressPolicy::Open),
            ("same-bridge", IngressPolicy::SameBridge),
            ("isolated", IngressPolicy::Isolated),
        ] {
            let got = parsed(json!({ "ingressPolicy": text })).unwrap().ingress;
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn an_unknown_ingress_policy_is_refused_naming_the_field() {
        let e = parsed(json!({"ingressPolicy": "closed"})).unwrap_err();
        assert_eq!(e.code, 7);
        assert!(e.msg.starts_with("ingressPolicy"), "{}", e.msg);
        let e = parsed(json!({"ingressPolicy": 3})).unwrap_err();
        assert_eq!(e.code, 6);
    }

    #[test]
    fn iptables_and_firewalld_backends_are_refused_naming_nftables() {
        for backend in ["iptables", "firewalld"] {
            let e = parsed(json!({ "backend": backend })).unwrap_err();
            assert_eq!(e.code, 7);
            assert!(
                e.msg.starts_with("backend") && e.msg.contains("nftables"),
                "{}",
                e.msg
            );
        }
        parsed(json!({"backend": "nftables"})).unwrap();
    }

    #[test]
    fn reference_only_options_are_accepted_when_strings() {
        parsed(json!({"iptablesAdminChainName": "ADMIN", "firewalldZone": "trusted"})).unwrap();
        let e = parsed(json!({"iptablesAdminChainName": 1})).unwrap_err();
        assert!(e.msg.starts_with("iptablesAdminChainName"), "{}", e.msg);
    }
}
