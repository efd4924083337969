//! The ptp plugin: a veth pair, host end in the host with the gateway address
//! as /32 (/128), and container routes that send everything through it.

use crate::common::{add_result, container_link, delegate, iface, masq, netns, sysctl, veth};
use crate::common::{Attachment, DelConf, IpamDelegate, NetContext, Undo};
use cni_core::mac;
use cni_core::net::{AddressSpec, LinkInfo, NetBackend, Netns, RouteScope, RouteSpec};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::spec::IpConfig;
use cni_core::{CniError, CniResult};
use ipnet::IpNet;
pub mod config;

pub use config::PtpConf;

/// Index of the container interface in the result (host veth, container).
const CONTAINER_IFACE: usize = 1;

pub struct Ptp<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
}

impl Ptp<'_> {
    fn attachment<'c>(&'c self, conf: &'c PtpConf) -> Attachment<'c> {
        Attachment::new(self.backend, self.ipam, &conf.common, conf.ip_masq)
    }

    /// IPAM ADD; every address needs a gateway, which the host end will hold.
    fn addresses<'a>(
        &'a self,
        conf: &'a PtpConf,
        args: &'a CmdArgs,
        undo: &mut Undo<'a>,
    ) -> Result<CniResult, CniError> {
        let result = delegate::allocate(self.ipam, conf.ipam_type(), args, CONTAINER_IFACE, undo)?;
        if result.ips.is_empty() {
            return Err(CniError::decode("IPAM plugin returned no IP configuration"));
        }
        if let Some(ip) = result.ips.iter().find(|ip| ip.gateway.is_none()) {
            return Err(CniError::invalid_config(format!(
                "ipam: address {} has no gateway; ptp routes through it",
                ip.address
            )));
        }
        Ok(result)
    }
}

impl Plugin for Ptp<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = PtpConf::parse(&args.stdin)?;
        let host = netns::host(self.backend)?;
        let container = netns::container(self.backend, &args.netns)?;
        container_link::ensure_free(&*container, args)?;
        let requested_mac = conf.requested_mac(&args.args);
        let mut undo = Undo::new();

        // 1. Addresses (ptp always has IPAM: its config refuses none), forwarding.
        let mut result = self.addresses(&conf, args, &mut undo)?;
        let v4 = result.ips.iter().any(|ip| ip.address.addr().is_ipv4());
        let v6 = result.ips.iter().any(|ip| ip.address.addr().is_ipv6());
        sysctl::enable_forwarding(&*host, v4, v6)?;

        // 2. The pair, with MACs derived from each end's address.
        let addrs: Vec<_> = result.ips.iter().map(|ip| ip.address.addr()).collect();
        let gateways: Vec<_> = result.ips.iter().filter_map(|ip| ip.gateway).collect();
        let container_mac = requested_mac.or_else(|| mac::for_addresses(&addrs));
        let pair = veth::create(
            &*host,
            args,
            conf.mtu,
            mac::for_addresses(&gateways),
            container_mac,
            &mut undo,
        )?;

        // 3. The container end: everything, even its own subnet, via the gateway.
        configure_container(&*container, &pair.peer, &result)?;

        // 4. The host end: the gateway address and a host route to the container.
        configure_host(&*host, &pair.local, &result.ips)?;

        if conf.ip_masq {
            masq::add(
                &*host,
                &conf.common.name,
                &args.container_id,
                &result.ips,
                &mut undo,
            )?;
        }

        result.interfaces = vec![
            iface::host_interface(&pair.local),
            iface::container_interface(&pair.peer, &args.netns),
        ];
        let result = add_result::finish(&conf.common, result)?;
        undo.commit();
        Ok(result)
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = DelConf::parse(&args.stdin, &["ipMasq"])?;
        Attachment::new(self.backend, self.ipam, &conf.common, conf.flag("ipMasq")).del(args)
    }

    /// Besides the shared checks: the host end is still there.
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = PtpConf::parse(&args.stdin)?;
        let link = self.attachment(&conf).check(args, CONTAINER_IFACE)?;
        veth::host_peer(&*netns::host(self.backend)?, &link).map(drop)
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&PtpConf::parse(&args.stdin)?).status(args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&PtpConf::parse(&args.stdin)?).gc(args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("ptp plugin")
    }
}

/// Addresses and up as usual; then the kernel's on-link subnet route is
/// replaced by a host route to the gateway plus the subnet via the gateway, so
/// all traffic goes through the host end (as the reference does).
fn configure_container(
    ns: &dyn Netns,
    link: &LinkInfo,
    result: &CniResult,
) -> Result<(), CniError> {
    iface::add_addresses_and_up(ns, link, result, CONTAINER_IFACE, iface::Dad::Skip)?;
    for ip in &result.ips {
        let Some(gw) = ip.gateway else { continue };
        let subnet = ip.address.trunc();
        let mut on_link = RouteSpec::new(subnet).dev(link.index);
        on_link.scope = RouteScope::Link;
        ns.del_route(&on_link).ctx(&format!(
            "removing on-link route {subnet} from {}",
            link.name
        ))?;
        let mut to_gw = RouteSpec::new(host_net(gw))
            .dev(link.index)
            .scope(RouteScope::Link);
        to_gw.src = Some(ip.address.addr());
        ns.add_route(&to_gw)
            .ctx(&format!("adding route to gateway {gw} on {}", link.name))?;
        let mut via_gw = RouteSpec::new(subnet).via(gw).dev(link.index);
        via_gw.src = Some(ip.address.addr());
        ns.add_route(&via_gw)
            .ctx(&format!("adding route {subnet} via {gw} on {}", link.name))?;
    }
    iface::add_routes(ns, link, result, CONTAINER_IFACE)
}

/// The host end holds each gateway once (two addresses may share one) and a
/// host route to each container address. The link was just created, so
/// anything already there is an inconsistency, not something to skip.
fn configure_host(host: &dyn Netns, link: &LinkInfo, ips: &[IpConfig]) -> Result<(), CniError> {
    host.set_up(link.index, true)
        .ctx(&format!("setting {} up", link.name))?;
    let mut gateways_added = Vec::new();
    for ip in ips {
        let Some(gw) = ip.gateway else { continue };
        let gw_addr = host_net(gw);
        if !gateways_added.contains(&gw_addr) {
            let spec = AddressSpec {
                addr: gw_addr,
                nodad: gw.is_ipv6(),
            };
            host.add_address(link.index, &spec).ctx(&format!(
                "adding gateway address {gw_addr} to {}",
                link.name
            ))?;
            gateways_added.push(gw_addr);
        }
        let to_container = RouteSpec::new(host_net(ip.address.addr()))
            .dev(link.index)
            .scope(RouteScope::Host);
        host.add_route(&to_container).ctx(&format!(
            "adding host route to {} via {}",
            ip.address.addr(),
            link.name
        ))?;
    }
    Ok(())
}

fn host_net(ip: std::net::IpAddr) -> IpNet {
    IpNet::from(ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cni_core::net::{MockNetns, NetResult};
    use mockall::{predicate::*, Sequence};

    fn link() -> LinkInfo {
        LinkInfo {
            index: 7,
            name: "eth0".into(),
            kind: cni_core::net::LinkKind::Veth,
            mac: Default::default(),
            mtu: 1500,
            txqueuelen: 1000,
            up: false,
            oper_up: false,
            promisc: false,
            allmulti: false,
            master: None,
            peer_index: Some(3),
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
        }
    }

    /// The container ends up with: address, link up, the on-link subnet route
    /// removed, a link-scope route to the gateway, the subnet via the gateway,
    /// then the IPAM routes — in that order, since each needs the one before.
    #[test]
    fn container_routes_go_through_the_gateway_in_order() {
        let result: CniResult = serde_json::from_value(serde_json::json!({
            "cniVersion": "1.0.0",
            "ips": [{"address": "10.1.0.5/24", "gateway": "10.1.0.1", "interface": 1}],
            "routes": [{"dst": "0.0.0.0/0"}]
        }))
        .unwrap();
        let mut ns = MockNetns::new();
        let mut seq = Sequence::new();
        let ok = |_: &RouteSpec| -> NetResult<()> { Ok(()) };
        ns.expect_add_address()
            .withf(|i, a| *i == 7 && a.addr.to_string() == "10.1.0.5/24")
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        ns.expect_set_up()
            .with(eq(7), eq(true))
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _| Ok(()));
        ns.expect_del_route()
            .withf(|r| {
                r.dst.to_string() == "10.1.0.0/24"
                    && r.gateway.is_none()
                    && r.scope == RouteScope::Link
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(ok);
        ns.expect_add_route()
            .withf(|r| {
                r.dst.to_string() == "10.1.0.1/32"
                    && r.scope == RouteScope::Link
                    && r.oif == Some(7)
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(ok);
        ns.expect_add_route()
            .withf(|r| {
                r.dst.to_string() == "10.1.0.0/24" && r.gateway == Some("10.1.0.1".parse().unwrap())
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(ok);
        ns.expect_add_route()
            .withf(|r| {
                r.dst.to_string() == "0.0.0.0/0" && r.gateway == Some("10.1.0.1".parse().unwrap())
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(ok);
        configure_container(&ns, &link(), &result).unwrap();
    }
}
