//! An attachment's view of its container: the interface (index, MAC), the
//! DHCP client sockets bound to it and a link-event watch, all created
//! inside the container's namespace on a thread of their own (the daemon's
//! threads never change namespace). A socket keeps the namespace it was made
//! in, so the daemon then uses them from anywhere.

use cni_backend_linux::netns::{run_in, NetnsFile};
use futures::channel::mpsc::UnboundedReceiver;
use nix::sys::socket::{self, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn, SockaddrIn6};
use rtnetlink::packet_core::NetlinkMessage;
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::proto::Connection;
use rtnetlink::sys::SocketAddr;
use std::ffi::OsString;
use std::io;
use std::net::{Ipv6Addr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::OwnedFd;

pub const CLIENT_PORT_V4: u16 = 68;
pub const SERVER_PORT_V4: u16 = 67;
pub const CLIENT_PORT_V6: u16 = 546;
pub const SERVER_PORT_V6: u16 = 547;

/// `ff02::1:2`: every DHCPv6 relay agent and server on the link.
pub const ALL_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);

pub type LinkEvents = UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>;

/// The interface as found in its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    pub index: u32,
    pub hwaddr: [u8; 6],
}

/// Everything an attachment needs from its namespace, made there.
pub struct Endpoint {
    pub interface: Interface,
    pub v4: Option<UdpSocket>,
    pub v6: Option<UdpSocket>,
    /// Link and IPv6 address events of the namespace: drive `connection`,
    /// read `events`.
    pub connection: Connection<RouteNetlinkMessage>,
    pub events: LinkEvents,
}

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("network namespace {path}: {reason}")]
    Netns { path: String, reason: String },
    #[error("interface {ifname} not found in {netns}")]
    NoInterface { ifname: String, netns: String },
    #[error("{what} on {ifname}: {source}")]
    Io {
        what: &'static str,
        ifname: String,
        source: io::Error,
    },
}

/// Opens `netns` and makes the endpoint for `ifname` in it. Must run inside
/// the tokio runtime (the link-event socket registers with its reactor).
pub fn open(netns: &str, ifname: &str, v4: bool, v6: bool) -> Result<Endpoint, EndpointError> {
    let ns = NetnsFile::open(netns).map_err(|e| EndpointError::Netns {
        path: netns.to_string(),
        reason: e.to_string(),
    })?;
    let runtime = tokio::runtime::Handle::current();
    let made = run_in(&ns, || {
        let _in_runtime = runtime.enter();
        make(netns, ifname, v4, v6)
    });
    made.map_err(|e| EndpointError::Netns {
        path: netns.to_string(),
        reason: e.to_string(),
    })?
}

/// Whether `netns` names the same namespace it did: a namespace file that
/// is gone or now names another namespace ends the attachment's leases.
pub fn netns_id(netns: &str) -> Option<(u64, u64)> {
    NetnsFile::open(netns).ok()?.id().ok()
}

fn make(netns: &str, ifname: &str, v4: bool, v6: bool) -> Result<Endpoint, EndpointError> {
    let io_err = |what: &'static str| {
        move |source: io::Error| EndpointError::Io {
            what,
            ifname: ifname.to_string(),
            source,
        }
    };
    let interface = find_interface(ifname).ok_or_else(|| EndpointError::NoInterface {
        ifname: ifname.to_string(),
        netns: netns.to_string(),
    })?;
    // Every attachment of a namespace hears every event of it: only the
    // groups this one needs (IPv6 addresses only for DHCPv6).
    let groups: &[rtnetlink::MulticastGroup] = if v6 {
        &[
            rtnetlink::MulticastGroup::Link,
            rtnetlink::MulticastGroup::Ipv6Ifaddr,
        ]
    } else {
        &[rtnetlink::MulticastGroup::Link]
    };
    let (connection, _handle, events) =
        rtnetlink::new_multicast_connection(groups).map_err(io_err("watch link events"))?;
    let v4 = v4
        .then(|| client_socket(ifname, AddressFamily::Inet))
        .transpose()
        .map_err(io_err("DHCPv4 client socket (port 68)"))?;
    let v6 = v6
        .then(|| client_socket(ifname, AddressFamily::Inet6))
        .transpose()
        .map_err(io_err("DHCPv6 client socket (port 546)"))?;
    Ok(Endpoint {
        interface,
        v4,
        v6,
        connection,
        events,
    })
}

/// The interface's index and MAC, asked of the kernel by name (one ioctl
/// each: a namespace may hold many interfaces, which a full dump would list).
fn find_interface(ifname: &str) -> Option<Interface> {
    let index = nix::net::if_::if_nametoindex(ifname).ok()?;
    Some(Interface {
        index,
        hwaddr: hardware_address(ifname).unwrap_or_default(),
    })
}

fn hardware_address(ifname: &str) -> Option<[u8; 6]> {
    let socket: OwnedFd = socket::socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .ok()?;
    // SAFETY: ifreq is plain old data; zeroed is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    let name = ifname.as_bytes();
    if name.len() >= request.ifr_name.len() {
        return None;
    }
    for (dst, src) in request.ifr_name.iter_mut().zip(name) {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFHWADDR reads ifr_name and writes ifr_hwaddr of the
    // ifreq we own; the descriptor is a valid socket.
    let rc = unsafe {
        libc::ioctl(
            std::os::fd::AsRawFd::as_raw_fd(&socket),
            // `as _`: the request type is c_ulong on glibc, c_int on musl.
            libc::SIOCGIFHWADDR as _,
            &mut request,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: after SIOCGIFHWADDR the union holds ifr_hwaddr.
    let data = unsafe { request.ifr_ifru.ifru_hwaddr.sa_data };
    let mut mac = [0u8; 6];
    for (dst, src) in mac.iter_mut().zip(data.iter()) {
        *dst = *src as u8;
    }
    Some(mac)
}

/// A UDP socket on the client port, bound to the interface: several
/// attachments of one namespace each have their own (SO_REUSEADDR), and
/// with SO_BINDTODEVICE a broadcast leaves, and is received, on this
/// interface only, before it has any address.
fn client_socket(ifname: &str, family: AddressFamily) -> io::Result<UdpSocket> {
    let fd: OwnedFd = socket::socket(
        family,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?;
    socket::setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    socket::setsockopt(&fd, sockopt::BindToDevice, &OsString::from(ifname))?;
    match family {
        AddressFamily::Inet6 => {
            socket::setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
            let any = SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, CLIENT_PORT_V6, 0, 0);
            socket::bind(
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                &SockaddrIn6::from(any),
            )?;
        }
        _ => {
            socket::setsockopt(&fd, sockopt::Broadcast, &true)?;
            let any = SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, CLIENT_PORT_V4);
            socket::bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrIn::from(any))?;
        }
    }
    Ok(UdpSocket::from(fd))
}
