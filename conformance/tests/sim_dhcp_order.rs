//! IPAM that works on the container interface itself (`dhcp`): bridge,
//! macvlan and dummy create the interface and bring it up *before* IPAM ADD, keep the
//! kernel's MAC, and on DEL release IPAM *before* removing the interface (so
//! a DHCPRELEASE can still go out). Checked on the simulator with a stand-in
//! `dhcp` plugin that looks at the kernel when it is called.

use cni_backend_sim::SimKernel;
use cni_core::net::{BridgeSpec, NetBackend, NsRef, VethSpec};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
use cni_plugins::bridge::Bridge;
use cni_plugins::common::delegate::InProcessDelegate;
use cni_plugins::dummy::Dummy;
use cni_plugins::macvlan::Macvlan;
use std::sync::Mutex;

/// Answers ADD with 10.96.0.7/24 only if the interface is there and up; DEL
/// notes whether the interface was still there.
struct FakeDhcp {
    kernel: SimKernel,
    del_saw_interface: Mutex<Vec<bool>>,
}

impl FakeDhcp {
    fn interface_up(&self, args: &CmdArgs) -> Option<bool> {
        let ns = self.kernel.open(&NsRef::path(&args.netns)).ok()?;
        ns.link_by_name(&args.ifname).ok().map(|l| l.up)
    }
}

impl Plugin for FakeDhcp {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        match self.interface_up(args) {
            Some(true) => Ok(serde_json::from_value(serde_json::json!({
                "cniVersion": "1.0.0",
                "ips": [{"address": "10.96.0.7/24", "gateway": "10.96.0.1"}],
                "routes": [{"dst": "0.0.0.0/0"}]
            }))
            .unwrap()),
            Some(false) => Err(CniError::new(999, "network is down")),
            None => Err(CniError::new(
                999,
                format!("error looking up {:?}: Link not found", args.ifname),
            )),
        }
    }
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let seen = self.interface_up(args).is_some();
        self.del_saw_interface.lock().unwrap().push(seen);
        Ok(())
    }
    fn check(&self, _: &CmdArgs) -> Result<(), CniError> {
        Ok(())
    }
    fn about(&self) -> String {
        "fake dhcp".into()
    }
}

fn args(conf: serde_json::Value) -> CmdArgs {
    CmdArgs {
        container_id: "dhcp1".into(),
        netns: "/var/run/netns/dhcp1".into(),
        ifname: "eth0".into(),
        stdin: conf.to_string().into_bytes(),
        ..CmdArgs::default()
    }
}

fn setup() -> (SimKernel, FakeDhcp) {
    let kernel = SimKernel::new();
    kernel.add_netns("/var/run/netns/dhcp1").unwrap();
    let dhcp = FakeDhcp {
        kernel: kernel.clone(),
        del_saw_interface: Mutex::new(Vec::new()),
    };
    (kernel, dhcp)
}

#[test]
fn bridge_creates_the_interface_before_dhcp_and_releases_before_removing_it() {
    let (kernel, dhcp) = setup();
    let ipam = InProcessDelegate::new().with("dhcp", &dhcp);
    let plugin = Bridge {
        backend: &kernel,
        ipam: &ipam,
    };
    let a = args(
        serde_json::json!({"cniVersion": "1.0.0", "name": "d", "type": "bridge",
        "bridge": "dbr0", "ipam": {"type": "dhcp"}}),
    );
    let result = plugin.add(&a).unwrap();
    assert_eq!(result.ips[0].address.to_string(), "10.96.0.7/24");
    let container = kernel.open(&NsRef::path("/var/run/netns/dhcp1")).unwrap();
    let eth0 = container.link_by_name("eth0").unwrap();
    assert_ne!(
        &eth0.mac.0[..2],
        &cni_core::mac::IPV4_PREFIX,
        "no MAC derived after the lease"
    );
    let addrs = container.addresses(Some(eth0.index)).unwrap();
    assert!(addrs.iter().any(|x| x.addr.to_string() == "10.96.0.7/24"));

    plugin.del(&a).unwrap();
    assert_eq!(
        *dhcp.del_saw_interface.lock().unwrap(),
        [true],
        "released while eth0 existed"
    );
    assert!(container.link_by_name("eth0").is_err());
}

#[test]
fn macvlan_creates_the_interface_before_dhcp_and_releases_before_removing_it() {
    let (kernel, dhcp) = setup();
    let host = kernel.open(&NsRef::Current).unwrap();
    let up = host
        .create_veth(&VethSpec::new("up0", "up1"), &NsRef::Current)
        .unwrap();
    host.set_up(up.local.index, true).unwrap();
    let ipam = InProcessDelegate::new().with("dhcp", &dhcp);
    let plugin = Macvlan {
        backend: &kernel,
        ipam: &ipam,
    };
    let a = args(
        serde_json::json!({"cniVersion": "1.0.0", "name": "d", "type": "macvlan",
        "master": "up0", "ipam": {"type": "dhcp"}}),
    );
    let result = plugin.add(&a).unwrap();
    assert_eq!(result.ips[0].address.to_string(), "10.96.0.7/24");
    plugin.del(&a).unwrap();
    assert_eq!(*dhcp.del_saw_interface.lock().unwrap(), [true]);
}

/// A failed DHCP ADD leaves nothing: the interface made for it is removed.
#[test]
fn a_failed_dhcp_add_removes_the_interface_made_for_it() {
    let (kernel, _) = setup();
    let refusing = FakeDhcp {
        kernel: SimKernel::new(),
        del_saw_interface: Mutex::new(Vec::new()),
    };
    let ipam = InProcessDelegate::new().with("dhcp", &refusing);
    let plugin = Bridge {
        backend: &kernel,
        ipam: &ipam,
    };
    // The bridge is shared by the network's attachments and stays after a
    // failed ADD; here it exists already, so nothing may change but what
    // the kernel derives from a port coming and going (the bridge's carrier
    // and MAC).
    let host = kernel.open(&NsRef::Current).unwrap();
    let br = host
        .create_bridge(&BridgeSpec {
            name: "dbr0".into(),
            ..Default::default()
        })
        .unwrap();
    host.set_up(br.index, true).unwrap();
    // As an earlier ADD left it: the plugin owns the bridge's routes.
    host.sysctl_set("net/ipv6/conf/dbr0/accept_ra", "0")
        .unwrap();
    let state = || {
        kernel
            .snapshot_normalized()
            .replace(",LOWER_UP", "")
            .replace(",NO-CARRIER", "")
    };
    let before = state();
    let a = args(
        serde_json::json!({"cniVersion": "1.0.0", "name": "d", "type": "bridge",
        "bridge": "dbr0", "ipam": {"type": "dhcp"}}),
    );
    let err = plugin.add(&a).unwrap_err();
    assert!(
        err.msg.contains("Link not found"),
        "the IPAM error, unchanged: {err:?}"
    );
    assert_eq!(state(), before);
}

#[test]
fn dummy_creates_the_interface_before_dhcp_and_releases_before_removing_it() {
    let (kernel, dhcp) = setup();
    let ipam = InProcessDelegate::new().with("dhcp", &dhcp);
    let plugin = Dummy {
        backend: &kernel,
        ipam: &ipam,
    };
    let a = args(
        serde_json::json!({"cniVersion": "1.0.0", "name": "d", "type": "dummy",
        "ipam": {"type": "dhcp"}}),
    );
    let result = plugin.add(&a).unwrap();
    assert_eq!(result.ips[0].address.to_string(), "10.96.0.7/24");
    let container = kernel.open(&NsRef::path("/var/run/netns/dhcp1")).unwrap();
    let eth0 = container.link_by_name("eth0").unwrap();
    assert_ne!(
        &eth0.mac.0[..2],
        &cni_core::mac::IPV4_PREFIX,
        "no MAC derived after the lease"
    );
    plugin.del(&a).unwrap();
    assert_eq!(*dhcp.del_saw_interface.lock().unwrap(), [true]);
    assert!(container.link_by_name("eth0").is_err());

    // A refused lease removes the dummy made for it.
    let refusing = FakeDhcp {
        kernel: SimKernel::new(),
        del_saw_interface: Mutex::new(Vec::new()),
    };
    let ipam = InProcessDelegate::new().with("dhcp", &refusing);
    let plugin = Dummy {
        backend: &kernel,
        ipam: &ipam,
    };
    let before = kernel.snapshot();
    let err = plugin.add(&a).unwrap_err();
    assert!(err.msg.contains("Link not found"), "{err:?}");
    assert_eq!(kernel.snapshot(), before);
}
