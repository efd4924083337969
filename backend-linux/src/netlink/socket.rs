//! rtnetlink on the shared transport: requests with acknowledgement, single
//! replies, and dumps (retried by the transport when interrupted).

use crate::transport::{Exchange, Family, NlHeaderRepr, NlMsg, NlSocket, Outcome};
use cni_core::net::{NetError, NetResult};
use netlink_packet_core::{
    NetlinkDeserializable, NetlinkHeader, NetlinkSerializable, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::protocols::NETLINK_ROUTE;

/// NETLINK_ROUTE: links, addresses, routes.
pub struct Route;

impl Family for Route {
    const PROTOCOL: isize = NETLINK_ROUTE;
    const NAME: &'static str = "rtnetlink";
    type Reply = RouteNetlinkMessage;

    fn decode(msg: &NlMsg<&[u8]>) -> Result<Option<RouteNetlinkMessage>, String> {
        let mut header = NetlinkHeader::default();
        header.length = msg.length() as u32;
        header.message_type = msg.kind();
        header.flags = msg.flags();
        header.sequence_number = msg.seq();
        RouteNetlinkMessage::deserialize(&header, msg.payload())
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

pub type RtSocket = NlSocket<Route>;

/// `msg` as one netlink message with `flags` and `seq`.
pub(crate) fn frame(msg: &RouteNetlinkMessage, flags: u16, seq: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let header = NlHeaderRepr {
        kind: msg.message_type(),
        flags,
        seq,
    };
    msg.serialize(header.emit(&mut out, msg.buffer_len()));
    out
}

impl NlSocket<Route> {
    /// Sends `msg` with `flags` and waits for the acknowledgement.
    pub fn request(
        &self,
        msg: RouteNetlinkMessage,
        flags: u16,
        what: impl Fn() -> String,
    ) -> NetResult<()> {
        self.acked(&msg, flags, &what).map(drop)
    }

    /// Sends a get request and returns the one object it answers with.
    pub fn get(
        &self,
        msg: RouteNetlinkMessage,
        what: impl Fn() -> String,
    ) -> NetResult<RouteNetlinkMessage> {
        let mut replies = self.acked(&msg, 0, &what)?;
        match replies.len() {
            1 => Ok(replies.remove(0)),
            n => Err(NetError::other(format!(
                "{}: expected one reply, got {n}",
                what()
            ))),
        }
    }

    /// Every object matching `msg`.
    pub fn dump(
        &self,
        msg: RouteNetlinkMessage,
        what: impl Fn() -> String,
    ) -> NetResult<Vec<RouteNetlinkMessage>> {
        let build = |seq| frame(&msg, NLM_F_REQUEST | NLM_F_DUMP, seq);
        self.dump_retrying(build, &what)
    }

    fn acked(
        &self,
        msg: &RouteNetlinkMessage,
        flags: u16,
        what: &dyn Fn() -> String,
    ) -> NetResult<Vec<RouteNetlinkMessage>> {
        let seq = self.reserve_seqs(1);
        let request = frame(msg, NLM_F_REQUEST | NLM_F_ACK | flags, seq);
        match self.exchange(&request, Exchange::acked(seq), what)? {
            Outcome::Complete(replies) => Ok(replies),
            Outcome::Interrupted => Err(NetError::other(format!(
                "{}: interrupted outside a dump",
                what()
            ))),
        }
    }
}
