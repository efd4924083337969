//! The tag that marks a masquerade rule as one attachment's: a fixed-size
//! hash of the network name and container ID, so any name length fits the
//! kernel's comment limit, followed by as much of the readable names as fits.
//!
//! `h=<network hash, 8 hex>-<attachment hash, 16 hex> net=<N> id=<C>`
//!
//! The network hash alone lets GC find a network's rules; the attachment hash
//! lets DEL find one container's. A name cut to fit ends in `~` (never part of
//! a valid name). Rules of the previous format, `net=<N> id=<C>`, still match.
//! This is a persistent format: the hashes must never change.

use super::{NetError, NetResult};
use crate::hash::fnv1a64;

/// nftables keeps at most this many bytes of a rule comment.
pub const MASQ_TAG_MAX: usize = 127;

const CUT_MARK: char = '~';

fn network_hash(network: &str) -> u32 {
    let h = fnv1a64(&[network.as_bytes()]);
    (h ^ (h >> 32)) as u32
}

fn attachment_hash(network: &str, container_id: &str) -> u64 {
    fnv1a64(&[network.as_bytes(), container_id.as_bytes()])
}

/// `[A-Za-z0-9_.-]+`: what a tag can carry without quoting. Runtimes validate
/// network names and container IDs to (a subset of) this before plugins run.
pub fn is_taggable(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The names a rule tag carries, both taggable (see [`is_taggable`]);
/// `what` names the kind of rule for the message.
pub fn validate_tag_names(what: &str, network: &str, container_id: &str) -> NetResult<()> {
    for (field, value) in [("network name", network), ("container ID", container_id)] {
        if !is_taggable(value) {
            return Err(NetError::invalid(format!(
                "{what}: {field} {value:?} must be non-empty letters, digits, '_', '.' or '-'"
            )));
        }
    }
    Ok(())
}

/// `name` cut to `keep` bytes, the last replaced by the cut mark.
fn shown(name: &str, keep: usize) -> String {
    if name.len() <= keep {
        return name.to_string();
    }
    let mut s = name[..keep.saturating_sub(1)].to_string();
    s.push(CUT_MARK);
    s
}

const HEAD_LEN: usize = "h=".len() + 8 + "-".len() + 16;

/// The names as a tag shows them: whole when both fit, else each cut to
/// half the room plus whatever the other leaves unused.
pub fn masq_tag_shown_names(network: &str, container_id: &str) -> (String, String) {
    let budget = MASQ_TAG_MAX - HEAD_LEN - " net= id=".len();
    let net_keep = network
        .len()
        .min((budget / 2).max(budget.saturating_sub(container_id.len())));
    (
        shown(network, net_keep),
        shown(container_id, budget - net_keep),
    )
}

/// The comment text for the rules of (`network`, `container_id`); both must
/// be taggable (see [`is_taggable`]).
pub fn masq_tag(network: &str, container_id: &str) -> String {
    let (net, id) = masq_tag_shown_names(network, container_id);
    format!(
        "h={:08x}-{:016x} net={net} id={id}",
        network_hash(network),
        attachment_hash(network, container_id)
    )
}

/// A rule comment read back: ours in either format, or `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMasqTag {
    /// `None` for the previous format, which carried the names in full.
    hashes: Option<(u32, u64)>,
    /// The names as the comment shows them (cut ones end in `~`).
    pub network: String,
    pub container_id: String,
}

impl ParsedMasqTag {
    pub fn parse(comment: &str) -> Option<ParsedMasqTag> {
        let (hashes, names) = match comment.strip_prefix("h=") {
            Some(rest) => {
                let (hashes, names) = rest.split_once(' ')?;
                let (net, att) = hashes.split_once('-')?;
                let parsed = (
                    u32::from_str_radix(net, 16).ok()?,
                    u64::from_str_radix(att, 16).ok()?,
                );
                (Some(parsed), names)
            }
            None => (None, comment),
        };
        let (network, container_id) = names.strip_prefix("net=")?.split_once(" id=")?;
        Some(ParsedMasqTag {
            hashes,
            network: network.to_string(),
            container_id: container_id.to_string(),
        })
    }

    /// Whether the tag carries the hashes (rules of the previous format do not).
    pub fn is_current_format(&self) -> bool {
        self.hashes.is_some()
    }

    /// Whether the rule belongs to `network` (any container).
    pub fn is_of_network(&self, network: &str) -> bool {
        match self.hashes {
            Some((net, _)) => net == network_hash(network) && shows(&self.network, network),
            None => self.network == network,
        }
    }

    /// Whether the rule belongs to this attachment.
    pub fn is_of(&self, network: &str, container_id: &str) -> bool {
        match self.hashes {
            Some((_, att)) => {
                att == attachment_hash(network, container_id)
                    && self.is_of_network(network)
                    && shows(&self.container_id, container_id)
            }
            None => self.network == network && self.container_id == container_id,
        }
    }
}

/// Whether `shown_name` is `name`, whole or cut: a guard against hash collisions.
fn shows(shown_name: &str, name: &str) -> bool {
    match shown_name.strip_suffix(CUT_MARK) {
        Some(prefix) => name.len() > prefix.len() && name.starts_with(prefix),
        None => shown_name == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_shown_whole_and_match_only_their_attachment() {
        let tag = masq_tag("net1", "abc-1.2_3");
        assert!(tag.ends_with(" net=net1 id=abc-1.2_3"), "{tag}");
        let parsed = ParsedMasqTag::parse(&tag).unwrap();
        assert!(parsed.is_of("net1", "abc-1.2_3"));
        assert!(parsed.is_of_network("net1"));
        assert!(!parsed.is_of("net1", "abc-1.2_4"));
        assert!(!parsed.is_of("net2", "abc-1.2_3"));
        assert!(!parsed.is_of_network("net2"));
    }

    #[test]
    fn names_of_any_length_fit_the_comment_and_still_match() {
        for (net_len, id_len) in [(56, 64), (200, 64), (5, 300), (300, 300), (63, 63)] {
            let (net, id) = ("n".repeat(net_len), "c".repeat(id_len));
            let tag = masq_tag(&net, &id);
            assert!(
                tag.len() <= MASQ_TAG_MAX,
                "{net_len}+{id_len}: {}",
                tag.len()
            );
            let parsed = ParsedMasqTag::parse(&tag).unwrap();
            assert!(parsed.is_of(&net, &id), "{tag}");
            assert!(parsed.is_of_network(&net), "{tag}");
            // Same shown prefix, different name: told apart by the hashes.
            let other = format!("{id}x");
            assert!(!parsed.is_of(&net, &other), "{tag}");
        }
    }

    #[test]
    fn cut_names_end_in_the_mark_and_short_ones_keep_their_room() {
        let id = "f".repeat(64);
        let parsed = ParsedMasqTag::parse(&masq_tag(&"n".repeat(56), &id)).unwrap();
        assert!(parsed.network.ends_with('~') && parsed.container_id.ends_with('~'));
        let parsed = ParsedMasqTag::parse(&masq_tag("short", &id)).unwrap();
        assert_eq!(
            (parsed.network.as_str(), parsed.container_id.as_str()),
            ("short", id.as_str())
        );
    }

    #[test]
    fn previous_format_still_matches_by_name() {
        let parsed = ParsedMasqTag::parse("net=testnet id=c1").unwrap();
        assert!(parsed.is_of("testnet", "c1"));
        assert!(parsed.is_of_network("testnet"));
        assert!(!parsed.is_of("testnet", "c2"));
        assert!(ParsedMasqTag::parse("someone else").is_none());
        assert!(ParsedMasqTag::parse("h=zz-1 net=a id=b").is_none());
    }

    #[test]
    fn hashes_are_stable() {
        // A persistent format: rules written by an older build must still match.
        assert_eq!(
            masq_tag("net1", "c1"),
            "h=450e9211-8e6b9b67b2466ad4 net=net1 id=c1"
        );
        assert_ne!(attachment_hash("ab", "c"), attachment_hash("a", "bc"));
    }
}
