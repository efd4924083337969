//! The reviewed list of differences from the reference that are deliberate
//! (or bugs of the 1.1.1 reference we do not copy). `docs/DIFFERENCES.md`
//! mirrors this table: a difference the fuzzer finds that no entry explains
//! is a bug, in us or in this list.

use super::exec::Outcome;
use super::{Case, Difference, Kind};

pub struct Deliberate {
    pub id: &'static str,
    /// The line `docs/DIFFERENCES.md` carries for it.
    pub doc: &'static str,
    pub explains: fn(&Case, &Difference) -> bool,
}

pub const DELIBERATE: &[Deliberate] = &[
    Deliberate {
        id: "spec-1.1.0",
        doc: "Spec 1.1.0 is supported (the 1.1.1 plugins stop at 1.0.0).",
        explains: |case, _| case.version() == "1.1.0",
    },
    Deliberate {
        id: "del-reads-identity-only",
        doc: "host-local DEL and GC read only `name`, `ipam.dataDir` and the attachment: a range, route, requested address or CNI_ARGS key that ADD would refuse never stops a DEL (the reference validates the whole configuration on every verb).",
        explains: |_, d| d.verb == "DEL" && d.ours.is_ok() && !d.reference.is_ok(),
    },
    Deliberate {
        id: "network-broadcast-refused",
        doc: "An explicit `rangeStart`/`rangeEnd`/`gateway` on an IPv4 network or broadcast address is refused (code 7) instead of handed out.",
        explains: |_, d| {
            d.verb == "ADD"
                && matches!(&d.ours, Outcome::Error { msg, .. }
                    if msg.contains("is the network address") || msg.contains("is the broadcast address"))
        },
    },
    Deliberate {
        id: "gateway-outside-subnet-refused",
        doc: "A `gateway` outside its range's subnet is refused (code 7); the 1.1.1 reference hands it out as the gateway of an address that cannot reach it.",
        explains: |_, d| {
            d.verb == "ADD"
                && matches!(&d.ours, Outcome::Error { msg, .. }
                    if msg.contains("gateway: ") && msg.contains("not in network"))
        },
    },
    Deliberate {
        id: "failed-add-changes-nothing",
        doc: "A refused or failed host-local ADD leaves the data directory as it was (the reference may move `last_reserved_ip` on an ADD that then fails).",
        explains: |_, d| {
            d.verb == "ADD"
                && d.kind == Kind::State
                && !d.ours.is_ok()
                && d.detail.contains("last_reserved_ip")
        },
    },
    Deliberate {
        id: "empty-dns-omitted",
        doc: "An empty `dns` is left out of 1.x results, as current upstream libcni does.",
        explains: |_, d| match (&d.ours, &d.reference) {
            (Outcome::Ok(o), Outcome::Ok(r)) => without_empty_dns(o) == without_empty_dns(r),
            _ => false,
        },
    },
    Deliberate {
        id: "reference-null-ip-crash",
        doc: "A `null` requested address is refused; the 1.1.1 reference crashes on it.",
        explains: |case, d| matches!(d.reference, Outcome::Broken { .. }) && case.config.contains("null"),
    },
    Deliberate {
        id: "reference-leading-zero-byte",
        doc: "Subnets whose first byte is zero (`0.x.y.z`, `::x`) get correct address arithmetic; the 1.1.1 reference drops the leading zero bytes.",
        explains: |case, d| {
            case.config.contains("\"0.") && (d.kind != Kind::Outcome || d.verb == "ADD")
        },
    },
];

fn without_empty_dns(v: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    if let Some(map) = v.as_object_mut() {
        if map
            .get("dns")
            .is_some_and(|d| d.as_object().is_some_and(|o| o.is_empty()))
        {
            map.remove("dns");
        }
    }
    v
}

/// The entry that explains `d`, if any.
pub fn explain(case: &Case, d: &Difference) -> Option<&'static Deliberate> {
    DELIBERATE.iter().find(|e| (e.explains)(case, d))
}
