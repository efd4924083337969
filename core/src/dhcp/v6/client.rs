//! The DHCPv6 client state machine (see the module docs of `v6`).

use super::lease::{self, Grant, Lease};
use super::message::{self, status, Reply, Request};
use super::message::{ADVERTISE, REBIND, RELEASE, RENEW, REPLY, REQUEST, SOLICIT};
use super::{duid, Action, Destination, State};
use crate::dhcp::backoff::{v4_retransmit, v6_rt, V6Schedule};
use crate::dhcp::options::ClientOptions;
use crate::dhcp::time::Time;
use crate::rng::Rng;
use std::net::Ipv6Addr;
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

/// RFC 8415 7.6 transmission parameters.
const SOLICIT_RT: V6Schedule = V6Schedule {
    irt: SEC,
    mrt: Duration::from_secs(3600),
    mrc: 0,
};
const REQUEST_RT: V6Schedule = V6Schedule {
    irt: SEC,
    mrt: Duration::from_secs(30),
    mrc: 10,
};
const RENEW_RT: V6Schedule = V6Schedule {
    irt: Duration::from_secs(10),
    mrt: Duration::from_secs(600),
    mrc: 0,
};
const REBIND_RT: V6Schedule = RENEW_RT;
const RELEASE_RT: V6Schedule = V6Schedule {
    irt: SEC,
    mrt: Duration::ZERO,
    mrc: 4,
};

/// An ADVERTISE worth requesting.
#[derive(Clone, Debug)]
struct Advert {
    server_id: Vec<u8>,
    server_addr: Option<Ipv6Addr>,
    address: Ipv6Addr,
    preference: u8,
}

/// A DHCPv6 client for one attachment (one IA_NA).
#[derive(Clone, Debug)]
pub struct Client {
    opts: ClientOptions,
    rng: Rng,
    duid: Vec<u8>,
    iaid: u32,
    state: State,
    /// The transaction id of the exchange under way (24 bits).
    xid: u32,
    /// When the exchange began (Elapsed Time counts from it).
    exchange_start: Time,
    /// When the message under way was first sent (a granted lease counts from it).
    request_sent: Time,
    /// Transmissions of the current message so far, and the last RT.
    sends: u32,
    rt: Option<Duration>,
    timer: Option<Time>,
    /// The end of the initial acquisition (`acquire_timeout`).
    deadline: Option<Time>,
    /// SOLICITING before the first RT: ADVERTISEs are collected.
    collecting: bool,
    best: Option<Advert>,
    chosen: Option<Advert>,
    lease: Option<Lease>,
    /// The lease a RELEASE under way gives back.
    releasing: Option<Lease>,
    /// The address to suggest in SOLICIT (a lost lease's).
    hint: Option<Ipv6Addr>,
    /// The server said UseMulticast during this exchange.
    multicast: bool,
    /// Refusals of our REQUEST since the acquisition started, and the last one.
    refusals: u32,
    last_refusal: Option<String>,
}

impl Client {
    pub fn new(opts: ClientOptions) -> Self {
        let (duid, iaid) = duid::derive(&opts.client_id);
        Client {
            rng: Rng::new(opts.seed),
            opts,
            duid,
            iaid,
            state: State::Init,
            xid: 0,
            exchange_start: Time(0),
            request_sent: Time(0),
            sends: 0,
            rt: None,
            timer: None,
            deadline: None,
            collecting: false,
            best: None,
            chosen: None,
            lease: None,
            releasing: None,
            hint: None,
            multicast: false,
            refusals: 0,
            last_refusal: None,
        }
    }

    /// Starts acquiring a lease: SOLICIT. Only a machine that is idle (new,
    /// Released or Failed) starts; a RELEASE still being retransmitted is
    /// abandoned.
    pub fn start(&mut self, now: Time) -> Vec<Action> {
        let idle = match self.state {
            State::Init => self.timer.is_none(),
            State::Released | State::Failed => true,
            _ => false,
        };
        if !idle {
            return Vec::new();
        }
        self.lease = None;
        self.releasing = None;
        self.hint = None;
        self.refusals = 0;
        self.last_refusal = None;
        self.deadline =
            (!self.opts.acquire_timeout.is_zero()).then(|| now.after(self.opts.acquire_timeout));
        self.solicit(now)
    }

    /// After a daemon restart: a persisted lease. Not expired: Bound, Renewing
    /// or Rebinding per the clock (renewing at once if T1 passed). Expired:
    /// Lost and start over. The lease's IAID is kept.
    pub fn resume(opts: ClientOptions, lease: Lease, now: Time) -> (Self, Vec<Action>) {
        let mut client = Client::new(opts);
        client.iaid = lease.iaid;
        client.lease = Some(lease);
        client.state = State::Bound;
        let actions = client.lease_timer(now);
        (client, actions)
    }

    /// A UDP payload received on port 546. Malformed messages, other
    /// clients' and unexpected types are ignored.
    pub fn on_packet(&mut self, now: Time, packet: &[u8]) -> Vec<Action> {
        let listening = match self.state {
            State::Soliciting | State::Requesting | State::Renewing | State::Rebinding => true,
            State::Released => self.timer.is_some(),
            _ => false,
        };
        if !listening {
            return Vec::new();
        }
        let Some(reply) = Reply::parse(packet) else {
            return Vec::new();
        };
        if reply.xid != self.xid
            || reply.client_id.as_deref() != Some(self.duid.as_slice())
            || reply.server_id.is_none()
        {
            return Vec::new();
        }
        match (self.state, reply.msg_type) {
            (State::Soliciting, ADVERTISE) => self.on_advertise(now, reply),
            (State::Requesting, REPLY) => self.on_request_reply(now, &reply),
            (State::Renewing | State::Rebinding, REPLY) => self.on_renew_reply(now, &reply),
            (State::Released, REPLY) => self.on_release_reply(now, &reply),
            _ => Vec::new(),
        }
    }

    /// Time passed: call at or after `next_timer()`; an early call does nothing.
    pub fn on_timer(&mut self, now: Time) -> Vec<Action> {
        let acquiring = matches!(
            self.state,
            State::Init | State::Soliciting | State::Requesting
        );
        if acquiring && self.deadline.is_some_and(|d| now >= d) {
            return self.give_up();
        }
        let due = self.timer.is_some_and(|t| now >= t);
        match self.state {
            State::Init if due => self.solicit(now),
            State::Soliciting if due => {
                if std::mem::take(&mut self.collecting) {
                    if let Some(best) = self.best.take() {
                        return self.request(now, best);
                    }
                }
                self.transmit(now)
            }
            State::Requesting if due && self.sends >= REQUEST_RT.mrc => self.solicit(now),
            State::Requesting if due => self.transmit(now),
            State::Bound | State::Renewing | State::Rebinding => self.lease_timer(now),
            State::Released if due && self.sends >= RELEASE_RT.mrc => {
                self.timer = None;
                self.releasing = None;
                Vec::new()
            }
            State::Released if due => self.transmit(now),
            _ => Vec::new(),
        }
    }

    /// Gives the lease back: RELEASE (retransmitted until a REPLY or the 4th
    /// transmission) if the machine holds one. State Released either way; a
    /// second call changes nothing (a RELEASE under way carries on).
    pub fn release(&mut self, now: Time) -> Vec<Action> {
        if self.state == State::Released {
            return Vec::new();
        }
        let held = matches!(
            self.state,
            State::Bound | State::Renewing | State::Rebinding
        );
        let lease = self.lease.take();
        self.state = State::Released;
        self.timer = None;
        self.deadline = None;
        self.best = None;
        self.chosen = None;
        match (held, lease) {
            (true, Some(lease)) => {
                self.releasing = Some(lease);
                self.new_exchange(now);
                self.transmit(now)
            }
            _ => Vec::new(),
        }
    }

    /// When `on_timer` has something to do next; `None` when stopped.
    pub fn next_timer(&self) -> Option<Time> {
        let lease = self.lease.as_ref();
        match self.state {
            State::Init | State::Soliciting | State::Requesting => {
                min_time(self.timer, self.deadline)
            }
            State::Bound => lease.map(Lease::renew_at),
            State::Renewing => min_time(self.timer, lease.map(Lease::rebind_at)),
            State::Rebinding => min_time(self.timer, lease.map(Lease::expires_at)),
            State::Released => self.timer,
            State::Failed => None,
        }
    }

    /// The lease held (Bound, Renewing, Rebinding).
    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// The client's DUID (Client Identifier option value).
    pub fn duid(&self) -> &[u8] {
        &self.duid
    }

    /// The IAID of the client's IA_NA.
    pub fn iaid(&self) -> u32 {
        self.iaid
    }

    /// The options the machine was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    // --- transitions -------------------------------------------------------

    fn new_exchange(&mut self, now: Time) {
        self.xid = self.rng.next_u32() & 0x00ff_ffff;
        self.exchange_start = now;
        self.sends = 0;
        self.multicast = false;
    }

    fn solicit(&mut self, now: Time) -> Vec<Action> {
        self.state = State::Soliciting;
        self.chosen = None;
        self.best = None;
        self.collecting = true;
        self.new_exchange(now);
        self.transmit(now)
    }

    fn request(&mut self, now: Time, advert: Advert) -> Vec<Action> {
        self.state = State::Requesting;
        self.chosen = Some(advert);
        self.new_exchange(now);
        self.transmit(now)
    }

    fn on_advertise(&mut self, now: Time, adv: Reply) -> Vec<Action> {
        if adv
            .status
            .as_ref()
            .is_some_and(|s| s.code != status::SUCCESS)
        {
            return Vec::new();
        }
        let Grant::Lease(offered) = lease::grant(&adv, self.iaid, self.hint, false, now) else {
            return Vec::new();
        };
        let advert = Advert {
            server_id: offered.server_id,
            server_addr: adv.unicast,
            address: offered.address,
            preference: adv.preference,
        };
        if advert.preference == 255 || !self.collecting {
            return self.request(now, advert);
        }
        if self
            .best
            .as_ref()
            .is_none_or(|b| advert.preference > b.preference)
        {
            self.best = Some(advert);
        }
        Vec::new()
    }

    fn on_request_reply(&mut self, now: Time, reply: &Reply) -> Vec<Action> {
        let Some(want) = self
            .chosen
            .as_ref()
            .filter(|c| reply.server_id.as_deref() == Some(c.server_id.as_slice()))
            .map(|c| Some(c.address))
        else {
            return Vec::new();
        };
        if let Some(actions) = self.on_message_status(now, reply) {
            return actions;
        }
        match lease::grant(reply, self.iaid, want, false, self.request_sent) {
            Grant::Lease(lease) => {
                self.bind(lease.clone());
                vec![Action::Bound(lease)]
            }
            Grant::Refused(reason, _) => self.refused(now, reason),
            Grant::Withdrawn => self.refused(now, "address offered with valid lifetime 0".into()),
            Grant::Nothing => Vec::new(),
        }
    }

    fn on_renew_reply(&mut self, now: Time, reply: &Reply) -> Vec<Action> {
        let Some(old) = self.lease.as_ref() else {
            return Vec::new();
        };
        if self.state == State::Renewing
            && reply.server_id.as_deref() != Some(old.server_id.as_slice())
        {
            return Vec::new();
        }
        let (addr, iaid) = (old.address, old.iaid);
        if let Some(actions) = self.on_message_status(now, reply) {
            return actions;
        }
        let verb = if self.state == State::Renewing {
            "renewing"
        } else {
            "rebinding"
        };
        match lease::grant(reply, iaid, Some(addr), true, self.request_sent) {
            Grant::Lease(lease) => {
                self.bind(lease.clone());
                vec![Action::Renewed(lease)]
            }
            Grant::Refused(reason, code) => {
                let hint = (code == status::NO_BINDING).then_some(addr);
                self.lost(now, format!("server refused {verb} {addr}: {reason}"), hint)
            }
            Grant::Withdrawn => self.lost(
                now,
                format!("server withdrew {addr} (valid lifetime 0) while {verb}"),
                None,
            ),
            Grant::Nothing => Vec::new(),
        }
    }

    fn on_release_reply(&mut self, now: Time, reply: &Reply) -> Vec<Action> {
        let Some(released) = self.releasing.as_ref() else {
            return Vec::new();
        };
        if reply.server_id.as_deref() != Some(released.server_id.as_slice()) {
            return Vec::new();
        }
        if let Some(actions) = self.on_message_status(now, reply) {
            return actions;
        }
        // Any other answer ends the exchange (RFC 8415 18.2.10.2: the client
        // considers the RELEASE done whatever the status).
        self.timer = None;
        self.releasing = None;
        Vec::new()
    }

    /// The message-level Status Code: UseMulticast resends by multicast at
    /// once (if the message went by unicast); another failure is no answer.
    /// `None` to go on reading the message.
    fn on_message_status(&mut self, now: Time, reply: &Reply) -> Option<Vec<Action>> {
        let code = reply.status.as_ref()?.code;
        match code {
            status::SUCCESS => None,
            status::USE_MULTICAST if !self.multicast => {
                self.multicast = true;
                Some(self.transmit(now))
            }
            _ => Some(Vec::new()),
        }
    }

    /// The server refused our REQUEST: start over, at once the first time.
    fn refused(&mut self, now: Time, reason: String) -> Vec<Action> {
        self.refusals += 1;
        self.last_refusal = Some(reason);
        self.hint = None;
        if self.refusals == 1 {
            return self.solicit(now);
        }
        self.state = State::Init;
        self.chosen = None;
        let wait = v4_retransmit(self.refusals - 2, self.opts.resend_max, &mut self.rng);
        self.timer = Some(now.after(wait));
        Vec::new()
    }

    fn lost(&mut self, now: Time, reason: String, hint: Option<Ipv6Addr>) -> Vec<Action> {
        self.lease = None;
        self.hint = hint;
        let mut out = vec![Action::Lost { reason }];
        out.extend(self.solicit(now));
        out
    }

    fn bind(&mut self, lease: Lease) {
        self.state = State::Bound;
        self.lease = Some(lease);
        self.chosen = None;
        self.best = None;
        self.timer = None;
        self.deadline = None;
        self.hint = None;
        self.refusals = 0;
        self.last_refusal = None;
    }

    /// BOUND/RENEWING/REBINDING: the lease's clock decides (also for a machine
    /// not called for a while, or a resumed lease).
    fn lease_timer(&mut self, now: Time) -> Vec<Action> {
        let Some(lease) = self.lease.as_ref() else {
            return Vec::new();
        };
        if now >= lease.expires_at() {
            let reason = format!(
                "valid lifetime of {} from server {} ended",
                lease.address,
                hex(&lease.server_id)
            );
            let hint = Some(lease.address);
            return self.lost(now, reason, hint);
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
            self.new_exchange(now);
            return self.transmit(now);
        }
        if self.state != State::Bound && self.timer.is_some_and(|t| now >= t) {
            return self.transmit(now);
        }
        Vec::new()
    }

    fn give_up(&mut self) -> Vec<Action> {
        let timeout = self.opts.acquire_timeout;
        let reason = if let Some(last) = self.last_refusal.as_deref() {
            format!(
                "no DHCPv6 lease within {timeout:?}: refused {} time(s), last: {last}",
                self.refusals
            )
        } else if let (State::Requesting, Some(chosen)) = (self.state, self.chosen.as_ref()) {
            format!(
                "no REPLY from server {} for {} within {timeout:?}",
                hex(&chosen.server_id),
                chosen.address
            )
        } else {
            format!("no DHCPv6 ADVERTISE within {timeout:?}")
        };
        self.state = State::Failed;
        self.chosen = None;
        self.best = None;
        self.timer = None;
        self.deadline = None;
        vec![Action::GaveUp { reason }]
    }

    /// (Re)sends the current state's message and sets the retransmission timer.
    fn transmit(&mut self, now: Time) -> Vec<Action> {
        if self.sends == 0 {
            self.request_sent = now;
            self.rt = None;
        }
        self.sends += 1;
        let schedule = match self.state {
            State::Soliciting => SOLICIT_RT,
            State::Requesting => REQUEST_RT,
            State::Renewing => RENEW_RT,
            State::Rebinding => REBIND_RT,
            State::Released => RELEASE_RT,
            _ => return Vec::new(),
        }
        .capped(self.opts.resend_max);
        let first_solicit = self.state == State::Soliciting && self.sends == 1;
        let rt = v6_rt(self.rt, schedule, first_solicit, &mut self.rng);
        self.rt = Some(rt);
        let mut timer = now.after(rt);
        let centis = now.since(self.exchange_start).as_millis() / 10;
        let mut req = Request {
            msg_type: SOLICIT,
            xid: self.xid,
            elapsed: u16::try_from(centis).unwrap_or(u16::MAX),
            duid: &self.duid,
            server_id: None,
            iaid: self.iaid,
            address: None,
        };
        let unicast = |addr: Option<Ipv6Addr>| match (self.multicast, addr) {
            (false, Some(a)) => Destination::Unicast(a),
            _ => Destination::AllServers,
        };
        let to = match (self.state, &self.chosen, &self.lease, &self.releasing) {
            (State::Soliciting, ..) => {
                req.address = self.hint;
                Destination::AllServers
            }
            (State::Requesting, Some(chosen), ..) => {
                req.msg_type = REQUEST;
                req.server_id = Some(&chosen.server_id);
                req.address = Some(chosen.address);
                unicast(chosen.server_addr)
            }
            (State::Renewing, _, Some(lease), _) => {
                req.msg_type = RENEW;
                req.server_id = Some(&lease.server_id);
                req.address = Some(lease.address);
                req.iaid = lease.iaid;
                timer = timer.min(lease.rebind_at());
                unicast(lease.server_addr)
            }
            (State::Rebinding, _, Some(lease), _) => {
                req.msg_type = REBIND;
                req.address = Some(lease.address);
                req.iaid = lease.iaid;
                timer = timer.min(lease.expires_at());
                Destination::AllServers
            }
            (State::Released, _, _, Some(lease)) => {
                req.msg_type = RELEASE;
                req.server_id = Some(&lease.server_id);
                req.address = Some(lease.address);
                req.iaid = lease.iaid;
                unicast(lease.server_addr)
            }
            _ => return Vec::new(),
        };
        let packet = message::encode(&req);
        self.timer = Some(timer);
        match packet {
            Some(packet) => vec![Action::Send { to, packet }],
            None => {
                tracing::warn!(
                    msg_type = req.msg_type,
                    "DHCPv6 message could not be encoded"
                );
                Vec::new()
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
