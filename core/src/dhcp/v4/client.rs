//! The DHCPv4 client state machine (see the module docs of `v4`).

use super::lease::{self, Known, Lease};
use super::message::{self, code, Reply, Request};
use super::message::{DHCPACK, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPRELEASE, DHCPREQUEST};
use super::{Action, Destination, State};
use crate::dhcp::backoff::{v4_half_remaining, v4_retransmit};
use crate::dhcp::options::ClientOptions;
use crate::dhcp::time::Time;
use crate::rng::Rng;
use std::net::Ipv4Addr;
use std::time::Duration;

/// Transmissions of a REQUEST in REQUESTING before starting over with a
/// DISCOVER: 4 + 8 + 16 + 32 s of silence is a server that is gone.
const REQUEST_MAX_SENDS: u32 = 4;

/// The OFFER being requested.
#[derive(Clone, Copy, Debug)]
struct Offer {
    address: Ipv4Addr,
    server_id: Ipv4Addr,
    lease_time: Option<Duration>,
}

/// A DHCPv4 client for one attachment.
#[derive(Clone, Debug)]
pub struct Client {
    opts: ClientOptions,
    rng: Rng,
    state: State,
    /// The transaction id of the exchange under way.
    xid: u32,
    /// When the exchange under way began (the `secs` field counts from it).
    exchange_start: Time,
    /// When the REQUEST under way was first sent: a lease granted by the ACK
    /// counts from here (RFC 2131 4.4.1).
    request_sent: Time,
    /// Transmissions of the current message so far.
    sends: u32,
    /// The next retransmission (or, in INIT, the next DISCOVER).
    timer: Option<Time>,
    /// The end of the initial acquisition (`acquire_timeout`).
    deadline: Option<Time>,
    offer: Option<Offer>,
    lease: Option<Lease>,
    /// Option 50 of the next DISCOVERs: the expired lease's address.
    requested: Option<Ipv4Addr>,
    /// NAKs in REQUESTING since the acquisition started, and the last reason.
    naks: u32,
    last_nak: Option<String>,
}

impl Client {
    pub fn new(opts: ClientOptions) -> Self {
        Client {
            rng: Rng::new(opts.seed),
            opts,
            state: State::Init,
            xid: 0,
            exchange_start: Time(0),
            request_sent: Time(0),
            sends: 0,
            timer: None,
            deadline: None,
            offer: None,
            lease: None,
            requested: None,
            naks: 0,
            last_nak: None,
        }
    }

    /// Starts acquiring a lease: DISCOVER. Only a machine that is idle (new,
    /// Released or Failed) starts; otherwise nothing happens.
    pub fn start(&mut self, now: Time) -> Vec<Action> {
        let idle = matches!(self.state, State::Init | State::Released | State::Failed)
            && self.timer.is_none();
        if !idle {
            return Vec::new();
        }
        self.lease = None;
        self.requested = None;
        self.naks = 0;
        self.last_nak = None;
        self.deadline =
            (!self.opts.acquire_timeout.is_zero()).then(|| now.after(self.opts.acquire_timeout));
        self.discover(now)
    }

    /// After a daemon restart: a persisted lease. Not expired: Bound, Renewing
    /// or Rebinding per the clock (renewing at once if T1 passed). Expired:
    /// Lost and start over (DISCOVER asking for the old address).
    pub fn resume(opts: ClientOptions, lease: Lease, now: Time) -> (Self, Vec<Action>) {
        let mut client = Client::new(opts);
        client.lease = Some(lease);
        client.state = State::Bound;
        let actions = client.lease_timer(now);
        (client, actions)
    }

    /// A UDP payload received on port 68. Malformed packets, other clients'
    /// (xid, chaddr, client identifier) and types the state does not expect
    /// are ignored.
    pub fn on_packet(&mut self, now: Time, packet: &[u8]) -> Vec<Action> {
        if !matches!(
            self.state,
            State::Selecting | State::Requesting | State::Renewing | State::Rebinding
        ) {
            return Vec::new();
        }
        let Some(reply) = Reply::parse(packet) else {
            return Vec::new();
        };
        if reply.xid != self.xid || reply.chaddr != self.opts.hwaddr {
            return Vec::new();
        }
        if reply
            .option(code::CLIENT_ID)
            .is_some_and(|id| id != self.opts.client_id.as_slice())
        {
            return Vec::new();
        }
        match (self.state, reply.msg_type) {
            (State::Selecting, DHCPOFFER) => self.on_offer(now, &reply),
            (State::Requesting, DHCPACK) => self.on_request_ack(&reply),
            (State::Requesting, DHCPNAK) => self.on_request_nak(now, &reply),
            (State::Renewing | State::Rebinding, DHCPACK) => self.on_renew_ack(&reply),
            (State::Renewing | State::Rebinding, DHCPNAK) => self.on_renew_nak(now, &reply),
            _ => Vec::new(),
        }
    }

    /// Time passed: call at or after `next_timer()`; an early call does nothing.
    pub fn on_timer(&mut self, now: Time) -> Vec<Action> {
        let acquiring = matches!(
            self.state,
            State::Init | State::Selecting | State::Requesting
        );
        if acquiring && self.deadline.is_some_and(|d| now >= d) {
            return self.give_up();
        }
        let due = self.timer.is_some_and(|t| now >= t);
        match self.state {
            State::Init if due => self.discover(now),
            State::Selecting if due => self.transmit(now),
            State::Requesting if due && self.sends >= REQUEST_MAX_SENDS => self.discover(now),
            State::Requesting if due => self.transmit(now),
            State::Bound | State::Renewing | State::Rebinding => self.lease_timer(now),
            _ => Vec::new(),
        }
    }

    /// Gives the lease back: RELEASE unicast to its server if the machine holds
    /// one. The machine stops (Released, no timers) either way.
    pub fn release(&mut self, _now: Time) -> Vec<Action> {
        let held = matches!(
            self.state,
            State::Bound | State::Renewing | State::Rebinding
        );
        let mut out = Vec::new();
        if let (true, Some(lease)) = (held, self.lease.as_ref()) {
            let req = Request {
                msg_type: DHCPRELEASE,
                xid: self.rng.next_u32(),
                secs: 0,
                ciaddr: lease.address.addr(),
                requested_ip: None,
                server_id: Some(lease.server_id),
            };
            let to = Destination::Unicast(lease.server_id);
            out.extend(self.send(to, &req));
        }
        self.state = State::Released;
        self.lease = None;
        self.offer = None;
        self.timer = None;
        self.deadline = None;
        out
    }

    /// When `on_timer` has something to do next; `None` when stopped.
    pub fn next_timer(&self) -> Option<Time> {
        let lease = self.lease.as_ref();
        match self.state {
            State::Init | State::Selecting | State::Requesting => {
                min_time(self.timer, self.deadline)
            }
            State::Bound => lease.map(Lease::renew_at),
            State::Renewing => min_time(self.timer, lease.map(Lease::rebind_at)),
            State::Rebinding => min_time(self.timer, lease.map(Lease::expires_at)),
            State::Released | State::Failed => None,
        }
    }

    /// The lease held (Bound, Renewing, Rebinding).
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The options the machine was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    // --- transitions -------------------------------------------------------

    /// INIT → SELECTING: a new exchange, first DISCOVER.
    fn discover(&mut self, now: Time) -> Vec<Action> {
        self.state = State::Selecting;
        self.offer = None;
        self.xid = self.rng.next_u32();
        self.exchange_start = now;
        self.sends = 0;
        self.transmit(now)
    }

    fn on_offer(&mut self, now: Time, offer: &Reply) -> Vec<Action> {
        let Some(server_id) = offer.addr_option(code::SERVER_ID) else {
            return Vec::new();
        };
        if offer.yiaddr.is_unspecified() {
            return Vec::new();
        }
        self.offer = Some(Offer {
            address: offer.yiaddr,
            server_id,
            lease_time: offer
                .u32_option(code::LEASE_TIME)
                .map(|s| Duration::from_secs(s.into())),
        });
        self.state = State::Requesting;
        self.sends = 0;
        self.transmit(now)
    }

    fn on_request_ack(&mut self, ack: &Reply) -> Vec<Action> {
        let Some(offer) = self.offer else {
            return Vec::new();
        };
        if ack
            .addr_option(code::SERVER_ID)
            .is_some_and(|s| s != offer.server_id)
        {
            return Vec::new();
        }
        let known = Known {
            server_id: Some(offer.server_id),
            lease_time: offer.lease_time,
        };
        let Some(lease) = lease::from_ack(ack, self.request_sent, known) else {
            return Vec::new();
        };
        self.bind(lease.clone());
        vec![Action::Bound(lease)]
    }

    fn on_request_nak(&mut self, now: Time, nak: &Reply) -> Vec<Action> {
        let Some(offer) = self.offer else {
            return Vec::new();
        };
        if nak
            .addr_option(code::SERVER_ID)
            .is_some_and(|s| s != offer.server_id)
        {
            return Vec::new();
        }
        self.naks += 1;
        self.last_nak = nak.message();
        self.requested = None;
        if self.naks == 1 {
            return self.discover(now);
        }
        // Wait before the next DISCOVER: the backoff of the NAKs so far.
        self.state = State::Init;
        self.offer = None;
        self.timer = Some(now.after(v4_retransmit(
            self.naks - 2,
            self.opts.resend_max,
            &mut self.rng,
        )));
        Vec::new()
    }

    fn on_renew_ack(&mut self, ack: &Reply) -> Vec<Action> {
        let Some(old) = self.lease.as_ref() else {
            return Vec::new();
        };
        if ack.yiaddr != old.address.addr() {
            return Vec::new();
        }
        let server = ack.addr_option(code::SERVER_ID);
        if self.state == State::Renewing && server.is_some_and(|s| s != old.server_id) {
            return Vec::new();
        }
        let known = Known {
            server_id: Some(old.server_id),
            lease_time: Some(old.lease_time),
        };
        let Some(lease) = lease::from_ack(ack, self.request_sent, known) else {
            return Vec::new();
        };
        self.bind(lease.clone());
        vec![Action::Renewed(lease)]
    }

    fn on_renew_nak(&mut self, now: Time, nak: &Reply) -> Vec<Action> {
        let Some(old) = self.lease.take() else {
            return Vec::new();
        };
        let server = nak.addr_option(code::SERVER_ID);
        if self.state == State::Renewing && server.is_some_and(|s| s != old.server_id) {
            self.lease = Some(old);
            return Vec::new();
        }
        let verb = if self.state == State::Renewing {
            "renewing"
        } else {
            "rebinding"
        };
        let mut reason = format!(
            "DHCPNAK from {} while {verb} {}",
            server.unwrap_or(old.server_id),
            old.address.addr()
        );
        if let Some(msg) = nak.message() {
            reason = format!("{reason}: {msg}");
        }
        self.requested = None;
        let mut out = vec![Action::Lost { reason }];
        out.extend(self.discover(now));
        out
    }

    fn bind(&mut self, lease: Lease) {
        self.state = State::Bound;
        self.lease = Some(lease);
        self.offer = None;
        self.timer = None;
        self.deadline = None;
        self.requested = None;
        self.naks = 0;
        self.last_nak = None;
    }

    /// BOUND/RENEWING/REBINDING: the lease's clock decides. Also brings a
    /// machine that was not called for a while (or a resumed lease) straight
    /// to the state the clock says.
    fn lease_timer(&mut self, now: Time) -> Vec<Action> {
        let Some(lease) = self.lease.as_ref() else {
            return Vec::new();
        };
        if now >= lease.expires_at() {
            let reason = format!(
                "lease on {} from {} expired",
                lease.address.addr(),
                lease.server_id
            );
            self.requested = Some(lease.address.addr());
            self.lease = None;
            let mut out = vec![Action::Lost { reason }];
            out.extend(self.discover(now));
            return out;
        }
        let enter = if now >= lease.rebind_at() && self.state != State::Rebinding {
            Some(State::Rebinding)
        } else if now >= lease.renew_at() && self.state == State::Bound {
            Some(State::Renewing)
        } else {
            None
        };
        if let Some(state) = enter {
            self.state = state;
            self.xid = self.rng.next_u32();
            self.exchange_start = now;
            self.sends = 0;
            return self.transmit(now);
        }
        if self.state != State::Bound && self.timer.is_some_and(|t| now >= t) {
            return self.transmit(now);
        }
        Vec::new()
    }

    fn give_up(&mut self) -> Vec<Action> {
        let timeout = self.opts.acquire_timeout;
        let reason = if self.naks > 0 {
            let last = self.last_nak.as_deref().unwrap_or("no reason given");
            format!(
                "no DHCP lease within {timeout:?}: DHCPNAK {} time(s), last: {last}",
                self.naks
            )
        } else if let (State::Requesting, Some(offer)) = (self.state, self.offer) {
            format!(
                "no DHCPACK from {} for {} within {timeout:?}",
                offer.server_id, offer.address
            )
        } else {
            format!("no DHCPOFFER within {timeout:?}")
        };
        self.state = State::Failed;
        self.offer = None;
        self.timer = None;
        self.deadline = None;
        vec![Action::GaveUp { reason }]
    }

    /// (Re)sends the current state's message and sets the retransmission timer.
    fn transmit(&mut self, now: Time) -> Vec<Action> {
        if self.sends == 0 {
            self.request_sent = now;
        }
        self.sends += 1;
        let secs = u16::try_from(now.since(self.exchange_start).as_secs()).unwrap_or(u16::MAX);
        let mut req = Request {
            msg_type: DHCPREQUEST,
            xid: self.xid,
            secs,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            requested_ip: None,
            server_id: None,
        };
        let held = self
            .lease
            .as_ref()
            .map(|l| (l.address.addr(), l.server_id, l.rebind_at(), l.expires_at()));
        let (to, retransmit) = match (self.state, self.offer, held) {
            (State::Selecting, _, _) => {
                req.msg_type = DHCPDISCOVER;
                req.requested_ip = self.requested;
                (Destination::Broadcast, now.after(self.backoff()))
            }
            (State::Requesting, Some(offer), _) => {
                req.requested_ip = Some(offer.address);
                req.server_id = Some(offer.server_id);
                (Destination::Broadcast, now.after(self.backoff()))
            }
            (State::Renewing, _, Some((addr, server, t2, _))) => {
                req.ciaddr = addr;
                let wait = v4_half_remaining(t2.since(now));
                (Destination::Unicast(server), now.after(wait).min(t2))
            }
            (State::Rebinding, _, Some((addr, _, _, end))) => {
                req.ciaddr = addr;
                let wait = v4_half_remaining(end.since(now));
                (Destination::Broadcast, now.after(wait).min(end))
            }
            _ => return Vec::new(),
        };
        self.timer = Some(retransmit);
        self.send(to, &req).into_iter().collect()
    }

    /// The wait after the current transmission in SELECTING/REQUESTING.
    fn backoff(&mut self) -> Duration {
        v4_retransmit(self.sends - 1, self.opts.resend_max, &mut self.rng)
    }

    fn send(&self, to: Destination, req: &Request) -> Option<Action> {
        match message::encode(req, &self.opts) {
            Some(packet) => Some(Action::Send { to, packet }),
            None => {
                tracing::warn!(
                    msg_type = req.msg_type,
                    "DHCPv4 message could not be encoded"
                );
                None
            }
        }
    }
}

fn min_time(a: Option<Time>, b: Option<Time>) -> Option<Time> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
