//! What NLMSG_ERROR (an acknowledgement or a failure) and NLMSG_DONE say:
//! the errno and, with extended acknowledgements, the kernel's reason.

use super::wire::{align4, parse_attrs, FrameError, NlMsg, HEADER_LEN};

const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;

/// `errno` is positive, 0 for an acknowledgement or a dump that ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub errno: i32,
    /// NLMSGERR_ATTR_MSG, the kernel's human-readable reason.
    pub extack: Option<String>,
}

fn read_errno(payload: &[u8], kind: &'static str) -> Result<i32, FrameError> {
    let code = payload
        .get(..4)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(FrameError::ShortStatus {
            kind,
            len: payload.len(),
        })?;
    Ok(code.saturating_neg())
}

/// NLMSG_ERROR: the (negative) errno, the request it answers (only its header
/// when the kernel capped it), then the extended-ack attributes.
pub fn error_status<T: AsRef<[u8]>>(msg: &NlMsg<T>) -> Result<Status, FrameError> {
    let payload = msg.payload();
    let errno = read_errno(payload, "error")?;
    let echoed = &payload[4..];
    let echoed_len = if msg.flags() & NLM_F_CAPPED != 0 {
        HEADER_LEN
    } else {
        echoed.get(..4).map_or(0, |b| {
            align4(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
        })
    };
    let tlvs = echoed.get(echoed_len..).unwrap_or_default();
    Ok(Status {
        errno,
        extack: extack(msg.flags(), tlvs),
    })
}

/// NLMSG_DONE ends a dump; a dump that failed half way carries the errno
/// (older kernels send no payload at all) and then extended-ack attributes.
pub fn done_status<T: AsRef<[u8]>>(msg: &NlMsg<T>) -> Result<Status, FrameError> {
    let payload = msg.payload();
    if payload.is_empty() {
        return Ok(Status {
            errno: 0,
            extack: None,
        });
    }
    Ok(Status {
        errno: read_errno(payload, "done")?,
        extack: extack(msg.flags(), &payload[4..]),
    })
}

fn extack(flags: u16, tlvs: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let (_, text) = parse_attrs(tlvs)
        .into_iter()
        .find(|(kind, _)| *kind == NLMSGERR_ATTR_MSG)?;
    let text = text.split(|b| *b == 0).next().unwrap_or_default();
    Some(String::from_utf8_lossy(text).into_owned())
}
