//! Fault injection around any `NetBackend`, as smoltcp's `FaultInjector`
//! wraps any `Device`: [`FaultyBackend`] counts every fallible trait
//! operation (one counter shared by all the handles it opened), logs it, and
//! fails the ones it was told to before they reach the backend underneath,
//! so a failed operation changes nothing there. The same sweep then runs on
//! the simulator and on the real kernel.

use cni_core::net::{
    AddressInfo, AddressSpec, BridgeSpec, DummySpec, FirewallSet, IpvlanSpec, LinkInfo, MacAddr,
    MacvlanSpec, MasqRule, NetBackend, NetError, NetErrorKind, NetResult, Netns, NsRef, PortMapSet,
    RouteInfo, RouteSpec, RuleInfo, RuleSpec, Shaping, SpoofCheck, TapSpec, TokenBucket, VethPair,
    VethSpec, VlanSpec, VrfSpec,
};
use ipnet::IpNet;
use std::sync::{Arc, Mutex, MutexGuard};

/// Every fallible trait operation (`NetBackend::open` and each `Netns` method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetOp {
    Open,
    Links,
    LinkByName,
    LinkByIndex,
    CreateBridge,
    CreateVeth,
    CreateMacvlan,
    CreateIpvlan,
    CreateVlan,
    CreateTap,
    CreateDummy,
    CreateVrf,
    DeleteLink,
    SetUp,
    SetMaster,
    SetMtu,
    SetMac,
    SetTxqueuelen,
    SetPromisc,
    SetHairpin,
    Rename,
    MoveTo,
    SetAlias,
    Addresses,
    AddAddress,
    DelAddress,
    Routes,
    AddRoute,
    DelRoute,
    SysctlGet,
    SysctlSet,
    MasqueradeAdd,
    MasqueradeCheck,
    MasqueradeDel,
    MasqueradeGc,
    MasqueradeList,
    PortmapAdd,
    PortmapCheck,
    PortmapDel,
    PortmapGc,
    PortmapList,
    SetAllmulti,
    FirewallAdd,
    FirewallCheck,
    FirewallDel,
    FirewallGc,
    FirewallList,
    SetPortIsolated,
    SpoofcheckAdd,
    SpoofcheckDel,
    SpoofcheckGc,
    SpoofcheckList,
    Rules,
    AddRule,
    DelRule,
    CreateIfb,
    TbfAdd,
    IngressRedirectAdd,
    RootQdiscDel,
    IngressQdiscDel,
    Shaping,
}

/// One operation as it was attempted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRecord {
    /// 1-based position among all operations since the wrapper was made.
    pub seq: u64,
    pub op: NetOp,
    /// The namespace it acted in (for `Open`, the one asked for).
    pub ns: NsRef,
    /// The error kind when it failed (injected or genuine).
    pub failed: Option<NetErrorKind>,
    pub injected: bool,
}

/// What a fault does: fail the operation, or panic in it (a bug in a
/// plugin's step, as far as the plugin can tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Fail(NetErrorKind),
    Panic,
}

#[derive(Debug, Clone)]
enum Fault {
    AtSeq(u64, Effect),
    NextOf(NetOp, Option<NsRef>, NetErrorKind),
}

impl Fault {
    fn matches(&self, seq: u64, op: NetOp, ns: &NsRef) -> bool {
        match self {
            Fault::AtSeq(s, _) => *s == seq,
            Fault::NextOf(o, only_in, _) => *o == op && only_in.as_ref().is_none_or(|n| n == ns),
        }
    }

    fn effect(&self) -> Effect {
        match self {
            Fault::AtSeq(_, e) => *e,
            Fault::NextOf(_, _, k) => Effect::Fail(*k),
        }
    }
}

#[derive(Debug, Default)]
struct Ledger {
    log: Vec<OpRecord>,
    faults: Vec<Fault>,
}

/// Shared by the backend wrapper and every handle it opened.
#[derive(Debug, Clone, Default)]
struct Injector {
    ledger: Arc<Mutex<Ledger>>,
}

impl Injector {
    fn lock(&self) -> MutexGuard<'_, Ledger> {
        // A panicking test thread must not make every later assertion panic too.
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Logs the operation and either fires a matching fault or runs `body`.
    /// The lock is not held while `body` runs: the backend may take its own.
    fn run<T>(&self, op: NetOp, ns: &NsRef, body: impl FnOnce() -> NetResult<T>) -> NetResult<T> {
        let (seq, fault) = {
            let mut ledger = self.lock();
            let seq = ledger.log.len() as u64 + 1;
            let fault = ledger
                .faults
                .iter()
                .position(|f| f.matches(seq, op, ns))
                .map(|i| ledger.faults.remove(i).effect());
            ledger.log.push(OpRecord {
                seq,
                op,
                ns: ns.clone(),
                failed: match fault {
                    Some(Effect::Fail(kind)) => Some(kind),
                    _ => None,
                },
                injected: fault.is_some(),
            });
            (seq, fault)
        };
        match fault {
            Some(Effect::Fail(kind)) => {
                let msg = format!("injected fault: {op:?} in {ns} (op #{seq})");
                return Err(NetError::new(kind, msg));
            }
            Some(Effect::Panic) => panic!("injected panic: {op:?} in {ns} (op #{seq})"),
            None => {}
        }
        let result = body();
        if let Err(e) = &result {
            self.lock().log[(seq - 1) as usize].failed = Some(e.kind);
        }
        result
    }
}

/// `B` with fault injection and an operation log. Clones share both.
#[derive(Debug, Clone)]
pub struct FaultyBackend<B> {
    inner: B,
    injector: Injector,
}

impl<B: NetBackend> FaultyBackend<B> {
    pub fn new(inner: B) -> Self {
        FaultyBackend {
            inner,
            injector: Injector::default(),
        }
    }

    /// The backend underneath, which neither counts nor fails anything.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The `n`th operation from now (1 = the next one) fails with `kind`
    /// and never reaches the backend.
    pub fn fail_nth(&self, n: u64, kind: NetErrorKind) {
        self.at_nth(n, Effect::Fail(kind));
    }

    /// The `n`th operation from now panics instead of reaching the backend.
    pub fn panic_nth(&self, n: u64) {
        self.at_nth(n, Effect::Panic);
    }

    fn at_nth(&self, n: u64, effect: Effect) {
        let mut ledger = self.injector.lock();
        let seq = ledger.log.len() as u64 + n.max(1);
        ledger.faults.push(Fault::AtSeq(seq, effect));
    }

    /// The next `op` (in namespace `ns`, or anywhere when `None`) fails.
    pub fn fail_next(&self, op: NetOp, ns: Option<NsRef>, kind: NetErrorKind) {
        self.injector
            .lock()
            .faults
            .push(Fault::NextOf(op, ns, kind));
    }

    /// Runs `f` with its `n`th operation failing with `kind`; returns what
    /// `f` returned and the record of that operation (`None` when `f` ran
    /// fewer). A fault that did not fire is dropped.
    pub fn with_nth_failing<T>(
        &self,
        n: u64,
        kind: NetErrorKind,
        f: impl FnOnce() -> T,
    ) -> (T, Option<OpRecord>) {
        let seq = self.op_count() + n.max(1);
        self.fail_nth(n, kind);
        let out = f();
        self.clear_faults();
        let record = self.ops().into_iter().find(|o| o.seq == seq);
        (out, record)
    }

    /// Drops faults that have not fired yet.
    pub fn clear_faults(&self) {
        self.injector.lock().faults.clear();
    }

    /// How many operations ran so far.
    pub fn op_count(&self) -> u64 {
        self.injector.lock().log.len() as u64
    }

    /// Every operation so far, in order (`ops()[i].seq == i + 1`).
    pub fn ops(&self) -> Vec<OpRecord> {
        self.injector.lock().log.clone()
    }
}

impl<B: NetBackend> NetBackend for FaultyBackend<B> {
    fn open(&self, ns: &NsRef) -> NetResult<Box<dyn Netns>> {
        let inner = self.injector.run(NetOp::Open, ns, || self.inner.open(ns))?;
        Ok(Box::new(FaultyNetns {
            ns: ns.clone(),
            inner,
            injector: self.injector.clone(),
        }))
    }
}

/// A handle opened through [`FaultyBackend`].
pub struct FaultyNetns {
    inner: Box<dyn Netns>,
    ns: NsRef,
    injector: Injector,
}

impl FaultyNetns {
    fn run<T>(&self, op: NetOp, body: impl FnOnce(&dyn Netns) -> NetResult<T>) -> NetResult<T> {
        self.injector.run(op, &self.ns, || body(&*self.inner))
    }
}

impl Netns for FaultyNetns {
    fn links(&self) -> NetResult<Vec<LinkInfo>> {
        self.run(NetOp::Links, |n| n.links())
    }
    fn link_by_name(&self, name: &str) -> NetResult<LinkInfo> {
        self.run(NetOp::LinkByName, |n| n.link_by_name(name))
    }
    fn link_by_index(&self, index: u32) -> NetResult<LinkInfo> {
        self.run(NetOp::LinkByIndex, |n| n.link_by_index(index))
    }
    fn create_bridge(&self, spec: &BridgeSpec) -> NetResult<LinkInfo> {
        self.run(NetOp::CreateBridge, |n| n.create_bridge(spec))
    }
    fn create_veth(&self, spec: &VethSpec, peer_ns: &NsRef) -> NetResult<VethPair> {
        self.run(NetOp::CreateVeth, |n| n.create_veth(spec, peer_ns))
    }
    fn create_macvlan(&self, spec: &MacvlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo> {
        self.run(NetOp::CreateMacvlan, |n| n.create_macvlan(spec, target_ns))
    }
    fn create_ipvlan(&self, spec: &IpvlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo> {
        self.run(NetOp::CreateIpvlan, |n| n.create_ipvlan(spec, target_ns))
    }
    fn create_vlan(&self, spec: &VlanSpec, target_ns: &NsRef) -> NetResult<LinkInfo> {
        self.run(NetOp::CreateVlan, |n| n.create_vlan(spec, target_ns))
    }
    fn create_tap(&self, spec: &TapSpec) -> NetResult<LinkInfo> {
        self.run(NetOp::CreateTap, |n| n.create_tap(spec))
    }
    fn create_dummy(&self, spec: &DummySpec) -> NetResult<LinkInfo> {
        self.run(NetOp::CreateDummy, |n| n.create_dummy(spec))
    }
    fn create_vrf(&self, spec: &VrfSpec) -> NetResult<LinkInfo> {
        self.run(NetOp::CreateVrf, |n| n.create_vrf(spec))
    }
    fn delete_link(&self, index: u32) -> NetResult<()> {
        self.run(NetOp::DeleteLink, |n| n.delete_link(index))
    }
    fn set_up(&self, index: u32, up: bool) -> NetResult<()> {
        self.run(NetOp::SetUp, |n| n.set_up(index, up))
    }
    fn set_master(&self, index: u32, master: Option<u32>) -> NetResult<()> {
        self.run(NetOp::SetMaster, |n| n.set_master(index, master))
    }
    fn set_mtu(&self, index: u32, mtu: u32) -> NetResult<()> {
        self.run(NetOp::SetMtu, |n| n.set_mtu(index, mtu))
    }
    fn set_mac(&self, index: u32, mac: MacAddr) -> NetResult<()> {
        self.run(NetOp::SetMac, |n| n.set_mac(index, mac))
    }
    fn set_txqueuelen(&self, index: u32, qlen: u32) -> NetResult<()> {
        self.run(NetOp::SetTxqueuelen, |n| n.set_txqueuelen(index, qlen))
    }
    fn set_promisc(&self, index: u32, on: bool) -> NetResult<()> {
        self.run(NetOp::SetPromisc, |n| n.set_promisc(index, on))
    }
    fn set_hairpin(&self, index: u32, on: bool) -> NetResult<()> {
        self.run(NetOp::SetHairpin, |n| n.set_hairpin(index, on))
    }
    fn rename(&self, index: u32, name: &str) -> NetResult<()> {
        self.run(NetOp::Rename, |n| n.rename(index, name))
    }
    fn set_alias(&self, index: u32, alias: &str) -> NetResult<()> {
        self.run(NetOp::SetAlias, |n| n.set_alias(index, alias))
    }
    fn move_to(&self, index: u32, target_ns: &NsRef) -> NetResult<LinkInfo> {
        self.run(NetOp::MoveTo, |n| n.move_to(index, target_ns))
    }

    fn addresses(&self, index: Option<u32>) -> NetResult<Vec<AddressInfo>> {
        self.run(NetOp::Addresses, |n| n.addresses(index))
    }
    fn add_address(&self, index: u32, addr: &AddressSpec) -> NetResult<()> {
        self.run(NetOp::AddAddress, |n| n.add_address(index, addr))
    }
    fn del_address(&self, index: u32, addr: IpNet) -> NetResult<()> {
        self.run(NetOp::DelAddress, |n| n.del_address(index, addr))
    }

    fn routes(&self) -> NetResult<Vec<RouteInfo>> {
        self.run(NetOp::Routes, |n| n.routes())
    }
    fn add_route(&self, route: &RouteSpec) -> NetResult<()> {
        self.run(NetOp::AddRoute, |n| n.add_route(route))
    }
    fn del_route(&self, route: &RouteSpec) -> NetResult<()> {
        self.run(NetOp::DelRoute, |n| n.del_route(route))
    }

    fn sysctl_get(&self, key: &str) -> NetResult<String> {
        self.run(NetOp::SysctlGet, |n| n.sysctl_get(key))
    }
    fn sysctl_set(&self, key: &str, value: &str) -> NetResult<()> {
        self.run(NetOp::SysctlSet, |n| n.sysctl_set(key, value))
    }

    fn masquerade_add(&self, rule: &MasqRule) -> NetResult<()> {
        self.run(NetOp::MasqueradeAdd, |n| n.masquerade_add(rule))
    }
    fn masquerade_check(&self, rule: &MasqRule) -> NetResult<()> {
        self.run(NetOp::MasqueradeCheck, |n| n.masquerade_check(rule))
    }
    fn masquerade_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        self.run(NetOp::MasqueradeDel, |n| {
            n.masquerade_del(network, container_id)
        })
    }
    fn masquerade_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        self.run(NetOp::MasqueradeGc, |n| {
            n.masquerade_gc(network, live_container_ids)
        })
    }
    fn masquerade_list(&self) -> NetResult<Vec<MasqRule>> {
        self.run(NetOp::MasqueradeList, |n| n.masquerade_list())
    }

    // ---- port mappings ----
    fn portmap_add(&self, set: &PortMapSet) -> NetResult<()> {
        self.run(NetOp::PortmapAdd, |n| n.portmap_add(set))
    }
    fn portmap_check(&self, set: &PortMapSet) -> NetResult<()> {
        self.run(NetOp::PortmapCheck, |n| n.portmap_check(set))
    }
    fn portmap_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        self.run(NetOp::PortmapDel, |n| n.portmap_del(network, container_id))
    }
    fn portmap_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        self.run(NetOp::PortmapGc, |n| {
            n.portmap_gc(network, live_container_ids)
        })
    }
    fn portmap_list(&self) -> NetResult<Vec<PortMapSet>> {
        self.run(NetOp::PortmapList, |n| n.portmap_list())
    }
    // ---- link flags for `tuning` ----
    fn set_allmulti(&self, index: u32, on: bool) -> NetResult<()> {
        self.run(NetOp::SetAllmulti, |n| n.set_allmulti(index, on))
    }

    // ---- forwarding rules (firewall) ----
    fn firewall_add(&self, set: &FirewallSet) -> NetResult<()> {
        self.run(NetOp::FirewallAdd, |n| n.firewall_add(set))
    }
    fn firewall_check(&self, set: &FirewallSet) -> NetResult<()> {
        self.run(NetOp::FirewallCheck, |n| n.firewall_check(set))
    }
    fn firewall_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        self.run(NetOp::FirewallDel, |n| {
            n.firewall_del(network, container_id)
        })
    }
    fn firewall_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        self.run(NetOp::FirewallGc, |n| {
            n.firewall_gc(network, live_container_ids)
        })
    }
    fn firewall_list(&self) -> NetResult<Vec<FirewallSet>> {
        self.run(NetOp::FirewallList, |n| n.firewall_list())
    }

    fn set_port_isolated(&self, index: u32, on: bool) -> NetResult<()> {
        self.run(NetOp::SetPortIsolated, |n| n.set_port_isolated(index, on))
    }
    fn spoofcheck_add(&self, check: &SpoofCheck) -> NetResult<()> {
        self.run(NetOp::SpoofcheckAdd, |n| n.spoofcheck_add(check))
    }
    fn spoofcheck_del(&self, network: &str, container_id: &str) -> NetResult<()> {
        self.run(NetOp::SpoofcheckDel, |n| {
            n.spoofcheck_del(network, container_id)
        })
    }
    fn spoofcheck_gc(&self, network: &str, live_container_ids: &[String]) -> NetResult<()> {
        self.run(NetOp::SpoofcheckGc, |n| {
            n.spoofcheck_gc(network, live_container_ids)
        })
    }
    fn spoofcheck_list(&self) -> NetResult<Vec<SpoofCheck>> {
        self.run(NetOp::SpoofcheckList, |n| n.spoofcheck_list())
    }

    fn rules(&self) -> NetResult<Vec<RuleInfo>> {
        self.run(NetOp::Rules, |n| n.rules())
    }
    fn add_rule(&self, rule: &RuleSpec) -> NetResult<()> {
        self.run(NetOp::AddRule, |n| n.add_rule(rule))
    }
    fn del_rule(&self, rule: &RuleSpec) -> NetResult<()> {
        self.run(NetOp::DelRule, |n| n.del_rule(rule))
    }

    fn create_ifb(&self, name: &str, mtu: u32) -> NetResult<LinkInfo> {
        self.run(NetOp::CreateIfb, |n| n.create_ifb(name, mtu))
    }
    fn tbf_add(&self, index: u32, bucket: &TokenBucket) -> NetResult<()> {
        self.run(NetOp::TbfAdd, |n| n.tbf_add(index, bucket))
    }
    fn ingress_redirect_add(&self, index: u32, to: u32) -> NetResult<()> {
        self.run(NetOp::IngressRedirectAdd, |n| {
            n.ingress_redirect_add(index, to)
        })
    }
    fn root_qdisc_del(&self, index: u32) -> NetResult<()> {
        self.run(NetOp::RootQdiscDel, |n| n.root_qdisc_del(index))
    }
    fn ingress_qdisc_del(&self, index: u32) -> NetResult<()> {
        self.run(NetOp::IngressQdiscDel, |n| n.ingress_qdisc_del(index))
    }
    fn shaping(&self, index: u32) -> NetResult<Shaping> {
        self.run(NetOp::Shaping, |n| n.shaping(index))
    }
}
