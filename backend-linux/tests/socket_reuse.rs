//! A link made in another namespace is read back over the socket of the
//! handle this process already holds for that namespace; only without one
//! is a socket opened there (which costs a thread to enter it). Alone in
//! its test binary: it counts the process's sockets.

mod common;

use cni_backend_linux::netlink::sockets_opened;
use cni_backend_linux::LinuxBackend;
use cni_core::net::{NetBackend, VethSpec};
use common::{privileged, TestNs};

fn veth(name: &str) -> VethSpec {
    VethSpec {
        name: name.into(),
        peer_name: format!("{name}p"),
        ..Default::default()
    }
}

#[test]
fn a_veth_peer_is_read_back_over_the_open_handles_socket() {
    if !privileged("a_veth_peer_is_read_back_over_the_open_handles_socket") {
        return;
    }
    let (host, cont) = (TestNs::new("host"), TestNs::new("cont"));
    let backend = LinuxBackend::new();
    let h = backend.open(&host.ns_ref()).unwrap();
    let c = backend.open(&cont.ns_ref()).unwrap();

    let before = sockets_opened();
    let pair = h.create_veth(&veth("sra"), &cont.ns_ref()).unwrap();
    assert_eq!(sockets_opened(), before, "no socket opened for the peer");
    assert_eq!(c.link_by_name("srap").unwrap().index, pair.peer.index);

    drop(c);
    let pair = h.create_veth(&veth("srb"), &cont.ns_ref()).unwrap();
    assert_eq!(
        sockets_opened(),
        before + 1,
        "without a handle, one is opened"
    );
    assert_eq!(pair.peer.name, "srbp");
}
