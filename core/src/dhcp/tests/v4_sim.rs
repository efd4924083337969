//! A simulated DHCPv4 server and a one-client network on a simulated clock.

use super::T0;
use crate::dhcp::v4::{Action, Client, Destination, Lease};
use crate::dhcp::{ClientOptions, Time};
use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode, OptionCode, UnknownOption};
use dhcproto::{Decodable, Decoder, Encodable};
use ipnet::Ipv4Net;
use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Receives (and records) but never answers.
    Silent,
    /// Answers every REQUEST with a NAK (DISCOVERs still get OFFERs).
    Nak,
}

/// A DHCPv4 server: leases from `subnet`, one address per client identifier.
pub struct Server {
    pub id: Ipv4Addr,
    pub mode: Mode,
    pub subnet: Ipv4Net,
    pub lease_time: u32,
    pub t1: Option<u32>,
    pub t2: Option<u32>,
    /// Options added to every OFFER and ACK.
    pub extra: Vec<DhcpOption>,
    /// Options added verbatim (code, value), e.g. malformed ones.
    pub raw: Vec<(u8, Vec<u8>)>,
    /// Echo option 61 (RFC 6842).
    pub echo_client_id: bool,
    /// Send option 1.
    pub send_mask: bool,
    /// Keep every received message (off for the load test).
    pub record: bool,
    pub received: Vec<(Time, Destination, Message)>,
    pub bindings: HashMap<Vec<u8>, Ipv4Addr>,
    pub released: Vec<(Time, Ipv4Addr)>,
    next_host: u32,
}

impl Server {
    pub fn new(id: Ipv4Addr, subnet: &str) -> Server {
        Server {
            id,
            mode: Mode::Normal,
            subnet: subnet.parse().expect("test subnet"),
            lease_time: 3600,
            t1: Some(1800),
            t2: Some(3150),
            extra: vec![
                DhcpOption::Router(vec![Ipv4Addr::new(10, 0, 0, 1)]),
                DhcpOption::DomainNameServer(vec![
                    Ipv4Addr::new(10, 0, 0, 53),
                    Ipv4Addr::new(10, 0, 1, 53),
                ]),
            ],
            raw: Vec::new(),
            echo_client_id: true,
            send_mask: true,
            record: true,
            received: Vec::new(),
            bindings: HashMap::new(),
            released: Vec::new(),
            next_host: 10,
        }
    }

    /// Receives one client packet sent to `to`; the reply, if any.
    pub fn handle(&mut self, now: Time, to: Destination, packet: &[u8]) -> Option<Vec<u8>> {
        let msg = Message::decode(&mut Decoder::new(packet)).expect("client packet decodes");
        if self.record {
            self.received.push((now, to, msg.clone()));
        }
        if matches!(to, Destination::Unicast(ip) if ip != self.id) || self.mode == Mode::Silent {
            return None;
        }
        let key = match msg.opts().get(OptionCode::ClientIdentifier) {
            Some(DhcpOption::ClientIdentifier(id)) => id.clone(),
            _ => msg.chaddr().to_vec(),
        };
        let requested = match msg.opts().get(OptionCode::RequestedIpAddress) {
            Some(DhcpOption::RequestedIpAddress(ip)) => Some(*ip),
            _ => None,
        };
        let server_id = match msg.opts().get(OptionCode::ServerIdentifier) {
            Some(DhcpOption::ServerIdentifier(ip)) => Some(*ip),
            _ => None,
        };
        match msg.opts().msg_type()? {
            MessageType::Discover => {
                let ip = self.address_for(&key, requested);
                Some(self.reply(&msg, MessageType::Offer, ip))
            }
            MessageType::Request => {
                if server_id.is_some_and(|s| s != self.id) {
                    return None; // the client chose another server
                }
                if self.mode == Mode::Nak {
                    return Some(self.reply(&msg, MessageType::Nak, Ipv4Addr::UNSPECIFIED));
                }
                // SELECTING names the address in option 50, RENEWING/REBINDING in ciaddr.
                let wanted = requested.unwrap_or(msg.ciaddr());
                let bound = self.bindings.get(&key).copied();
                let ok = match bound {
                    Some(ip) => ip == wanted,
                    None => server_id.is_some() && self.free(wanted),
                };
                if !ok {
                    return Some(self.reply(&msg, MessageType::Nak, Ipv4Addr::UNSPECIFIED));
                }
                self.bindings.insert(key, wanted);
                Some(self.reply(&msg, MessageType::Ack, wanted))
            }
            MessageType::Release => {
                if self.bindings.get(&key) == Some(&msg.ciaddr()) {
                    self.bindings.remove(&key);
                }
                self.released.push((now, msg.ciaddr()));
                None
            }
            _ => None,
        }
    }

    fn free(&self, ip: Ipv4Addr) -> bool {
        self.subnet.contains(&ip) && !self.bindings.values().any(|b| *b == ip)
    }

    fn address_for(&mut self, key: &[u8], requested: Option<Ipv4Addr>) -> Ipv4Addr {
        if let Some(ip) = self.bindings.get(key) {
            return *ip;
        }
        if let Some(ip) = requested.filter(|ip| self.free(*ip)) {
            return ip;
        }
        loop {
            let ip = Ipv4Addr::from(u32::from(self.subnet.network()) + self.next_host);
            self.next_host += 1;
            if self.free(ip) {
                return ip;
            }
        }
    }

    fn reply(&self, req: &Message, kind: MessageType, yiaddr: Ipv4Addr) -> Vec<u8> {
        let mut m = Message::new_with_id(
            req.xid(),
            Ipv4Addr::UNSPECIFIED,
            yiaddr,
            self.id,
            Ipv4Addr::UNSPECIFIED,
            req.chaddr(),
        );
        m.set_opcode(Opcode::BootReply).set_flags(req.flags());
        let o = m.opts_mut();
        o.insert(DhcpOption::MessageType(kind));
        o.insert(DhcpOption::ServerIdentifier(self.id));
        if self.echo_client_id {
            if let Some(id) = req.opts().get(OptionCode::ClientIdentifier) {
                o.insert(id.clone());
            }
        }
        if kind == MessageType::Nak {
            o.insert(DhcpOption::Message("address not available".into()));
        } else {
            o.insert(DhcpOption::AddressLeaseTime(self.lease_time));
            if let Some(t1) = self.t1 {
                o.insert(DhcpOption::Renewal(t1));
            }
            if let Some(t2) = self.t2 {
                o.insert(DhcpOption::Rebinding(t2));
            }
            if self.send_mask {
                o.insert(DhcpOption::SubnetMask(self.subnet.netmask()));
            }
            for opt in &self.extra {
                o.insert(opt.clone());
            }
            for (c, v) in &self.raw {
                let opt = UnknownOption::new(OptionCode::from(*c), v.clone());
                o.insert(DhcpOption::Unknown(opt));
            }
        }
        m.to_vec().expect("server reply encodes")
    }
}

/// One packet the client sent.
#[derive(Clone, Debug)]
pub struct Sent {
    pub at: Time,
    pub to: Destination,
    pub msg: Message,
}

impl Sent {
    pub fn kind(&self) -> MessageType {
        self.msg
            .opts()
            .msg_type()
            .expect("client message has a type")
    }

    pub fn opt(&self, code: OptionCode) -> Option<&DhcpOption> {
        self.msg.opts().get(code)
    }
}

/// A reported lease event (every non-Send action), with its time.
pub type Event = (Time, Action);

/// One client, some servers, one clock. Packets are delivered at once.
pub struct Net {
    pub now: Time,
    pub client: Client,
    pub servers: Vec<Server>,
    pub sent: Vec<Sent>,
    pub events: Vec<Event>,
}

impl Net {
    pub fn new(opts: ClientOptions, servers: Vec<Server>) -> Net {
        Net {
            now: T0,
            client: Client::new(opts),
            servers,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    /// A network around an existing client (a resumed one), at `now`.
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
        Net::new(
            opts,
            vec![Server::new(Ipv4Addr::new(10, 0, 0, 1), "10.0.0.0/16")],
        )
    }

    pub fn start(&mut self) {
        let actions = self.client.start(self.now);
        self.apply(actions);
    }

    /// Carries out actions: sends go to the servers, whose replies go back
    /// to the client; everything else is recorded.
    pub fn apply(&mut self, actions: Vec<Action>) {
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            let Action::Send { to, packet } = action else {
                self.events.push((self.now, action));
                continue;
            };
            let msg = Message::decode(&mut Decoder::new(&packet)).expect("client packet decodes");
            assert!(packet.len() >= 300, "BOOTP minimum size");
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

    /// Hands the client a packet from outside (not from a server).
    pub fn deliver(&mut self, packet: &[u8]) -> Vec<Action> {
        self.client.on_packet(self.now, packet)
    }

    /// Advances the clock from timer to timer up to `until`.
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

    /// Runs until the client reports a non-Send action; returns it.
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

    pub fn lease(&self) -> Lease {
        self.client.lease().cloned().expect("client holds a lease")
    }

    /// Packets sent at or after `since`.
    pub fn sent_since(&self, since: Time) -> Vec<&Sent> {
        self.sent.iter().filter(|s| s.at >= since).collect()
    }
}
