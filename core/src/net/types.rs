use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

/// Which network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NsRef {
    /// The namespace the calling process runs in.
    Current,
    /// A namespace file: `/var/run/netns/NAME`, `/proc/PID/ns/net`, ...
    Path(PathBuf),
}

impl NsRef {
    pub fn path(p: impl Into<PathBuf>) -> Self {
        NsRef::Path(p.into())
    }
}

impl fmt::Display for NsRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NsRef::Current => f.write_str("current netns"),
            NsRef::Path(p) => write!(f, "netns {}", p.display()),
        }
    }
}

/// An Ethernet address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }

    /// The group bit: a multicast (or broadcast) address names many stations.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// Parses a MAC that is to be set on an interface: the kernel refuses
    /// all-zero and multicast addresses there (EADDRNOTAVAIL after the link
    /// exists), so they are refused up front with the address in the message.
    pub fn parse_for_interface(s: &str) -> Result<MacAddr, String> {
        let mac: MacAddr = s.parse()?;
        if mac.is_zero() {
            return Err(format!("{s:?} is the all-zero MAC address"));
        }
        if mac.is_multicast() {
            return Err(format!(
                "{s:?} is a multicast MAC address (the lowest bit of the first byte is set)"
            ));
        }
        Ok(mac)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl FromStr for MacAddr {
    type Err = String;
    /// Accepts `aa:bb:cc:dd:ee:ff` and `aa-bb-cc-dd-ee-ff`, any case.
    fn from_str(s: &str) -> Result<Self, String> {
        // One separator throughout, as Go's net.ParseMAC requires.
        let sep = if s.contains(':') { ':' } else { '-' };
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() != 6 {
            return Err(format!("invalid MAC address {s:?}"));
        }
        let mut out = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            // Two hex digits exactly: `from_str_radix` alone would take "+a".
            if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("invalid MAC address {s:?}"));
            }
            out[i] = u8::from_str_radix(p, 16).map_err(|_| format!("invalid MAC address {s:?}"))?;
        }
        Ok(MacAddr(out))
    }
}

/// The kind of a link, as `ip -d link` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinkKind {
    Loopback,
    Bridge,
    Veth,
    Macvlan,
    Ipvlan,
    /// An 802.1Q VLAN on a parent.
    Vlan,
    /// A tap (the kernel's kind "tun" in IFF_TAP mode); its flags are in
    /// [`LinkInfo::tap`]. A tun in IFF_TUN mode stays `Other("tun")`.
    Tap,
    /// A link that drops what it is sent (the `dummy` plugin's).
    Dummy,
    /// An L3 master device binding its ports to a routing table.
    Vrf,
    /// Anything else, by its kernel kind string ("dummy", "vxlan", ...) or "" if none.
    Other(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MacvlanMode {
    Private,
    Vepa,
    Bridge,
    Passthru,
    Source,
}

/// IFLA_IPVLAN_MODE: where an ipvlan switches (layer 2, layer 3, layer 3
/// with the host's netfilter on the way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpvlanMode {
    L2,
    L3,
    L3s,
}

impl FromStr for IpvlanMode {
    type Err = String;
    /// The reference's names: `l2` (also "", its default), `l3`, `l3s`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "l2" | "" => Ok(IpvlanMode::L2),
            "l3" => Ok(IpvlanMode::L3),
            "l3s" => Ok(IpvlanMode::L3s),
            other => Err(format!("unknown ipvlan mode {other:?}")),
        }
    }
}

impl fmt::Display for IpvlanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IpvlanMode::L2 => "l2",
            IpvlanMode::L3 => "l3",
            IpvlanMode::L3s => "l3s",
        })
    }
}

impl FromStr for MacvlanMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "private" => Ok(MacvlanMode::Private),
            "vepa" => Ok(MacvlanMode::Vepa),
            "bridge" | "" => Ok(MacvlanMode::Bridge),
            "passthru" => Ok(MacvlanMode::Passthru),
            "source" => Ok(MacvlanMode::Source),
            other => Err(format!("unknown macvlan mode {other:?}")),
        }
    }
}

impl fmt::Display for MacvlanMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MacvlanMode::Private => "private",
            MacvlanMode::Vepa => "vepa",
            MacvlanMode::Bridge => "bridge",
            MacvlanMode::Passthru => "passthru",
            MacvlanMode::Source => "source",
        })
    }
}

/// A link as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    pub name: String,
    pub kind: LinkKind,
    pub mac: MacAddr,
    pub mtu: u32,
    pub txqueuelen: u32,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Carrier / operstate up (a veth only when both ends are up).
    pub oper_up: bool,
    pub promisc: bool,
    /// Receives all multicast (IFF_ALLMULTI).
    pub allmulti: bool,
    /// Index of the master (bridge) in this namespace.
    pub master: Option<u32>,
    /// Veth: the peer's index (in whatever namespace the peer is).
    pub peer_index: Option<u32>,
    /// Macvlan, ipvlan, vlan: the parent's index (in the namespace the
    /// parent is in).
    pub parent_index: Option<u32>,
    pub macvlan_mode: Option<MacvlanMode>,
    pub ipvlan_mode: Option<IpvlanMode>,
    /// Vlan: its 802.1Q id.
    pub vlan_id: Option<u16>,
    /// Vrf: the routing table its ports' routes live in.
    pub vrf_table: Option<u32>,
    /// Bridge port: hairpin mode.
    pub hairpin: Option<bool>,
    /// Bridge port: isolated (forwards only to ports that are not).
    pub isolated: Option<bool>,
    /// Macvlan: the broadcast queue length it asks for (the kernel's default: 1000).
    pub bc_queue_len: Option<u32>,
    /// IFLA_IFALIAS (`ip link set X alias A`); `None` when unset or empty.
    /// host-device keeps a moved device's host name here, as the reference does.
    pub alias: Option<String>,
    /// A tap: its flags, owner and group (IFLA_INFO_DATA of kind "tun").
    pub tap: Option<TapInfo>,
}

/// No owner or group: the kernel's -1 (`ip tuntap` prints none).
pub const TAP_NO_ID: u32 = u32::MAX;

/// A persistent tap device as it is made: `TUNSETIFF` with IFF_TAP (and
/// the flags below) on `/dev/net/tun` inside the handle's namespace,
/// `TUNSETOWNER`/`TUNSETGROUP` when given, `TUNSETPERSIST`, then netlink
/// for MTU, MAC and queue length. No process holds it open: the tap has no
/// carrier until one attaches (a VM, a user-space switch).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TapSpec {
    pub name: String,
    /// IFF_MULTI_QUEUE: a user may attach many queues.
    pub multi_queue: bool,
    /// IFF_NO_PI: no packet-information header on each frame.
    pub no_pi: bool,
    /// IFF_VNET_HDR: a virtio-net header on each frame.
    pub vnet_hdr: bool,
    /// TUNSETOWNER: the user allowed to attach; `None`: anyone (with
    /// CAP_NET_ADMIN, as the kernel checks).
    pub owner: Option<u32>,
    /// TUNSETGROUP: the group allowed to attach.
    pub group: Option<u32>,
    pub mtu: Option<u32>,
    pub mac: Option<MacAddr>,
    /// Unset: 1000, never 0.
    pub txqueuelen: Option<u32>,
    /// An SELinux context for the device: the creating thread takes it
    /// before `TUNSETIFF` (the kernel labels a tun with its creator's
    /// context). A kernel without SELinux refuses it (`Invalid`).
    pub selinux_context: Option<String>,
}

/// A tap as the kernel reports it (IFLA_TUN_*).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TapInfo {
    pub multi_queue: bool,
    /// IFLA_TUN_PI: frames carry the packet-information header (no IFF_NO_PI).
    pub pi: bool,
    pub vnet_hdr: bool,
    pub persist: bool,
    /// `None`: no owner (the kernel's -1).
    pub owner: Option<u32>,
    pub group: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeSpec {
    pub name: String,
    pub mtu: Option<u32>,
    pub mac: Option<MacAddr>,
    /// Unset: the kernel default (1000), never 0.
    pub txqueuelen: Option<u32>,
    pub vlan_filtering: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VethSpec {
    /// The end created in the namespace of the handle.
    pub name: String,
    /// The end created directly in the peer namespace.
    pub peer_name: String,
    pub mtu: Option<u32>,
    pub mac: Option<MacAddr>,
    pub peer_mac: Option<MacAddr>,
    /// Both ends; unset: the kernel default (1000), never 0.
    pub txqueuelen: Option<u32>,
}

impl VethSpec {
    /// A pair with kernel defaults for everything but the two names.
    pub fn new(name: impl Into<String>, peer_name: impl Into<String>) -> Self {
        VethSpec {
            name: name.into(),
            peer_name: peer_name.into(),
            ..VethSpec::default()
        }
    }
}

/// Both ends of a new veth pair, each as seen in its own namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethPair {
    pub local: LinkInfo,
    pub peer: LinkInfo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacvlanSpec {
    pub name: String,
    pub parent: u32,
    pub mode: MacvlanMode,
    pub mtu: Option<u32>,
    pub mac: Option<MacAddr>,
    pub txqueuelen: Option<u32>,
    /// IFLA_MACVLAN_BC_QUEUE_LEN; `None`: the kernel default (1000).
    pub bc_queue_len: Option<u32>,
}

/// An ipvlan on a parent. It shares the parent's MAC, so there is none to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvlanSpec {
    pub name: String,
    pub parent: u32,
    pub mode: IpvlanMode,
    /// `None`: the parent's.
    pub mtu: Option<u32>,
    /// Unset: 1000, never 0.
    pub txqueuelen: Option<u32>,
}

/// The highest 802.1Q VLAN id (4095 is reserved).
pub const VLAN_ID_MAX: u16 = 4094;

/// An 802.1Q VLAN on a parent; it takes the parent's MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VlanSpec {
    pub name: String,
    pub parent: u32,
    /// 0..=[`VLAN_ID_MAX`].
    pub vlan_id: u16,
    /// `None`: the parent's.
    pub mtu: Option<u32>,
    /// Unset: 1000, never 0.
    pub txqueuelen: Option<u32>,
}

/// A dummy link, made in the namespace of the handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DummySpec {
    pub name: String,
    /// `None`: the kernel picks a random one.
    pub mac: Option<MacAddr>,
    /// Unset: 1000, never 0.
    pub txqueuelen: Option<u32>,
}

/// A VRF device, made in the namespace of the handle: its ports' routes
/// (connected, local, and those added with the port as output) go to
/// `table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrfSpec {
    pub name: String,
    /// Not 0 (the kernel refuses it); the main and local tables are the
    /// caller's business.
    pub table: u32,
}

/// An address to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressSpec {
    /// With host bits: `10.1.0.5/24`.
    pub addr: IpNet,
    /// IPv6: skip duplicate address detection (IFA_F_NODAD).
    pub nodad: bool,
}

impl AddressSpec {
    pub fn new(addr: IpNet) -> Self {
        AddressSpec { addr, nodad: false }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AddressInfo {
    pub index: u32,
    pub addr: IpNet,
    pub scope: RouteScope,
    pub nodad: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum RouteScope {
    #[default]
    Universe,
    Site,
    Link,
    Host,
    Nowhere,
}

impl RouteScope {
    /// The kernel's numeric scope (RT_SCOPE_*).
    pub fn as_u8(self) -> u8 {
        match self {
            RouteScope::Universe => 0,
            RouteScope::Site => 200,
            RouteScope::Link => 253,
            RouteScope::Host => 254,
            RouteScope::Nowhere => 255,
        }
    }
    pub fn from_u8(v: u8) -> Self {
        match v {
            200 => RouteScope::Site,
            253 => RouteScope::Link,
            254 => RouteScope::Host,
            255 => RouteScope::Nowhere,
            _ => RouteScope::Universe,
        }
    }
}

/// The main routing table (RT_TABLE_MAIN).
pub const TABLE_MAIN: u32 = 254;

/// A route to add, replace or delete. `dst` is a network (host bits zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: IpNet,
    pub gateway: Option<IpAddr>,
    /// Output interface index.
    pub oif: Option<u32>,
    pub scope: RouteScope,
    /// `None`: the main table.
    pub table: Option<u32>,
    pub metric: Option<u32>,
    pub mtu: Option<u32>,
    pub advmss: Option<u32>,
    pub src: Option<IpAddr>,
    /// `None`: proto boot, as `ip route add` writes. `sbr` copies a kernel
    /// route into its table keeping `Kernel`, as the reference does.
    pub protocol: Option<RouteProtocol>,
}

impl RouteSpec {
    pub fn new(dst: IpNet) -> Self {
        RouteSpec {
            dst: dst.trunc(),
            gateway: None,
            oif: None,
            scope: RouteScope::Universe,
            table: None,
            metric: None,
            mtu: None,
            advmss: None,
            src: None,
            protocol: None,
        }
    }
    pub fn via(mut self, gw: IpAddr) -> Self {
        self.gateway = Some(gw);
        self
    }
    pub fn dev(mut self, oif: u32) -> Self {
        self.oif = Some(oif);
        self
    }
    pub fn scope(mut self, scope: RouteScope) -> Self {
        self.scope = scope;
        self
    }
}

/// Who put a route there (RTPROT_*), for telling prefix routes from ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteProtocol {
    /// Added by the kernel for an address (proto kernel).
    Kernel,
    /// Added by a user (proto boot, static, ...).
    Boot,
    /// IPv6 router advertisements and the like.
    Other(u8),
}

impl RouteProtocol {
    /// The RTPROT_* number on the wire.
    pub fn as_u8(self) -> u8 {
        match self {
            RouteProtocol::Kernel => 2,
            RouteProtocol::Boot => 3,
            RouteProtocol::Other(p) => p,
        }
    }
}

impl RouteInfo {
    /// The spec that adds this route again, in `table`, as it is.
    pub fn to_spec_in(&self, table: u32) -> RouteSpec {
        RouteSpec {
            dst: self.dst,
            gateway: self.gateway,
            oif: self.oif,
            scope: self.scope,
            table: Some(table),
            metric: self.metric,
            mtu: self.mtu,
            advmss: self.advmss,
            src: self.src,
            protocol: Some(self.protocol),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub dst: IpNet,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
    pub scope: RouteScope,
    pub table: u32,
    pub metric: Option<u32>,
    pub mtu: Option<u32>,
    pub advmss: Option<u32>,
    pub src: Option<IpAddr>,
    pub protocol: RouteProtocol,
}

/// Masquerade for a container's addresses, tagged so DEL and GC remove exactly theirs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MasqRule {
    pub network: String,
    pub container_id: String,
    /// The container's addresses with their prefix: traffic from the address
    /// to anything outside the prefix is masqueraded.
    pub addrs: Vec<IpNet>,
}

/// A MAC spoof check on a bridge port: frames entering from `iface` (the
/// host end of a container's veth) must carry `mac` as their source.
/// Tagged like [`MasqRule`], so DEL and GC remove exactly an attachment's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SpoofCheck {
    pub network: String,
    pub container_id: String,
    pub iface: String,
    pub mac: MacAddr,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_round_trips_through_text() {
        let m: MacAddr = "0A:58:0a:01:00:05".parse().unwrap();
        assert_eq!(m.to_string(), "0a:58:0a:01:00:05");
        assert!("0a:58:0a:01:00".parse::<MacAddr>().is_err());
        assert!("0a:58:0a:01:00:zz".parse::<MacAddr>().is_err());
    }

    #[test]
    fn mac_parser_refuses_signs_and_interface_macs_refuse_zero_and_multicast() {
        assert!("+a:58:0a:01:00:05".parse::<MacAddr>().is_err());
        assert!("0a:58:0a:01:00:+5".parse::<MacAddr>().is_err());
        assert!(
            "0a:58-0a:01:00:05".parse::<MacAddr>().is_err(),
            "mixed separators"
        );
        assert!(MacAddr::parse_for_interface("00:00:00:00:00:00")
            .unwrap_err()
            .contains("all-zero"));
        assert!(MacAddr::parse_for_interface("01:00:5e:00:00:01")
            .unwrap_err()
            .contains("multicast"));
        assert!(MacAddr::parse_for_interface("ff:ff:ff:ff:ff:ff").is_err());
        assert_eq!(
            MacAddr::parse_for_interface("0a:58:0a:01:00:05")
                .unwrap()
                .to_string(),
            "0a:58:0a:01:00:05"
        );
    }

    #[test]
    fn route_spec_truncates_host_bits() {
        let r = RouteSpec::new("10.1.2.3/24".parse().unwrap());
        assert_eq!(r.dst.to_string(), "10.1.2.0/24");
    }
}
