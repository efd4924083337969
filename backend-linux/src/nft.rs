//! Masquerade rules in our own nftables table, one rule per container
//! address, tagged with the network and container ID in the rule comment.
//!
//! First version: runs `nft` (text in, JSON out) on a thread inside the
//! namespace. One `nft` run costs about 3.6 ms on the reference machine; ADD
//! and DEL take two (list, then apply), CHECK and an idempotent ADD one.

use crate::error::io_error;
use crate::netns::{run_here_or_in, NetnsFile};
use cni_core::net::{MasqRule, NetError, NetErrorKind, NetResult};
use ipnet::IpNet;
use serde_json::Value;
use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};

pub const TABLE: &str = "cni_rs_nat";
pub const CHAIN: &str = "postrouting";
const NFT_CANDIDATES: [&str; 3] = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"];
/// nftables keeps at most this many bytes of a rule comment.
const COMMENT_MAX: usize = 128;

/// One of our rules as found in the table.
#[derive(Debug, Clone, PartialEq)]
struct Existing {
    handle: u64,
    network: String,
    container_id: String,
    addr: IpNet,
}

fn validate_tag_part(field: &str, value: &str) -> NetResult<()> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(NetError::invalid(format!(
            "masquerade: {field} {value:?} must be non-empty letters, digits, '_', '.' or '-'"
        )))
    }
}

fn tag(network: &str, container_id: &str) -> NetResult<String> {
    validate_tag_part("network name", network)?;
    validate_tag_part("container ID", container_id)?;
    let tag = format!("net={network} id={container_id}");
    if tag.len() > COMMENT_MAX {
        return Err(NetError::invalid(format!(
            "masquerade: network name and container ID together too long for an nftables comment \
             ({} bytes, at most {} for both)",
            network.len() + container_id.len(),
            COMMENT_MAX - 8
        )));
    }
    Ok(tag)
}

fn parse_tag(comment: &str) -> Option<(String, String)> {
    let (net, id) = comment.strip_prefix("net=")?.split_once(" id=")?;
    Some((net.to_string(), id.to_string()))
}

fn rule_text(addr: IpNet, tag: &str) -> String {
    let (proto, multicast) = match addr {
        IpNet::V4(_) => ("ip", "224.0.0.0/4"),
        IpNet::V6(_) => ("ip6", "ff00::/8"),
    };
    format!(
        "add rule inet {TABLE} {CHAIN} {proto} saddr {} {proto} daddr != {} {proto} daddr != {multicast} \
         masquerade comment \"{tag}\"\n",
        addr.addr(),
        addr.trunc()
    )
}

fn nft_binary() -> &'static str {
    NFT_CANDIDATES
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .copied()
        .unwrap_or("nft")
}

/// Runs nft with `args` and `stdin` inside `ns`; returns stdout, or the
/// kernel's complaint with its errno text.
fn run_nft(
    ns: &NetnsFile,
    args: &[&str],
    stdin: &str,
    what: &str,
) -> NetResult<Result<String, String>> {
    let out = run_here_or_in(ns, || -> std::io::Result<std::process::Output> {
        let mut child = Command::new(nft_binary())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes())?;
        }
        child.wait_with_output()
    })?
    .map_err(|e| io_error(format!("{what}: run {}", nft_binary()), &e))?;
    if out.status.success() {
        Ok(Ok(String::from_utf8_lossy(&out.stdout).into_owned()))
    } else {
        Ok(Err(String::from_utf8_lossy(&out.stderr).trim().to_string()))
    }
}

fn error_from_nft(what: &str, ns: &NetnsFile, stderr: &str) -> NetError {
    let kind = if stderr.contains("Operation not permitted") {
        NetErrorKind::Permission
    } else if stderr.contains("No such file or directory") {
        NetErrorKind::NotFound
    } else if stderr.contains("File exists") {
        NetErrorKind::Exists
    } else {
        NetErrorKind::Other
    };
    NetError::new(
        kind,
        format!("{what} in netns {}: nft: {stderr}", ns.path().display()),
    )
}

/// Our rules; empty when the table does not exist yet.
fn list_existing(ns: &NetnsFile) -> NetResult<Vec<Existing>> {
    let what = "list masquerade rules";
    let json = match run_nft(ns, &["-j", "list", "table", "inet", TABLE], "", what)? {
        Ok(json) => json,
        Err(stderr) if stderr.contains("No such file or directory") => return Ok(Vec::new()),
        Err(stderr) => return Err(error_from_nft(what, ns, &stderr)),
    };
    parse_listing(&json)
        .map_err(|e| NetError::other(format!("{what} in netns {}: {e}", ns.path().display())))
}

fn parse_listing(json: &str) -> Result<Vec<Existing>, String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| format!("unreadable nft JSON: {e}"))?;
    let items = doc["nftables"]
        .as_array()
        .ok_or("nft JSON without an nftables array")?;
    Ok(items
        .iter()
        .filter_map(|item| item.get("rule"))
        .filter(|rule| rule["chain"] == CHAIN)
        .filter_map(parse_rule)
        .collect())
}

/// Reads back what [`rule_text`] wrote; `None` for rules that are not ours.
fn parse_rule(rule: &Value) -> Option<Existing> {
    let (network, container_id) = parse_tag(rule["comment"].as_str()?)?;
    let mut saddr = None;
    let mut subnet_len = None;
    for expr in rule["expr"].as_array()? {
        let m = &expr["match"];
        let field = m["left"]["payload"]["field"].as_str();
        match (field, m["op"].as_str()) {
            (Some("saddr"), Some("==")) => saddr = m["right"].as_str()?.parse::<IpAddr>().ok(),
            (Some("daddr"), Some("!=")) if subnet_len.is_none() => {
                subnet_len = Some(match &m["right"] {
                    Value::String(ip) => IpNet::from(ip.parse::<IpAddr>().ok()?).prefix_len(),
                    other => u8::try_from(other["prefix"]["len"].as_u64()?).ok()?,
                })
            }
            _ => {}
        }
    }
    Some(Existing {
        handle: rule["handle"].as_u64()?,
        network,
        container_id,
        addr: IpNet::new(saddr?, subnet_len?).ok()?,
    })
}

fn same_addrs(mine: &[&Existing], wanted: &[IpNet]) -> bool {
    let mut have: Vec<IpNet> = mine.iter().map(|e| e.addr).collect();
    let mut want = wanted.to_vec();
    have.sort();
    want.sort();
    want.dedup();
    have == want
}

fn delete_script(rules: &[&Existing]) -> String {
    rules
        .iter()
        .map(|r| format!("delete rule inet {TABLE} {CHAIN} handle {}\n", r.handle))
        .collect()
}

pub fn add(ns: &NetnsFile, rule: &MasqRule) -> NetResult<()> {
    let tag = tag(&rule.network, &rule.container_id)?;
    let what = format!(
        "add masquerade for {} (network {})",
        rule.container_id, rule.network
    );
    let existing = list_existing(ns)?;
    let mine: Vec<&Existing> = existing
        .iter()
        .filter(|e| e.network == rule.network && e.container_id == rule.container_id)
        .collect();
    if same_addrs(&mine, &rule.addrs) {
        return Ok(());
    }
    // One transaction: replaces whatever this container had with exactly the wanted rules.
    let mut script = format!(
        "add table inet {TABLE}\nadd chain inet {TABLE} {CHAIN} {{ type nat hook postrouting priority srcnat; policy accept; }}\n"
    );
    script.push_str(&delete_script(&mine));
    let mut addrs = rule.addrs.clone();
    addrs.sort();
    addrs.dedup();
    for addr in addrs {
        script.push_str(&rule_text(addr, &tag));
    }
    match run_nft(ns, &["-f", "-"], &script, &what)? {
        Ok(_) => Ok(()),
        Err(stderr) => Err(error_from_nft(&what, ns, &stderr)),
    }
}

pub fn check(ns: &NetnsFile, rule: &MasqRule) -> NetResult<()> {
    tag(&rule.network, &rule.container_id)?;
    let existing = list_existing(ns)?;
    for addr in &rule.addrs {
        let found = existing.iter().any(|e| {
            e.network == rule.network && e.container_id == rule.container_id && e.addr == *addr
        });
        if !found {
            return Err(NetError::not_found(format!(
                "masquerade rule for {addr} of container {} (network {}) not found in table inet {TABLE} of netns {}",
                rule.container_id,
                rule.network,
                ns.path().display()
            )));
        }
    }
    Ok(())
}

pub fn del(ns: &NetnsFile, network: &str, container_id: &str) -> NetResult<()> {
    tag(network, container_id)?;
    let what = format!("delete masquerade for {container_id} (network {network})");
    // A concurrent DEL may remove a listed rule first; listing again settles it.
    let mut last = None;
    for _ in 0..3 {
        let existing = list_existing(ns)?;
        let mine: Vec<&Existing> = existing
            .iter()
            .filter(|e| e.network == network && e.container_id == container_id)
            .collect();
        if mine.is_empty() {
            return Ok(());
        }
        match run_nft(ns, &["-f", "-"], &delete_script(&mine), &what)? {
            Ok(_) => return Ok(()),
            Err(stderr) => last = Some(error_from_nft(&what, ns, &stderr)),
        }
    }
    Err(last.unwrap_or_else(|| NetError::other(what)))
}

pub fn list(ns: &NetnsFile) -> NetResult<Vec<MasqRule>> {
    let mut rules: Vec<MasqRule> = Vec::new();
    for e in list_existing(ns)? {
        match rules
            .iter_mut()
            .find(|r| r.network == e.network && r.container_id == e.container_id)
        {
            Some(r) => r.addrs.push(e.addr),
            None => rules.push(MasqRule {
                network: e.network,
                container_id: e.container_id,
                addrs: vec![e.addr],
            }),
        }
    }
    for r in &mut rules {
        r.addrs.sort();
    }
    rules.sort();
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_refuse_characters_that_could_break_the_script() {
        assert_eq!(tag("net1", "abc-1.2_3").unwrap(), "net=net1 id=abc-1.2_3");
        for (net, id) in [
            ("a b", "x"),
            ("a", "x\"; flush ruleset"),
            ("", "x"),
            ("a", ""),
        ] {
            assert_eq!(
                tag(net, id).unwrap_err().kind,
                NetErrorKind::Invalid,
                "{net:?} {id:?}"
            );
        }
        let long = "x".repeat(100);
        assert!(tag(&long, &long).unwrap_err().msg.contains("too long"));
    }

    #[test]
    fn rule_text_excludes_own_subnet_and_multicast() {
        let t = rule_text("10.1.0.5/24".parse().unwrap(), "net=n id=c");
        assert!(
            t.contains(
                "ip saddr 10.1.0.5 ip daddr != 10.1.0.0/24 ip daddr != 224.0.0.0/4 masquerade"
            ),
            "{t}"
        );
        let t = rule_text("fd00::5/64".parse().unwrap(), "net=n id=c");
        assert!(
            t.contains("ip6 saddr fd00::5 ip6 daddr != fd00::/64 ip6 daddr != ff00::/8"),
            "{t}"
        );
    }

    #[test]
    fn listing_reads_back_our_rules_only() {
        let json = r#"{"nftables":[{"metainfo":{}},
          {"rule":{"family":"inet","table":"cni_rs_nat","chain":"postrouting","handle":2,"comment":"net=n id=c",
            "expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":"10.1.0.5"}},
                    {"match":{"op":"!=","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":{"prefix":{"addr":"10.1.0.0","len":24}}}},
                    {"match":{"op":"!=","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":{"prefix":{"addr":"224.0.0.0","len":4}}}},
                    {"masquerade":null}]}},
          {"rule":{"family":"inet","table":"cni_rs_nat","chain":"postrouting","handle":3,"comment":"net=n id=d",
            "expr":[{"match":{"op":"==","left":{"payload":{"protocol":"ip6","field":"saddr"}},"right":"fd00::5"}},
                    {"match":{"op":"!=","left":{"payload":{"protocol":"ip6","field":"daddr"}},"right":"fd00::5"}},
                    {"masquerade":null}]}},
          {"rule":{"family":"inet","table":"cni_rs_nat","chain":"postrouting","handle":4,"comment":"someone else",
            "expr":[]}}]}"#;
        let rules = parse_listing(json).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(
            (rules[0].handle, rules[0].addr),
            (2, "10.1.0.5/24".parse().unwrap())
        );
        assert_eq!(
            (rules[1].container_id.as_str(), rules[1].addr),
            ("d", "fd00::5/128".parse().unwrap())
        );
    }
}
