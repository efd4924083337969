//! firewall against the reference `/usr/lib/cni/firewall` (1.1.1), each side
//! chained after its own bridge in its own namespaces. The rules differ by
//! design (ours: nftables, tagged per attachment; the reference's: iptables
//! chains), so the sides are compared by behaviour: which TCP connections
//! pass, per `ingressPolicy`, between a target container, a peer on its
//! bridge, a container on a second bridge (both networks with the same
//! policy), the namespace playing the host and one playing the outside,
//! IPv4 and IPv6. Every difference the test allows is one listed in
//! docs/DIFFERENCES.md (firewall), asserted as it is.

use cni_conformance::differential::{Attachment, Impl, Side};
use cni_conformance::realns::{
    ip_ok, nft_rules, reference_for, result_addrs, HOST_V4, HOST_V6, OUTSIDE_V4, OUTSIDE_V6,
};
use cni_conformance::traffic::{reaches, wait_for_dad, Server};
use serde_json::{json, Value};

fn network(name: &str, n: u8) -> Value {
    json!({"name": name, "type": "bridge", "bridge": format!("cni{name}"), "isGateway": true,
        "isDefaultGateway": true, "ipam": {"type": "host-local", "ranges": [
            [{"subnet": format!("10.{n}.0.0/24")}], [{"subnet": format!("fd{n}::/64")}]]}})
}

/// One side: the target and its peer on network `fwa`, `other` on `fwb`,
/// each with firewall chained after the bridge.
struct World {
    side: Side,
    outside: String,
    /// target, peer, other: the attachment and firewall's config.
    atts: Vec<(Attachment, Value)>,
}

impl World {
    /// Everything attached, CHECK passed for each; `None` when firewall's
    /// ADD refused the policy (its error printed).
    fn new(imp: Impl, policy: &str) -> Result<World, String> {
        let mut side = Side::new(imp);
        let outside = side.net.add_outside(&side.host);
        for (n, (via4, via6)) in [(81, (HOST_V4, HOST_V6)), (82, (HOST_V4, HOST_V6))] {
            ip_ok(
                &outside,
                &["route", "add", &format!("10.{n}.0.0/24"), "via", via4],
            );
            ip_ok(
                &outside,
                &["route", "add", &format!("fd{n}::/64"), "via", via6],
            );
        }
        let firewall = json!({"type": "firewall", "ingressPolicy": policy});
        let mut atts = Vec::new();
        for (id, net) in [
            ("target", network("fwa", 81)),
            ("peer", network("fwa", 81)),
            ("other", network("fwb", 82)),
        ] {
            let (att, _, conf) = side.chained(id, &net, "1.0.0", &firewall);
            let add = side.run("ADD", &conf, &att);
            if add.code != 0 {
                return Err(add.stdout);
            }
            assert_eq!(
                add.json()["ips"],
                conf["prevResult"]["ips"],
                "{imp:?}: prevResult passed on"
            );
            side.run("CHECK", &conf, &att).assert_ok();
            atts.push((att, conf));
        }
        wait_for_dad(&side.host);
        for (att, _) in &atts {
            wait_for_dad(&Side::ns_of(att));
        }
        Ok(World {
            side,
            outside,
            atts,
        })
    }

    fn ns(&self, i: usize) -> String {
        Side::ns_of(&self.atts[i].0)
    }

    /// The address of container `i` in family v4 or v6.
    fn addr(&self, i: usize, v6: bool) -> String {
        let addrs = result_addrs(&self.atts[i].1["prevResult"]);
        let addr = addrs.into_iter().find(|a| a.contains(':') == v6);
        addr.expect("an address of the family")
    }

    /// Port 80 on container `i`'s address in family v4 or v6.
    fn port80(&self, i: usize, v6: bool) -> String {
        let addr = self.addr(i, v6);
        if v6 {
            format!("[{addr}]:80")
        } else {
            format!("{addr}:80")
        }
    }

    /// Which connections pass, each path named.
    fn matrix(&self) -> Vec<(String, bool)> {
        let _servers: Vec<Server> = [self.ns(0), self.ns(2), self.outside.clone()]
            .iter()
            .map(|ns| Server::start(ns))
            .collect();
        let (target, peer, other) = (self.ns(0), self.ns(1), self.ns(2));
        let outside_v4 = format!("{OUTSIDE_V4}:80");
        let outside_v6 = format!("[{OUTSIDE_V6}]:80");
        let paths = [
            ("outside to target v4", &self.outside, self.port80(0, false)),
            ("outside to target v6", &self.outside, self.port80(0, true)),
            ("peer to target v4", &peer, self.port80(0, false)),
            ("peer to target v6", &peer, self.port80(0, true)),
            ("other bridge to target v4", &other, self.port80(0, false)),
            ("other bridge to target v6", &other, self.port80(0, true)),
            ("host to target v4", &self.side.host, self.port80(0, false)),
            ("target to outside v4", &target, outside_v4),
            ("target to outside v6", &target, outside_v6),
            ("target to other bridge v4", &target, self.port80(2, false)),
        ];
        paths
            .iter()
            .map(|(what, from, to)| (what.to_string(), reaches(from, to)))
            .collect()
    }

    fn del_target(&self) {
        let (att, conf) = &self.atts[0];
        self.side.run("DEL", conf, att).assert_ok();
    }
}

/// `matrix` with the named paths' outcome flipped.
fn flipped(mut matrix: Vec<(String, bool)>, paths: &[&str]) -> Vec<(String, bool)> {
    for (what, ok) in &mut matrix {
        if paths.contains(&what.as_str()) {
            *ok = !*ok;
        }
    }
    matrix
}

fn all_pass(matrix: &[(String, bool)]) -> bool {
    matrix.iter().all(|(_, ok)| *ok)
}

/// `matrix` with every path passing.
fn all_passing(matrix: &[(String, bool)]) -> Vec<(String, bool)> {
    matrix.iter().map(|(w, _)| (w.clone(), true)).collect()
}

#[test]
fn open_and_same_bridge_pass_what_the_references_pass_but_same_bridge_blocks_the_outside() {
    let test =
        "open_and_same_bridge_pass_what_the_references_pass_but_same_bridge_blocks_the_outside";
    if reference_for(test).is_none() {
        return;
    }
    let theirs = World::new(Impl::Reference, "open").unwrap().matrix();
    let ours = World::new(Impl::Ours, "open").unwrap().matrix();
    assert!(all_pass(&theirs), "reference, open: {theirs:?}");
    assert_eq!(ours, theirs, "open");

    let theirs = World::new(Impl::Reference, "same-bridge").unwrap().matrix();
    let ours = World::new(Impl::Ours, "same-bridge").unwrap().matrix();
    let between_bridges = [
        "other bridge to target v4",
        "other bridge to target v6",
        "target to other bridge v4",
    ];
    assert_eq!(
        theirs,
        flipped(all_passing(&theirs), &between_bridges),
        "the reference's same-bridge blocks exactly the other bridge"
    );
    // Ours drops new connections to the container from anywhere but its
    // bridge, the outside too (docs/DIFFERENCES.md).
    let from_outside = ["outside to target v4", "outside to target v6"];
    assert_eq!(ours, flipped(theirs, &from_outside), "same-bridge");
}

#[test]
fn isolated_blocks_every_new_forwarded_connection_and_the_reference_refuses_it() {
    let test = "isolated_blocks_every_new_forwarded_connection_and_the_reference_refuses_it";
    if reference_for(test).is_none() {
        return;
    }
    let refused = World::new(Impl::Reference, "isolated")
        .err()
        .expect("the reference refuses isolated");
    assert!(refused.contains("unknown ingress policy"), "{refused}");
    let ours = World::new(Impl::Ours, "isolated").unwrap().matrix();
    // br_netfilter hands bridged traffic to the forward hook: the peer on
    // the bridge is blocked too. Connections the host itself opens and
    // the container's own connections (and their replies) pass.
    let blocked = [
        "outside to target v4",
        "outside to target v6",
        "peer to target v4",
        "peer to target v6",
        "other bridge to target v4",
        "other bridge to target v6",
        "target to other bridge v4",
    ];
    assert_eq!(ours, flipped(all_passing(&ours), &blocked));
}

#[test]
fn del_lifts_our_policy_where_the_references_isolation_stays() {
    if reference_for("del_lifts_our_policy_where_the_references_isolation_stays").is_none() {
        return;
    }
    let theirs = World::new(Impl::Reference, "same-bridge").unwrap();
    theirs.del_target();
    let ours = World::new(Impl::Ours, "same-bridge").unwrap();
    let target_addrs: Vec<String> = [false, true].iter().map(|v6| ours.addr(0, *v6)).collect();
    ours.del_target();
    let left: Vec<Value> = nft_rules(&ours.side.host)
        .into_iter()
        .filter(|r| {
            target_addrs
                .iter()
                .any(|a| r.to_string().contains(&format!("\"{a}\"")))
        })
        .collect();
    assert_eq!(
        left,
        Vec::<Value>::new(),
        "our rules for the target after DEL"
    );
    // The other container's own policy still drops what the target opens.
    let ours = ours.matrix();
    let to_other = ["target to other bridge v4"];
    assert_eq!(
        ours,
        flipped(all_passing(&ours), &to_other),
        "ours after DEL"
    );
    // The reference's isolation chains stay with the bridge, also for
    // the target whose firewall was deleted (docs/DIFFERENCES.md).
    let theirs = theirs.matrix();
    let still_blocked = [
        "other bridge to target v4",
        "other bridge to target v6",
        "target to other bridge v4",
    ];
    assert_eq!(theirs, flipped(all_passing(&theirs), &still_blocked));
}
