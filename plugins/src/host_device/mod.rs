//! The host-device plugin: moves an existing host interface into the
//! container as `CNI_IFNAME`, and back on DEL under its own name, with the
//! addresses and up state it had in the host.
//!
//! As the reference does, the device's host name goes into its alias
//! (IFLA_IFALIAS), so either implementation's DEL can take it back. Ours
//! also saves the device's host state under `dataDir` (`saved`): a link
//! moved to another namespace loses its addresses and routes, and DEL puts
//! them back (`restore`). GC removes the saved state of attachments that
//! are no longer valid (`gc`).

pub mod config;
mod gc;
mod restore;
pub mod saved;
pub mod sysfs;

pub use config::HostDeviceConf;

use crate::common::attachment::FirstError;
use crate::common::{add_result, container_link, delegate, netns, state_file};
use crate::common::{AbsentOk, Attachment, DelConf, IpamDelegate, NetContext, Undo, Verb};
use cni_core::fsio::{FileOps, RealFs};
use cni_core::net::{LinkInfo, LinkKind, NetBackend, Netns, NsRef};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};
use config::Selector;
use restore::{move_out, restore};
use saved::HostState;
use std::path::Path;

/// The device is the result's only interface.
const CONTAINER_IFACE: usize = 0;

pub struct HostDevice<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
    /// Every file under `dataDir` goes through this.
    pub fs: &'a dyn FileOps,
    /// The sysfs root `kernelpath` and `pciBusID` are looked up under: `/sys`.
    pub sys: &'a Path,
}

impl<'a> HostDevice<'a> {
    /// On the real file system and sysfs.
    pub fn new(backend: &'a dyn NetBackend, ipam: &'a dyn IpamDelegate) -> Self {
        HostDevice {
            backend,
            ipam,
            fs: &RealFs,
            sys: Path::new("/sys"),
        }
    }

    fn attachment<'c>(&'c self, conf: &'c HostDeviceConf) -> Attachment<'c> {
        Attachment::new(self.backend, self.ipam, &conf.common, false)
    }

    /// The host link the selector names.
    fn find(&self, host: &dyn Netns, selector: &Selector) -> Result<LinkInfo, CniError> {
        let named = |field: &str, name: &str| {
            host.link_by_name(name)
                .absent_ok(&format!("looking up {name}"))?
                .ok_or_else(|| {
                    CniError::invalid_config(format!("{field}: no link {name} in the host"))
                })
        };
        match selector {
            Selector::Name(name) => named("device", name),
            Selector::Mac(mac) => host
                .links()
                .ctx("listing links")?
                .into_iter()
                .find(|l| l.mac == *mac && l.kind != LinkKind::Loopback)
                .ok_or_else(|| {
                    CniError::invalid_config(format!("hwaddr: no link with MAC {mac} in the host"))
                }),
            Selector::KernelPath(path) => {
                let names = sysfs::kernel_path_interfaces(self.sys, path)?;
                let links = host.links().ctx("listing links")?;
                names
                    .iter()
                    .find_map(|n| links.iter().find(|l| &l.name == n))
                    .cloned()
                    .ok_or_else(|| {
                        CniError::invalid_config(format!(
                            "kernelpath: none of {names:?} under {} is a link in the host",
                            path.display()
                        ))
                    })
            }
            Selector::Pci(pci) => {
                let names = sysfs::pci_interfaces(self.sys, pci)?;
                let first = names.first().ok_or_else(|| {
                    CniError::invalid_config(format!(
                        "pciBusID: PCI device {pci} has no network interface"
                    ))
                })?;
                named("pciBusID", first)
            }
        }
    }

    /// A PCI function bound to a user-space (DPDK) driver has no interface
    /// to move: only its addresses are allocated, on no interface.
    fn add_dpdk(&self, conf: &HostDeviceConf, args: &CmdArgs) -> Result<CniResult, CniError> {
        netns::container(self.backend, &args.netns)?;
        let mut undo = Undo::new();
        let mut result = match conf.common.ipam_type() {
            Some(t) => delegate::allocate(self.ipam, t, args, CONTAINER_IFACE, &mut undo)?,
            None => CniResult::default(),
        };
        for ip in &mut result.ips {
            ip.interface = None;
        }
        let result = add_result::finish(&conf.common, result)?;
        undo.commit();
        Ok(result)
    }

    /// DEL's main step: the device back in the host as it was there, the
    /// saved state gone. Finishes what an interrupted DEL left: a device
    /// already renamed back in the container, or one already in the host
    /// whose addresses are not back yet.
    fn give_back(&self, args: &CmdArgs, data_dir: &Path, network: &str) -> Result<(), CniError> {
        let file = state_file::path(data_dir, &args.container_id, &args.ifname);
        let state = saved::read(self.fs, &file).unwrap_or_else(|reason| {
            tracing::warn!("{reason}; going by the device's alias");
            None
        });
        let host = netns::host(self.backend)?;
        let container = netns::container_if_present(self.backend, &args.netns)?;
        let in_container = match &container {
            Some(c) => in_container(&**c, &args.ifname, state.as_ref())?,
            None => None,
        };
        match (container, in_container) {
            (Some(container), Some(link)) => {
                let state = state
                    .or_else(|| {
                        // The reference's way: name and alias both the alias.
                        link.alias.clone().map(|name| HostState {
                            network: network.to_string(),
                            alias: Some(name.clone()),
                            name,
                            up: false,
                            addresses: Vec::new(),
                            routes: Vec::new(),
                        })
                    })
                    .ok_or_else(|| {
                        CniError::io(format!(
                            "{} in {}: no saved host state and no alias naming its host device",
                            link.name, args.netns
                        ))
                    })?;
                move_out(&*container, &*host, link.index, &state)?;
            }
            // Already out (or its namespace is gone, and with it a virtual
            // device; a physical one returns to the host by itself).
            _ => {
                if let Some(state) = &state {
                    let home = host
                        .link_by_name(&state.name)
                        .absent_ok(&format!("looking up {}", state.name))?;
                    if let Some(link) = home {
                        restore(&*host, &link, state)?;
                    }
                }
            }
        }
        state_file::remove(self.fs, data_dir, &file)
    }
}

impl Plugin for HostDevice<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = HostDeviceConf::parse(&args.stdin)?;
        if let Selector::Pci(pci) = &conf.selector {
            if sysfs::has_userspace_driver(self.sys, pci)? {
                return self.add_dpdk(&conf, args);
            }
        }
        let host = netns::host(self.backend)?;
        let container = netns::container(self.backend, &args.netns)?;
        container_link::ensure_free(&*container, args)?;
        let device = self.find(&*host, &conf.selector)?;

        // 1. What the host loses with the device, saved for DEL.
        let addresses = host
            .addresses(Some(device.index))
            .ctx(&format!("listing addresses of {}", device.name))?;
        let routes = host.routes().ctx("listing the host's routes")?;
        let state = HostState::of(&conf.common.name, &device, &addresses, &routes);
        let file = state_file::path(&conf.data_dir, &args.container_id, &args.ifname);
        let mut undo = Undo::new();
        saved::write(self.fs, &conf.data_dir, &file, &state)?;
        undo.push(format!("saved state {}", file.display()), || {
            state_file::remove(self.fs, &conf.data_dir, &file)
        });

        // 2. Into the container as CNI_IFNAME, its host name in its alias.
        let link = move_in(&*host, &*container, &device, args, &state, &mut undo)?;

        // 3. Addresses (DHCP works on the interface, so it is up first), up, routes.
        let result = match conf.common.ipam_type() {
            Some(t) => {
                if delegate::needs_interface_first(t) {
                    container
                        .set_up(link.index, true)
                        .ctx(&format!("setting {} up for IPAM", link.name))?;
                }
                let result = delegate::allocate(self.ipam, t, args, CONTAINER_IFACE, &mut undo)?;
                if result.ips.is_empty() {
                    return Err(CniError::decode("IPAM plugin returned no IP configuration"));
                }
                result
            }
            None => CniResult::default(),
        };
        let result = add_result::single_container_interface(
            &conf.common,
            &*container,
            &link,
            result,
            &args.netns,
        )?;
        undo.commit();
        Ok(result)
    }

    /// IPAM released and the device given back; every step runs, the first
    /// error is reported. Only `dataDir` and `ipam` are read from the config.
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = DelConf::parse(&args.stdin, &[])?;
        let data_dir = config::data_dir(&conf.common.fields())?;
        let ipam_type = conf.common.ipam_type();
        let release_first = ipam_type.is_some_and(delegate::needs_interface_first);
        let mut outcome = FirstError::default();
        let release = || {
            self.ipam
                .run_if_any(Verb::Del, ipam_type, &args.stdin, args)
        };
        if release_first {
            outcome.note(release());
        }
        outcome.note(self.give_back(args, &data_dir, &conf.common.name));
        if !release_first {
            outcome.note(release());
        }
        outcome.into_result()
    }

    /// The shared checks: IPAM, and the device's MAC, addresses and routes
    /// against `prevResult`.
    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = HostDeviceConf::parse(&args.stdin)?;
        self.attachment(&conf)
            .check(args, CONTAINER_IFACE)
            .map(drop)
    }

    fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.attachment(&HostDeviceConf::parse(&args.stdin)?)
            .status(args)
    }

    /// The saved state of attachments no longer valid, then IPAM's GC.
    fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = HostDeviceConf::parse(&args.stdin)?;
        let stale = gc::remove_stale_states(self.fs, &conf);
        let ipam = self.attachment(&conf).gc(args);
        stale.and(ipam)
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("host-device plugin")
    }
}

/// The device in the container: `CNI_IFNAME`, or, after a DEL that stopped
/// between renaming it back and moving it out, its host name.
fn in_container(
    container: &dyn Netns,
    ifname: &str,
    state: Option<&HostState>,
) -> Result<Option<LinkInfo>, CniError> {
    let found = container
        .link_by_name(ifname)
        .absent_ok(&format!("looking up {ifname}"))?;
    match (found, state) {
        (Some(link), _) => Ok(Some(link)),
        (None, Some(state)) => container
            .link_by_name(&state.name)
            .absent_ok(&format!("looking up {}", state.name)),
        (None, None) => Ok(None),
    }
}

/// Moves the device into the container (the kernel takes it down and drops
/// its addresses), records its host name in its alias and names it
/// `CNI_IFNAME`. The undo takes it back as DEL does.
fn move_in<'a>(
    host: &'a dyn Netns,
    container: &'a dyn Netns,
    device: &LinkInfo,
    args: &CmdArgs,
    state: &'a HostState,
    undo: &mut Undo<'a>,
) -> Result<LinkInfo, CniError> {
    let moved = host
        .move_to(device.index, &NsRef::path(&args.netns))
        .ctx(&format!("moving {} into {}", device.name, args.netns))?;
    let index = moved.index;
    undo.push(
        format!("moving {} back to the host", device.name),
        move || move_out(container, host, index, state),
    );
    container
        .set_alias(index, &device.name)
        .ctx(&format!("setting the alias of {} to its name", device.name))?;
    container
        .rename(index, &args.ifname)
        .ctx(&format!("renaming {} to {}", device.name, args.ifname))?;
    container
        .link_by_index(index)
        .ctx(&format!("looking up {}", args.ifname))
}
