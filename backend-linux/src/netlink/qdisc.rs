//! Qdiscs: a token bucket filter as a link's root qdisc, the ingress qdisc,
//! and reading both back. netlink-packet-route has no tbf type, so its
//! options are encoded here (`struct tc_tbf_qopt`), as iproute2 sends them.

use super::Rtnl;
use cni_core::net::{NetError, NetErrorKind, NetResult, RootQdisc, Shaping, TokenBucket};
use netlink_packet_core::{DefaultNla, Nla, NlaBuffer, NlasIterator, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::tc::{TcAttribute, TcHandle, TcMessage, TcOption};
use netlink_packet_route::RouteNetlinkMessage;
use std::sync::OnceLock;

const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
/// `struct tc_tbf_qopt`: two `tc_ratespec` (12 bytes each), limit, buffer, mtu.
const TBF_QOPT_LEN: usize = 36;
const RATESPEC_RATE_AT: usize = 8;
const LIMIT_AT: usize = 24;
const BUFFER_AT: usize = 28;

/// The handle `bandwidth` gives its root qdisc (1:).
pub const ROOT_HANDLE: TcHandle = TcHandle { major: 1, minor: 0 };
/// The ingress qdisc's handle (ffff:).
pub const INGRESS_HANDLE: TcHandle = TcHandle {
    major: 0xffff,
    minor: 0,
};

/// Scheduler ticks per microsecond, from `/proc/net/psched` as iproute2 and
/// the reference read it; the kernel's constant (1000/64) when unreadable.
fn tick_in_usec() -> f64 {
    static TICK: OnceLock<f64> = OnceLock::new();
    *TICK.get_or_init(|| {
        std::fs::read_to_string("/proc/net/psched")
            .ok()
            .and_then(|text| parse_psched(&text))
            .unwrap_or(1000.0 / 64.0)
    })
}

fn parse_psched(text: &str) -> Option<f64> {
    let vals: Vec<u64> = text
        .split_whitespace()
        .map(|v| u64::from_str_radix(v, 16).ok())
        .collect::<Option<_>>()?;
    let [t2us, us2t, clock_res, ..] = vals[..] else {
        return None;
    };
    let t2us = if clock_res == 1_000_000_000 {
        us2t
    } else {
        t2us
    };
    (us2t != 0).then(|| t2us as f64 / us2t as f64 * (clock_res as f64 / 1_000_000.0))
}

fn usec_to_ticks(usec: u32, tick: f64) -> u32 {
    (f64::from(usec) * tick) as u32
}

/// The microseconds that [`usec_to_ticks`] turned into `ticks` (exact when
/// a tick is at least a microsecond long, as it is).
fn ticks_to_usec(ticks: u32, tick: f64) -> u32 {
    let up = (f64::from(ticks) / tick).ceil() as u32;
    if usec_to_ticks(up, tick) == ticks {
        up
    } else {
        (f64::from(ticks) / tick) as u32
    }
}

fn tbf_options(bucket: &TokenBucket, tick: f64) -> Vec<TcOption> {
    let mut qopt = [0u8; TBF_QOPT_LEN];
    // A rate beyond 32 bits travels in TCA_TBF_RATE64; the field keeps the cut value.
    qopt[RATESPEC_RATE_AT..RATESPEC_RATE_AT + 4]
        .copy_from_slice(&(bucket.rate as u32).to_ne_bytes());
    qopt[LIMIT_AT..LIMIT_AT + 4].copy_from_slice(&bucket.limit.to_ne_bytes());
    let buffer = usec_to_ticks(bucket.buffer_usec, tick);
    qopt[BUFFER_AT..BUFFER_AT + 4].copy_from_slice(&buffer.to_ne_bytes());
    let mut options = vec![TcOption::Other(DefaultNla::new(
        TCA_TBF_PARMS,
        qopt.to_vec(),
    ))];
    if bucket.rate >= 1 << 32 {
        options.push(TcOption::Other(DefaultNla::new(
            TCA_TBF_RATE64,
            bucket.rate.to_ne_bytes().to_vec(),
        )));
    }
    options
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The bucket in a tbf's TCA_OPTIONS (undecoded by netlink-packet-route, so
/// handed over as one attribute holding the nested ones).
fn tbf_from_options(options: &[TcOption], tick: f64) -> Option<TokenBucket> {
    let mut nested = Vec::new();
    for option in options {
        if let TcOption::Other(nla) = option {
            let mut value = vec![0; nla.value_len()];
            nla.emit_value(&mut value);
            nested.extend(value);
        }
    }
    let mut bucket = None;
    let mut rate64 = None;
    for nla in NlasIterator::new(&nested[..]) {
        let nla: NlaBuffer<&[u8]> = nla.ok()?;
        match nla.kind() {
            TCA_TBF_PARMS => {
                let v = nla.value();
                bucket = Some(TokenBucket {
                    rate: u64::from(read_u32(v, RATESPEC_RATE_AT)?),
                    limit: read_u32(v, LIMIT_AT)?,
                    buffer_usec: ticks_to_usec(read_u32(v, BUFFER_AT)?, tick),
                });
            }
            TCA_TBF_RATE64 => rate64 = Some(u64::from_ne_bytes(nla.value().try_into().ok()?)),
            _ => {}
        }
    }
    let mut bucket = bucket?;
    if let Some(rate) = rate64 {
        bucket.rate = rate;
    }
    Some(bucket)
}

fn qdisc_message(index: u32, handle: TcHandle, parent: TcHandle) -> TcMessage {
    let mut msg = TcMessage::with_index(index as i32);
    msg.header.handle = handle;
    msg.header.parent = parent;
    msg
}

impl Rtnl {
    pub fn tbf_add(&self, index: u32, bucket: &TokenBucket) -> NetResult<()> {
        let mut msg = qdisc_message(index, ROOT_HANDLE, TcHandle::ROOT);
        msg.attributes = vec![
            TcAttribute::Kind("tbf".to_string()),
            TcAttribute::Options(tbf_options(bucket, tick_in_usec())),
        ];
        self.sock.request(
            RouteNetlinkMessage::NewQueueDiscipline(msg),
            NLM_F_CREATE | NLM_F_EXCL,
            || format!("add {bucket} as root qdisc of link #{index} in {}", self.ns),
        )
    }

    pub fn ingress_qdisc_add(&self, index: u32) -> NetResult<()> {
        let mut msg = qdisc_message(index, INGRESS_HANDLE, TcHandle::INGRESS);
        msg.attributes = vec![TcAttribute::Kind("ingress".to_string())];
        self.sock.request(
            RouteNetlinkMessage::NewQueueDiscipline(msg),
            NLM_F_CREATE | NLM_F_EXCL,
            || format!("add ingress qdisc to link #{index} in {}", self.ns),
        )
    }

    pub fn root_qdisc_del(&self, index: u32) -> NetResult<()> {
        let msg = qdisc_message(index, TcHandle::UNSPEC, TcHandle::ROOT);
        self.sock
            .request(RouteNetlinkMessage::DelQueueDiscipline(msg), 0, || {
                format!("delete root qdisc of link #{index} in {}", self.ns)
            })
    }

    pub fn ingress_qdisc_del(&self, index: u32) -> NetResult<()> {
        let msg = qdisc_message(index, INGRESS_HANDLE, TcHandle::INGRESS);
        let what = || format!("delete ingress qdisc of link #{index} in {}", self.ns);
        match self
            .sock
            .request(RouteNetlinkMessage::DelQueueDiscipline(msg), 0, what)
        {
            // The kernel answers "Invalid handle" when there is none.
            Err(e) if e.kind == NetErrorKind::Invalid => {
                match self.shaping(index)?.ingress_redirects {
                    None => Err(NetError::not_found(format!("{}: no ingress qdisc", what()))),
                    Some(_) => Err(e),
                }
            }
            deleted => deleted,
        }
    }

    pub fn shaping(&self, index: u32) -> NetResult<Shaping> {
        // The kernel dumps every link's qdiscs whatever the request names.
        let replies = self.sock.dump(
            RouteNetlinkMessage::GetQueueDiscipline(TcMessage::default()),
            || format!("list qdiscs in {}", self.ns),
        )?;
        let mut shaping = Shaping::default();
        let mut found_link = false;
        for reply in replies {
            let RouteNetlinkMessage::NewQueueDiscipline(msg) = reply else {
                continue;
            };
            if msg.header.index != index as i32 {
                continue;
            }
            found_link = true;
            if msg.header.parent == TcHandle::INGRESS {
                shaping.ingress_redirects = Some(self.redirect_targets(index)?);
            } else if msg.header.parent == TcHandle::ROOT {
                shaping.root = root_qdisc(&msg)?;
            }
        }
        if !found_link {
            // Every link has a root qdisc (noop at least): none means no link.
            self.link_by_index(index)?;
        }
        Ok(shaping)
    }
}

fn root_qdisc(msg: &TcMessage) -> NetResult<RootQdisc> {
    let kind = msg.attributes.iter().find_map(|a| match a {
        TcAttribute::Kind(k) => Some(k.as_str()),
        _ => None,
    });
    // A default qdisc carries handle 0: nobody configured it.
    if msg.header.handle == TcHandle::UNSPEC {
        return Ok(RootQdisc::Default);
    }
    match kind {
        Some("tbf") => {
            let options = msg.attributes.iter().find_map(|a| match a {
                TcAttribute::Options(o) => Some(o.as_slice()),
                _ => None,
            });
            tbf_from_options(options.unwrap_or_default(), tick_in_usec())
                .map(RootQdisc::Tbf)
                .ok_or_else(|| NetError::other("tbf qdisc without readable parameters"))
        }
        Some(other) => Ok(RootQdisc::Other(other.to_string())),
        None => Ok(RootQdisc::Other(String::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Emitable;

    #[test]
    fn psched_of_current_kernels_gives_64_ticks_per_1000_usec() {
        let tick = parse_psched("000003e8 00000040 000f4240 3b9aca00\n").unwrap();
        assert_eq!(tick, 15.625);
    }

    #[test]
    fn ticks_convert_back_to_the_same_microseconds() {
        for tick in [15.625, 1.0, 64.0] {
            // Up to 60 s: 64 ticks per microsecond still fit the 32 bits of tc_tbf_qopt.
            for usec in [0, 1, 7, 999, 12_345, 4_000_000, 60_000_000] {
                let ticks = usec_to_ticks(usec, tick);
                assert_eq!(ticks_to_usec(ticks, tick), usec, "tick {tick} usec {usec}");
            }
        }
    }

    #[test]
    fn tbf_options_read_back_as_the_same_bucket() {
        let tick = 15.625;
        for bucket in [
            TokenBucket::from_bits(1_000_000, 80_000),
            TokenBucket::from_bits(80_000_000_000, 8_000_000),
        ] {
            let options = tbf_options(&bucket, tick);
            let mut nested = vec![0; options.as_slice().buffer_len()];
            options.as_slice().emit(&mut nested);
            let wrapped = vec![TcOption::Other(DefaultNla::new(2, nested))];
            assert_eq!(tbf_from_options(&wrapped, tick), Some(bucket));
        }
    }
}
