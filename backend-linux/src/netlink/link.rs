//! Links: create (bridge, veth, macvlan, ipvlan, vlan; taps in `crate::tap`), change, delete, list.

use super::Rtnl;
use crate::netns::NetnsFile;
use cni_core::net::{
    BridgeSpec, IpvlanMode, IpvlanSpec, LinkInfo, LinkKind, MacAddr, MacvlanMode, MacvlanSpec,
    NetError, NetErrorKind, NetResult, VethSpec, VlanSpec,
};
use netlink_packet_core::{DefaultNla, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_route::link::{
    InfoBridge, InfoBridgePort, InfoData, InfoIpVlan, InfoKind, InfoMacVlan, InfoPortData,
    InfoVeth, InfoVlan, InfoVrf, IpVlanFlags, IpVlanMode as NlIpvlanMode, LinkAttribute,
    LinkExtentMask, LinkFlags, LinkInfo as NlLinkInfo, LinkLayerType, LinkMessage,
    LinkProtoInfoBridge, MacVlanMode as NlMacvlanMode, State,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use std::os::fd::RawFd;
use std::os::fd::{AsFd, AsRawFd};

/// What a link we create gets unless its spec says otherwise: the kernel's
/// Ethernet default, never 0 (a queue length of 0 breaks shapers such as pfifo).
pub const DEFAULT_TXQUEUELEN: u32 = 1000;
const IFLA_BRPORT_MODE: u16 = 4;
const IFLA_BRPORT_ISOLATED: u16 = 33;
/// The kernel's IFALIASZ: an alias holds at most 255 bytes.
const IFALIASZ: usize = 256;

/// The kernel's rules for interface names (`dev_valid_name`), as core checks them.
pub fn validate_ifname(name: &str) -> NetResult<()> {
    cni_core::spec::validate::check_interface_name(name)
        .map_err(|e| NetError::invalid(format!("invalid interface name {name:?}: {e}")))
}

pub fn txqlen(spec: Option<u32>) -> u32 {
    match spec {
        Some(q) if q > 0 => q,
        _ => DEFAULT_TXQUEUELEN,
    }
}

pub(super) fn common_attrs(
    name: &str,
    mtu: Option<u32>,
    mac: Option<MacAddr>,
    qlen: Option<u32>,
) -> Vec<LinkAttribute> {
    let mut attrs = vec![
        LinkAttribute::IfName(name.to_string()),
        LinkAttribute::TxQueueLen(txqlen(qlen)),
    ];
    if let Some(mtu) = mtu {
        attrs.push(LinkAttribute::Mtu(mtu));
    }
    if let Some(mac) = mac {
        attrs.push(LinkAttribute::Address(mac.0.to_vec()));
    }
    attrs
}

fn message(index: u32, attributes: Vec<LinkAttribute>) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes = attributes;
    msg
}

fn to_nl_mode(mode: MacvlanMode) -> NlMacvlanMode {
    match mode {
        MacvlanMode::Private => NlMacvlanMode::Private,
        MacvlanMode::Vepa => NlMacvlanMode::Vepa,
        MacvlanMode::Bridge => NlMacvlanMode::Bridge,
        MacvlanMode::Passthru => NlMacvlanMode::Passthrough,
        MacvlanMode::Source => NlMacvlanMode::Source,
    }
}

fn from_nl_mode(mode: &NlMacvlanMode) -> Option<MacvlanMode> {
    Some(match mode {
        NlMacvlanMode::Private => MacvlanMode::Private,
        NlMacvlanMode::Vepa => MacvlanMode::Vepa,
        NlMacvlanMode::Bridge => MacvlanMode::Bridge,
        NlMacvlanMode::Passthrough => MacvlanMode::Passthru,
        NlMacvlanMode::Source => MacvlanMode::Source,
        _ => return None,
    })
}

fn to_nl_ipvlan_mode(mode: IpvlanMode) -> NlIpvlanMode {
    match mode {
        IpvlanMode::L2 => NlIpvlanMode::L2,
        IpvlanMode::L3 => NlIpvlanMode::L3,
        IpvlanMode::L3s => NlIpvlanMode::L3S,
    }
}

fn from_nl_ipvlan_mode(mode: &NlIpvlanMode) -> Option<IpvlanMode> {
    Some(match mode {
        NlIpvlanMode::L2 => IpvlanMode::L2,
        NlIpvlanMode::L3 => IpvlanMode::L3,
        NlIpvlanMode::L3S => IpvlanMode::L3s,
        _ => return None,
    })
}

/// The attributes of an RTM_NEWLINK that creates an ipvlan on `spec.parent`
/// directly inside the namespace `target_fd` refers to. Compared with what
/// the reference sends in `backend-linux/tests/reference_newlink.rs`.
pub fn ipvlan_request(spec: &IpvlanSpec, target_fd: RawFd) -> Vec<LinkAttribute> {
    let mut attrs = common_attrs(&spec.name, spec.mtu, None, spec.txqueuelen);
    attrs.push(LinkAttribute::Link(spec.parent));
    attrs.push(LinkAttribute::NetNsFd(target_fd));
    attrs.push(LinkAttribute::LinkInfo(vec![
        NlLinkInfo::Kind(InfoKind::IpVlan),
        // Flags 0 (bridge, not private or vepa): what the reference sends.
        NlLinkInfo::Data(InfoData::IpVlan(vec![
            InfoIpVlan::Mode(to_nl_ipvlan_mode(spec.mode)),
            InfoIpVlan::Flags(IpVlanFlags::empty()),
        ])),
    ]));
    attrs
}

/// The attributes of an RTM_NEWLINK that creates an 802.1Q VLAN on
/// `spec.parent` directly inside the namespace `target_fd` refers to.
pub fn vlan_request(spec: &VlanSpec, target_fd: RawFd) -> Vec<LinkAttribute> {
    let mut attrs = common_attrs(&spec.name, spec.mtu, None, spec.txqueuelen);
    attrs.push(LinkAttribute::Link(spec.parent));
    attrs.push(LinkAttribute::NetNsFd(target_fd));
    attrs.push(LinkAttribute::LinkInfo(vec![
        NlLinkInfo::Kind(InfoKind::Vlan),
        NlLinkInfo::Data(InfoData::Vlan(vec![InfoVlan::Id(spec.vlan_id)])),
    ]));
    attrs
}

/// A new link never replaces one that exists.
const CREATE_FLAGS: u16 = NLM_F_CREATE | NLM_F_EXCL;

/// The whole RTM_NEWLINK datagram creating a link with `attributes` sends
/// as request number `seq` (the socket adds NLM_F_REQUEST | NLM_F_ACK), for
/// comparing with what other implementations send.
pub fn create_frame(attributes: Vec<LinkAttribute>, seq: u32) -> Vec<u8> {
    super::socket::frame(
        &RouteNetlinkMessage::NewLink(message(0, attributes)),
        NLM_F_REQUEST | NLM_F_ACK | CREATE_FLAGS,
        seq,
    )
}

/// A kernel that answers EOPNOTSUPP to a new link of `kind` has no driver
/// for it: say so, and which module would bring it.
pub(super) fn missing_driver(e: NetError, kind: &str, module: &str) -> NetError {
    if e.kind != NetErrorKind::Unsupported {
        return e;
    }
    NetError::new(
        NetErrorKind::Unsupported,
        format!(
            "{}: the kernel has no {kind} driver (modprobe {module})",
            e.msg
        ),
    )
}

/// Our view of a kernel link message.
pub fn link_info_from(msg: &LinkMessage) -> LinkInfo {
    let mut info = LinkInfo {
        index: msg.header.index,
        name: String::new(),
        kind: if msg.header.link_layer_type == LinkLayerType::Loopback {
            LinkKind::Loopback
        } else {
            LinkKind::Other(String::new())
        },
        mac: MacAddr::default(),
        mtu: 0,
        txqueuelen: 0,
        up: msg.header.flags.contains(LinkFlags::Up),
        oper_up: false,
        promisc: msg.header.flags.contains(LinkFlags::Promisc),
        allmulti: msg.header.flags.contains(LinkFlags::Allmulti),
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
    };
    let mut operstate = State::Unknown;
    let mut link = None;
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => info.name = n.clone(),
            LinkAttribute::IfAlias(a) if !a.is_empty() => info.alias = Some(a.clone()),
            LinkAttribute::Address(a) if a.len() == 6 => {
                info.mac.0.copy_from_slice(a);
            }
            LinkAttribute::Mtu(m) => info.mtu = *m,
            LinkAttribute::TxQueueLen(q) => info.txqueuelen = *q,
            LinkAttribute::Controller(m) if *m != 0 => info.master = Some(*m),
            LinkAttribute::Link(l) if *l != 0 => link = Some(*l),
            LinkAttribute::OperState(s) => operstate = *s,
            LinkAttribute::LinkInfo(infos) => read_link_infos(infos, &mut info),
            _ => {}
        }
    }
    // Links without a carrier notion (lo, dummy) report UNKNOWN with LOWER_UP.
    info.oper_up = operstate == State::Up
        || (operstate == State::Unknown && msg.header.flags.contains(LinkFlags::LowerUp));
    match info.kind {
        LinkKind::Veth => info.peer_index = link,
        LinkKind::Macvlan | LinkKind::Ipvlan | LinkKind::Vlan => info.parent_index = link,
        _ => {}
    }
    info
}

fn read_link_infos(infos: &[NlLinkInfo], info: &mut LinkInfo) {
    for i in infos {
        match i {
            NlLinkInfo::Kind(k) => {
                info.kind = match k {
                    InfoKind::Bridge => LinkKind::Bridge,
                    InfoKind::Veth => LinkKind::Veth,
                    InfoKind::MacVlan => LinkKind::Macvlan,
                    InfoKind::IpVlan => LinkKind::Ipvlan,
                    InfoKind::Vlan => LinkKind::Vlan,
                    InfoKind::Dummy => LinkKind::Dummy,
                    InfoKind::Vrf => LinkKind::Vrf,
                    other => LinkKind::Other(other.to_string()),
                }
            }
            NlLinkInfo::Data(InfoData::MacVlan(data)) => {
                for d in data {
                    match d {
                        InfoMacVlan::Mode(m) => info.macvlan_mode = from_nl_mode(m),
                        InfoMacVlan::BcQueueLen(q) => info.bc_queue_len = Some(*q),
                        _ => {}
                    }
                }
            }
            NlLinkInfo::Data(InfoData::IpVlan(data)) => {
                for d in data {
                    if let InfoIpVlan::Mode(m) = d {
                        info.ipvlan_mode = from_nl_ipvlan_mode(m);
                    }
                }
            }
            NlLinkInfo::Data(InfoData::Tun(data)) => super::tun_info::read(data, info),
            NlLinkInfo::Data(InfoData::Vrf(data)) => {
                for d in data {
                    if let InfoVrf::TableId(t) = d {
                        info.vrf_table = Some(*t);
                    }
                }
            }
            NlLinkInfo::Data(InfoData::Vlan(data)) => {
                for d in data {
                    if let InfoVlan::Id(id) = d {
                        info.vlan_id = Some(*id);
                    }
                }
            }
            NlLinkInfo::PortData(InfoPortData::BridgePort(port)) => {
                for p in port {
                    match p {
                        InfoBridgePort::HairpinMode(h) => info.hairpin = Some(*h),
                        InfoBridgePort::Isolated(i) => info.isolated = Some(*i),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
}

impl Rtnl {
    pub fn links(&self) -> NetResult<Vec<LinkInfo>> {
        let mut req = LinkMessage::default();
        req.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let replies = self.sock.dump(RouteNetlinkMessage::GetLink(req), || {
            format!("list links in {}", self.ns)
        })?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(link_info_from(l)),
                _ => None,
            })
            .collect())
    }

    pub fn link_by_name(&self, name: &str) -> NetResult<LinkInfo> {
        validate_ifname(name)?;
        let req = message(
            0,
            vec![
                LinkAttribute::IfName(name.to_string()),
                LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]),
            ],
        );
        self.get_link(req, || format!("get link {name} in {}", self.ns))
    }

    pub fn link_by_index(&self, index: u32) -> NetResult<LinkInfo> {
        if index == 0 {
            return Err(NetError::not_found(format!(
                "link with index 0 in {}",
                self.ns
            )));
        }
        let req = message(
            index,
            vec![LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats])],
        );
        self.get_link(req, || format!("get link #{index} in {}", self.ns))
    }

    fn get_link(&self, req: LinkMessage, what: impl Fn() -> String) -> NetResult<LinkInfo> {
        match self.sock.get(RouteNetlinkMessage::GetLink(req), &what)? {
            RouteNetlinkMessage::NewLink(l) => Ok(link_info_from(&l)),
            // The type, not the message: Debug of the whole message tree
            // would link ~200 KiB of formatting code into every plugin.
            other => Err(NetError::other(format!(
                "{}: unexpected reply of message type {}",
                what(),
                other.message_type()
            ))),
        }
    }

    pub(super) fn create(
        &self,
        attributes: Vec<LinkAttribute>,
        what: impl Fn() -> String,
    ) -> NetResult<()> {
        self.sock.request(
            RouteNetlinkMessage::NewLink(message(0, attributes)),
            CREATE_FLAGS,
            what,
        )
    }

    pub fn create_bridge(&self, spec: &BridgeSpec) -> NetResult<LinkInfo> {
        validate_ifname(&spec.name)?;
        let mut attrs = common_attrs(&spec.name, spec.mtu, spec.mac, spec.txqueuelen);
        let mut infos = vec![NlLinkInfo::Kind(InfoKind::Bridge)];
        if spec.vlan_filtering {
            infos.push(NlLinkInfo::Data(InfoData::Bridge(vec![
                InfoBridge::VlanFiltering(true),
            ])));
        }
        attrs.push(LinkAttribute::LinkInfo(infos));
        self.create(attrs, || {
            format!("create bridge {} in {}", spec.name, self.ns)
        })?;
        self.created(&spec.name)
    }

    /// Creates the pair with the peer directly in `peer_ns`; returns the local end.
    pub fn create_veth(&self, spec: &VethSpec, peer_ns: &NetnsFile) -> NetResult<LinkInfo> {
        validate_ifname(&spec.name)?;
        validate_ifname(&spec.peer_name)?;
        let mut peer_attrs =
            common_attrs(&spec.peer_name, spec.mtu, spec.peer_mac, spec.txqueuelen);
        peer_attrs.push(LinkAttribute::NetNsFd(peer_ns.as_fd().as_raw_fd()));
        let peer = message(0, peer_attrs);
        let mut attrs = common_attrs(&spec.name, spec.mtu, spec.mac, spec.txqueuelen);
        attrs.push(LinkAttribute::LinkInfo(vec![
            NlLinkInfo::Kind(InfoKind::Veth),
            NlLinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]));
        self.create(attrs, || {
            format!(
                "create veth {} in {} with peer {} in netns {}",
                spec.name,
                self.ns,
                spec.peer_name,
                peer_ns.path().display()
            )
        })?;
        // Deleting the local end takes the peer with it.
        self.created(&spec.name)
    }

    /// Creates the macvlan on a parent here, directly inside `target_ns`.
    pub fn create_macvlan(&self, spec: &MacvlanSpec, target_ns: &NetnsFile) -> NetResult<()> {
        validate_ifname(&spec.name)?;
        let parent = self.link_by_index(spec.parent)?;
        let mut attrs = common_attrs(&spec.name, spec.mtu, spec.mac, spec.txqueuelen);
        attrs.push(LinkAttribute::Link(spec.parent));
        attrs.push(LinkAttribute::NetNsFd(target_ns.as_fd().as_raw_fd()));
        let mut data = vec![InfoMacVlan::Mode(to_nl_mode(spec.mode))];
        if let Some(q) = spec.bc_queue_len {
            data.push(InfoMacVlan::BcQueueLen(q));
        }
        attrs.push(LinkAttribute::LinkInfo(vec![
            NlLinkInfo::Kind(InfoKind::MacVlan),
            NlLinkInfo::Data(InfoData::MacVlan(data)),
        ]));
        self.create(attrs, || {
            format!(
                "create macvlan {} (mode {}) on {} in {} inside netns {}",
                spec.name,
                spec.mode,
                parent.name,
                self.ns,
                target_ns.path().display()
            )
        })
    }

    /// Creates the ipvlan on a parent here, directly inside `target_ns`.
    pub fn create_ipvlan(&self, spec: &IpvlanSpec, target_ns: &NetnsFile) -> NetResult<()> {
        validate_ifname(&spec.name)?;
        let parent = self.link_by_index(spec.parent)?;
        let attrs = ipvlan_request(spec, target_ns.as_fd().as_raw_fd());
        self.create(attrs, || {
            format!(
                "create ipvlan {} (mode {}) on {} in {} inside netns {}",
                spec.name,
                spec.mode,
                parent.name,
                self.ns,
                target_ns.path().display()
            )
        })
        .map_err(|e| missing_driver(e, "ipvlan", "ipvlan"))
    }

    /// Creates the VLAN on a parent here, directly inside `target_ns`.
    pub fn create_vlan(&self, spec: &VlanSpec, target_ns: &NetnsFile) -> NetResult<()> {
        validate_ifname(&spec.name)?;
        let parent = self.link_by_index(spec.parent)?;
        let attrs = vlan_request(spec, target_ns.as_fd().as_raw_fd());
        self.create(attrs, || {
            format!(
                "create vlan {} (id {}) on {} in {} inside netns {}",
                spec.name,
                spec.vlan_id,
                parent.name,
                self.ns,
                target_ns.path().display()
            )
        })
        .map_err(|e| missing_driver(e, "vlan", "8021q"))
    }

    /// Deletes the link called `name`: for a link whose creation succeeded
    /// but whose look-up afterwards failed, so no index is known.
    pub fn delete_link_named(&self, name: &str) -> NetResult<()> {
        self.sock.request(
            RouteNetlinkMessage::DelLink(message(0, vec![LinkAttribute::IfName(name.to_string())])),
            0,
            || format!("delete link {name} in {}", self.ns),
        )
    }

    /// The link just created as `name`; if it cannot be looked up, it is
    /// deleted again, so a failed create call never leaves a link behind.
    pub(crate) fn created(&self, name: &str) -> NetResult<LinkInfo> {
        self.link_by_name(name).inspect_err(|_| {
            if let Err(e) = self.delete_link_named(name) {
                tracing::warn!("removing {name} after its look-up failed: {e}");
            }
        })
    }

    pub fn delete_link(&self, index: u32) -> NetResult<()> {
        if index == 0 {
            return Err(NetError::not_found(format!(
                "delete link #0 in {}: no link has index 0",
                self.ns
            )));
        }
        self.sock.request(
            RouteNetlinkMessage::DelLink(message(index, vec![])),
            0,
            || format!("delete link #{index} in {}", self.ns),
        )
    }

    fn set(&self, msg: LinkMessage, what: impl Fn() -> String) -> NetResult<()> {
        if msg.header.index == 0 {
            return Err(NetError::not_found(format!(
                "{}: no link has index 0",
                what()
            )));
        }
        self.sock
            .request(RouteNetlinkMessage::SetLink(msg), 0, what)
    }

    fn set_flag(
        &self,
        index: u32,
        flag: LinkFlags,
        on: bool,
        what: impl Fn() -> String,
    ) -> NetResult<()> {
        let mut msg = message(index, vec![]);
        msg.header.flags = if on { flag } else { LinkFlags::empty() };
        msg.header.change_mask = flag;
        self.set(msg, what)
    }

    pub fn set_up(&self, index: u32, up: bool) -> NetResult<()> {
        let state = if up { "up" } else { "down" };
        self.set_flag(index, LinkFlags::Up, up, || {
            format!("set link #{index} {state} in {}", self.ns)
        })
    }

    pub fn set_promisc(&self, index: u32, on: bool) -> NetResult<()> {
        let state = if on { "on" } else { "off" };
        self.set_flag(index, LinkFlags::Promisc, on, || {
            format!("set promisc {state} on link #{index} in {}", self.ns)
        })
    }

    pub fn set_allmulti(&self, index: u32, on: bool) -> NetResult<()> {
        let state = if on { "on" } else { "off" };
        self.set_flag(index, LinkFlags::Allmulti, on, || {
            format!("set allmulti {state} on link #{index} in {}", self.ns)
        })
    }

    pub fn set_master(&self, index: u32, master: Option<u32>) -> NetResult<()> {
        let msg = message(index, vec![LinkAttribute::Controller(master.unwrap_or(0))]);
        let what = || match master {
            Some(m) => format!("set master of link #{index} to #{m} in {}", self.ns),
            None => format!("remove link #{index} from its master in {}", self.ns),
        };
        match (self.set(msg, what), master) {
            // The kernel says EINVAL for a master that does not exist; say what it means.
            (Err(e), Some(m)) if e.kind == NetErrorKind::Invalid => match self.link_by_index(m) {
                Err(missing) if missing.is_not_found() => {
                    Err(NetError::not_found(format!("{}: {}", what(), missing.msg)))
                }
                _ => Err(e),
            },
            (result, _) => result,
        }
    }

    pub fn set_mtu(&self, index: u32, mtu: u32) -> NetResult<()> {
        self.set(message(index, vec![LinkAttribute::Mtu(mtu)]), || {
            format!("set mtu {mtu} on link #{index} in {}", self.ns)
        })
    }

    pub fn set_mac(&self, index: u32, mac: MacAddr) -> NetResult<()> {
        self.set(
            message(index, vec![LinkAttribute::Address(mac.0.to_vec())]),
            || format!("set mac {mac} on link #{index} in {}", self.ns),
        )
    }

    pub fn set_txqueuelen(&self, index: u32, qlen: u32) -> NetResult<()> {
        self.set(
            message(index, vec![LinkAttribute::TxQueueLen(qlen)]),
            || format!("set txqueuelen {qlen} on link #{index} in {}", self.ns),
        )
    }

    pub fn rename(&self, index: u32, name: &str) -> NetResult<()> {
        validate_ifname(name)?;
        self.set(
            message(index, vec![LinkAttribute::IfName(name.to_string())]),
            || format!("rename link #{index} to {name} in {}", self.ns),
        )
    }

    pub fn set_alias(&self, index: u32, alias: &str) -> NetResult<()> {
        if alias.len() >= IFALIASZ {
            return Err(NetError::invalid(format!(
                "alias {alias:?} for link #{index}: longer than {} bytes",
                IFALIASZ - 1
            )));
        }
        self.set(
            message(index, vec![LinkAttribute::IfAlias(alias.to_string())]),
            || format!("set alias {alias:?} on link #{index} in {}", self.ns),
        )
    }

    pub fn set_hairpin(&self, index: u32, on: bool) -> NetResult<()> {
        self.set_port_flag(index, IFLA_BRPORT_MODE, "hairpin", on)
    }

    pub fn set_port_isolated(&self, index: u32, on: bool) -> NetResult<()> {
        self.set_port_flag(index, IFLA_BRPORT_ISOLATED, "isolation", on)
    }

    /// A boolean setting of a bridge port.
    fn set_port_flag(&self, index: u32, attr: u16, setting: &str, on: bool) -> NetResult<()> {
        let link = self.link_by_index(index)?;
        if link.master.is_none() {
            return Err(NetError::invalid(format!(
                "set {setting} on link {} in {}: it is not a bridge port (no master)",
                link.name, self.ns
            )));
        }
        // AF_BRIDGE + IFLA_PROTINFO reaches the master bridge's port settings.
        let mut msg = message(
            index,
            vec![LinkAttribute::ProtoInfoBridge(vec![
                LinkProtoInfoBridge::Other(DefaultNla::new(attr, vec![u8::from(on)])),
            ])],
        );
        msg.header.interface_family = AddressFamily::Bridge;
        let state = if on { "on" } else { "off" };
        self.set(msg, || {
            format!("set {setting} {state} on link {} in {}", link.name, self.ns)
        })
    }

    /// Moves the link into `target`; returns the name it keeps there.
    pub fn move_to(&self, index: u32, target: &NetnsFile) -> NetResult<String> {
        let link = self.link_by_index(index)?;
        let msg = message(
            index,
            vec![LinkAttribute::NetNsFd(target.as_fd().as_raw_fd())],
        );
        self.set(msg, || {
            format!(
                "move link {} from {} to netns {}",
                link.name,
                self.ns,
                target.path().display()
            )
        })?;
        Ok(link.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_follow_kernel_rules() {
        assert!(validate_ifname("eth0").is_ok());
        assert!(validate_ifname("a23456789012345").is_ok());
        for bad in ["", ".", "..", "a/b", "a b", "a:b", "a234567890123456"] {
            let e = validate_ifname(bad).unwrap_err();
            assert!(e.msg.contains(&format!("{bad:?}")), "{}", e.msg);
        }
    }

    #[test]
    fn unset_or_zero_txqueuelen_becomes_the_default() {
        assert_eq!(txqlen(None), 1000);
        assert_eq!(txqlen(Some(0)), 1000);
        assert_eq!(txqlen(Some(42)), 42);
    }

    #[test]
    fn veth_kind_takes_peer_and_macvlan_takes_parent_from_ifla_link() {
        let mut msg = LinkMessage::default();
        msg.header.index = 7;
        msg.attributes = vec![
            LinkAttribute::IfName("v".into()),
            LinkAttribute::Link(3),
            LinkAttribute::LinkInfo(vec![NlLinkInfo::Kind(InfoKind::Veth)]),
        ];
        let info = link_info_from(&msg);
        assert_eq!(
            (info.kind.clone(), info.peer_index, info.parent_index),
            (LinkKind::Veth, Some(3), None)
        );
        msg.attributes[2] = LinkAttribute::LinkInfo(vec![
            NlLinkInfo::Kind(InfoKind::MacVlan),
            NlLinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                NlMacvlanMode::Vepa,
            )])),
        ]);
        let info = link_info_from(&msg);
        assert_eq!(info.kind, LinkKind::Macvlan);
        assert_eq!((info.peer_index, info.parent_index), (None, Some(3)));
        assert_eq!(info.macvlan_mode, Some(MacvlanMode::Vepa));
    }
}
