//! Bad ranges are rejected naming the field; defaults as the reference.

use cni_core::ipam::config::{check_no_overlap, validate_range_set, ConfigError};
use cni_core::ipam::RangeSpec;

fn spec(subnet: &str, start: Option<&str>, end: Option<&str>, gw: Option<&str>) -> RangeSpec {
    RangeSpec {
        subnet: Some(subnet.into()),
        range_start: start.map(Into::into),
        range_end: end.map(Into::into),
        gateway: gw.map(Into::into),
    }
}

fn err(s: RangeSpec) -> String {
    s.validate("ipam.ranges[0][0]").unwrap_err().to_string()
}

#[test]
fn each_bad_range_names_its_field() {
    let missing = RangeSpec::default().validate("ipam").unwrap_err();
    assert!(matches!(missing, ConfigError::MissingSubnet { .. }));
    assert!(missing.to_string().starts_with("ipam.subnet:"));
    assert!(err(spec("10.0.0/24", None, None, None))
        .starts_with("ipam.ranges[0][0].subnet: invalid CIDR"));
    assert!(err(spec("10.0.0.0/31", None, None, None))
        .contains("subnet: network 10.0.0.0/31 too small"));
    assert!(err(spec("10.0.0.0/24", Some("10.0.1.1"), None, None))
        .starts_with("ipam.ranges[0][0].rangeStart: 10.0.1.1 not in network"));
    assert!(err(spec("10.0.0.0/24", None, Some("10.0.1.1"), None))
        .starts_with("ipam.ranges[0][0].rangeEnd:"));
    assert!(err(spec(
        "10.0.0.0/24",
        Some("10.0.0.9"),
        Some("10.0.0.5"),
        None
    ))
    .starts_with(
        "ipam.ranges[0][0].rangeStart: 10.0.0.9 is in network 10.0.0.0/24 but after end 10.0.0.5"
    ));
    assert!(err(spec("10.0.0.0/24", None, None, Some("10.0.1.1")))
        .starts_with("ipam.ranges[0][0].gateway: 10.0.1.1 not in network"));
    assert!(err(spec("10.0.0.0/24", None, None, Some("nope")))
        .starts_with("ipam.ranges[0][0].gateway: invalid IP address"));
    assert!(err(spec("10.0.0.0/24", Some("fd00::1"), None, None))
        .contains("rangeStart: fd00::1 is not the same protocol"));
    assert!(err(spec("10.0.0.0/24", None, Some("10.0.0.255"), None))
        .contains("rangeEnd: 10.0.0.255 is the broadcast address"));
    assert!(err(spec("10.0.0.0/24", Some("10.0.0.0"), None, None))
        .contains("rangeStart: 10.0.0.0 is the network address"));
}

#[test]
fn defaults_match_the_reference() {
    let r = spec("10.0.0.0/24", None, None, None)
        .validate("ipam")
        .unwrap();
    assert_eq!(r.subnet.to_string(), "10.0.0.0/24");
    assert_eq!(r.gateway.to_string(), "10.0.0.1");
    assert_eq!(r.start.to_string(), "10.0.0.1");
    assert_eq!(r.end.to_string(), "10.0.0.254");
    let r6 = spec("fd00::/64", None, None, None)
        .validate("ipam")
        .unwrap();
    assert_eq!(r6.end.to_string(), "fd00::ffff:ffff:ffff:ffff");
    // Empty strings are absent, as Go decodes them.
    let r = spec("10.0.0.0/24", Some(""), None, Some(""))
        .validate("ipam")
        .unwrap();
    assert_eq!(r.start.to_string(), "10.0.0.1");
}

#[test]
fn overlaps_and_families_are_rejected() {
    let a = spec("10.0.0.0/24", None, None, None);
    let b = spec("10.0.0.0/25", None, None, None);
    let e = validate_range_set(&[a.clone(), b], "ipam.ranges[0]", false).unwrap_err();
    assert!(
        e.to_string().starts_with("ipam.ranges[0][1]: subnets"),
        "{e}"
    );
    let v6 = spec("fd00::/64", None, None, None);
    let e = validate_range_set(&[a.clone(), v6], "ipam.ranges[0]", false).unwrap_err();
    assert!(matches!(e, ConfigError::MixedFamilies { .. }));
    let s1 = validate_range_set(std::slice::from_ref(&a), "ipam.ranges[0]", false).unwrap();
    let s2 = validate_range_set(
        &[spec("10.0.0.128/25", None, None, None)],
        "ipam.ranges[1]",
        false,
    )
    .unwrap();
    let e = check_no_overlap(
        &[s1, s2],
        &["ipam.ranges[0]".into(), "ipam.ranges[1]".into()],
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("ipam.ranges[1]: subnets range set 0"),
        "{e}"
    );
    let e = validate_range_set(&[], "ipam.ranges[2]", false).unwrap_err();
    assert_eq!(e.to_string(), "ipam.ranges[2]: empty range set");
}

#[test]
fn subnet_with_host_bits_is_refused_as_the_reference_does() {
    let e = err(spec("192.0.2.12/24", None, None, None));
    assert!(e.starts_with("ipam.ranges[0][0].subnet:"), "{e}");
    assert!(e.contains("Network has host bits set"), "{e}");
    assert!(err(spec("fd00::1/64", None, None, None)).contains("host bits"));
}

#[test]
fn ipv4_mapped_ipv6_subnet_is_refused() {
    let e = err(spec("::ffff:10.0.132.0/124", None, None, None));
    assert!(e.starts_with("ipam.ranges[0][0].subnet:"), "{e}");
    assert!(e.contains("IPv4-mapped"), "{e}");
}

#[test]
fn leading_zero_octets_are_refused_in_subnets_and_addresses() {
    for subnet in ["010.1.2.0/24", "00.0.0.0/0", "10.1.2.00/24"] {
        assert!(
            err(spec(subnet, None, None, None)).contains("invalid CIDR"),
            "{subnet}"
        );
    }
    assert!(err(spec("10.1.2.0/24", Some("10.1.2.010"), None, None))
        .contains("rangeStart: invalid IP address"));
    assert!(err(spec("10.1.2.0/24", None, None, Some("010.1.2.1")))
        .contains("gateway: invalid IP address"));
}

#[test]
fn prefix_length_with_a_leading_zero_is_accepted_as_the_reference_does() {
    let r = spec("10.1.2.0/024", None, None, None)
        .validate("ipam")
        .unwrap();
    assert_eq!(r.subnet.to_string(), "10.1.2.0/24");
}
