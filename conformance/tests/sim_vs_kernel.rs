//! Differential: the same operation sequence on the simulator and on the real
//! kernel (Linux backend, namespaces made for the test) must leave the same
//! normalized state — links, kinds, MTU, qlen, flags, masters, addresses and
//! main-table routes. Where they differ, the simulator is wrong.

use cni_conformance::backend_suite::{normalized_view, settles, KernelEnv, SimEnv, SuiteEnv};
use cni_core::net::{
    AddressSpec, BridgeSpec, MacvlanMode, MacvlanSpec, NsRef, RouteScope, RouteSpec, VethSpec,
};

/// Builds a topology and names the namespaces whose views are compared.
type Scenario = fn(&mut dyn SuiteEnv) -> Vec<(&'static str, NsRef)>;

fn net(s: &str) -> ipnet::IpNet {
    s.parse().unwrap()
}

/// What the ptp plugin builds: /32 gateway on the host end, a host route to
/// the container, and in the container the on-link route replaced by a route
/// to the gateway plus the subnet and default via it.
fn ptp_pair(env: &mut dyn SuiteEnv) -> Vec<(&'static str, NsRef)> {
    let host_ref = env.host();
    let c_ref = env.new_netns();
    let host = env.backend().open(&host_ref).unwrap();
    let c = env.backend().open(&c_ref).unwrap();
    let pair = host
        .create_veth(&VethSpec::new("pv0", "eth0"), &c_ref)
        .unwrap();
    host.set_up(pair.local.index, true).unwrap();
    host.add_address(pair.local.index, &AddressSpec::new(net("10.40.0.1/32")))
        .unwrap();
    host.add_route(
        &RouteSpec::new(net("10.40.0.2/32"))
            .dev(pair.local.index)
            .scope(RouteScope::Host),
    )
    .unwrap();
    let eth0 = pair.peer.index;
    c.add_address(eth0, &AddressSpec::new(net("10.40.0.2/24")))
        .unwrap();
    c.set_up(eth0, true).unwrap();
    c.del_route(
        &RouteSpec::new(net("10.40.0.0/24"))
            .dev(eth0)
            .scope(RouteScope::Link),
    )
    .unwrap();
    let mut to_gw = RouteSpec::new(net("10.40.0.1/32"))
        .dev(eth0)
        .scope(RouteScope::Link);
    to_gw.src = Some("10.40.0.2".parse().unwrap());
    c.add_route(&to_gw).unwrap();
    let gw = "10.40.0.1".parse().unwrap();
    c.add_route(&RouteSpec::new(net("10.40.0.0/24")).via(gw).dev(eth0))
        .unwrap();
    c.add_route(&RouteSpec::new(net("0.0.0.0/0")).via(gw).dev(eth0))
        .unwrap();
    vec![("host", host_ref), ("container", c_ref)]
}

/// A macvlan on a veth end in the host, created straight into a container;
/// the bridge it is compared beside has an MTU and promiscuous flag set.
fn macvlan_and_bridge_flags(env: &mut dyn SuiteEnv) -> Vec<(&'static str, NsRef)> {
    let host_ref = env.host();
    let c_ref = env.new_netns();
    let host = env.backend().open(&host_ref).unwrap();
    let c = env.backend().open(&c_ref).unwrap();
    let up = host
        .create_veth(&VethSpec::new("up0", "up1"), &host_ref)
        .unwrap();
    host.set_up(up.local.index, true).unwrap();
    host.set_up(up.peer.index, true).unwrap();
    let spec = MacvlanSpec {
        name: "eth0".into(),
        parent: up.local.index,
        mode: MacvlanMode::Private,
        mtu: Some(1400),
        mac: None,
        txqueuelen: None,
        bc_queue_len: None,
    };
    let mv = host.create_macvlan(&spec, &c_ref).unwrap();
    c.add_address(mv.index, &AddressSpec::new(net("10.41.0.5/16")))
        .unwrap();
    c.set_up(mv.index, true).unwrap();
    let br = host
        .create_bridge(&BridgeSpec {
            name: "br9".into(),
            mtu: Some(9000),
            ..BridgeSpec::default()
        })
        .unwrap();
    host.set_promisc(br.index, true).unwrap();
    host.set_txqueuelen(br.index, 500).unwrap();
    vec![("host", host_ref), ("container", c_ref)]
}

/// Moves, renames and deletes: a link moved away loses its addresses; the
/// peer of a deleted veth goes too.
fn move_rename_delete(env: &mut dyn SuiteEnv) -> Vec<(&'static str, NsRef)> {
    let host_ref = env.host();
    let a_ref = env.new_netns();
    let b_ref = env.new_netns();
    let host = env.backend().open(&host_ref).unwrap();
    let a = env.backend().open(&a_ref).unwrap();
    let keep = host
        .create_veth(&VethSpec::new("keep0", "keep1"), &a_ref)
        .unwrap();
    host.add_address(keep.local.index, &AddressSpec::new(net("10.42.0.1/24")))
        .unwrap();
    host.set_up(keep.local.index, true).unwrap();
    let gone = host
        .create_veth(&VethSpec::new("gone0", "gone1"), &a_ref)
        .unwrap();
    a.add_address(keep.peer.index, &AddressSpec::new(net("10.42.0.2/24")))
        .unwrap();
    a.move_to(keep.peer.index, &b_ref).unwrap();
    let b = env.backend().open(&b_ref).unwrap();
    let moved = b.link_by_name("keep1").unwrap();
    b.rename(moved.index, "eth7").unwrap();
    b.set_up(moved.index, true).unwrap();
    a.delete_link(a.link_by_name("gone1").unwrap().index)
        .unwrap();
    assert!(host.link_by_index(gone.local.index).is_err());
    vec![("host", host_ref), ("a", a_ref), ("b", b_ref)]
}

fn render(env: &dyn SuiteEnv, views: &[(&str, NsRef)]) -> String {
    views
        .iter()
        .map(|(label, ns)| {
            let handle = env.backend().open(ns).unwrap();
            format!("== {label}\n{}", normalized_view(&*handle).unwrap())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn same_on_both(name: &str, scenario: Scenario) {
    let mut sim = SimEnv::new();
    let sim_views = scenario(&mut sim);
    let expected = render(&sim, &sim_views);
    if !cni_core::testsupport::privileged(name) {
        return;
    }
    let mut kernel = KernelEnv::new();
    let kernel_views = scenario(&mut kernel);
    // Carrier reaches a real kernel's link flags a moment late: let it settle.
    let mut actual = String::new();
    settles(|| {
        actual = render(&kernel, &kernel_views);
        actual == expected
    });
    assert!(expected.contains("link "), "{name}: empty view: {expected}");
    assert_eq!(
        actual, expected,
        "{name}: kernel (left) and simulator (right) differ"
    );
}

#[test]
fn ptp_pair_is_the_same_on_simulator_and_kernel() {
    same_on_both("ptp_pair_is_the_same_on_simulator_and_kernel", ptp_pair);
}

#[test]
fn macvlan_and_bridge_flags_are_the_same_on_simulator_and_kernel() {
    same_on_both(
        "macvlan_and_bridge_flags_are_the_same_on_simulator_and_kernel",
        macvlan_and_bridge_flags,
    );
}

#[test]
fn move_rename_delete_is_the_same_on_simulator_and_kernel() {
    same_on_both(
        "move_rename_delete_is_the_same_on_simulator_and_kernel",
        move_rename_delete,
    );
}
