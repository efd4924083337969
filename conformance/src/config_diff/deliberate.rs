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
        explains: |case, d| {
            case.plugin == "host-local" && d.verb == "DEL" && d.ours.is_ok() && !d.reference.is_ok()
        },
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
        id: "ipmasq-nftables-only",
        doc: "`ipMasq` uses nftables: `ipMasqBackend` may be absent or `\"nftables\"`; `\"iptables\"` (which the reference also accepts) and anything else are refused with code 7.",
        explains: |_, d| {
            d.verb == "ADD"
                && matches!(&d.ours, Outcome::Error { code: 7, msg } if msg.starts_with("ipMasqBackend:"))
        },
    },
    Deliberate {
        id: "result-not-convertible-code-1",
        doc: "A result the config's version cannot carry (no address at 0.1.0/0.2.0) is code 1, the spec's code for an incompatible version (the reference: 999).",
        explains: |_, d| {
            matches!(&d.ours, Outcome::Error { code: 1, msg }
                if msg.starts_with("cannot convert a result"))
                && (reference_msg(d).starts_with("cannot convert")
                    || reference_msg(d).contains("result type supports"))
        },
    },
    Deliberate {
        id: "cni-args-code-4",
        doc: "A bad `IP=`/`GATEWAY=` or an unknown key in `CNI_ARGS` is code 4 (invalid environment) naming the key (the reference: 999).",
        explains: |_, d| {
            !d.reference.is_ok()
                && matches!(&d.ours, Outcome::Error { code: 4, msg } if msg.starts_with("CNI_ARGS"))
        },
    },
    Deliberate {
        id: "static-unknown-args-ignored",
        doc: "static: `CNI_ARGS` keys other than `IP` and `GATEWAY` are ignored, as host-local and the main plugins ignore them (the reference refuses them unless `IgnoreUnknown` is set).",
        explains: |case, d| {
            case.plugin == "static"
                && matches!(&d.reference, Outcome::Error { msg, .. } if msg.starts_with("ARGS: unknown args"))
        },
    },
    Deliberate {
        id: "static-refused-up-front",
        doc: "static: refused up front, where the reference hands out a broken result: a gateway of the other family than its address, a route without `dst`, a `GATEWAY=` in the subnet of no `IP=` address.",
        explains: |case, d| {
            case.plugin == "static"
                && d.reference.is_ok()
                && matches!(&d.ours, Outcome::Error { msg, .. }
                    if msg.contains("is not of the family of its address")
                        || msg.ends_with(".dst: missing")
                        || msg.contains("is in the subnet of no CNI_ARGS IP address"))
        },
    },
    Deliberate {
        id: "static-address-key-case",
        doc: "static: an address key written `Address` is read as `address` (the reference's decoder matches it to an internal field and fails).",
        explains: |case, d| {
            case.plugin == "static"
                && case.config.contains("\"Address\"")
                && matches!(&d.reference, Outcome::Error { msg, .. } if msg.contains("of type net.IPNet"))
        },
    },
    Deliberate {
        id: "static-every-source-validated",
        doc: "static: every source of addresses is validated, also one a higher source replaces (the reference skips `ipam.addresses` when `args.cni.ips` or `runtimeConfig.ips` is given).",
        explains: |case, d| {
            case.plugin == "static"
                && d.reference.is_ok()
                && case.config.contains("\"ips\"")
                && matches!(&d.ours, Outcome::Error { msg, .. } if msg.to_lowercase().starts_with("ipam.addresses["))
        },
    },
    Deliberate {
        id: "ipv6-group-of-five-digits-refused",
        doc: "An IPv6 group of more than four hex digits (`03ffe::1`) is refused, as Go's parser refuses it since Go 1.22 (the 1.1.1 reference, built with Go 1.19, reads `03ffe` as `3ffe`).",
        explains: |case, d| {
            d.reference.is_ok()
                && case.config.contains("\"03ffe")
                && matches!(&d.ours, Outcome::Error { code: 7, msg } if msg.contains("\"03ffe"))
        },
    },
    Deliberate {
        id: "null-string-in-list-refused",
        doc: "A `null` where a string belongs (`dns.search: [null]`) is refused with code 6; Go's decoder reads it as an empty string.",
        explains: |case, d| {
            case.config.contains("null")
                && matches!(&d.ours, Outcome::Error { code: 6, msg } if msg.contains("invalid type: null"))
        },
    },
    Deliberate {
        id: "main-failed-add-changes-nothing",
        doc: "bridge, ptp, macvlan: every input is validated before anything changes, so a refused ADD leaves the host as it was (the reference may have made its bridge or veth by then and leaves them).",
        explains: |case, d| {
            is_main(case)
                && d.verb == "ADD"
                && d.kind == Kind::State
                && !d.ours.is_ok()
                && !d.reference.is_ok()
        },
    },
    Deliberate {
        id: "main-del-succeeds-when-gone",
        doc: "macvlan DEL succeeds when its parent (`master`, or the default route's interface) is gone or was never there, or its `mtu` does not fit the parent: DEL reads only what it removes (the reference fails with \"Link not found\" or \"invalid MTU\").",
        explains: |case, d| {
            case.plugin == "macvlan"
                && d.verb == "DEL"
                && d.ours.is_ok()
                && matches!(&d.reference, Outcome::Error { msg, .. }
                    if msg == "Link not found"
                        || msg == "no default route interface found"
                        || msg.starts_with("invalid MTU"))
        },
    },
    Deliberate {
        id: "main-del-reads-only-what-it-removes",
        doc: "bridge, ptp and macvlan DEL read only the common fields and, leniently, the flags that say what to remove (`ipMasq`, `macspoofchk`): a setting of the wrong type, one only ADD uses, or a ptp without IPAM never makes DEL fail (the reference's DEL fails to load such a config, and a runtime retries that DEL for ever).",
        explains: |case, d| {
            matches!(case.plugin, "bridge" | "ptp" | "macvlan")
                && d.verb == "DEL"
                && d.ours.is_ok()
                // Any refusal: the reference's DEL loads and checks the
                // whole config (types, names, ranges) before it removes.
                && matches!(&d.reference, Outcome::Error { code: 999, .. })
        },
    },
    Deliberate {
        id: "ipv6-nodad",
        doc: "IPv6 container addresses are added with `nodad`; the reference waits up to 10 s for duplicate address detection and then fails adding its routes from an address still tentative (seen with ptp on a loaded machine: \"failed to add route ... invalid argument\").",
        explains: |case, d| {
            case.plugin == "ptp"
                && d.verb == "ADD"
                && d.ours.is_ok()
                && reference_msg(d).starts_with("failed to add route")
                && reference_msg(d).ends_with("invalid argument")
        },
    },
    Deliberate {
        id: "chained-del-reads-only-what-it-removes",
        doc: "portmap, firewall, tuning, bandwidth and sbr DEL read only the common fields and what they remove (tuning: `dataDir`): a value of the wrong type, or one only ADD checks, never makes DEL fail (the reference's DEL fails to load such a config, and a runtime retries that DEL for ever).",
        explains: |case, d| {
            is_chained(case)
                && d.verb == "DEL"
                && d.ours.is_ok()
                && matches!(&d.reference, Outcome::Error { code: 999, .. })
        },
    },
    Deliberate {
        id: "chained-failed-add-changes-nothing",
        doc: "portmap, firewall, tuning, bandwidth and sbr: a failed ADD puts back every change it made (the reference leaves what it did before it failed, such as the sysctls tuning wrote).",
        explains: |case, d| {
            is_chained(case)
                && d.verb == "ADD"
                && d.kind == Kind::State
                && !d.ours.is_ok()
                && !d.reference.is_ok()
        },
    },
    Deliberate {
        id: "reference-tuning-args-sysctl-panic",
        doc: "tuning: `args.cni.sysctl` without a top-level `sysctl` works (the reference panics).",
        explains: |case, d| {
            case.plugin == "tuning"
                && matches!(d.reference, Outcome::Broken { .. })
                && serde_json::from_str::<serde_json::Value>(&case.config).is_ok_and(|c| {
                    let args_sysctl = key_ci(&c, "args")
                        .and_then(|a| key_ci(a, "cni"))
                        .and_then(|cni| key_ci(cni, "sysctl"));
                    args_sysctl.is_some() && key_ci(&c, "sysctl").is_none()
                })
        },
    },
    Deliberate {
        id: "chained-empty-legacy-prev-result",
        doc: "A chained plugin at 0.1.0/0.2.0 whose `prevResult` holds no address fails with code 1 (a result at those versions carries one); the reference passes the empty result on. No main plugin makes one: the reference's refuse a layer-2 result at those versions.",
        explains: |case, d| {
            is_chained(case)
                && d.reference.is_ok()
                && matches!(&d.ours, Outcome::Error { code: 1, msg }
                    if msg.ends_with("no valid IP addresses"))
        },
    },
    Deliberate {
        id: "tuning-ifname-in-check",
        doc: "tuning: CHECK substitutes `IFNAME` in sysctl keys, as ADD does and upstream 1.4+ does (1.1.1's CHECK reads `.../IFNAME/...` literally and fails).",
        explains: |case, d| {
            case.plugin == "tuning"
                && d.verb == "CHECK"
                && d.ours.is_ok()
                && reference_msg(d).contains("/IFNAME/")
        },
    },
    Deliberate {
        id: "bridge-vlan-filtering-refused",
        doc: "bridge: a config that asks for bridge VLAN filtering (`vlan` 1-4094, or any `vlanTrunk`, upstream 1.3+) is refused with code 7 naming the key: cni-rs does not implement VLAN filtering and will not leave the port untagged. The 1.1.1 reference ignores `vlanTrunk`, and fails on `vlan` where the kernel has no VLAN filtering (\"operation not supported\", code 999, the same class of failure).",
        explains: |case, d| {
            case.plugin == "bridge"
                && d.verb == "ADD"
                && d.reference.is_ok()
                && matches!(&d.ours, Outcome::Error { code: 7, msg }
                    if (msg.starts_with("vlan:") || msg.starts_with("vlanTrunk:"))
                        && msg.contains("VLAN filtering"))
        },
    },
    Deliberate {
        id: "macvlan-bcqueuelen-capped",
        doc: "macvlan: `bcqueuelen` (upstream 1.5+) above 2^20 is refused with code 7 (upstream passes any 32-bit number to the kernel; the 1.1.1 reference ignores the key).",
        explains: |case, d| {
            case.plugin == "macvlan"
                && d.verb == "ADD"
                && d.reference.is_ok()
                && matches!(&d.ours, Outcome::Error { code: 7, msg }
                    if msg.starts_with("bcqueuelen:") && msg.contains("is more than"))
        },
    },
    Deliberate {
        id: "upstream-keys-read",
        doc: "Keys later upstream releases added and the 1.1.1 reference ignores are read as upstream reads them, and a value upstream refuses is refused: tuning `txQLen`; sbr `table`, `gateways`, `addSourceHints`; portmap `masqAll`, `backend`; bridge `portIsolation`, `preserveDefaultVlan`; macvlan `bcqueuelen`.",
        explains: |case, d| {
            // Besides these, `fuzz` counts here a difference that goes away
            // without the keys ([`upstream_keys`]).
            let named = |k: &&str| {
                let msg = our_msg(d);
                msg.starts_with(&format!("{k}:")) || msg.starts_with(&format!("args.cni.{k}:"))
            };
            // (Refusing a backend other than nftables is `chained-nftables-only`.)
            d.reference.is_ok()
                && !our_msg(d).contains("nftables")
                && upstream_keys(case.plugin).iter().any(named)
        },
    },
    Deliberate {
        id: "every-version-everywhere",
        doc: "Every plugin takes every spec version, 0.1.0 and 0.2.0 included (the reference's bandwidth and firewall start at 0.3.0 or 0.4.0 and refuse older configs with code 1, \"incompatible CNI versions\").",
        explains: |case, d| {
            ["", "0.1.0", "0.2.0", "0.3.0", "0.3.1"].contains(&case.version().as_str())
                && matches!(&d.reference, Outcome::Error { code: 1, msg } if msg == "incompatible CNI versions")
        },
    },
    Deliberate {
        id: "reference-crash-without-prev-result",
        doc: "A chained plugin without `prevResult` (or with no limits, for bandwidth's CHECK) fails with code 7 naming it, or passes where there is nothing to do; the 1.1.1 reference's bandwidth crashes on a nil result or nil limits.",
        explains: |case, d| {
            case.plugin == "bandwidth" && matches!(d.reference, Outcome::Broken { .. })
        },
    },
    Deliberate {
        id: "bandwidth-check-without-limits",
        doc: "bandwidth: CHECK with no limits passes without looking for the host veth (the reference looks it up first and fails when `CNI_IFNAME` has no veth peer or `prevResult` no interfaces).",
        explains: |case, d| {
            case.plugin == "bandwidth"
                && d.verb == "CHECK"
                && d.ours.is_ok()
                && (reference_msg(d).contains("has no veth peer")
                    || reference_msg(d) == "no interfaces provided")
        },
    },
    Deliberate {
        id: "sbr-check-verifies",
        doc: "sbr: CHECK verifies each address's rule and table and needs `prevResult` (the reference's CHECK does nothing and always passes).",
        explains: |case, d| {
            case.plugin == "sbr" && d.verb == "CHECK" && d.reference.is_ok() && !d.ours.is_ok()
        },
    },
    Deliberate {
        id: "sbr-del-removes-table-routes",
        doc: "sbr: DEL also removes the interface's routes in the tables its rules pointed at (not with `table`, whose routes are the operator's); the reference removes only the rules.",
        explains: |case, d| {
            case.plugin == "sbr"
                && d.verb == "DEL"
                && d.kind == Kind::State
                && d.detail.contains("[\"routes\"] differ")
        },
    },
    Deliberate {
        id: "chained-nftables-only",
        doc: "portmap and firewall work with nftables only: `backend` may be absent or `\"nftables\"`; anything else (the 1.1.1 reference ignores portmap's `backend` and falls back to iptables for firewall's), portmap's `externalSetMarkChain` and non-empty iptables `conditionsV4`/`conditionsV6` are refused with code 7 naming nftables.",
        explains: |case, d| {
            matches!(case.plugin, "portmap" | "firewall")
                && d.reference.is_ok()
                && ["backend:", "externalSetMarkChain:", "conditionsV4", "conditionsV6"]
                    .iter()
                    .any(|k| our_msg(d).starts_with(k))
                && our_msg(d).contains("nftables")
        },
    },
    Deliberate {
        id: "firewall-isolated",
        doc: "firewall: `ingressPolicy: isolated` (upstream 1.2+) is supported; the 1.1.1 reference refuses it (\"unknown ingress policy\").",
        explains: |case, d| {
            case.plugin == "firewall"
                && d.ours.is_ok()
                && reference_msg(d) == "unknown ingress policy: \"isolated\""
        },
    },
    Deliberate {
        id: "firewall-same-bridge-without-addresses",
        doc: "firewall: `same-bridge` with no address in `prevResult` has nothing to isolate and needs no bridge interface (the reference refuses a `prevResult` without interfaces even then).",
        explains: |case, d| {
            case.plugin == "firewall"
                && d.ours.is_ok()
                && reference_msg(d).starts_with("interface needs to be set for ingress policy")
        },
    },
    Deliberate {
        id: "chained-check-reads-the-config",
        doc: "portmap, firewall, tuning, bandwidth and sbr CHECK read the whole config as ADD does and refuse what ADD refuses (the reference's CHECK skips keys it does not check, such as firewall's `ingressPolicy` and `backend`).",
        explains: |case, d| {
            is_chained(case)
                && d.verb == "CHECK"
                && d.reference.is_ok()
                && matches!(&d.ours, Outcome::Error { code: 6 | 7, msg }
                    if serde_json::from_str::<serde_json::Value>(&case.config).is_ok_and(|c| {
                        let field = msg.split(':').next().unwrap_or_default();
                        key_ci(&c, field).is_some()
                    }))
        },
    },
    Deliberate {
        id: "portmap-mappings-checked",
        doc: "portmap: every mapping is checked up front: ports are 1-65535, `protocol` is required and one of tcp, udp, sctp (any case), a `hostIP` must be an address of a family the container has an address of (code 7 naming the field); the reference skips such a mapping silently, or leaves it to iptables (which takes port 70000).",
        explains: |case, d| {
            case.plugin == "portmap"
                && d.reference.is_ok()
                && our_msg(d).starts_with("runtimeConfig.portMappings[")
                && (our_msg(d).contains("hostIP: the container has no IPv")
                    || our_msg(d).contains("is not an IP address")
                    || our_msg(d).ends_with("is not a port (1-65535)")
                    || our_msg(d).contains("].protocol: "))
        },
    },
    Deliberate {
        id: "reference-portmap-check",
        doc: "portmap: CHECK verifies every rule and passes on IPv4-only, IPv6-only and dual-stack attachments (the reference's fails there, checking one family's chain with the other family's iptables: upstream #819).",
        explains: |case, d| {
            case.plugin == "portmap"
                && d.verb == "CHECK"
                && d.ours.is_ok()
                && reference_msg(d).starts_with("could not check ipv")
        },
    },
    Deliberate {
        id: "tuning-del-restores-sysctls",
        doc: "tuning: DEL restores the sysctls ADD set (the reference leaves them).",
        explains: |case, d| {
            case.plugin == "tuning"
                && d.verb == "DEL"
                && d.kind == Kind::State
                && d.detail.contains("[\"sysctls\"] differ")
        },
    },
    Deliberate {
        id: "bandwidth-del-removes-qdiscs",
        doc: "bandwidth: DEL besides the ifb removes the host veth's tbf and its ingress qdisc when it redirects to this attachment's ifb (the reference leaves them to the veth's deletion).",
        explains: |case, d| {
            case.plugin == "bandwidth"
                && d.verb == "DEL"
                && d.kind == Kind::State
                && d.detail.contains("[\"qdiscs\"] differ")
        },
    },
    Deliberate {
        id: "layer2-bridge-check",
        doc: "CHECK of a layer-2 bridge (`ipam: {}`) works (the reference fails with \"no plugin name provided\").",
        explains: |case, d| {
            case.plugin == "bridge"
                && d.verb == "CHECK"
                && d.ours.is_ok()
                && matches!(&d.reference, Outcome::Error { msg, .. } if msg == "no plugin name provided")
        },
    },
    Deliberate {
        id: "empty-dns-omitted",
        doc: "An empty `dns` is left out of 1.x results, as current upstream libcni does.",
        explains: |_, d| match (&d.ours, &d.reference) {
            (Outcome::Ok(o), Outcome::Ok(r)) => {
                d.kind == Kind::Result && without_empty_dns(o) == without_empty_dns(r)
            }
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
            case.plugin == "host-local"
                && case.config.contains("\"0.")
                && (d.kind != Kind::Outcome || d.verb == "ADD")
        },
    },
];

/// The value at `key` of an object, matching the key ignoring case as Go's
/// decoder does.
fn key_ci<'v>(v: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn is_main(case: &Case) -> bool {
    matches!(case.plugin, "bridge" | "ptp" | "macvlan")
}

fn is_chained(case: &Case) -> bool {
    super::chained_grammar::PLUGINS.contains(&case.plugin)
}

/// The reference's error message, if it failed with one.
fn reference_msg(d: &Difference) -> &str {
    match &d.reference {
        Outcome::Error { msg, .. } => msg,
        _ => "",
    }
}

/// Our error message, if we failed with one.
fn our_msg(d: &Difference) -> &str {
    match &d.ours {
        Outcome::Error { msg, .. } => msg,
        _ => "",
    }
}

/// `v` without an empty `dns` object.
pub fn without_empty_dns(v: &serde_json::Value) -> serde_json::Value {
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

/// Differences that are bugs of ours, reported to the lead and not yet
/// fixed (outside this module's lane): counted apart, never deliberate.
pub const KNOWN_BUGS: &[Deliberate] = &[];

/// Keys later upstream releases added that we read and the 1.1.1
/// reference ignores, by plugin: a difference that goes away without them
/// is the deliberate `upstream-keys-read`.
pub fn upstream_keys(plugin: &str) -> &'static [&'static str] {
    match plugin {
        "tuning" => &["txQLen"],
        "sbr" => &["table", "gateways", "addSourceHints"],
        "portmap" => &["masqAll", "backend"],
        "bridge" => &["portIsolation", "preserveDefaultVlan"],
        "macvlan" => &["bcqueuelen"],
        _ => &[],
    }
}

/// The first of `keys` the case's config holds (in any case, as Go's
/// decoder matches it) and the case without any of them.
pub fn without_keys(case: &Case, keys: &[&'static str]) -> Option<(&'static str, Case)> {
    let mut conf = serde_json::from_str::<serde_json::Value>(&case.config).ok()?;
    let map = conf.as_object_mut()?;
    let held: Vec<String> = map
        .keys()
        .filter(|k| keys.iter().any(|p| p.eq_ignore_ascii_case(k)))
        .cloned()
        .collect();
    let first = keys
        .iter()
        .find(|p| held.iter().any(|k| p.eq_ignore_ascii_case(k)))?;
    for k in &held {
        map.remove(k);
    }
    Some((
        first,
        Case {
            config: conf.to_string(),
            ..case.clone()
        },
    ))
}

/// The entry that explains `d`, if any.
pub fn explain(case: &Case, d: &Difference) -> Option<&'static Deliberate> {
    DELIBERATE.iter().find(|e| (e.explains)(case, d))
}

/// The reported bug `d` is, if any.
pub fn known_bug(case: &Case, d: &Difference) -> Option<&'static Deliberate> {
    KNOWN_BUGS.iter().find(|e| (e.explains)(case, d))
}
