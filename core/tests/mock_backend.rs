//! `MockNetBackend`/`MockNetns` can script the exact call sequence of plugin
//! logic, including the errors a kernel returns.

use cni_core::net::{
    LinkInfo, LinkKind, MacAddr, MockNetBackend, MockNetns, NetBackend, NetError, NetResult, NsRef,
    VethPair, VethSpec,
};
use mockall::{predicate::eq, Sequence};

fn info(index: u32, name: &str) -> LinkInfo {
    LinkInfo {
        index,
        name: name.into(),
        kind: LinkKind::Veth,
        mac: MacAddr([0x0a, 0x58, 0, 0, 0, index as u8]),
        mtu: 1500,
        txqueuelen: 1000,
        up: false,
        oper_up: false,
        promisc: false,
        allmulti: false,
        master: None,
        peer_index: None,
        parent_index: None,
        macvlan_mode: None,
        ipvlan_mode: None,
        vlan_id: None,
        vrf_table: None,
        hairpin: None,
        isolated: None,
        bc_queue_len: None,
        alias: None,
        tap: None,
    }
}

/// Plugin-like logic under test: reuse `name` if it exists, else create a
/// veth into `container`, then bring the host end up.
fn ensure_veth(backend: &dyn NetBackend, name: &str, container: &NsRef) -> NetResult<u32> {
    let host = backend.open(&NsRef::Current)?;
    let index = match host.link_by_name(name) {
        Ok(l) => l.index,
        Err(e) if e.is_not_found() => {
            let spec = VethSpec {
                name: name.into(),
                peer_name: "eth0".into(),
                ..VethSpec::default()
            };
            host.create_veth(&spec, container)?.local.index
        }
        Err(e) => return Err(e),
    };
    host.set_up(index, true)?;
    Ok(index)
}

fn backend_with(netns: MockNetns) -> MockNetBackend {
    let mut backend = MockNetBackend::new();
    let mut slot = Some(netns);
    backend
        .expect_open()
        .with(eq(NsRef::Current))
        .times(1)
        .returning(move |_| Ok(Box::new(slot.take().expect("opened once"))));
    backend
}

#[test]
fn missing_link_is_created_then_brought_up_in_order() {
    let container = NsRef::path("/var/run/netns/c1");
    let mut seq = Sequence::new();
    let mut netns = MockNetns::new();
    netns
        .expect_link_by_name()
        .with(eq("veth0"))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|n| Err(NetError::not_found(format!("link {n} not found"))));
    let expected_peer = container.clone();
    netns
        .expect_create_veth()
        .withf(move |spec, peer| {
            spec.name == "veth0" && spec.peer_name == "eth0" && *peer == expected_peer
        })
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| {
            Ok(VethPair {
                local: info(7, "veth0"),
                peer: info(2, "eth0"),
            })
        });
    netns
        .expect_set_up()
        .with(eq(7), eq(true))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    let backend = backend_with(netns);
    assert_eq!(ensure_veth(&backend, "veth0", &container).unwrap(), 7);
}

#[test]
fn other_lookup_errors_stop_before_any_change() {
    let mut netns = MockNetns::new();
    netns.expect_link_by_name().times(1).returning(|_| {
        Err(NetError::new(
            cni_core::net::NetErrorKind::Permission,
            "denied",
        ))
    });
    netns.expect_create_veth().never();
    netns.expect_set_up().never();
    let backend = backend_with(netns);
    let err = ensure_veth(&backend, "veth0", &NsRef::path("/x")).unwrap_err();
    assert_eq!(err.kind, cni_core::net::NetErrorKind::Permission);
}
