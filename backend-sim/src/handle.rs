//! `SimNetns`: a handle on one simulated namespace.

use crate::kernel::SimKernel;
use crate::model::{Net, NsId};
use crate::{addrs, firewall, l3mdev, links, routes, rules, shaping, spoof, sysctl, tagged_sets};
use cni_core::net::{
    AddressInfo, AddressSpec, BridgeSpec, DummySpec, FirewallRule, FirewallSet, IpvlanSpec,
    LinkInfo, MacAddr, MacvlanSpec, MasqRule, NetError, NetResult, Netns, NsRef, PortMapRule,
    PortMapSet, RouteInfo, RouteSpec, RuleInfo, RuleSpec, Shaping, SpoofCheck, TapSpec,
    TokenBucket, VethPair, VethSpec, VlanSpec, VrfSpec,
};
use ipnet::IpNet;

pub struct SimNetns {
    kernel: SimKernel,
    ns: NsId,
}

impl SimNetns {
    pub(crate) fn new(kernel: SimKernel, ns: NsId) -> Self {
        SimNetns { kernel, ns }
    }

    fn read<T>(&self, body: impl FnOnce(&Net, &NsId) -> NetResult<T>) -> NetResult<T> {
        self.kernel.read(|net| body(net, &self.ns))
    }

    fn write<T>(&self, body: impl FnOnce(&mut Net, &NsId) -> NetResult<T>) -> NetResult<T> {
        self.kernel.write(|net| body(net, &self.ns))
    }
}

impl Netns for SimNetns {
    fn links(&self) -> NetResult<Vec<LinkInfo>> {
        self.read(|net, ns| {
            let space = net.ns(ns)?;
            Ok(space.links.values().map(|l| net.link_info(ns, l)).collect())
        })
    }

    fn link_by_name(&self, name: &str) -> NetResult<LinkInfo> {
        self.read(|net, ns| {
            let index = net.ns(ns)?.index_of(name).ok_or_else(|| {
                NetError::not_found(format!("link {name:?} not found in {}", ns.label()))
            })?;
            links::info(net, ns, index)
        })
    }

    fn link_by_index(&self, index: u32) -> NetResult<LinkInfo> {
        self.read(|net, ns| links::info(net, ns, index))
    }

    fn create_bridge(&self, spec: &BridgeSpec) -> NetResult<LinkInfo> {
        self.write(|net, ns| links::create_bridge(net, ns, spec))
    }

    fn create_veth(&self, spec: &VethSpec, peer_ns: &NsRef) -> NetResult<VethPair> {
        self.write(|net, ns| links::create_veth(net, ns, spec, &NsId::from_ref(peer_ns)))
    }

    fn create_macvlan(&self, spec: &MacvlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo> {
        self.write(|net, ns| links::create_macvlan(net, ns, spec, &NsId::from_ref(target_ns)))
    }
    fn create_ipvlan(&self, spec: &IpvlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo> {
        self.write(|net, ns| links::create_ipvlan(net, ns, spec, &NsId::from_ref(target_ns)))
    }
    fn create_vlan(&self, spec: &VlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo> {
        self.write(|net, ns| links::create_vlan(net, ns, spec, &NsId::from_ref(target_ns)))
    }
    fn create_tap(&self, spec: &TapSpec) -> NetResult<LinkInfo> {
        self.write(|net, ns| crate::tap::create_tap(net, ns, spec))
    }

    fn create_dummy(&self, spec: &DummySpec) -> NetResult<LinkInfo> {
        self.write(|net, ns| l3mdev::create_dummy(net, ns, spec))
    }
    fn create_vrf(&self, spec: &VrfSpec) -> NetResult<LinkInfo> {
        self.write(|net, ns| l3mdev::create_vrf(net, ns, spec))
    }

    fn delete_link(&self, index: u32) -> NetResult<()> {
        self.write(|net, ns| links::delete_link(net, ns, index))
    }

    fn set_up(&self, index: u32, up: bool) -> NetResult<()> {
        self.write(|net, ns| links::set_up(net, ns, index, up))
    }

    fn set_master(&self, index: u32, master: Option<u32>) -> NetResult<()> {
        self.write(|net, ns| links::set_master(net, ns, index, master))
    }

    fn set_mtu(&self, index: u32, mtu: u32) -> NetResult<()> {
        self.write(|net, ns| links::set_mtu(net, ns, index, mtu))
    }

    fn set_mac(&self, index: u32, mac: MacAddr) -> NetResult<()> {
        self.write(|net, ns| links::set_mac(net, ns, index, mac))
    }

    fn set_txqueuelen(&self, index: u32, qlen: u32) -> NetResult<()> {
        self.write(|net, ns| links::set_txqueuelen(net, ns, index, qlen))
    }

    fn set_promisc(&self, index: u32, on: bool) -> NetResult<()> {
        self.write(|net, ns| links::set_promisc(net, ns, index, on))
    }

    fn set_hairpin(&self, index: u32, on: bool) -> NetResult<()> {
        self.write(|net, ns| links::set_hairpin(net, ns, index, on))
    }

    fn rename(&self, index: u32, name: &str) -> NetResult<()> {
        self.write(|net, ns| links::rename(net, ns, index, name))
    }

    fn set_alias(&self, index: u32, alias: &str) -> NetResult<()> {
        self.write(|net, ns| links::set_alias(net, ns, index, alias))
    }

    fn move_to(&self, index: u32, target_ns: &NsRef) -> NetResult<LinkInfo> {
        self.write(|net, ns| links::move_to(net, ns, index, &NsId::from_ref(target_ns)))
    }

    fn addresses(&self, index: Option<u32>) -> NetResult<Vec<AddressInfo>> {
        self.read(|net, ns| addrs::addresses(net, ns, index))
    }

    fn add_address(&self, index: u32, addr: &AddressSpec) -> NetResult<()> {
        self.write(|net, ns| addrs::add_address(net, ns, index, addr))
    }

    fn del_address(&self, index: u32, addr: IpNet) -> NetResult<()> {
        self.write(|net, ns| addrs::del_address(net, ns, index, addr))
    }

    fn routes(&self) -> NetResult<Vec<RouteInfo>> {
        self.read(routes::routes)
    }

    fn add_route(&self, route: &RouteSpec) -> NetResult<()> {
        self.write(|net, ns| routes::add_route(net, ns, route))
    }

    fn del_route(&self, route: &RouteSpec) -> NetResult<()> {
        self.write(|net, ns| routes::del_route(net, ns, route))
    }

    fn sysctl_get(&self, key: &str) -> NetResult<String> {
        self.read(|net, ns| sysctl::get(net, ns, key))
    }

    fn sysctl_set(&self, key: &str, value: &str) -> NetResult<()> {
        self.write(|net, ns| sysctl::set(net, ns, key, value))
    }

    fn masquerade_add(&self, rule: &MasqRule) -> NetResult<()> {
        self.write(|net, ns| firewall::add(net, ns, rule))
    }

    fn masquerade_check(&self, rule: &MasqRule) -> NetResult<()> {
        self.read(|net, ns| firewall::check(net, ns, rule))
    }

    fn masquerade_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        self.write(|net, ns| firewall::del(net, ns, network, container_id))
    }

    fn masquerade_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        self.write(|net, ns| firewall::gc(net, ns, network, live_container_ids))
    }

    fn masquerade_list(&self) -> NetResult<Vec<MasqRule>> {
        self.read(firewall::list)
    }

    fn portmap_add(&self, set: &PortMapSet) -> NetResult<()> {
        self.write(|net, ns| tagged_sets::add(net, ns, set))
    }

    fn portmap_check(&self, set: &PortMapSet) -> NetResult<()> {
        self.read(|net, ns| tagged_sets::check(net, ns, set))
    }

    fn portmap_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        self.write(|net, ns| tagged_sets::del::<PortMapRule>(net, ns, network, container_id))
    }

    fn portmap_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        self.write(|net, ns| tagged_sets::gc::<PortMapRule>(net, ns, network, live_container_ids))
    }

    fn portmap_list(&self) -> NetResult<Vec<PortMapSet>> {
        self.read(tagged_sets::list::<PortMapRule>)
    }
    // ---- link flags for `tuning` ----
    fn set_allmulti(&self, index: u32, on: bool) -> NetResult<()> {
        self.write(|net, ns| links::set_allmulti(net, ns, index, on))
    }

    // ---- forwarding rules (firewall) ----
    fn firewall_add(&self, set: &FirewallSet) -> NetResult<()> {
        self.write(|net, ns| tagged_sets::add(net, ns, set))
    }

    fn firewall_check(&self, set: &FirewallSet) -> NetResult<()> {
        self.read(|net, ns| tagged_sets::check(net, ns, set))
    }

    fn firewall_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        self.write(|net, ns| tagged_sets::del::<FirewallRule>(net, ns, network, container_id))
    }

    fn firewall_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        self.write(|net, ns| tagged_sets::gc::<FirewallRule>(net, ns, network, live_container_ids))
    }

    fn firewall_list(&self) -> NetResult<Vec<FirewallSet>> {
        self.read(tagged_sets::list::<FirewallRule>)
    }

    fn set_port_isolated(&self, index: u32, on: bool) -> NetResult<()> {
        self.write(|net, ns| links::set_port_isolated(net, ns, index, on))
    }

    fn spoofcheck_add(&self, check: &SpoofCheck) -> NetResult<()> {
        self.write(|net, ns| spoof::add(net, ns, check))
    }

    fn spoofcheck_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        self.write(|net, ns| spoof::del(net, ns, network, container_id))
    }

    fn spoofcheck_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        self.write(|net, ns| spoof::gc(net, ns, network, live_container_ids))
    }

    fn spoofcheck_list(&self) -> NetResult<Vec<SpoofCheck>> {
        self.read(spoof::list)
    }

    fn rules(&self) -> NetResult<Vec<RuleInfo>> {
        self.read(rules::list)
    }
    fn add_rule(&self, rule: &RuleSpec) -> NetResult<()> {
        self.write(|net, ns| rules::add(net, ns, rule))
    }
    fn del_rule(&self, rule: &RuleSpec) -> NetResult<()> {
        self.write(|net, ns| rules::del(net, ns, rule))
    }

    fn create_ifb(&self, name: &str, mtu: u32) -> NetResult<LinkInfo> {
        self.write(|net, ns| shaping::create_ifb(net, ns, name, mtu))
    }

    fn tbf_add(&self, index: u32, bucket: &TokenBucket) -> NetResult<()> {
        self.write(|net, ns| shaping::tbf_add(net, ns, index, bucket))
    }

    fn ingress_redirect_add(&self, index: u32, to: u32) -> NetResult<()> {
        self.write(|net, ns| shaping::ingress_redirect_add(net, ns, index, to))
    }

    fn root_qdisc_del(&self, index: u32) -> NetResult<()> {
        self.write(|net, ns| shaping::root_qdisc_del(net, ns, index))
    }

    fn ingress_qdisc_del(&self, index: u32) -> NetResult<()> {
        self.write(|net, ns| shaping::ingress_qdisc_del(net, ns, index))
    }

    fn shaping(&self, index: u32) -> NetResult<Shaping> {
        self.read(|net, ns| shaping::shaping(net, ns, index))
    }
}
