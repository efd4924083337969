//! [`NetBackend`] on the running kernel.

use crate::netlink::{DevconfKey, Rtnl};
use crate::netns::{InNetns, NetnsFile};
use crate::nftables::{self, tagged_sets, NfSocket};
use crate::sysctl;
use cni_core::net::{
    AddressInfo, AddressSpec, BridgeSpec, DummySpec, FirewallRule, FirewallSet, IpvlanSpec,
    LinkInfo, MacAddr, MacvlanSpec, MasqRule, NetBackend, NetResult, Netns, NsRef, PortMapRule,
    PortMapSet, RouteInfo, RouteSpec, RuleInfo, RuleSpec, Shaping, SpoofCheck, TapSpec,
    TokenBucket, VethPair, VethSpec, VlanSpec, VrfSpec,
};
use ipnet::IpNet;
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Opens namespaces of this machine. `NsRef::Current` is the namespace of
/// the calling thread (`/proc/thread-self/ns/net`): a plugin's own, and for a
/// thread that entered a namespace playing the host, that one.
#[derive(Debug, Default, Clone, Copy)]
pub struct LinuxBackend;

impl LinuxBackend {
    pub fn new() -> Self {
        LinuxBackend
    }
}

impl NetBackend for LinuxBackend {
    fn open(&self, ns: &NsRef) -> NetResult<Box<dyn Netns>> {
        Ok(Box::new(LinuxNetns::open(ns)?))
    }
}

fn ns_file(ns: &NsRef) -> NetResult<NetnsFile> {
    match ns {
        NsRef::Current => NetnsFile::calling_thread(),
        NsRef::Path(p) => NetnsFile::open(p),
    }
}

/// The rtnetlink sockets of the namespaces this process holds handles of,
/// by namespace id: making a link in another namespace (a veth's peer, a
/// macvlan) reads it back over the socket the plugin's handle of that
/// namespace already has, instead of opening one more there (a thread to
/// enter the namespace, a socket, a bind).
static OPEN_SOCKETS: Mutex<Vec<(NsId, Weak<Rtnl>)>> = Mutex::new(Vec::new());

type NsId = (u64, u64);

fn register(id: NsId, rtnl: &Arc<Rtnl>) {
    let mut open = OPEN_SOCKETS.lock().unwrap_or_else(|p| p.into_inner());
    open.retain(|(_, weak)| weak.strong_count() > 0);
    open.push((id, Arc::downgrade(rtnl)));
}

fn registered(id: NsId) -> Option<Arc<Rtnl>> {
    let open = OPEN_SOCKETS.lock().unwrap_or_else(|p| p.into_inner());
    open.iter()
        .filter(|(of, _)| *of == id)
        .find_map(|(_, weak)| weak.upgrade())
}

/// One namespace: its file (kept open so the namespace cannot vanish under
/// us) and a netlink socket opened inside it.
pub struct LinuxNetns {
    /// The namespace's file (and where this handle's /proc/sys accesses and
    /// sockets are made).
    inside: InNetns,
    rtnl: Arc<Rtnl>,
    /// Opened on first use: most plugins never touch the firewall.
    nf: OnceLock<NfSocket>,
}

impl LinuxNetns {
    pub fn open(ns: &NsRef) -> NetResult<Self> {
        let inside = InNetns::new(ns_file(ns)?);
        let rtnl = Arc::new(Rtnl::open_on(&inside, ns.to_string())?);
        register(inside.file().id()?, &rtnl);
        Ok(LinuxNetns {
            inside,
            rtnl,
            nf: OnceLock::new(),
        })
    }

    fn nf(&self) -> NetResult<&NfSocket> {
        if let Some(s) = self.nf.get() {
            return Ok(s);
        }
        let sock = NfSocket::open_on(&self.inside)?;
        Ok(self.nf.get_or_init(|| sock))
    }

    pub fn file(&self) -> &NetnsFile {
        self.inside.file()
    }

    /// Runs `f` with rtnetlink of `other` (which `other_file` opened), reusing
    /// our own socket when it is the same namespace.
    fn in_other<T>(
        &self,
        other: &NsRef,
        other_file: &NetnsFile,
        f: impl FnOnce(&Rtnl) -> NetResult<T>,
    ) -> NetResult<T> {
        let id = other_file.id()?;
        if id == self.file().id()? {
            f(&self.rtnl)
        } else if let Some(open) = registered(id) {
            f(&open)
        } else {
            f(&Rtnl::open_in(other_file, other.to_string())?)
        }
    }
}

impl Netns for LinuxNetns {
    fn links(&self) -> NetResult<Vec<LinkInfo>> {
        self.rtnl.links()
    }
    fn link_by_name(&self, name: &str) -> NetResult<LinkInfo> {
        self.rtnl.link_by_name(name)
    }
    fn link_by_index(&self, index: u32) -> NetResult<LinkInfo> {
        self.rtnl.link_by_index(index)
    }
    fn create_bridge(&self, spec: &BridgeSpec) -> NetResult<LinkInfo> {
        self.rtnl.create_bridge(spec)
    }
    fn create_veth(&self, spec: &VethSpec, peer_ns: &NsRef) -> NetResult<VethPair> {
        let peer_file = ns_file(peer_ns)?;
        let local = self.rtnl.create_veth(spec, &peer_file)?;
        let peer = self
            .in_other(peer_ns, &peer_file, |r| r.link_by_name(&spec.peer_name))
            .inspect_err(|_| {
                // The pair exists but cannot be reported: take it away again
                // (the peer goes with the local end).
                if let Err(e) = self.rtnl.delete_link(local.index) {
                    tracing::warn!("removing veth {} after a failed look-up: {e}", spec.name);
                }
            })?;
        Ok(VethPair { local, peer })
    }
    fn create_macvlan(&self, spec: &MacvlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo> {
        let target_file = ns_file(target_ns)?;
        self.rtnl.create_macvlan(spec, &target_file)?;
        self.in_other(target_ns, &target_file, |r| r.created(&spec.name))
    }
    fn create_ipvlan(&self, spec: &IpvlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo> {
        let target_file = ns_file(target_ns)?;
        self.rtnl.create_ipvlan(spec, &target_file)?;
        self.in_other(target_ns, &target_file, |r| r.created(&spec.name))
    }
    fn create_vlan(&self, spec: &VlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo> {
        let target_file = ns_file(target_ns)?;
        self.rtnl.create_vlan(spec, &target_file)?;
        self.in_other(target_ns, &target_file, |r| r.created(&spec.name))
    }
    fn create_tap(&self, spec: &TapSpec) -> NetResult<LinkInfo> {
        crate::tap::create(&self.inside, &self.rtnl, spec)
    }
    fn create_dummy(&self, spec: &DummySpec) -> NetResult<LinkInfo> {
        self.rtnl.create_dummy(spec)
    }
    fn create_vrf(&self, spec: &VrfSpec) -> NetResult<LinkInfo> {
        self.rtnl.create_vrf(spec)
    }
    fn delete_link(&self, index: u32) -> NetResult<()> {
        self.rtnl.delete_link(index)
    }
    fn set_up(&self, index: u32, up: bool) -> NetResult<()> {
        self.rtnl.set_up(index, up)
    }
    fn set_master(&self, index: u32, master: Option<u32>) -> NetResult<()> {
        self.rtnl.set_master(index, master)
    }
    fn set_mtu(&self, index: u32, mtu: u32) -> NetResult<()> {
        self.rtnl.set_mtu(index, mtu)
    }
    fn set_mac(&self, index: u32, mac: MacAddr) -> NetResult<()> {
        self.rtnl.set_mac(index, mac)
    }
    fn set_txqueuelen(&self, index: u32, qlen: u32) -> NetResult<()> {
        self.rtnl.set_txqueuelen(index, qlen)
    }
    fn set_promisc(&self, index: u32, on: bool) -> NetResult<()> {
        self.rtnl.set_promisc(index, on)
    }
    fn set_hairpin(&self, index: u32, on: bool) -> NetResult<()> {
        self.rtnl.set_hairpin(index, on)
    }
    fn rename(&self, index: u32, name: &str) -> NetResult<()> {
        self.rtnl.rename(index, name)
    }
    fn set_alias(&self, index: u32, alias: &str) -> NetResult<()> {
        self.rtnl.set_alias(index, alias)
    }
    fn move_to(&self, index: u32, target_ns: &NsRef) -> NetResult<LinkInfo> {
        let target_file = ns_file(target_ns)?;
        let name = self.rtnl.move_to(index, &target_file)?;
        self.in_other(target_ns, &target_file, |r| r.link_by_name(&name))
    }

    fn addresses(&self, index: Option<u32>) -> NetResult<Vec<AddressInfo>> {
        self.rtnl.addresses(index)
    }
    fn add_address(&self, index: u32, addr: &AddressSpec) -> NetResult<()> {
        self.rtnl.add_address(index, addr)
    }
    fn del_address(&self, index: u32, addr: IpNet) -> NetResult<()> {
        self.rtnl.del_address(index, addr)
    }

    fn routes(&self) -> NetResult<Vec<RouteInfo>> {
        self.rtnl.routes()
    }
    fn add_route(&self, route: &RouteSpec) -> NetResult<()> {
        self.rtnl.add_route(route)
    }
    fn del_route(&self, route: &RouteSpec) -> NetResult<()> {
        self.rtnl.del_route(route)
    }

    // The keys plugins touch on every ADD go over netlink when it can
    // answer (see `netlink::devconf` for why); /proc/sys for the rest.
    fn sysctl_get(&self, key: &str) -> NetResult<String> {
        let fast = DevconfKey::parse(key).and_then(|k| self.rtnl.devconf_get(&k));
        match fast {
            Some(value) => Ok(value.to_string()),
            None => sysctl::get(&self.inside, key),
        }
    }
    fn sysctl_set(&self, key: &str, value: &str) -> NetResult<()> {
        let fast = DevconfKey::parse(key).and_then(|k| self.rtnl.devconf_set(&k, value));
        match fast {
            Some(()) => Ok(()),
            None => sysctl::set(&self.inside, key, value),
        }
    }

    fn masquerade_add(&self, rule: &MasqRule) -> NetResult<()> {
        nftables::add(self.nf()?, self.file(), rule)
    }
    fn masquerade_check(&self, rule: &MasqRule) -> NetResult<()> {
        nftables::check(self.nf()?, self.file(), rule)
    }
    fn masquerade_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        nftables::del(self.nf()?, self.file(), network, container_id)
    }
    fn masquerade_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        nftables::gc(self.nf()?, self.file(), network, live_container_ids)
    }
    fn masquerade_list(&self) -> NetResult<Vec<MasqRule>> {
        nftables::list(self.nf()?, self.file())
    }

    fn portmap_add(&self, set: &PortMapSet) -> NetResult<()> {
        tagged_sets::add(self.nf()?, self.file(), set)
    }
    fn portmap_check(&self, set: &PortMapSet) -> NetResult<()> {
        tagged_sets::check(self.nf()?, self.file(), set)
    }
    fn portmap_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        tagged_sets::del::<PortMapRule>(self.nf()?, self.file(), network, container_id)
    }
    fn portmap_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        tagged_sets::gc::<PortMapRule>(self.nf()?, self.file(), network, live_container_ids)
    }
    fn portmap_list(&self) -> NetResult<Vec<PortMapSet>> {
        tagged_sets::list(self.nf()?, self.file())
    }
    // ---- link flags for `tuning` ----
    fn set_allmulti(&self, index: u32, on: bool) -> NetResult<()> {
        self.rtnl.set_allmulti(index, on)
    }

    // ---- forwarding rules (firewall) ----
    fn firewall_add(&self, set: &FirewallSet) -> NetResult<()> {
        tagged_sets::add(self.nf()?, self.file(), set)
    }
    fn firewall_check(&self, set: &FirewallSet) -> NetResult<()> {
        tagged_sets::check(self.nf()?, self.file(), set)
    }
    fn firewall_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        tagged_sets::del::<FirewallRule>(self.nf()?, self.file(), network, container_id)
    }
    fn firewall_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        tagged_sets::gc::<FirewallRule>(self.nf()?, self.file(), network, live_container_ids)
    }
    fn firewall_list(&self) -> NetResult<Vec<FirewallSet>> {
        tagged_sets::list(self.nf()?, self.file())
    }

    fn set_port_isolated(&self, index: u32, on: bool) -> NetResult<()> {
        self.rtnl.set_port_isolated(index, on)
    }
    fn spoofcheck_add(&self, check: &SpoofCheck) -> NetResult<()> {
        nftables::spoof_add(self.nf()?, self.file(), check)
    }
    fn spoofcheck_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        nftables::spoof_del(self.nf()?, self.file(), network, container_id)
    }
    fn spoofcheck_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        nftables::spoof_gc(self.nf()?, self.file(), network, live_container_ids)
    }
    fn spoofcheck_list(&self) -> NetResult<Vec<SpoofCheck>> {
        nftables::spoof_list(self.nf()?, self.file())
    }

    fn rules(&self) -> NetResult<Vec<RuleInfo>> {
        self.rtnl.rules()
    }
    fn add_rule(&self, rule: &RuleSpec) -> NetResult<()> {
        self.rtnl.add_rule(rule)
    }
    fn del_rule(&self, rule: &RuleSpec) -> NetResult<()> {
        self.rtnl.del_rule(rule)
    }

    fn create_ifb(&self, name: &str, mtu: u32) -> NetResult<LinkInfo> {
        self.rtnl.create_ifb(name, mtu)
    }
    fn tbf_add(&self, index: u32, bucket: &TokenBucket) -> NetResult<()> {
        self.rtnl.tbf_add(index, bucket)
    }
    fn ingress_redirect_add(&self, index: u32, to: u32) -> NetResult<()> {
        self.rtnl.ingress_redirect_add(index, to)
    }
    fn root_qdisc_del(&self, index: u32) -> NetResult<()> {
        self.rtnl.root_qdisc_del(index)
    }
    fn ingress_qdisc_del(&self, index: u32) -> NetResult<()> {
        self.rtnl.ingress_qdisc_del(index)
    }
    fn shaping(&self, index: u32) -> NetResult<Shaping> {
        self.rtnl.shaping(index)
    }
}
