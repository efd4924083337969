//! The simulated kernel's state and the lookups every operation shares.

use cni_core::net::{
    IpvlanMode, LinkInfo, LinkKind, MacAddr, MacvlanMode, NetError, NetResult, NsRef, RouteInfo,
    RouteScope,
};
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Identity of a simulated namespace. The host sorts first in snapshots.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum NsId {
    Host,
    Path(PathBuf),
}

impl NsId {
    pub(crate) fn from_ref(r: &NsRef) -> Self {
        match r {
            NsRef::Current => NsId::Host,
            NsRef::Path(p) => NsId::Path(p.clone()),
        }
    }
    pub(crate) fn to_ref(&self) -> NsRef {
        match self {
            NsId::Host => NsRef::Current,
            NsId::Path(p) => NsRef::Path(p.clone()),
        }
    }
    pub(crate) fn label(&self) -> String {
        match self {
            NsId::Host => "host".to_string(),
            NsId::Path(p) => p.display().to_string(),
        }
    }
}

/// A link somewhere in the kernel: (namespace, ifindex).
pub(crate) type LinkAddr = (NsId, u32);

#[derive(Debug, Clone)]
pub(crate) struct Link {
    pub index: u32,
    pub name: String,
    pub kind: LinkKind,
    pub mac: MacAddr,
    /// The MAC was chosen by the user; a bridge then stops taking its ports' MAC.
    pub mac_set: bool,
    pub mtu: u32,
    /// Bridge: its MTU was set after creation; Linux then stops deriving it
    /// from its ports (BROPT_MTU_SET_BY_USER; an MTU given at creation is not).
    pub mtu_set: bool,
    pub qlen: u32,
    pub up: bool,
    pub promisc: bool,
    pub allmulti: bool,
    pub master: Option<u32>,
    pub hairpin: bool,
    /// Bridge port isolation (IFLA_BRPORT_ISOLATED).
    pub isolated: bool,
    pub peer: Option<LinkAddr>,
    pub parent: Option<LinkAddr>,
    pub macvlan_mode: Option<MacvlanMode>,
    pub ipvlan_mode: Option<IpvlanMode>,
    pub vlan_id: Option<u16>,
    /// Vrf: its routing table.
    pub vrf_table: Option<u32>,
    /// Macvlan: the broadcast queue length asked for at creation (or the default).
    pub bc_queue_len: Option<u32>,
    /// IFLA_IFALIAS; empty when unset. Kept across moves and renames.
    pub alias: String,
    /// A tap: its flags, owner and group.
    pub tap: Option<cni_core::net::TapInfo>,
    /// Bridge: it had a port once. Linux gives a fresh bridge carrier, then
    /// derives carrier from its ports, so a bridge whose ports all left has none.
    pub had_ports: bool,
    /// The IPv6 link-local address was configured in this up-cycle.
    pub link_local_done: bool,
    /// Per-link sysctls under net/ipv4/conf/<name>/ and net/ipv6/conf/<name>/,
    /// keyed "ipv4/<leaf>" or "ipv6/<leaf>".
    pub conf: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Addr {
    pub index: u32,
    pub addr: IpNet,
    pub scope: RouteScope,
    pub nodad: bool,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Namespace {
    pub links: BTreeMap<u32, Link>,
    /// Where the cyclic ifindex allocator looks next, as `net->ifindex` does.
    pub next_index: u32,
    pub addrs: Vec<Addr>,
    pub routes: Vec<RouteInfo>,
    pub sysctls: BTreeMap<String, String>,
    pub masq: Vec<cni_core::net::MasqRule>,
    pub portmaps: Vec<cni_core::net::PortMapSet>,
    pub forward_rules: Vec<cni_core::net::FirewallSet>,
    pub spoof: Vec<cni_core::net::SpoofCheck>,
    /// `None` until a rule is written: the kernel's default rules (see `rules`).
    pub rules: Option<Vec<cni_core::net::RuleInfo>>,
    /// Qdiscs `bandwidth` configured, by link index; absent is the default.
    pub qdiscs: BTreeMap<u32, cni_core::net::Shaping>,
}

/// Everything an operation may change; cloned before a mutation so that a
/// failed operation leaves the kernel exactly as it was.
#[derive(Debug, Clone, Default)]
pub(crate) struct Net {
    pub namespaces: BTreeMap<NsId, Namespace>,
    pub mac_seq: u64,
}

pub(crate) const GLOBAL_SYSCTL_DEFAULTS: &[(&str, &str)] = &[
    ("net/ipv4/ip_forward", "0"),
    ("net/ipv4/conf/all/forwarding", "0"),
    ("net/ipv4/conf/default/forwarding", "0"),
    ("net/ipv4/conf/all/rp_filter", "0"),
    ("net/ipv4/conf/all/arp_notify", "0"),
    ("net/ipv4/conf/all/route_localnet", "0"),
    ("net/ipv6/conf/all/forwarding", "0"),
    ("net/ipv6/conf/default/forwarding", "0"),
    ("net/ipv6/conf/all/disable_ipv6", "0"),
    ("net/ipv6/conf/default/disable_ipv6", "0"),
    ("net/ipv6/conf/all/accept_dad", "1"),
    ("net/ipv6/conf/all/keep_addr_on_down", "0"),
    ("net/ipv4/ip_local_port_range", "32768\t60999"),
];

pub(crate) const LINK_SYSCTL_DEFAULTS: &[(&str, &str)] = &[
    ("ipv4/forwarding", "0"),
    ("ipv4/rp_filter", "0"),
    ("ipv4/arp_notify", "0"),
    ("ipv4/proxy_arp", "0"),
    ("ipv4/route_localnet", "0"),
    ("ipv4/accept_local", "0"),
    ("ipv6/forwarding", "0"),
    ("ipv6/disable_ipv6", "0"),
    ("ipv6/accept_dad", "1"),
    ("ipv6/accept_ra", "1"),
    ("ipv6/keep_addr_on_down", "0"),
    ("ipv6/enhanced_dad", "1"),
    ("ipv6/ndisc_notify", "0"),
];

impl Namespace {
    pub(crate) fn new() -> Self {
        let mut ns = Namespace {
            next_index: 1,
            sysctls: GLOBAL_SYSCTL_DEFAULTS
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Namespace::default()
        };
        let index = ns.alloc_index();
        ns.links.insert(
            index,
            Link::new(index, "lo", LinkKind::Loopback, MacAddr::default(), 65536),
        );
        ns
    }

    /// The kernel's cyclic allocator: the first free index from `next_index`;
    /// freed indexes are not reused until the counter wraps.
    pub(crate) fn alloc_index(&mut self) -> u32 {
        let mut candidate = self.next_index.max(1);
        while self.links.contains_key(&candidate) {
            candidate = candidate.checked_add(1).unwrap_or(1);
        }
        self.next_index = candidate.checked_add(1).unwrap_or(1);
        candidate
    }

    pub(crate) fn link(&self, index: u32) -> NetResult<&Link> {
        self.links
            .get(&index)
            .ok_or_else(|| NetError::not_found(format!("no link with index {index}")))
    }

    pub(crate) fn link_mut(&mut self, index: u32) -> NetResult<&mut Link> {
        self.links
            .get_mut(&index)
            .ok_or_else(|| NetError::not_found(format!("no link with index {index}")))
    }

    pub(crate) fn index_of(&self, name: &str) -> Option<u32> {
        self.links
            .values()
            .find(|l| l.name == name)
            .map(|l| l.index)
    }

    /// The table a link's connected routes go to: its VRF's, else main.
    pub(crate) fn l3_table(&self, index: u32) -> u32 {
        self.links
            .get(&index)
            .and_then(|l| l.master)
            .and_then(|m| self.links.get(&m))
            .and_then(|m| m.vrf_table)
            .unwrap_or(cni_core::net::TABLE_MAIN)
    }

    pub(crate) fn ports_of(&self, bridge: u32) -> Vec<u32> {
        self.links
            .values()
            .filter(|l| l.master == Some(bridge))
            .map(|l| l.index)
            .collect()
    }
}

impl Link {
    pub(crate) fn new(index: u32, name: &str, kind: LinkKind, mac: MacAddr, mtu: u32) -> Self {
        Link {
            index,
            name: name.to_string(),
            kind,
            mac,
            mac_set: false,
            mtu,
            mtu_set: false,
            qlen: 1000,
            up: false,
            promisc: false,
            allmulti: false,
            master: None,
            hairpin: false,
            isolated: false,
            peer: None,
            parent: None,
            macvlan_mode: None,
            ipvlan_mode: None,
            vlan_id: None,
            vrf_table: None,
            bc_queue_len: None,
            alias: String::new(),
            tap: None,
            had_ports: false,
            link_local_done: false,
            conf: LINK_SYSCTL_DEFAULTS
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// Interface names as `dev_valid_name` accepts them (core's one rule).
pub(crate) fn validate_name(name: &str) -> NetResult<()> {
    cni_core::spec::validate::check_interface_name(name)
        .map_err(|e| NetError::invalid(format!("invalid interface name {name:?}: {e}")))
}

/// MTU range of the Ethernet-like links the simulator creates (core's one rule).
pub(crate) fn validate_mtu(mtu: u32) -> NetResult<()> {
    cni_core::spec::validate::check_mtu(mtu).map_err(|e| NetError::invalid(format!("mtu {e}")))
}

impl Net {
    pub(crate) fn ns(&self, id: &NsId) -> NetResult<&Namespace> {
        self.namespaces
            .get(id)
            .ok_or_else(|| NetError::not_found(format!("no such network namespace {}", id.label())))
    }

    pub(crate) fn ns_mut(&mut self, id: &NsId) -> NetResult<&mut Namespace> {
        self.namespaces
            .get_mut(id)
            .ok_or_else(|| NetError::not_found(format!("no such network namespace {}", id.label())))
    }

    pub(crate) fn link_at(&self, at: &LinkAddr) -> Option<&Link> {
        self.namespaces.get(&at.0)?.links.get(&at.1)
    }

    pub(crate) fn link_at_mut(&mut self, at: &LinkAddr) -> Option<&mut Link> {
        self.namespaces.get_mut(&at.0)?.links.get_mut(&at.1)
    }

    /// A deterministic, random-looking, locally administered unicast MAC.
    pub(crate) fn next_mac(&mut self) -> MacAddr {
        self.mac_seq += 1;
        // splitmix64: consecutive counters give unrelated-looking addresses.
        let mut z = self.mac_seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let b = z.to_be_bytes();
        MacAddr([(b[0] & 0xfe) | 0x02, b[1], b[2], b[3], b[4], b[5]])
    }

    /// Carrier as Linux reports it (IFF_LOWER_UP together with IFF_UP).
    pub(crate) fn oper_up(&self, ns: &NsId, index: u32) -> bool {
        self.oper_up_depth(ns, index, 0)
    }

    fn oper_up_depth(&self, ns: &NsId, index: u32, depth: u8) -> bool {
        let Some(space) = self.namespaces.get(ns) else {
            return false;
        };
        let Some(link) = space.links.get(&index) else {
            return false;
        };
        if !link.up || depth > 4 {
            return false;
        }
        match link.kind {
            LinkKind::Veth => link
                .peer
                .as_ref()
                .and_then(|p| self.link_at(p))
                .is_some_and(|p| p.up),
            LinkKind::Macvlan | LinkKind::Ipvlan | LinkKind::Vlan => link
                .parent
                .as_ref()
                .is_some_and(|(pns, pidx)| self.oper_up_depth(pns, *pidx, depth + 1)),
            // No process holds the persistent tap open: no carrier.
            LinkKind::Tap => false,
            LinkKind::Bridge => {
                let ports = space.ports_of(index);
                if ports.is_empty() {
                    !link.had_ports
                } else {
                    ports.iter().any(|p| self.oper_up_depth(ns, *p, depth + 1))
                }
            }
            _ => true,
        }
    }

    pub(crate) fn link_info(&self, ns: &NsId, link: &Link) -> LinkInfo {
        let is_port = link.master.is_some();
        LinkInfo {
            index: link.index,
            name: link.name.clone(),
            kind: link.kind.clone(),
            mac: link.mac,
            mtu: link.mtu,
            txqueuelen: link.qlen,
            up: link.up,
            oper_up: self.oper_up(ns, link.index),
            promisc: link.promisc,
            allmulti: link.allmulti,
            master: link.master,
            peer_index: link.peer.as_ref().map(|p| p.1),
            parent_index: link.parent.as_ref().map(|p| p.1),
            macvlan_mode: link.macvlan_mode,
            ipvlan_mode: link.ipvlan_mode,
            vlan_id: link.vlan_id,
            vrf_table: link.vrf_table,
            hairpin: is_port.then_some(link.hairpin),
            isolated: is_port.then_some(link.isolated),
            bc_queue_len: link.bc_queue_len,
            alias: (!link.alias.is_empty()).then(|| link.alias.clone()),
            tap: link.tap,
        }
    }
}
