//! Persistent tap devices. The tun driver has no RTM_NEWLINK for a tap that
//! outlives its creator, so it is made as `ip tuntap add` makes it: on a
//! fresh thread inside the namespace, `/dev/net/tun` is opened, `TUNSETIFF`
//! names it (with IFF_TUN_EXCL: a device of that name is `Exists`, never
//! attached to), `TUNSETOWNER`/`TUNSETGROUP` as asked, `TUNSETPERSIST`
//! last; the descriptor is closed. Until `TUNSETPERSIST` the device goes
//! with the descriptor, so a failed step leaves nothing. MTU, MAC and queue
//! length follow over netlink, and a failure there deletes the tap again.

use crate::error::{errno_error, io_error};
use crate::netlink::{validate_ifname, Rtnl};
use crate::netns::{run_in, InNetns};
use cni_core::net::{LinkInfo, NetError, NetResult, TapSpec};
use nix::errno::Errno;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

const TUN_DEVICE: &str = "/dev/net/tun";
/// IFF_TUN_EXCL: TUNSETIFF fails with EBUSY when the name is taken.
const IFF_TUN_EXCL: u16 = 0x8000;

/// `struct ifreq` as TUNSETIFF reads it: the name, then the flags (the
/// union's first member); 40 bytes on every Linux ABI.
#[repr(C)]
struct IfReqFlags {
    name: [u8; libc::IFNAMSIZ],
    flags: u16,
    _pad: [u8; 22],
}

/// The TUNSETIFF flags of `spec`.
pub fn tun_flags(spec: &TapSpec) -> u16 {
    let mut flags = libc::IFF_TAP as u16 | IFF_TUN_EXCL;
    if spec.no_pi {
        flags |= libc::IFF_NO_PI as u16;
    }
    if spec.vnet_hdr {
        flags |= libc::IFF_VNET_HDR as u16;
    }
    if spec.multi_queue {
        flags |= libc::IFF_MULTI_QUEUE as u16;
    }
    flags
}

/// Creates the tap in `ns` and configures it over `rtnl` (a socket of `ns`).
pub fn create(ns: &InNetns, rtnl: &Rtnl, spec: &TapSpec) -> NetResult<LinkInfo> {
    validate_ifname(&spec.name)?;
    let where_ = ns.file().path().display().to_string();
    if spec.selinux_context.is_some() {
        // The context stays with the thread that takes it: a throw-away one.
        run_in(ns.file(), || make_persistent(spec, &where_))??;
    } else {
        let owned = spec.clone();
        ns.run(move || make_persistent(&owned, &where_))??;
    }
    let link = rtnl.created(&spec.name)?;
    configure(rtnl, spec, &link).inspect_err(|_| {
        if let Err(e) = rtnl.delete_link(link.index) {
            tracing::warn!("removing tap {} after a failed step: {e}", spec.name);
        }
    })?;
    rtnl.link_by_index(link.index)
}

fn configure(rtnl: &Rtnl, spec: &TapSpec, link: &LinkInfo) -> NetResult<()> {
    if let Some(mtu) = spec.mtu {
        rtnl.set_mtu(link.index, mtu)?;
    }
    if let Some(mac) = spec.mac {
        rtnl.set_mac(link.index, mac)?;
    }
    rtnl.set_txqueuelen(link.index, crate::netlink::txqlen(spec.txqueuelen))
}

/// Runs on a thread of its own inside the namespace (it may take an SELinux
/// context, which must not outlive this one device).
fn make_persistent(spec: &TapSpec, ns: &str) -> NetResult<()> {
    let what = |step: &str| format!("{step} for tap {} in netns {ns}", spec.name);
    if let Some(ctx) = &spec.selinux_context {
        set_thread_selinux_context(ctx).map_err(|e| {
            let err = io_error(what(&format!("set SELinux context {ctx:?}")), &e);
            NetError::new(
                err.kind,
                format!("{} (is SELinux enabled, and the context valid?)", err.msg),
            )
        })?;
    }
    let tun = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(TUN_DEVICE)
        .map_err(|e| io_error(what(&format!("open {TUN_DEVICE}")), &e))?;
    let fd = tun.as_raw_fd();
    let mut req = IfReqFlags {
        name: [0; libc::IFNAMSIZ],
        flags: tun_flags(spec),
        _pad: [0; 22],
    };
    req.name[..spec.name.len()].copy_from_slice(spec.name.as_bytes());
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which `req` is
    // (repr(C), 40 bytes, name NUL-terminated: validated names are < 16 bytes).
    let rc = unsafe { libc::ioctl(fd, libc::TUNSETIFF, &mut req as *mut IfReqFlags) };
    if rc < 0 {
        return Err(match Errno::last() {
            Errno::EBUSY => NetError::exists(format!(
                "{}: a link of that name already exists",
                what("TUNSETIFF")
            )),
            e => errno_error(what("TUNSETIFF"), e, None),
        });
    }
    for (request, id, name) in [
        (libc::TUNSETOWNER, spec.owner, "TUNSETOWNER"),
        (libc::TUNSETGROUP, spec.group, "TUNSETGROUP"),
    ] {
        if let Some(id) = id {
            // SAFETY: both take the id as the argument value, no pointer.
            if unsafe { libc::ioctl(fd, request, libc::c_ulong::from(id)) } < 0 {
                return Err(errno_error(
                    what(&format!("{name} {id}")),
                    Errno::last(),
                    None,
                ));
            }
        }
    }
    // SAFETY: TUNSETPERSIST takes a flag as the argument value.
    if unsafe { libc::ioctl(fd, libc::TUNSETPERSIST, 1 as libc::c_ulong) } < 0 {
        return Err(errno_error(what("TUNSETPERSIST"), Errno::last(), None));
    }
    Ok(())
}

/// The kernel labels a tun device with its creator's context: this thread
/// takes `ctx` (`/proc/thread-self/attr/current`). Without SELinux the
/// write fails with EINVAL.
fn set_thread_selinux_context(ctx: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .open("/proc/thread-self/attr/current")?;
    f.write_all(ctx.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_tap_excl_and_what_the_spec_asks() {
        let mut spec = TapSpec {
            name: "t".into(),
            ..TapSpec::default()
        };
        assert_eq!(tun_flags(&spec), 0x0002 | 0x8000);
        spec.no_pi = true;
        spec.multi_queue = true;
        assert_eq!(tun_flags(&spec), 0x0002 | 0x8000 | 0x1000 | 0x0100);
        spec.vnet_hdr = true;
        assert_eq!(tun_flags(&spec) & 0x4000, 0x4000);
    }

    #[test]
    fn the_request_is_a_40_byte_ifreq() {
        assert_eq!(
            std::mem::size_of::<IfReqFlags>(),
            std::mem::size_of::<libc::ifreq>()
        );
    }
}
