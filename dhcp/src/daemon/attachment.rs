//! One attachment's leases, kept alive by one task: it feeds the sans-IO
//! clients (core's `dhcp::v4` and `dhcp::v6`) with packets, timer expiries and
//! link events, and carries out what they answer (send a packet, persist a
//! lease, report the result). The task ends on release, when the interface
//! or its namespace goes away, or when the first acquisition fails.

use super::endpoint::{self, Endpoint, ALL_SERVERS, SERVER_PORT_V4, SERVER_PORT_V6};
use super::nswatch::{self, NetnsWatch};
use super::store::{Record, Store};
use crate::result::ipam_result;
use cni_core::dhcp::{v4, v6, ClientOptions, Time};
use cni_core::error::code;
use cni_core::{CniError, CniResult};
use futures::StreamExt;
use rtnetlink::packet_core::NetlinkPayload;
use rtnetlink::packet_route::RouteNetlinkMessage;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};

/// What the registry sees of an attachment.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Acquiring,
    Bound(CniResult),
    /// The task ended; `Some` when it ended in an error an ADD should report.
    Ended(Option<CniError>),
}

pub enum Command {
    /// Release every lease (DHCPRELEASE), forget the record, end.
    Release(oneshot::Sender<()>),
}

/// How the daemon's clients behave (its flags).
#[derive(Debug, Clone, Copy)]
pub struct ClientTuning {
    pub broadcast: bool,
    pub acquire_timeout: Duration,
    pub resend_max: Duration,
}

/// Where the task starts: a new attachment, or one persisted before a restart.
pub enum Start {
    Acquire,
    Resume,
}

pub struct Attachment {
    pub record: Record,
    /// The namespace path with the daemon's host prefix.
    pub netns_path: String,
    pub tuning: ClientTuning,
    pub store: Store,
}

impl Attachment {
    /// Opens the endpoint and runs the task until it ends. `status` reports
    /// progress to the registry; `commands` come from it.
    pub async fn run(
        self,
        start: Start,
        status: watch::Sender<Status>,
        commands: mpsc::Receiver<Command>,
    ) {
        let Some((mut task, mut clients, watches)) = self.begin(&start, status).await else {
            return;
        };
        let first = clients.take_pending();
        if let Some(end) = task.apply(&mut clients, first).await {
            task.finish(end, &mut clients).await;
            return;
        }
        // A resumed lease that needs nothing yet produces no action: report
        // it bound all the same.
        if clients.all_bound() {
            task.publish();
        }
        task.serve(&mut clients, watches, commands).await;
    }

    /// The endpoint in the container's namespace and the clients; `None`
    /// (with the status reported) when the attachment cannot go on.
    async fn begin(
        mut self,
        start: &Start,
        status: watch::Sender<Status>,
    ) -> Option<(Task, Clients, Watches)> {
        let resuming = matches!(start, Start::Resume);
        let mut endpoint = match self.open_endpoint().await {
            Ok(endpoint) => endpoint,
            Err(e) => {
                if resuming {
                    tracing::info!(
                        "{}: not resumed, forgetting its leases: {e}",
                        self.record.key
                    );
                    let _ = self.store.remove(&self.record.key);
                }
                let error = CniError::try_again_later(format!("dhcp: {e}"));
                let _ = status.send(Status::Ended(Some(error)));
                return None;
            }
        };
        if resuming && self.record.hwaddr != endpoint.interface.hwaddr {
            tracing::info!(
                "{}: the interface changed (another MAC); forgetting its leases",
                self.record.key
            );
            let _ = self.store.remove(&self.record.key);
            let _ = status.send(Status::Ended(None));
            return None;
        }
        self.record.hwaddr = endpoint.interface.hwaddr;
        let sockets = match Sockets::adopt(&mut endpoint) {
            Ok(sockets) => sockets,
            Err(e) => {
                let error = CniError::io(format!("dhcp: {}: client socket: {e}", self.record.key));
                let _ = status.send(Status::Ended(Some(error)));
                return None;
            }
        };
        let clients = Clients::start(&self.record, self.tuning, start);
        let watches = Watches {
            connection: Some(endpoint.connection),
            events: endpoint.events,
            netns: NetnsWatch::new(&self.netns_path),
        };
        let task = Task {
            netns_id: endpoint::netns_id(&self.netns_path),
            attachment: self,
            sockets,
            status,
            index: endpoint.interface.index,
            unsent6: None,
        };
        Some((task, clients, watches))
    }

    /// Making the endpoint starts a thread in the namespace and waits for it.
    async fn open_endpoint(&self) -> Result<Endpoint, endpoint::EndpointError> {
        let families = self.record.options.families;
        let (netns, ifname) = (self.netns_path.clone(), self.record.ifname.clone());
        tokio::task::spawn_blocking(move || {
            endpoint::open(&netns, &ifname, families.ipv4, families.ipv6)
        })
        .await
        .unwrap_or_else(|e| {
            Err(endpoint::EndpointError::Netns {
                path: self.netns_path.clone(),
                reason: format!("the thread that entered it failed: {e}"),
            })
        })
    }
}

/// What tells a task that its interface or namespace went away.
struct Watches {
    /// Drives the link-event socket; `None` once it ended.
    connection: Option<rtnetlink::proto::Connection<RouteNetlinkMessage>>,
    events: endpoint::LinkEvents,
    netns: Option<NetnsWatch>,
}

/// One thing that happened to a running attachment.
enum Event {
    Packet4(usize),
    Packet6(usize),
    Timer,
    Command(Option<Command>),
    Link(Option<NetlinkPayload<RouteNetlinkMessage>>),
    NetnsFileRemoved,
    ConnectionEnded,
}

impl Task {
    /// The attachment's life after its start: events in, actions out, until
    /// it ends.
    async fn serve(
        &mut self,
        clients: &mut Clients,
        mut watches: Watches,
        mut commands: mpsc::Receiver<Command>,
    ) {
        let mut buf4 = vec![0u8; 1500];
        let mut buf6 = vec![0u8; 1500];
        loop {
            let wake = clients.next_timer().map(to_instant);
            let event = tokio::select! {
                n = recv(self.sockets.v4.as_ref(), &mut buf4) => n.map_or(Event::Timer, Event::Packet4),
                n = recv(self.sockets.v6.as_ref(), &mut buf6) => n.map_or(Event::Timer, Event::Packet6),
                _ = sleep_until(wake) => Event::Timer,
                command = commands.recv() => Event::Command(command),
                event = watches.events.next() => Event::Link(event.map(|(m, _)| m.payload)),
                _ = nswatch::removed(watches.netns.as_ref()) => Event::NetnsFileRemoved,
                _ = connection(&mut watches.connection) => Event::ConnectionEnded,
            };
            let now = Time::now();
            let actions = match event {
                Event::Packet4(n) => clients.v4_packet(now, &buf4[..n]),
                Event::Packet6(n) => clients.v6_packet(now, &buf6[..n]),
                Event::Timer | Event::NetnsFileRemoved if !self.netns_unchanged() => {
                    let gone = End::Gone("its network namespace is gone".into());
                    return self.finish(gone, clients).await;
                }
                Event::Timer => clients.timer(now),
                Event::Command(command) => {
                    self.finish(End::Released, clients).await;
                    if let Some(Command::Release(reply)) = command {
                        let _ = reply.send(());
                    }
                    return;
                }
                Event::Link(Some(payload)) if link_removed(&payload, self.index) => {
                    let gone = End::Gone("its interface was removed".into());
                    return self.finish(gone, clients).await;
                }
                Event::Link(Some(payload)) if address_usable(&payload, self.index) => {
                    self.send_unsent6().await;
                    Vec::new()
                }
                Event::ConnectionEnded => {
                    watches.connection = None;
                    Vec::new()
                }
                Event::Link(_) | Event::NetnsFileRemoved => Vec::new(),
            };
            if let Some(end) = self.apply(clients, actions).await {
                return self.finish(end, clients).await;
            }
        }
    }
}

/// Drives the link-event connection while there is one.
async fn connection(connection: &mut Option<rtnetlink::proto::Connection<RouteNetlinkMessage>>) {
    match connection {
        Some(connection) => connection.await,
        None => std::future::pending().await,
    }
}

/// Why a task ends.
enum End {
    Released,
    Gone(String),
    Failed(CniError),
}

/// The sans-IO clients of the attachment's families, with their actions
/// tagged by family.
struct Clients {
    v4: Option<v4::Client>,
    v6: Option<v6::Client>,
    pending: Vec<Action>,
}

enum Action {
    V4(v4::Action),
    V6(v6::Action),
}

impl Clients {
    fn start(record: &Record, tuning: ClientTuning, start: &Start) -> Clients {
        let now = Time::now();
        let options = client_options(record, tuning);
        let mut pending = Vec::new();
        let v4 = record.options.families.ipv4.then(|| {
            let (client, actions) = match (start, record.lease4.clone()) {
                (Start::Resume, Some(lease)) => v4::Client::resume(options.clone(), lease, now),
                _ => {
                    let mut client = v4::Client::new(options.clone());
                    let actions = client.start(now);
                    (client, actions)
                }
            };
            pending.extend(actions.into_iter().map(Action::V4));
            client
        });
        let v6 = record.options.families.ipv6.then(|| {
            let (client, actions) = match (start, record.lease6.clone()) {
                (Start::Resume, Some(lease)) => v6::Client::resume(options.clone(), lease, now),
                _ => {
                    let mut client = v6::Client::new(options.clone());
                    let actions = client.start(now);
                    (client, actions)
                }
            };
            pending.extend(actions.into_iter().map(Action::V6));
            client
        });
        Clients { v4, v6, pending }
    }

    fn take_pending(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.pending)
    }

    fn next_timer(&self) -> Option<Time> {
        let t4 = self.v4.as_ref().and_then(|c| c.next_timer());
        let t6 = self.v6.as_ref().and_then(|c| c.next_timer());
        match (t4, t6) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn v4_packet(&mut self, now: Time, packet: &[u8]) -> Vec<Action> {
        self.v4
            .as_mut()
            .map(|c| {
                c.on_packet(now, packet)
                    .into_iter()
                    .map(Action::V4)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn v6_packet(&mut self, now: Time, packet: &[u8]) -> Vec<Action> {
        self.v6
            .as_mut()
            .map(|c| {
                c.on_packet(now, packet)
                    .into_iter()
                    .map(Action::V6)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn timer(&mut self, now: Time) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(c) = self.v4.as_mut() {
            actions.extend(c.on_timer(now).into_iter().map(Action::V4));
        }
        if let Some(c) = self.v6.as_mut() {
            actions.extend(c.on_timer(now).into_iter().map(Action::V6));
        }
        actions
    }

    fn release(&mut self, now: Time) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(c) = self.v4.as_mut() {
            actions.extend(c.release(now).into_iter().map(Action::V4));
        }
        if let Some(c) = self.v6.as_mut() {
            actions.extend(c.release(now).into_iter().map(Action::V6));
        }
        actions
    }

    /// Every family has its lease.
    fn all_bound(&self) -> bool {
        self.v4.as_ref().is_none_or(|c| c.lease().is_some())
            && self.v6.as_ref().is_none_or(|c| c.lease().is_some())
    }
}

/// The client identity: stable for the attachment (its key), so a server
/// hands the same address back after a restart, a retried ADD or a resume.
fn client_options(record: &Record, tuning: ClientTuning) -> ClientOptions {
    let mut client_id = record.key.clone().into_bytes();
    client_id.truncate(254);
    let seed = Time::now().0
        ^ u64::from_le_bytes(
            sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(&client_id))
                [..8]
                .try_into()
                .unwrap_or_default(),
        );
    ClientOptions {
        client_id,
        hwaddr: record.hwaddr,
        request: record.options.request.clone(),
        provide: record.options.provide.clone(),
        broadcast: tuning.broadcast,
        resend_max: tuning.resend_max,
        acquire_timeout: tuning.acquire_timeout,
        seed,
    }
}

struct Sockets {
    v4: Option<UdpSocket>,
    v6: Option<UdpSocket>,
}

impl Sockets {
    fn adopt(endpoint: &mut Endpoint) -> std::io::Result<Sockets> {
        let v4 = endpoint.v4.take().map(UdpSocket::from_std).transpose()?;
        let v6 = endpoint.v6.take().map(UdpSocket::from_std).transpose()?;
        Ok(Sockets { v4, v6 })
    }
}

struct Task {
    attachment: Attachment,
    sockets: Sockets,
    status: watch::Sender<Status>,
    index: u32,
    netns_id: Option<(u64, u64)>,
    /// A DHCPv6 message the kernel could not send yet (no usable link-local
    /// address before DAD ends): sent again as soon as one appears.
    unsent6: Option<(std::net::SocketAddr, Vec<u8>)>,
}

impl Task {
    /// Carries out the clients' actions; `Some` when the attachment must end.
    async fn apply(&mut self, clients: &mut Clients, actions: Vec<Action>) -> Option<End> {
        let mut changed = false;
        for action in actions {
            match action {
                Action::V4(v4::Action::Send { to, packet }) => self.send4(to, &packet).await,
                Action::V6(v6::Action::Send { to, packet }) => self.send6(to, &packet).await,
                Action::V4(v4::Action::Bound(lease) | v4::Action::Renewed(lease)) => {
                    self.attachment.record.lease4 = Some(lease);
                    changed = true;
                }
                Action::V6(v6::Action::Bound(lease) | v6::Action::Renewed(lease)) => {
                    self.attachment.record.lease6 = Some(lease);
                    changed = true;
                }
                Action::V4(v4::Action::Lost { reason })
                | Action::V6(v6::Action::Lost { reason }) => {
                    tracing::warn!(
                        "{}: lease lost ({reason}); acquiring again",
                        self.attachment.record.key
                    );
                    // CHECK fails until a lease is bound again.
                    let _ = self.status.send(Status::Acquiring);
                }
                Action::V4(v4::Action::GaveUp { reason })
                | Action::V6(v6::Action::GaveUp { reason }) => {
                    return Some(End::Failed(CniError::try_again_later(format!(
                        "dhcp: no lease for {} on {}: {reason}",
                        self.attachment.record.key, self.attachment.record.ifname
                    ))));
                }
            }
        }
        if changed && clients.all_bound() {
            if let Err(e) = self.attachment.store.save(&self.attachment.record) {
                tracing::error!(
                    "{}: cannot persist the lease: {e}",
                    self.attachment.record.key
                );
            }
            self.publish();
        }
        None
    }

    /// Reports the attachment bound, with its result.
    fn publish(&self) {
        let record = &self.attachment.record;
        let result = ipam_result(
            &record.options,
            record.lease4.as_ref(),
            record.lease6.as_ref(),
        );
        let _ = self.status.send(Status::Bound(result));
    }

    async fn finish(&mut self, end: End, clients: &mut Clients) {
        let key = self.attachment.record.key.clone();
        let error = match end {
            End::Released => {
                let actions = clients.release(Time::now());
                Box::pin(self.apply(clients, actions)).await;
                tracing::info!("{key}: released");
                None
            }
            End::Gone(why) => {
                tracing::info!("{key}: {why}; no longer maintaining its leases");
                None
            }
            End::Failed(e) => {
                // A family that got its lease gives it back: ADD is all or nothing.
                let actions = clients.release(Time::now());
                Box::pin(self.apply(clients, actions)).await;
                Some(e)
            }
        };
        if let Err(e) = self.attachment.store.remove(&key) {
            tracing::error!("{key}: cannot remove its lease file: {e}");
        }
        let _ = self.status.send(Status::Ended(error));
    }

    fn netns_unchanged(&self) -> bool {
        self.netns_id.is_some() && endpoint::netns_id(&self.attachment.netns_path) == self.netns_id
    }

    async fn send4(&self, to: v4::Destination, packet: &[u8]) {
        let Some(socket) = &self.sockets.v4 else {
            return;
        };
        let ip = match to {
            v4::Destination::Broadcast => Ipv4Addr::BROADCAST,
            v4::Destination::Unicast(ip) => ip,
        };
        let target = SocketAddr::V4(SocketAddrV4::new(ip, SERVER_PORT_V4));
        if let Err(e) = socket.send_to(packet, target).await {
            tracing::debug!(
                "{}: DHCPv4 send to {target}: {e}",
                self.attachment.record.key
            );
        }
    }

    async fn send_unsent6(&mut self) {
        let (Some(socket), Some((target, packet))) = (&self.sockets.v6, self.unsent6.take()) else {
            return;
        };
        if let Err(e) = socket.send_to(&packet, target).await {
            tracing::debug!(
                "{}: DHCPv6 send to {target}: {e}",
                self.attachment.record.key
            );
        }
    }

    async fn send6(&mut self, to: v6::Destination, packet: &[u8]) {
        let Some(socket) = &self.sockets.v6 else {
            return;
        };
        let ip = match to {
            v6::Destination::AllServers => ALL_SERVERS,
            v6::Destination::Unicast(ip) => ip,
        };
        let scope = if ip.is_unicast_link_local() || ip.is_multicast() {
            self.index
        } else {
            0
        };
        let target = SocketAddr::V6(SocketAddrV6::new(ip, SERVER_PORT_V6, 0, scope));
        // Before the interface's link-local address has passed DAD the
        // kernel has no source for it: kept until an address event says
        // there is one (the client also retransmits on its own schedule).
        match socket.send_to(packet, target).await {
            Ok(_) => self.unsent6 = None,
            Err(e) => {
                tracing::debug!(
                    "{}: DHCPv6 send to {target}: {e}",
                    self.attachment.record.key
                );
                if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) {
                    self.unsent6 = Some((target, packet.to_vec()));
                }
            }
        }
    }
}

/// The next datagram on `socket`, or never when the family is not in use.
async fn recv(socket: Option<&UdpSocket>, buf: &mut [u8]) -> Option<usize> {
    match socket {
        Some(socket) => socket.recv(buf).await.ok(),
        None => std::future::pending().await,
    }
}

async fn sleep_until(wake: Option<tokio::time::Instant>) {
    match wake {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A wall-clock time as the runtime's monotonic clock reads it.
fn to_instant(at: Time) -> tokio::time::Instant {
    let now = Time::now();
    tokio::time::Instant::now() + at.since(now)
}

/// An IPv6 address of the interface that can be a source: not (or no
/// longer) tentative.
fn address_usable(payload: &NetlinkPayload<RouteNetlinkMessage>, index: u32) -> bool {
    use rtnetlink::packet_route::address::AddressHeaderFlags;
    matches!(payload, NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(a))
        if a.header.index == index && !a.header.flags.contains(AddressHeaderFlags::Tentative))
}

fn link_removed(payload: &NetlinkPayload<RouteNetlinkMessage>, index: u32) -> bool {
    matches!(payload, NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(link)) if link.header.index == index)
}

/// Failure codes an ADD reports.
pub fn add_failed(e: Option<CniError>, key: &str) -> CniError {
    e.unwrap_or_else(|| {
        CniError::new(
            code::TRY_AGAIN_LATER,
            format!("dhcp: the attachment {key} ended before it got its lease"),
        )
    })
}
