//! bandwidth's configuration: the limits at the top level of the config, or
//! else from the `bandwidth` capability (`runtimeConfig.bandwidth`), as the
//! reference reads them. Rates in bits per second, bursts in bits.

use crate::common::{conf, CommonConf};
use cni_core::spec::config::{ConfigError, Fields};
use cni_core::CniError;

const KEYS: [&str; 4] = ["ingressRate", "ingressBurst", "egressRate", "egressBurst"];

/// One direction's limit; both numbers non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub rate_bits: u64,
    pub burst_bits: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Traffic to the container (shaped on the host veth's egress).
    pub ingress: Option<Limit>,
    /// Traffic from the container (shaped on the ifb).
    pub egress: Option<Limit>,
}

impl Limits {
    pub fn is_empty(&self) -> bool {
        self.ingress.is_none() && self.egress.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct BandwidthConf {
    pub common: CommonConf,
    pub limits: Limits,
}

pub fn parse(stdin: &[u8]) -> Result<BandwidthConf, CniError> {
    let common = conf::parse(stdin)?;
    let limits = limits(&common.fields())?;
    Ok(BandwidthConf { common, limits })
}

/// The top-level keys win when any of them is present, as the reference's
/// embedded entry does; otherwise the capability's. The reference decodes
/// both, so a value of the wrong type in either is refused.
fn limits(f: &Fields) -> Result<Limits, ConfigError> {
    let capability = match f.object("runtimeConfig")? {
        Some(rc) => rc.object("bandwidth")?,
        None => None,
    };
    if let Some(bw) = &capability {
        for key in KEYS {
            bw.get::<u64>(key)?;
        }
    }
    if KEYS.iter().any(|k| f.field(k).is_some()) {
        return read_limits(f);
    }
    capability.map_or(Ok(Limits::default()), |bw| read_limits(&bw))
}

fn read_limits(f: &Fields) -> Result<Limits, ConfigError> {
    Ok(Limits {
        ingress: limit(f, "ingressRate", "ingressBurst")?,
        egress: limit(f, "egressRate", "egressBurst")?,
    })
}

/// The reference's rules: rate and burst both set or both 0, and a burst
/// that fits tc's 32-bit byte count.
fn limit(f: &Fields, rate_key: &str, burst_key: &str) -> Result<Option<Limit>, ConfigError> {
    let rate_bits: u64 = f.get(rate_key)?.unwrap_or(0);
    let burst_bits: u64 = f.get(burst_key)?.unwrap_or(0);
    match (rate_bits, burst_bits) {
        (0, 0) => Ok(None),
        (_, 0) => Err(ConfigError::invalid(
            f.path_of(burst_key),
            format!("missing: {rate_key} is set, so {burst_key} must be set too"),
        )),
        (0, _) => Err(ConfigError::invalid(
            f.path_of(rate_key),
            format!("missing: {burst_key} is set, so {rate_key} must be set too"),
        )),
        (_, burst) if burst / 8 >= u64::from(u32::MAX) => Err(ConfigError::invalid(
            f.path_of(burst_key),
            format!("{burst} bits is more than the 4 GB a burst may be"),
        )),
        _ => Ok(Some(Limit {
            rate_bits,
            burst_bits,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(extra: &str) -> Result<Limits, CniError> {
        let text = format!(r#"{{"cniVersion":"1.0.0","name":"n","type":"bandwidth"{extra}}}"#);
        parse(text.as_bytes()).map(|c| c.limits)
    }

    fn error(extra: &str) -> CniError {
        parsed(extra).expect_err("config should be refused")
    }

    #[test]
    fn top_level_limits_are_read() {
        let l = parsed(
            r#","ingressRate":8000,"ingressBurst":800,"egressRate":16000,"egressBurst":1600"#,
        )
        .unwrap();
        assert_eq!(
            l.ingress,
            Some(Limit {
                rate_bits: 8000,
                burst_bits: 800
            })
        );
        assert_eq!(
            l.egress,
            Some(Limit {
                rate_bits: 16000,
                burst_bits: 1600
            })
        );
    }

    #[test]
    fn capability_is_read_when_the_top_level_has_no_limit() {
        let l = parsed(r#","runtimeConfig":{"bandwidth":{"egressRate":1000,"egressBurst":100}}"#)
            .unwrap();
        assert_eq!(l.ingress, None);
        assert_eq!(
            l.egress,
            Some(Limit {
                rate_bits: 1000,
                burst_bits: 100
            })
        );
    }

    #[test]
    fn top_level_limits_win_over_the_capability() {
        let l = parsed(
            r#","ingressRate":8000,"ingressBurst":800,"runtimeConfig":{"bandwidth":{"egressRate":1000,"egressBurst":100}}"#,
        )
        .unwrap();
        assert_eq!(l.egress, None);
        assert!(l.ingress.is_some());
    }

    #[test]
    fn a_capability_value_of_the_wrong_type_is_refused_even_when_the_top_level_wins() {
        let e = error(
            r#","ingressRate":8000,"ingressBurst":800,"runtimeConfig":{"bandwidth":{"egressRate":-1}}"#,
        );
        assert_eq!(e.code, 6);
        assert!(
            e.msg.starts_with("runtimeConfig.bandwidth.egressRate"),
            "{}",
            e.msg
        );
    }

    #[test]
    fn no_limits_is_empty() {
        assert!(parsed("").unwrap().is_empty());
        assert!(parsed(r#","ingressRate":0,"ingressBurst":0"#)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn rate_without_burst_is_refused_naming_the_burst() {
        let e = error(r#","ingressRate":8000"#);
        assert_eq!(e.code, 7);
        assert!(e.msg.starts_with("ingressBurst"), "{}", e.msg);
    }

    #[test]
    fn burst_without_rate_is_refused_naming_the_rate() {
        let e = error(r#","runtimeConfig":{"bandwidth":{"egressBurst":100}}"#);
        assert_eq!(e.code, 7);
        assert!(
            e.msg.starts_with("runtimeConfig.bandwidth.egressRate"),
            "{}",
            e.msg
        );
    }

    #[test]
    fn burst_of_4_gigabytes_is_refused() {
        let bits = u64::from(u32::MAX) * 8;
        let e = error(&format!(r#","egressRate":1000,"egressBurst":{bits}"#));
        assert!(e.msg.starts_with("egressBurst"), "{}", e.msg);
        assert!(parsed(&format!(r#","egressRate":1000,"egressBurst":{}"#, bits - 8)).is_ok());
    }

    #[test]
    fn negative_or_text_rate_is_a_type_error_naming_the_field() {
        for value in ["-1", "\"1mbit\""] {
            let e = error(&format!(r#","ingressRate":{value},"ingressBurst":100"#));
            assert!(e.msg.starts_with("ingressRate"), "{}", e.msg);
        }
    }
}
