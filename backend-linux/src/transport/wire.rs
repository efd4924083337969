//! The netlink message header as a checked view over bytes ([`NlMsg`], smoltcp's
//! `Packet`) and as a plain value to build from ([`NlHeaderRepr`], its `Repr`),
//! the splitting of a datagram into messages, and attributes walked and built.

use thiserror::Error;

pub const HEADER_LEN: usize = 16;
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;
const NLA_TYPE_MASK: u16 = 0x3fff;
const NLA_F_NESTED: u16 = 0x8000;

mod field {
    use std::ops::Range;
    pub const LENGTH: Range<usize> = 0..4;
    pub const KIND: Range<usize> = 4..6;
    pub const FLAGS: Range<usize> = 6..8;
    pub const SEQ: Range<usize> = 8..12;
}

/// Bytes from the kernel that do not form netlink messages.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("{len} bytes, shorter than a netlink header")]
    ShortBuffer { len: usize },
    #[error("{len}-byte fragment after the last whole message")]
    TrailingFragment { len: usize },
    #[error("message length {claimed} outside {HEADER_LEN}..={available} bytes")]
    BadLength { claimed: usize, available: usize },
    #[error("{kind} message with a {len}-byte payload, too short for its status")]
    ShortStatus { kind: &'static str, len: usize },
}

/// Netlink pads every message and attribute to four bytes.
pub fn align4(len: usize) -> usize {
    len.saturating_add(3) & !3
}

fn ne_u16(b: &[u8]) -> u16 {
    u16::from_ne_bytes([b[0], b[1]])
}

fn ne_u32(b: &[u8]) -> u32 {
    u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
}

/// One netlink message. Once [`NlMsg::new_checked`] accepted the buffer,
/// every accessor is in bounds.
#[derive(Debug, Clone, Copy)]
pub struct NlMsg<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NlMsg<T> {
    /// `buffer` must hold a whole header and `nlmsg_len` must lie between the
    /// header and the end of `buffer`; bytes beyond `nlmsg_len` are ignored.
    pub fn new_checked(buffer: T) -> Result<Self, FrameError> {
        let data = buffer.as_ref();
        if data.len() < HEADER_LEN {
            return Err(FrameError::ShortBuffer { len: data.len() });
        }
        let claimed = ne_u32(&data[field::LENGTH]) as usize;
        if claimed < HEADER_LEN || claimed > data.len() {
            return Err(FrameError::BadLength {
                claimed,
                available: data.len(),
            });
        }
        Ok(NlMsg { buffer })
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// `nlmsg_len`: header and payload, without trailing padding.
    pub fn length(&self) -> usize {
        ne_u32(&self.data()[field::LENGTH]) as usize
    }

    pub fn kind(&self) -> u16 {
        ne_u16(&self.data()[field::KIND])
    }

    pub fn flags(&self) -> u16 {
        ne_u16(&self.data()[field::FLAGS])
    }

    pub fn seq(&self) -> u32 {
        ne_u32(&self.data()[field::SEQ])
    }

    pub fn payload(&self) -> &[u8] {
        &self.data()[HEADER_LEN..self.length()]
    }

    /// The whole message, header included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data()[..self.length()]
    }
}

/// A header to build a request from; the port id is always 0 (the kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlHeaderRepr {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
}

impl NlHeaderRepr {
    pub fn parse<T: AsRef<[u8]>>(msg: &NlMsg<T>) -> Self {
        NlHeaderRepr {
            kind: msg.kind(),
            flags: msg.flags(),
            seq: msg.seq(),
        }
    }

    /// Appends the header and a zeroed, padded payload of `payload_len` bytes
    /// to `out`, and returns that payload to be filled in.
    pub fn emit<'a>(&self, out: &'a mut Vec<u8>, payload_len: usize) -> &'a mut [u8] {
        let start = out.len();
        let len = HEADER_LEN + payload_len;
        out.extend_from_slice(&(len as u32).to_ne_bytes());
        out.extend_from_slice(&self.kind.to_ne_bytes());
        out.extend_from_slice(&self.flags.to_ne_bytes());
        out.extend_from_slice(&self.seq.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        out.resize(start + align4(len), 0);
        &mut out[start + HEADER_LEN..start + len]
    }
}

/// The messages of one datagram, in order; stops after the first error.
pub fn messages(datagram: &[u8]) -> Messages<'_> {
    Messages {
        rest: datagram,
        failed: false,
    }
}

pub struct Messages<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<NlMsg<&'a [u8]>, FrameError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        if self.rest.len() < HEADER_LEN {
            self.failed = true;
            let len = self.rest.len();
            return Some(Err(FrameError::TrailingFragment { len }));
        }
        match NlMsg::new_checked(self.rest) {
            Ok(msg) => {
                // The last message of a datagram may lack its padding.
                let next = align4(msg.length()).min(self.rest.len());
                let (this, rest) = self.rest.split_at(next);
                self.rest = rest;
                Some(Ok(NlMsg { buffer: this }))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// The attributes in `buf` as (type without flag bits, value); stops at the
/// first one whose length does not fit.
pub fn parse_attrs(buf: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= 4 {
        let len = ne_u16(&rest[0..2]) as usize;
        if len < 4 || len > rest.len() {
            break;
        }
        out.push((ne_u16(&rest[2..4]) & NLA_TYPE_MASK, &rest[4..len]));
        rest = &rest[align4(len).min(rest.len())..];
    }
    out
}

/// Netlink attributes being built: type-length-value, 4-byte aligned.
#[derive(Default, Clone, Debug)]
pub struct Attrs(pub Vec<u8>);

impl Attrs {
    pub fn put(&mut self, kind: u16, value: &[u8]) -> &mut Self {
        let len = 4 + value.len();
        self.0.extend_from_slice(&(len as u16).to_ne_bytes());
        self.0.extend_from_slice(&kind.to_ne_bytes());
        self.0.extend_from_slice(value);
        self.0.resize(self.0.len() + ((4 - len % 4) % 4), 0);
        self
    }
    pub fn put_str(&mut self, kind: u16, s: &str) -> &mut Self {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.put(kind, &v)
    }
    pub fn put_be32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.put(kind, &v.to_be_bytes())
    }
    pub fn put_be64(&mut self, kind: u16, v: u64) -> &mut Self {
        self.put(kind, &v.to_be_bytes())
    }
    pub fn put_nested(&mut self, kind: u16, build: impl FnOnce(&mut Attrs)) -> &mut Self {
        let mut inner = Attrs::default();
        build(&mut inner);
        self.put(kind | NLA_F_NESTED, &inner.0)
    }
}
