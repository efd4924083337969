//! Rules about the qdiscs `bandwidth` uses: a tbf as root qdisc reads back
//! with the same parameters, an ingress redirect names its target, both
//! are removed again, and an ifb's qdiscs go with it.

use super::{open, SuiteEnv};
use cni_core::net::{NetErrorKind, RootQdisc, Shaping, TokenBucket, VethSpec};

pub fn tbf_and_ingress_redirect_round_trip_and_go_with_the_ifb(env: &mut dyn SuiteEnv) {
    let host = open(env, &env.host());
    let container = env.new_netns();
    let veth = host
        .create_veth(&VethSpec::new("bw0", "bw0p"), &container)
        .unwrap()
        .local;
    assert_eq!(host.shaping(veth.index).unwrap(), Shaping::default());
    let bucket = TokenBucket::from_bits(8_000_000, 80_000);
    host.tbf_add(veth.index, &bucket).unwrap();
    let err = host.tbf_add(veth.index, &bucket).unwrap_err();
    assert_eq!(err.kind, NetErrorKind::Exists, "{err}");
    let ifb = host.create_ifb("bwifb0", 1400).unwrap();
    assert!(ifb.up && ifb.mtu == 1400 && ifb.txqueuelen > 0, "{ifb:?}");
    host.ingress_redirect_add(veth.index, ifb.index).unwrap();
    let fast = TokenBucket::from_bits(80_000_000_000, 8_000_000);
    host.tbf_add(ifb.index, &fast).unwrap();
    let shaped = host.shaping(veth.index).unwrap();
    assert_eq!(shaped.root, RootQdisc::Tbf(bucket));
    assert_eq!(shaped.ingress_redirects, Some(vec![ifb.index]));
    assert_eq!(host.shaping(ifb.index).unwrap().root, RootQdisc::Tbf(fast));
    host.delete_link(ifb.index).unwrap();
    host.ingress_qdisc_del(veth.index).unwrap();
    host.root_qdisc_del(veth.index).unwrap();
    assert_eq!(host.shaping(veth.index).unwrap(), Shaping::default());
    for err in [
        host.ingress_qdisc_del(veth.index).unwrap_err(),
        host.root_qdisc_del(veth.index).unwrap_err(),
        host.shaping(ifb.index).unwrap_err(),
    ] {
        assert_eq!(err.kind, NetErrorKind::NotFound, "{err}");
    }
}
