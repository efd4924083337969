//! The bridge plugin: a veth pair per container, its host end on a bridge,
//! the container end created directly in the container namespace.

pub mod config;
mod gateway;

use crate::common::netns;
use crate::common::{delegate, iface, masq, teardown, veth, IpamDelegate, NetContext, Undo, Verb};
use cni_core::mac;
use cni_core::net::{BridgeSpec, LinkInfo, LinkKind, MacAddr, NetBackend, Netns};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
use config::BridgeConf;

/// Index of the container interface in the result (bridge, host veth, container).
const CONTAINER_IFACE: usize = 2;

pub struct Bridge<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
}

impl<'a> Bridge<'a> {
    /// IPAM ADD (undone if ADD fails later), gateways completed, every
    /// address on the container interface.
    fn addresses(
        &self,
        ipam_type: &'a str,
        args: &'a CmdArgs,
        conf: &BridgeConf,
        undo: &mut Undo<'a>,
    ) -> Result<CniResult, CniError> {
        let mut result = delegate::allocate(self.ipam, ipam_type, args, undo)?;
        gateway::complete(&mut result, conf)?;
        for ip in &mut result.ips {
            ip.interface = Some(CONTAINER_IFACE);
        }
        Ok(result)
    }
}

impl Plugin for Bridge<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = BridgeConf::parse(&args.stdin)?;
        let host = netns::host(self.backend)?;
        let container = netns::container(self.backend, &args.netns)?;
        veth::ensure_ifname_free(&*container, args)?;
        let requested_mac = conf.common.requested_mac(&args.args)?;
        let mut undo = Undo::new();

        // 1. Addresses first: the MACs of the bridge and the container derive
        // from them — unless the IPAM plugin works on the interface itself
        // (DHCP), which must then exist, up, before IPAM runs.
        let ipam_type = conf.common.ipam_type();
        let link_first = ipam_type.is_some_and(delegate::needs_interface_first);
        let mut result = match ipam_type {
            Some(t) if !link_first => self.addresses(t, args, &conf, &mut undo)?,
            _ => CniResult::default(),
        };

        // 2. The bridge.
        let gateways: Vec<_> = result.ips.iter().filter_map(|ip| ip.gateway).collect();
        let bridge_mac = if conf.is_gateway {
            mac::for_addresses(&gateways)
        } else {
            None
        };
        let br = ensure_bridge(&*host, &conf, bridge_mac, &mut undo)?;

        // 3. The bridge as gateway — before any port joins, so a clashing
        // address on an existing bridge fails ADD before anything else changed.
        gateway::serve(&*host, &br, &result, &conf, &mut undo)?;

        // 4. The veth pair: host end on the bridge, container end as CNI_IFNAME.
        let addrs: Vec<_> = result.ips.iter().map(|ip| ip.address.addr()).collect();
        let container_mac = requested_mac.or_else(|| mac::for_addresses(&addrs));
        let pair = veth::create(&*host, args, conf.mtu, None, container_mac, &mut undo)?;
        let host_veth = &pair.local;
        host.set_master(host_veth.index, Some(br.index))
            .ctx(&format!(
                "attaching {} to bridge {}",
                host_veth.name, br.name
            ))?;
        if conf.hairpin_mode {
            host.set_hairpin(host_veth.index, true)
                .ctx(&format!("setting hairpin mode on {}", host_veth.name))?;
        }
        host.set_up(host_veth.index, true)
            .ctx(&format!("setting {} up", host_veth.name))?;
        // 4b. DHCP-style IPAM, now that the interface it works on is up.
        if let (true, Some(t)) = (link_first, ipam_type) {
            container
                .set_up(pair.peer.index, true)
                .ctx(&format!("setting {} up for IPAM", pair.peer.name))?;
            result = self.addresses(t, args, &conf, &mut undo)?;
            gateway::serve(&*host, &br, &result, &conf, &mut undo)?;
        }

        // 5. The container end: addresses, up, routes.
        if !conf.disable_container_interface {
            iface::configure(&*container, &pair.peer, &result, CONTAINER_IFACE)?;
        }

        // 6. Masquerade.
        if conf.ip_masq {
            masq::add(
                &*host,
                &conf.common.name,
                &args.container_id,
                &result.ips,
                &mut undo,
            )?;
        }

        // The bridge's MAC can change as ports join; report what it is now.
        // A failed read fails ADD (and undoes it) rather than report a stale MAC.
        let br_now = host
            .link_by_index(br.index)
            .ctx(&format!("looking up bridge {}", br.name))?;
        undo.commit();
        result.interfaces = vec![
            iface::host_interface(&br_now),
            iface::host_interface(host_veth),
            iface::container_interface(&pair.peer, &args.netns),
        ];
        Ok(conf.common.finish(result))
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = BridgeConf::parse(&args.stdin)?;
        teardown::del_attachment(
            self.backend,
            self.ipam,
            args,
            &conf.common.name,
            conf.ip_masq,
            conf.common.ipam_type(),
        )
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = BridgeConf::parse(&args.stdin)?;
        let prev = conf.common.prev_result()?;
        self.ipam
            .run_if_any(Verb::Check, conf.common.ipam_type(), &args.stdin, args)?;
        let host = netns::host(self.backend)?;
        let br = host
            .link_by_name(conf.bridge_name())
            .ctx(&format!("bridge {}", conf.bridge_name()))?;
        let container = netns::container(self.backend, &args.netns)?;
        let index = prev
            .interfaces
            .iter()
            .position(|i| !i.sandbox.is_empty() && i.name == args.ifname)
            .unwrap_or(CONTAINER_IFACE);
        let link = iface::check(&*container, &args.ifname, &prev, index)?;
        let peer = link
            .peer_index
            .and_then(|i| host.link_by_index(i).ok())
            .ok_or_else(|| {
                iface::mismatch(format!("{} has no veth peer in the host", args.ifname))
            })?;
        if peer.master != Some(br.index) {
            return Err(iface::mismatch(format!(
                "host veth {} is not attached to bridge {}",
                peer.name, br.name
            )));
        }
        Ok(())
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = BridgeConf::parse(&args.stdin)?;
        self.ipam
            .run_if_any(Verb::Status, conf.common.ipam_type(), &args.stdin, args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = BridgeConf::parse(&args.stdin)?;
        if conf.ip_masq {
            masq::gc(&*netns::host(self.backend)?, &conf.common.name, &args.stdin)?;
        }
        self.ipam
            .run_if_any(Verb::Gc, conf.common.ipam_type(), &args.stdin, args)
    }

    fn about(&self) -> String {
        "CNI bridge plugin (cni-rs)".to_string()
    }
}

/// Finds or creates the bridge and brings it up. A bridge we create is removed
/// again if ADD fails while it has no ports.
fn ensure_bridge<'a>(
    host: &'a dyn Netns,
    conf: &BridgeConf,
    mac: Option<MacAddr>,
    undo: &mut Undo<'a>,
) -> Result<LinkInfo, CniError> {
    let name = conf.bridge_name();
    let mut created = false;
    let br = match host.link_by_name(name) {
        Ok(existing) => existing,
        Err(e) if e.is_not_found() => {
            let spec = BridgeSpec {
                name: name.to_string(),
                mtu: conf.mtu,
                mac,
                ..Default::default()
            };
            match host.create_bridge(&spec) {
                Ok(new) => {
                    created = true;
                    let index = new.index;
                    undo.push(format!("bridge {name}"), move || {
                        delete_if_portless(host, index)
                    });
                    new
                }
                // Another ADD created it between our look-up and our create.
                Err(e) if e.is_exists() => host
                    .link_by_name(name)
                    .ctx(&format!("looking up bridge {name}"))?,
                Err(e) => {
                    return Err(crate::common::net_err(
                        &format!("creating bridge {name}"),
                        e,
                    ))
                }
            }
        }
        Err(e) => {
            return Err(crate::common::net_err(
                &format!("looking up bridge {name}"),
                e,
            ))
        }
    };
    if br.kind != LinkKind::Bridge {
        return Err(CniError::invalid_config(format!(
            "bridge: {name} already exists but is not a bridge ({:?})",
            br.kind
        )));
    }
    // An existing bridge we change is changed back if ADD fails (one we
    // created is deleted instead).
    let index = br.index;
    if conf.promisc_mode && !br.promisc {
        host.set_promisc(index, true)
            .ctx(&format!("setting {name} promiscuous"))?;
        if !created {
            undo.push(format!("promisc on {name}"), move || {
                host.set_promisc(index, false).map_err(|e| e.to_string())
            });
        }
    }
    if !br.up {
        host.set_up(index, true)
            .ctx(&format!("setting bridge {name} up"))?;
        if !created {
            undo.push(format!("bridge {name} up"), move || {
                host.set_up(index, false).map_err(|e| e.to_string())
            });
        }
    }
    host.link_by_index(br.index)
        .ctx(&format!("looking up bridge {name}"))
}

fn delete_if_portless(host: &dyn Netns, index: u32) -> Result<(), String> {
    let links = host.links().map_err(|e| e.to_string())?;
    if links.iter().any(|l| l.master == Some(index)) {
        return Ok(());
    }
    host.delete_link(index).map_err(|e| e.to_string())
}
