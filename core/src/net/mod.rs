//! The boundary between plugin logic and the kernel.
//!
//! Plugin logic only ever talks to [`NetBackend`] and the namespace handles
//! ([`Netns`]) it opens. `cni-backend-linux` implements it with netlink on a real
//! kernel; `cni-backend-sim` implements it as an in-memory kernel for tests.
//! Every operation on a handle acts in that handle's namespace.

mod error;
mod firewall_rules;
mod masq_tag;
mod portmap;
mod rule;
mod rule_set;
mod shaping;
mod types;

pub use error::{NetError, NetErrorKind, NetResult};
pub use firewall_rules::{FirewallRule, FirewallSet};
pub use masq_tag::{
    is_taggable, masq_tag, masq_tag_shown_names, validate_tag_names, ParsedMasqTag, MASQ_TAG_MAX,
};
pub use portmap::{PortMapRule, PortMapSet, PortProtocol};
pub use rule::{RuleInfo, RuleSpec};
pub use rule_set::{RuleSet, TaggedRule};
pub use shaping::{RootQdisc, Shaping, TokenBucket, TBF_LATENCY_USEC};
pub use types::*;

/// Opens network namespaces. Object safe: plugins hold `&dyn NetBackend`.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait NetBackend {
    /// Opens a handle on a namespace. `NsRef::Current` is the namespace the
    /// plugin process runs in (the "host" from the plugin's point of view).
    /// A path that does not exist or is not a network namespace is `NotFound`
    /// or `Invalid`, naming the path.
    fn open(&self, ns: &NsRef) -> NetResult<Box<dyn Netns>>;
}

/// One network namespace. All indexes are interface indexes in this namespace.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Netns {
    // ---- links ----
    fn links(&self) -> NetResult<Vec<LinkInfo>>;
    /// `NotFound` when absent.
    fn link_by_name(&self, name: &str) -> NetResult<LinkInfo>;
    fn link_by_index(&self, index: u32) -> NetResult<LinkInfo>;
    fn create_bridge(&self, spec: &BridgeSpec) -> NetResult<LinkInfo>;
    /// Creates a veth pair: `spec.name` here, `spec.peer_name` created directly
    /// in `peer_ns` (never under a temporary name here).
    fn create_veth(&self, spec: &VethSpec, peer_ns: &NsRef) -> NetResult<VethPair>;
    /// Creates a macvlan on `spec.parent` (an index in *this* namespace) and
    /// places it directly in `target_ns` under `spec.name`. The returned info is
    /// as seen in `target_ns`.
    fn create_macvlan(&self, spec: &MacvlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo>;
    /// Creates an ipvlan on `spec.parent` (an index in *this* namespace)
    /// directly in `target_ns` under `spec.name`, as `create_macvlan` does.
    /// A kernel without the driver: `Unsupported`, saying which module.
    fn create_ipvlan(&self, spec: &IpvlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo>;
    /// Creates an 802.1Q VLAN on `spec.parent` (an index in *this*
    /// namespace) directly in `target_ns` under `spec.name`.
    fn create_vlan(&self, spec: &VlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo>;
    /// Creates a persistent tap in *this* namespace under `spec.name` (see
    /// [`TapSpec`]). `Exists` when the name is taken; `Invalid` for an
    /// SELinux context the kernel refuses (or has no SELinux for).
    fn create_tap(&self, spec: &TapSpec) -> NetResult<LinkInfo>;
    /// Creates a dummy link here. A kernel without the driver:
    /// `Unsupported`, saying which module.
    fn create_dummy(&self, spec: &DummySpec) -> NetResult<LinkInfo>;
    /// Creates a VRF device here, down. A kernel without the driver:
    /// `Unsupported`, saying which module. `set_master(port, Some(vrf))`
    /// enslaves a link to it: as Linux does, that cycles the port (its
    /// routes go, its IPv6 addresses too unless kept) and its connected
    /// routes come back in the VRF's table.
    fn create_vrf(&self, spec: &VrfSpec) -> NetResult<LinkInfo>;
    /// Deleting a veth end deletes its peer too.
    fn delete_link(&self, index: u32) -> NetResult<()>;
    fn set_up(&self, index: u32, up: bool) -> NetResult<()>;
    /// `None` removes the link from its master.
    fn set_master(&self, index: u32, master: Option<u32>) -> NetResult<()>;
    /// `tuning`'s `mtu`.
    fn set_mtu(&self, index: u32, mtu: u32) -> NetResult<()>;
    /// `tuning`'s `mac`.
    fn set_mac(&self, index: u32, mac: MacAddr) -> NetResult<()>;
    /// `tuning`'s `txQLen`.
    fn set_txqueuelen(&self, index: u32, qlen: u32) -> NetResult<()>;
    fn set_promisc(&self, index: u32, on: bool) -> NetResult<()>;
    /// Hairpin mode of a bridge port (the link must have a bridge master).
    fn set_hairpin(&self, index: u32, on: bool) -> NetResult<()>;
    /// `host-device`: the device takes `CNI_IFNAME` in the container, and its
    /// own name again on DEL.
    fn rename(&self, index: u32, name: &str) -> NetResult<()>;
    /// Moves the link to another namespace; it keeps its name and alias and
    /// loses its addresses and routes (and goes down). Returns its info (new
    /// index) as seen there. `host-device` moves the device in and back out.
    fn move_to(&self, index: u32, target_ns: &NsRef) -> NetResult<LinkInfo>;
    /// Sets IFLA_IFALIAS, read back as [`LinkInfo::alias`]; `""` clears it.
    /// `host-device` records a moved device's host name there (the
    /// reference's DEL renames the device back to its alias).
    fn set_alias(&self, index: u32, alias: &str) -> NetResult<()>;

    // ---- addresses ----
    /// All addresses, or only those of one link.
    fn addresses(&self, index: Option<u32>) -> NetResult<Vec<AddressInfo>>;
    /// Adds the address and, as the kernel does, its prefix route.
    fn add_address(&self, index: u32, addr: &AddressSpec) -> NetResult<()>;
    fn del_address(&self, index: u32, addr: ipnet::IpNet) -> NetResult<()>;

    // ---- routes ----
    /// Routes of every table (the caller filters).
    fn routes(&self) -> NetResult<Vec<RouteInfo>>;
    /// `Exists` when an equal route is present; `Unreachable` when the gateway
    /// is not reachable through a connected route of an up link.
    fn add_route(&self, route: &RouteSpec) -> NetResult<()>;
    fn del_route(&self, route: &RouteSpec) -> NetResult<()>;

    // ---- sysctls (key as a path under /proc/sys, e.g. "net/ipv4/ip_forward") ----
    fn sysctl_get(&self, key: &str) -> NetResult<String>;
    fn sysctl_set(&self, key: &str, value: &str) -> NetResult<()>;

    // ---- firewall ----
    /// Masquerades traffic from `rule.addrs` leaving for anywhere but their own
    /// subnets. Idempotent: adding the same rule twice leaves one.
    fn masquerade_add(&self, rule: &MasqRule) -> NetResult<()>;
    /// `NotFound` naming what is missing when the rule is not (fully) present.
    /// Needed by CHECK of `bridge` and `ptp` with `ipMasq`; not wired in yet.
    fn masquerade_check(&self, rule: &MasqRule) -> NetResult<()>;
    /// Removes every rule tagged with this network and container; absent is Ok.
    fn masquerade_del(&self, network: &str, container_id: &str) -> NetResult<()>;
    /// GC: removes the rules of `network` whose container is not in
    /// `live_container_ids`. Matches on the tag's hashes, so it also finds
    /// rules whose names were too long to show whole.
    fn masquerade_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()>;
    /// Every rule, with the names as its tag shows them (see [`masq_tag`]).
    fn masquerade_list(&self) -> NetResult<Vec<MasqRule>>;

    // ---- port mappings (portmap) ----
    /// Makes the attachment's port-mapping rules exactly `set.rules`, in one
    /// transaction. Idempotent.
    fn portmap_add(&self, set: &PortMapSet) -> NetResult<()>;
    /// `NotFound` naming the first rule of `set` that is not (fully) present.
    fn portmap_check(&self, set: &PortMapSet) -> NetResult<()>;
    /// Removes every port-mapping rule of this network and container; absent is Ok.
    fn portmap_del(&self, network: &str, container_id: &str) -> NetResult<()>;
    /// GC: removes the port-mapping rules of `network` whose container is not
    /// in `live_container_ids`.
    fn portmap_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()>;
    /// Every attachment's rules, with the names as the tag shows them.
    fn portmap_list(&self) -> NetResult<Vec<PortMapSet>>;
    // ---- link flags for `tuning` ----
    /// Sets or clears IFF_ALLMULTI (`tuning`'s `allmulti`); read back as
    /// [`LinkInfo::allmulti`].
    fn set_allmulti(&self, index: u32, on: bool) -> NetResult<()>;

    // ---- forwarding rules (firewall) ----
    /// Makes the attachment's forwarding rules exactly `set.rules`, in one
    /// transaction; drop rules run before every accept rule. Idempotent.
    fn firewall_add(&self, set: &FirewallSet) -> NetResult<()>;
    /// `NotFound` naming the first rule of `set` that is not present.
    fn firewall_check(&self, set: &FirewallSet) -> NetResult<()>;
    /// Removes every forwarding rule of this network and container; absent is Ok.
    fn firewall_del(&self, network: &str, container_id: &str) -> NetResult<()>;
    /// GC: removes the forwarding rules of `network` whose container is not
    /// in `live_container_ids`.
    fn firewall_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()>;
    /// Every attachment's rules, with the names as the tag shows them.
    fn firewall_list(&self) -> NetResult<Vec<FirewallSet>>;

    // ---- bridge port isolation and MAC spoof checks (bridge's `portIsolation`, `macspoofchk`) ----
    /// Isolation of a bridge port (IFLA_BRPORT_ISOLATED): an isolated port
    /// forwards only to ports that are not isolated. The link must have a
    /// bridge master.
    fn set_port_isolated(&self, index: u32, on: bool) -> NetResult<()>;
    /// Drops frames arriving from `check.iface` whose source MAC is not
    /// `check.mac`, tagged with the network and container like masquerade
    /// rules. Idempotent: replaces this attachment's check on the same
    /// interface.
    fn spoofcheck_add(&self, check: &SpoofCheck) -> NetResult<()>;
    /// Removes every check tagged with this network and container; absent is Ok.
    fn spoofcheck_del(&self, network: &str, container_id: &str) -> NetResult<()>;
    /// GC: removes the checks of `network` whose container is not in
    /// `live_container_ids`.
    fn spoofcheck_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()>;
    /// Every check, with the names as its tag shows them.
    fn spoofcheck_list(&self) -> NetResult<Vec<SpoofCheck>>;

    // ---- policy-routing rules (sbr) ----
    /// Every rule of both families, the kernel's own included.
    fn rules(&self) -> NetResult<Vec<RuleInfo>>;
    /// `Exists` when an equal rule (same priority included) is present.
    fn add_rule(&self, rule: &RuleSpec) -> NetResult<()>;
    /// Deletes the first matching rule; `NotFound` when none matches.
    fn del_rule(&self, rule: &RuleSpec) -> NetResult<()>;

    // ---- traffic shaping (bandwidth) ----
    /// Creates an `ifb` device, up, with `mtu`. `Exists` when the name is taken.
    fn create_ifb(&self, name: &str, mtu: u32) -> NetResult<LinkInfo>;
    /// Makes a token bucket filter the link's root qdisc (handle 1:).
    /// `Exists` when the link already has a root qdisc of its own.
    fn tbf_add(&self, index: u32, bucket: &TokenBucket) -> NetResult<()>;
    /// Adds the ingress qdisc (ffff:) with one u32 filter that matches every
    /// packet and redirects it to the egress of `to`: both or neither.
    fn ingress_redirect_add(&self, index: u32, to: u32) -> NetResult<()>;
    /// Removes the link's root qdisc (the kernel's default returns);
    /// `NotFound` when it has none of its own.
    fn root_qdisc_del(&self, index: u32) -> NetResult<()>;
    /// Removes the ingress qdisc and its filters; `NotFound` when absent.
    fn ingress_qdisc_del(&self, index: u32) -> NetResult<()>;
    /// The link's root and ingress qdiscs.
    fn shaping(&self, index: u32) -> NetResult<Shaping>;
}
