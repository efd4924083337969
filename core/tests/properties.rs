//! Round trips and conversion laws over generated configs, results and CNI_ARGS.

use cni_core::spec::args::CniArgs;
use cni_core::spec::config::NetConf;
use cni_core::spec::version::ALL;
use cni_core::spec::{CniResult, Dns, Interface, IpConfig, Route};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn ipnet() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<u32>(), 0u8..=32)
            .prop_map(|(a, p)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), p).unwrap())),
        (any::<u128>(), 0u8..=128)
            .prop_map(|(a, p)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), p).unwrap())),
    ]
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::from(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| IpAddr::from(Ipv6Addr::from(a)))
    ]
}

fn text() -> impl Strategy<Value = String> {
    "[a-z0-9:/._-]{0,12}"
}

fn nonzero() -> impl Strategy<Value = Option<u32>> {
    proptest::option::of(1u32..100_000)
}

fn interface() -> impl Strategy<Value = Interface> {
    ("[a-z0-9]{1,15}", text(), nonzero(), text(), text(), text()).prop_map(
        |(name, mac, mtu, sandbox, socket_path, pci_id)| Interface {
            name,
            mac,
            mtu,
            sandbox,
            socket_path,
            pci_id,
        },
    )
}

fn route() -> impl Strategy<Value = Route> {
    (
        ipnet(),
        proptest::option::of(ip()),
        nonzero(),
        nonzero(),
        nonzero(),
        proptest::option::of(0u32..300),
        proptest::option::of(0u32..255),
    )
        .prop_map(|(dst, gw, mtu, advmss, priority, table, scope)| Route {
            dst,
            gw,
            mtu,
            advmss,
            priority,
            table,
            scope,
        })
}

fn result() -> impl Strategy<Value = CniResult> {
    (
        proptest::collection::vec(interface(), 0..3),
        proptest::collection::vec(
            (
                ipnet(),
                proptest::option::of(ip()),
                proptest::option::of(0usize..3),
            ),
            0..4,
        ),
        proptest::collection::vec(route(), 0..4),
        (
            proptest::collection::vec(text(), 0..2),
            text(),
            proptest::collection::vec(text(), 0..2),
            proptest::collection::vec(text(), 0..2),
        ),
    )
        .prop_map(
            |(interfaces, ips, routes, (nameservers, domain, search, options))| CniResult {
                cni_version: "1.1.0".into(),
                interfaces,
                ips: ips
                    .into_iter()
                    .map(|(address, gateway, interface)| IpConfig {
                        address,
                        gateway,
                        interface,
                    })
                    .collect(),
                routes,
                dns: Dns {
                    nameservers,
                    domain,
                    search,
                    options,
                },
            },
        )
}

proptest! {
    #[test]
    fn result_parse_emit_parse_is_stable_at_every_version(r in result(), vi in 0..ALL.len()) {
        let v = ALL[vi];
        match r.to_json_at(v) {
            Ok(json) => {
                let back = CniResult::parse(json.as_bytes()).unwrap();
                prop_assert_eq!(&back.to_json_at(v).unwrap(), &json);
                prop_assert_eq!(back.clone(), CniResult::parse(back.to_json_at(v).unwrap().as_bytes()).unwrap());
            }
            // Only 0.1.0/0.2.0 can refuse, and only a result with no address.
            Err(_) => prop_assert!((v == "0.1.0" || v == "0.2.0") && r.ips.is_empty()),
        }
    }

    #[test]
    fn up_then_down_keeps_what_the_lower_version_can_express(r in result(), lo in 0..ALL.len(), hi in 0..ALL.len()) {
        let (lo, hi) = if lo <= hi { (ALL[lo], ALL[hi]) } else { (ALL[hi], ALL[lo]) };
        if let Ok(at_lo) = r.convert_to(lo) {
            let up = at_lo.convert_to(hi).unwrap();
            let down = up.convert_to(lo).unwrap();
            prop_assert_eq!(down.to_json_at(lo).unwrap(), at_lo.to_json_at(lo).unwrap());
        }
    }

    #[test]
    fn the_1_1_0_model_round_trips_losslessly(r in result()) {
        prop_assert_eq!(r.convert_to("1.1.0").unwrap(), r);
    }

    #[test]
    fn cni_args_round_trip(pairs in proptest::collection::vec(("[A-Za-z_][A-Za-z0-9_]{0,10}", "[^;=]{0,10}"), 0..5)) {
        let raw = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(";");
        let parsed = CniArgs::parse(&raw).unwrap();
        prop_assert_eq!(parsed.pairs().len(), pairs.len());
        prop_assert_eq!(parsed.to_env_string(), raw.clone());
        prop_assert_eq!(CniArgs::parse(&parsed.to_env_string()).unwrap(), parsed);
    }

    #[test]
    fn cni_args_never_panic(raw in ".{0,40}") {
        let _ = CniArgs::parse(&raw).and_then(|a| a.check_known(&["IP"]));
    }

    #[test]
    fn config_reads_common_fields_and_keeps_unknown_keys(
        name in "[a-z][a-z0-9-]{0,10}",
        vi in 0..ALL.len(),
        extra in proptest::collection::btree_map("x-[a-z]{1,8}", any::<i64>(), 0..4),
        ipam in proptest::option::of("[a-z-]{1,10}"),
    ) {
        let mut obj = serde_json::Map::new();
        obj.insert("cniVersion".into(), ALL[vi].into());
        obj.insert("name".into(), name.clone().into());
        obj.insert("type".into(), "bridge".into());
        for (k, v) in &extra {
            obj.entry(k.clone()).or_insert((*v).into());
        }
        if let Some(t) = &ipam {
            obj.insert("ipam".into(), serde_json::json!({"type": t, "subnet": "10.0.0.0/8"}));
        }
        let conf = NetConf::parse(&serde_json::to_vec(&obj).unwrap()).unwrap();
        prop_assert_eq!((conf.version(), conf.name.as_str()), (ALL[vi], name.as_str()));
        prop_assert_eq!(conf.ipam_type(), ipam.as_deref());
        for key in obj.keys() {
            prop_assert_eq!(conf.fields().field(key).map(|f| f.value.clone()), Some(obj[key].clone()));
        }
    }

    #[test]
    fn config_parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = NetConf::parse(&bytes);
    }
}
