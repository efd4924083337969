//! The dummy plugin: a dummy link (it drops what it is sent) made in the
//! container as `CNI_IFNAME`, with IPAM's addresses and routes: an address
//! a container holds without a network behind it. As the reference, it
//! requires IPAM and at least one address. Its MAC is ours to choose: the
//! project's deterministic one from the first address (`cni_core::mac`),
//! unless the IPAM plugin works on the interface (DHCP), which then comes
//! first and keeps the kernel's.

use crate::common::{add_result, container_link, delegate, iface, netns};
use crate::common::{Attachment, CommonConf, DelConf, IpamDelegate, NetContext, Undo};
use cni_core::mac;
use cni_core::net::{DummySpec, LinkKind, NetBackend};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};

/// The dummy link is the result's only interface.
const CONTAINER_IFACE: usize = 0;

pub struct Dummy<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
}

/// The config, with the IPAM plugin the reference requires.
fn parse(stdin: &[u8]) -> Result<(CommonConf, String), CniError> {
    let conf = crate::common::conf::parse(stdin)?;
    let ipam = conf.ipam_type().map(str::to_string).ok_or_else(|| {
        CniError::invalid_config(
            "ipam.type: required (a dummy interface gets its addresses from IPAM)",
        )
    })?;
    Ok((conf, ipam))
}

impl Dummy<'_> {
    fn attachment<'c>(&'c self, conf: &'c CommonConf) -> Attachment<'c> {
        Attachment::new(self.backend, self.ipam, conf, false)
    }
}

impl Plugin for Dummy<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let (conf, ipam_type) = parse(&args.stdin)?;
        let container = netns::container(self.backend, &args.netns)?;
        container_link::ensure_free(&*container, args)?;
        let mut undo = Undo::new();

        let link_first = delegate::needs_interface_first(&ipam_type);
        let mut result = if link_first {
            CniResult::default()
        } else {
            delegate::allocate(self.ipam, &ipam_type, args, CONTAINER_IFACE, &mut undo)?
        };
        let addrs: Vec<_> = result.ips.iter().map(|ip| ip.address.addr()).collect();
        let spec = DummySpec {
            name: args.ifname.clone(),
            mac: mac::for_addresses(&addrs),
            txqueuelen: None,
        };
        let link = container
            .create_dummy(&spec)
            .ctx(&format!("creating dummy {} in {}", spec.name, args.netns))?;
        let (index, container_ns) = (link.index, &*container);
        undo.push(format!("dummy {}", link.name), move || {
            container_ns.delete_link(index)
        });
        if link_first {
            container
                .set_up(link.index, true)
                .ctx(&format!("setting {} up for IPAM", link.name))?;
            result = delegate::allocate(self.ipam, &ipam_type, args, CONTAINER_IFACE, &mut undo)?;
        }
        if result.ips.is_empty() {
            return Err(CniError::decode("IPAM plugin returned no IP configuration"));
        }
        let result =
            add_result::single_container_interface(&conf, &*container, &link, result, &args.netns)?;
        undo.commit();
        Ok(result)
    }

    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = DelConf::parse(&args.stdin, &[])?;
        self.attachment(&conf.common).del(args)
    }

    /// Besides the shared checks (IPAM, addresses, routes, up, MAC): still a
    /// dummy.
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let (conf, _) = parse(&args.stdin)?;
        let link = self.attachment(&conf).check(args, CONTAINER_IFACE)?;
        if link.kind != LinkKind::Dummy {
            return Err(iface::mismatch(format!(
                "{} is a {:?}, not a dummy",
                args.ifname, link.kind
            )));
        }
        Ok(())
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&parse(&args.stdin)?.0).status(args)
    }

    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&parse(&args.stdin)?.0).gc(args)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("dummy plugin")
    }
}
