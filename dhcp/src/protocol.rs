//! What the plugin and the daemon say to each other over the unix socket:
//! one JSON request line, one JSON reply line, then the connection closes.
//! Both carry the protocol's name, so a plugin that reaches some other daemon
//! (the reference's speaks Go net/rpc over HTTP) can say so instead of
//! failing on a parse error.

use cni_core::{CniError, CniResult};
use serde::{Deserialize, Serialize};

/// The name and version both sides must agree on.
pub const PROTOCOL: &str = "cni-rs-dhcp/1";

/// A request or reply longer than this is refused (a config is far smaller).
pub const MAX_LINE: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verb {
    Add,
    Del,
    Check,
    Gc,
    Status,
}

/// One plugin invocation, forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    pub protocol: String,
    pub verb: Verb,
    pub container_id: String,
    /// Absolute: the daemon runs in another working directory.
    pub netns: String,
    pub ifname: String,
    pub cni_args: String,
    /// The network configuration exactly as the plugin received it.
    pub config: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<CniResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<CniError>,
}

impl Reply {
    pub fn ok(result: Option<CniResult>) -> Reply {
        Reply {
            protocol: PROTOCOL.to_string(),
            result,
            error: None,
        }
    }

    pub fn failed(error: CniError) -> Reply {
        Reply {
            protocol: PROTOCOL.to_string(),
            result: None,
            error: Some(error),
        }
    }

    pub fn into_outcome(self) -> Result<Option<CniResult>, CniError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.result),
        }
    }
}

/// What came back from the socket, read as our reply if it is one.
#[derive(Debug, PartialEq)]
pub enum Answer {
    Ours(Box<Reply>),
    /// An HTTP status line: a daemon built on Go net/rpc (the reference's).
    Http(String),
    Garbage(String),
}

pub fn read_answer(bytes: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(bytes);
    let first_line = text.lines().next().unwrap_or("").trim().to_string();
    if first_line.starts_with("HTTP/") {
        return Answer::Http(first_line);
    }
    match serde_json::from_str::<Reply>(&first_line) {
        Ok(reply) if reply.protocol == PROTOCOL => Answer::Ours(Box::new(reply)),
        Ok(reply) => Answer::Garbage(format!("protocol {:?}", reply.protocol)),
        Err(_) => Answer::Garbage(first_line.chars().take(80).collect()),
    }
}

/// A request line, read by the daemon.
pub fn read_request(line: &[u8]) -> Result<Request, CniError> {
    let request: Request = serde_json::from_slice(line)
        .map_err(|e| CniError::decode(format!("dhcp daemon: not a {PROTOCOL} request: {e}")))?;
    if request.protocol != PROTOCOL {
        return Err(CniError::incompatible_version(format!(
            "dhcp daemon speaks {PROTOCOL}, the plugin {:?}: install the plugin and the daemon from the same build",
            request.protocol
        )));
    }
    Ok(request)
}

/// `value` as one line (JSON never contains a raw newline).
pub fn to_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).unwrap_or_default();
    line.push(b'\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_round_trips_and_others_are_recognised() {
        let reply = Reply::failed(CniError::try_again_later("busy"));
        assert_eq!(read_answer(&to_line(&reply)), Answer::Ours(Box::new(reply)));
        assert_eq!(
            read_answer(b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n"),
            Answer::Http("HTTP/1.1 400 Bad Request".to_string())
        );
        assert!(matches!(
            read_answer(b"{\"protocol\":\"x\"}\n"),
            Answer::Garbage(_)
        ));
        assert!(matches!(read_answer(b""), Answer::Garbage(_)));
    }

    #[test]
    fn a_request_of_another_protocol_version_is_refused() {
        let mut request = Request {
            protocol: "cni-rs-dhcp/0".into(),
            verb: Verb::Add,
            container_id: "c".into(),
            netns: "/run/netns/x".into(),
            ifname: "eth0".into(),
            cni_args: String::new(),
            config: "{}".into(),
        };
        let line = to_line(&request);
        assert_eq!(read_request(&line[..line.len() - 1]).unwrap_err().code, 1);
        request.protocol = PROTOCOL.into();
        let line = to_line(&request);
        assert_eq!(read_request(&line[..line.len() - 1]).unwrap(), request);
        assert_eq!(read_request(b"GET / HTTP/1.0").unwrap_err().code, 6);
    }
}
