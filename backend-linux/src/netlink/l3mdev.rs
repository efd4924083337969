//! Dummy links and VRF devices, made in the namespace of the socket (the
//! container's): no IFLA_NET_NS_FD, as the reference's current `dummy` and
//! `vrf` do it from inside the container. `backend-linux/tests/
//! reference_newlink.rs` compares both requests with the reference's.

use super::link::{common_attrs, missing_driver, validate_ifname};
use super::Rtnl;
use cni_core::net::{DummySpec, LinkInfo, NetError, NetResult, VrfSpec};
use netlink_packet_route::link::{InfoData, InfoKind, InfoVrf, LinkAttribute, LinkInfo as NlInfo};

/// The attributes of an RTM_NEWLINK that creates a dummy link.
pub fn dummy_request(spec: &DummySpec) -> Vec<LinkAttribute> {
    let mut attrs = common_attrs(&spec.name, None, spec.mac, spec.txqueuelen);
    attrs.push(LinkAttribute::LinkInfo(vec![NlInfo::Kind(InfoKind::Dummy)]));
    attrs
}

/// The attributes of an RTM_NEWLINK that creates a VRF device bound to
/// `spec.table`.
pub fn vrf_request(spec: &VrfSpec) -> Vec<LinkAttribute> {
    let mut attrs = common_attrs(&spec.name, None, None, None);
    attrs.push(LinkAttribute::LinkInfo(vec![
        NlInfo::Kind(InfoKind::Vrf),
        NlInfo::Data(InfoData::Vrf(vec![InfoVrf::TableId(spec.table)])),
    ]));
    attrs
}

impl Rtnl {
    pub fn create_dummy(&self, spec: &DummySpec) -> NetResult<LinkInfo> {
        validate_ifname(&spec.name)?;
        self.create(dummy_request(spec), || {
            format!("create dummy {} in {}", spec.name, self.ns)
        })
        .map_err(|e| missing_driver(e, "dummy", "dummy"))?;
        self.created(&spec.name)
    }

    pub fn create_vrf(&self, spec: &VrfSpec) -> NetResult<LinkInfo> {
        validate_ifname(&spec.name)?;
        if spec.table == 0 {
            return Err(NetError::invalid(format!(
                "create vrf {} in {}: table 0 is not a table",
                spec.name, self.ns
            )));
        }
        self.create(vrf_request(spec), || {
            format!(
                "create vrf {} (table {}) in {}",
                spec.name, spec.table, self.ns
            )
        })
        .map_err(|e| missing_driver(e, "vrf", "vrf"))?;
        self.created(&spec.name)
    }
}
