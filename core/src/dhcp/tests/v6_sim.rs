//! A simulated DHCPv6 server and a one-client network on a simulated clock.

use super::T0;
use crate::dhcp::v6::{Action, Client, Destination, Lease};
use crate::dhcp::{ClientOptions, Time};
use dhcproto::v6::{
    DhcpOption, IAAddr, Message, MessageType, OptionCode, Status, StatusCode, IANA,
};
use dhcproto::{Decodable, Decoder, Encodable, Name};
use std::collections::{HashMap, VecDeque};
use std::net::Ipv6Addr;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Receives (and records) but never answers.
    Silent,
    /// Advertises, but refuses every REQUEST with NoAddrsAvail.
    RefuseRequests,
    /// Advertises only NoAddrsAvail.
    NoAddrs,
    /// Answers SOLICIT but ignores REQUEST.
    IgnoreRequests,
    /// Answers RENEW/REBIND with NoBinding.
    NoBinding,
    /// Answers RENEW/REBIND withdrawing the address (valid lifetime 0).
    Withdraw,
    /// Answers any message it got by unicast with UseMulticast.
    UseMulticast,
}

/// A DHCPv6 server: one address per (DUID, IAID) from `prefix`.
pub struct Server {
    pub duid: Vec<u8>,
    /// Its own link address (the Server Unicast option's value).
    pub addr: Ipv6Addr,
    pub mode: Mode,
    pub prefix: Ipv6Addr,
    pub preference: Option<u8>,
    /// Send a Server Unicast option.
    pub unicast: bool,
    pub t1: u32,
    pub t2: u32,
    pub preferred: u32,
    pub valid: u32,
    pub dns: Vec<Ipv6Addr>,
    pub search: Vec<String>,
    /// Keep every received message (off for the load test).
    pub record: bool,
    pub received: Vec<(Time, Destination, Message)>,
    pub bindings: HashMap<(Vec<u8>, u32), Ipv6Addr>,
    pub released: Vec<(Time, Ipv6Addr)>,
    next_host: u128,
}

impl Server {
    pub fn new(n: u8) -> Server {
        Server {
            duid: vec![0, 3, 0, 1, 2, 0, 0, 0, 0, n], // DUID-LL
            addr: format!("fe80::{n}").parse().expect("addr"),
            mode: Mode::Normal,
            prefix: format!("fd00:{n}::").parse().expect("prefix"),
            preference: None,
            unicast: false,
            t1: 1800,
            t2: 2880,
            preferred: 3600,
            valid: 7200,
            dns: vec!["fd00::53".parse().expect("addr")],
            search: vec!["example.org".into(), "svc.example.org".into()],
            record: true,
            received: Vec::new(),
            bindings: HashMap::new(),
            released: Vec::new(),
            next_host: 0x100,
        }
    }

    /// Receives one client message sent to `to`; the reply, if any.
    pub fn handle(&mut self, now: Time, to: Destination, packet: &[u8]) -> Option<Vec<u8>> {
        let msg = Message::decode(&mut Decoder::new(packet)).expect("client message decodes");
        if self.record {
            self.received.push((now, to, msg.clone()));
        }
        let unicast = matches!(to, Destination::Unicast(_));
        if matches!(to, Destination::Unicast(a) if a != self.addr) || self.mode == Mode::Silent {
            return None;
        }
        let client = match msg.opts().get(OptionCode::ClientId) {
            Some(DhcpOption::ClientId(id)) => id.clone(),
            _ => return None,
        };
        let server_ok = match msg.opts().get(OptionCode::ServerId) {
            Some(DhcpOption::ServerId(id)) => *id == self.duid,
            _ => false,
        };
        let Some(DhcpOption::IANA(ia)) = msg.opts().get(OptionCode::IANA) else {
            return None;
        };
        let asked = ia.opts.iter().find_map(|o| match o {
            DhcpOption::IAAddr(a) => Some(a.addr),
            _ => None,
        });
        let key = (client, ia.id);
        let kind = msg.msg_type();
        if unicast && self.mode == Mode::UseMulticast {
            return Some(self.reply(&msg, MessageType::Reply, Some(status(5)), None));
        }
        match kind {
            MessageType::Solicit => {
                if self.mode == Mode::NoAddrs {
                    let ia = self.ia(ia.id, None, Some(status(2)));
                    return Some(self.reply(
                        &msg,
                        MessageType::Advertise,
                        Some(status(2)),
                        Some(ia),
                    ));
                }
                let addr = self.address_for(&key, asked);
                let ia = self.ia(key.1, Some((addr, self.valid)), None);
                Some(self.reply(&msg, MessageType::Advertise, None, Some(ia)))
            }
            MessageType::Request => {
                if !server_ok || self.mode == Mode::IgnoreRequests {
                    return None;
                }
                let ia = match (self.mode, asked) {
                    (Mode::RefuseRequests, _) | (_, None) => self.ia(key.1, None, Some(status(2))),
                    (_, Some(addr)) => {
                        self.bindings.insert(key.clone(), addr);
                        self.ia(key.1, Some((addr, self.valid)), None)
                    }
                };
                Some(self.reply(&msg, MessageType::Reply, None, Some(ia)))
            }
            MessageType::Renew | MessageType::Rebind => {
                if kind == MessageType::Renew && !server_ok {
                    return None;
                }
                let bound = self.bindings.get(&key).copied();
                let ia = match (self.mode, bound) {
                    (Mode::NoBinding, _) | (_, None) => self.ia(key.1, None, Some(status(3))),
                    (Mode::Withdraw, Some(addr)) => self.ia(key.1, Some((addr, 0)), None),
                    (_, Some(addr)) => self.ia(key.1, Some((addr, self.valid)), None),
                };
                Some(self.reply(&msg, MessageType::Reply, None, Some(ia)))
            }
            MessageType::Release => {
                if !server_ok {
                    return None;
                }
                if let Some(addr) = self.bindings.remove(&key) {
                    self.released.push((now, addr));
                }
                Some(self.reply(&msg, MessageType::Reply, Some(status(0)), None))
            }
            _ => None,
        }
    }

    fn address_for(&mut self, key: &(Vec<u8>, u32), hint: Option<Ipv6Addr>) -> Ipv6Addr {
        if let Some(addr) = self.bindings.get(key) {
            return *addr;
        }
        let taken = |a: &Ipv6Addr, b: &HashMap<_, Ipv6Addr>| b.values().any(|x| x == a);
        if let Some(h) = hint.filter(|h| !taken(h, &self.bindings)) {
            return h;
        }
        loop {
            let addr = Ipv6Addr::from(u128::from(self.prefix) + self.next_host);
            self.next_host += 1;
            if !taken(&addr, &self.bindings) {
                return addr;
            }
        }
    }

    fn ia(&self, iaid: u32, addr: Option<(Ipv6Addr, u32)>, st: Option<StatusCode>) -> IANA {
        let mut ia = IANA {
            id: iaid,
            t1: self.t1,
            t2: self.t2,
            opts: Default::default(),
        };
        if let Some((addr, valid)) = addr {
            ia.opts.insert(DhcpOption::IAAddr(IAAddr {
                addr,
                preferred_life: self.preferred.min(valid),
                valid_life: valid,
                opts: Default::default(),
            }));
        }
        if let Some(st) = st {
            ia.opts.insert(DhcpOption::StatusCode(st));
        }
        ia
    }

    fn reply(
        &self,
        req: &Message,
        kind: MessageType,
        st: Option<StatusCode>,
        ia: Option<IANA>,
    ) -> Vec<u8> {
        let mut m = Message::new_with_id(kind, req.xid());
        let o = m.opts_mut();
        if let Some(id) = req.opts().get(OptionCode::ClientId) {
            o.insert(id.clone());
        }
        o.insert(DhcpOption::ServerId(self.duid.clone()));
        if let Some(p) = self.preference {
            o.insert(DhcpOption::Preference(p));
        }
        if self.unicast {
            o.insert(DhcpOption::ServerUnicast(self.addr));
        }
        if let Some(st) = st {
            o.insert(DhcpOption::StatusCode(st));
        }
        if let Some(ia) = ia {
            o.insert(DhcpOption::IANA(ia));
        }
        o.insert(DhcpOption::DomainNameServers(self.dns.clone()));
        let names = self
            .search
            .iter()
            .map(|s| Name::from_str(&format!("{s}.")).expect("name"))
            .collect();
        o.insert(DhcpOption::DomainSearchList(names));
        m.to_vec().expect("server reply encodes")
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode {
        status: Status::from(code),
        msg: String::new(),
    }
}

/// One message the client sent.
#[derive(Clone, Debug)]
pub struct Sent {
    pub at: Time,
    pub to: Destination,
    pub msg: Message,
}

impl Sent {
    pub fn kind(&self) -> MessageType {
        self.msg.msg_type()
    }

    pub fn opt(&self, code: OptionCode) -> Option<&DhcpOption> {
        self.msg.opts().get(code)
    }

    pub fn server_id(&self) -> Option<&[u8]> {
        match self.opt(OptionCode::ServerId) {
            Some(DhcpOption::ServerId(id)) => Some(id),
            _ => None,
        }
    }

    pub fn ia(&self) -> &IANA {
        match self.opt(OptionCode::IANA) {
            Some(DhcpOption::IANA(ia)) => ia,
            other => panic!("no IA_NA: {other:?}"),
        }
    }

    /// The IA_NA's address, if it names one.
    pub fn ia_addr(&self) -> Option<Ipv6Addr> {
        self.ia().opts.iter().find_map(|o| match o {
            DhcpOption::IAAddr(a) => Some(a.addr),
            _ => None,
        })
    }

    pub fn elapsed(&self) -> u16 {
        match self.opt(OptionCode::ElapsedTime) {
            Some(DhcpOption::ElapsedTime(e)) => *e,
            other => panic!("no Elapsed Time: {other:?}"),
        }
    }
}

/// A reported lease event (every non-Send action), with its time.
pub type Event = (Time, Action);

/// One client, some servers, one clock. Messages are delivered at once.
pub struct Net {
    pub now: Time,
    pub client: Client,
    pub servers: Vec<Server>,
    pub sent: Vec<Sent>,
    pub events: Vec<Event>,
}

impl Net {
    pub fn new(opts: ClientOptions, servers: Vec<Server>) -> Net {
        Net::with_client(Client::new(opts), servers, T0)
    }

    pub fn with_client(client: Client, servers: Vec<Server>, now: Time) -> Net {
        Net {
            now,
            client,
            servers,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn one(opts: ClientOptions) -> Net {
        Net::new(opts, vec![Server::new(1)])
    }

    pub fn start(&mut self) {
        let actions = self.client.start(self.now);
        self.apply(actions);
    }

    pub fn apply(&mut self, actions: Vec<Action>) {
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            let Action::Send { to, packet } = action else {
                self.events.push((self.now, action));
                continue;
            };
            let msg = Message::decode(&mut Decoder::new(&packet)).expect("client message decodes");
            self.sent.push(Sent {
                at: self.now,
                to,
                msg,
            });
            let now = self.now;
            let replies: Vec<Vec<u8>> = self
                .servers
                .iter_mut()
                .filter_map(|s| s.handle(now, to, &packet))
                .collect();
            for reply in replies {
                queue.extend(self.client.on_packet(now, &reply));
            }
        }
    }

    pub fn deliver(&mut self, packet: &[u8]) -> Vec<Action> {
        self.client.on_packet(self.now, packet)
    }

    pub fn run_until(&mut self, until: Time) {
        while let Some(t) = self.client.next_timer() {
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            let actions = self.client.on_timer(self.now);
            self.apply(actions);
        }
        self.now = self.now.max(until);
    }

    pub fn run_to_event(&mut self, limit: Time) -> Option<Event> {
        let seen = self.events.len();
        while self.events.len() == seen {
            let t = self.client.next_timer()?;
            if t > limit {
                return None;
            }
            self.now = self.now.max(t);
            let actions = self.client.on_timer(self.now);
            self.apply(actions);
        }
        self.events.get(seen).cloned()
    }

    pub fn server(&mut self) -> &mut Server {
        &mut self.servers[0]
    }

    pub fn sent_since(&self, since: Time) -> Vec<&Sent> {
        self.sent.iter().filter(|s| s.at >= since).collect()
    }

    /// Starts and runs until Bound; the lease.
    pub fn bound(&mut self) -> Lease {
        let seen = self.events.len();
        self.start();
        if self.events.len() == seen {
            self.run_to_event(T0.after(std::time::Duration::from_secs(60)));
        }
        match self.events.get(seen) {
            Some((_, Action::Bound(lease))) => lease.clone(),
            other => panic!("expected Bound, got {other:?}"),
        }
    }
}
