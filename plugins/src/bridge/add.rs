//! The steps of a bridge ADD, in the two orders it runs them.

use super::config::BridgeConf;
use super::{gateway, guards, link, CONTAINER_IFACE};
use crate::common::{add_result, delegate, iface, masq, veth, IpamDelegate, NetContext, Undo};
use cni_core::mac;
use cni_core::net::{LinkInfo, MacAddr, Netns, VethPair};
use cni_core::skel::CmdArgs;
use cni_core::{CniError, CniResult};

/// What every step of one ADD works with.
pub(super) struct Add<'a> {
    pub ipam: &'a dyn IpamDelegate,
    pub conf: &'a BridgeConf,
    pub args: &'a CmdArgs,
    pub host: &'a dyn Netns,
    pub container: &'a dyn Netns,
    /// A MAC the runtime asked for; it wins over a derived one.
    pub requested_mac: Option<MacAddr>,
}

/// The links and addresses of an attachment, before the container end is configured.
pub(super) struct Attached {
    result: CniResult,
    bridge: LinkInfo,
    pair: VethPair,
}

impl<'a> Add<'a> {
    /// The usual order: addresses first, since the MACs of the bridge and
    /// the container derive from them; a layer-2 config (no IPAM) has none.
    pub fn addresses_first(
        &self,
        ipam_type: Option<&'a str>,
        undo: &mut Undo<'a>,
    ) -> Result<Attached, CniError> {
        let result = match ipam_type {
            Some(t) => self.addresses(t, undo)?,
            None => CniResult::default(),
        };
        let gateways: Vec<_> = result.ips.iter().filter_map(|ip| ip.gateway).collect();
        let bridge_mac = if self.conf.is_gateway {
            mac::for_addresses(&gateways)
        } else {
            None
        };
        let bridge = link::ensure_bridge(self.host, self.conf, bridge_mac)?;
        // Before the bridge is switched on and any port joins, so a clashing
        // address on an existing bridge fails ADD before anything changed.
        gateway::serve(self.host, &bridge, &result, self.conf)?;
        let bridge = link::switch_on(self.host, &bridge, self.conf)?;
        let addrs: Vec<_> = result.ips.iter().map(|ip| ip.address.addr()).collect();
        let container_mac = self.requested_mac.or_else(|| mac::for_addresses(&addrs));
        let pair = self.plug_veth(&bridge, container_mac, undo)?;
        Ok(Attached {
            result,
            bridge,
            pair,
        })
    }

    /// For an IPAM plugin that works on the interface itself (DHCP): the
    /// links first, the container end up, then IPAM and the gateway. The MACs
    /// stay the kernel's (or the runtime's).
    pub fn link_first(
        &self,
        ipam_type: &'a str,
        undo: &mut Undo<'a>,
    ) -> Result<Attached, CniError> {
        let bridge = link::ensure_bridge(self.host, self.conf, None)?;
        let bridge = link::switch_on(self.host, &bridge, self.conf)?;
        let pair = self.plug_veth(&bridge, self.requested_mac, undo)?;
        self.container
            .set_up(pair.peer.index, true)
            .ctx(&format!("setting {} up for IPAM", pair.peer.name))?;
        let result = self.addresses(ipam_type, undo)?;
        gateway::serve(self.host, &bridge, &result, self.conf)?;
        Ok(Attached {
            result,
            bridge,
            pair,
        })
    }

    /// The container end configured, masquerade, and the result; the ADD is
    /// kept only if all of it worked.
    pub fn finish(&self, attached: Attached, mut undo: Undo<'a>) -> Result<CniResult, CniError> {
        let Attached {
            mut result,
            bridge,
            pair,
        } = attached;
        if !self.conf.disable_container_interface {
            let dad = guards::container_sysctls(self.container, &pair.peer.name, self.conf)?;
            iface::configure(self.container, &pair.peer, &result, CONTAINER_IFACE, dad)?;
        }
        if self.conf.ip_masq {
            let (network, id) = (&self.conf.common.name, &self.args.container_id);
            masq::add(self.host, network, id, &result.ips, &mut undo)?;
        }
        // The bridge's MAC can change as ports join; report what it is now.
        // A failed read fails ADD (and undoes it) rather than report a stale MAC.
        let bridge_now = self
            .host
            .link_by_index(bridge.index)
            .ctx(&format!("looking up bridge {}", bridge.name))?;
        result.interfaces = vec![
            iface::host_interface(&bridge_now),
            iface::host_interface(&pair.local),
            iface::container_interface(&pair.peer, &self.args.netns),
        ];
        let result = add_result::finish(&self.conf.common, result)?;
        undo.commit();
        Ok(result)
    }

    /// IPAM ADD (undone if ADD fails later), gateways completed, every
    /// address on the container interface.
    fn addresses(&self, ipam_type: &'a str, undo: &mut Undo<'a>) -> Result<CniResult, CniError> {
        let mut result =
            delegate::allocate(self.ipam, ipam_type, self.args, CONTAINER_IFACE, undo)?;
        gateway::complete(&mut result, self.conf)?;
        Ok(result)
    }

    /// The veth pair, its host end a port of the bridge and up, the
    /// container end as `CNI_IFNAME`.
    fn plug_veth(
        &self,
        bridge: &LinkInfo,
        container_mac: Option<MacAddr>,
        undo: &mut Undo<'a>,
    ) -> Result<VethPair, CniError> {
        let pair = veth::create(
            self.host,
            self.args,
            self.conf.mtu,
            None,
            container_mac,
            undo,
        )?;
        let host_end = &pair.local;
        self.host
            .set_master(host_end.index, Some(bridge.index))
            .ctx(&format!(
                "attaching {} to bridge {}",
                host_end.name, bridge.name
            ))?;
        if self.conf.hairpin_mode {
            self.host
                .set_hairpin(host_end.index, true)
                .ctx(&format!("setting hairpin mode on {}", host_end.name))?;
        }
        if self.conf.port_isolation {
            self.host
                .set_port_isolated(host_end.index, true)
                .ctx(&format!("isolating bridge port {}", host_end.name))?;
        }
        if self.conf.mac_spoof_check {
            guards::add_spoof_check(self.host, self.conf, self.args, &pair, undo)?;
        }
        self.host
            .set_up(host_end.index, true)
            .ctx(&format!("setting {} up", host_end.name))?;
        Ok(pair)
    }
}
