//! What the nftables fuzz targets in `fuzz/` check, shared with the replay
//! of their corpora (`tests/nftables_fuzz_corpus.rs`). An input is one rule
//! as a dump gives it: the `NFTA_RULE_*` attributes of a NEWRULE reply.

use super::portmap_rule::{expressions, parse_expressions};
use super::rule::{
    new_rule, new_rule_in, parse_comment, parse_rule, NFTA_RULE_HANDLE, NFTA_RULE_USERDATA,
};
use super::tagged_sets::{parse_found, NftRule};
use super::wire::{parse_attrs, Attrs};
use cni_core::fuzz::Oracle;
use cni_core::net::{PortMapRule, TaggedRule};

/// The targets whose oracles live in this crate, by corpus directory name.
pub const TARGETS: &[(&str, Oracle)] = &[
    ("nft_masquerade_rule", masquerade_rule),
    ("nft_portmap_rule", portmap_rule),
];

/// A userdata comment is at most 255 bytes; re-encoding a longer one's
/// length byte would wrap. Our own tags are far shorter.
const LONGEST_REENCODED_COMMENT: usize = 253;

/// A masquerade rule that reads as ours, written again with its comment
/// and handle, reads back the same.
pub fn masquerade_rule(dumped: &[u8]) -> bool {
    let Some(found) = parse_rule(dumped) else {
        return false;
    };
    let comment = comment_of(dumped).expect("a rule read as ours has a comment");
    if comment.len() <= LONGEST_REENCODED_COMMENT {
        let again = as_dumped(found.handle, new_rule(found.addr, &comment).attrs);
        assert_eq!(parse_rule(&again), Some(found));
    }
    true
}

/// A port-mapping rule that reads as ours and validates, once written as we
/// write it, reads back as itself from then on, with its comment and handle.
pub fn portmap_rule(dumped: &[u8]) -> bool {
    let Some(found) = parse_found::<PortMapRule>(0, dumped) else {
        return false;
    };
    // `expressions` takes only validated rules; a foreign invalid one is
    // never re-written, only deleted by handle.
    if found.rule.validate().is_err() {
        return true;
    }
    let written = parse_expressions(&expressions(&found.rule).0)
        .unwrap_or_else(|| panic!("{} does not read back once written", found.rule));
    let comment = comment_of(dumped).expect("a rule read as ours has a comment");
    if comment.len() <= LONGEST_REENCODED_COMMENT {
        let exprs = expressions(&written);
        let chain = PortMapRule::CHAINS[0].name;
        let msg = new_rule_in(PortMapRule::TABLE, chain, &exprs, &comment);
        let again =
            parse_found::<PortMapRule>(0, &as_dumped(found.handle, msg.attrs)).expect("re-read");
        assert_eq!((again.handle, &again.tag), (found.handle, &found.tag));
        assert_eq!(again.rule, written, "written as {}", found.rule);
    }
    true
}

/// The comment the readers take: the last userdata attribute's.
fn comment_of(dumped: &[u8]) -> Option<String> {
    let (_, userdata) = parse_attrs(dumped)
        .into_iter()
        .rfind(|(kind, _)| *kind == NFTA_RULE_USERDATA)?;
    parse_comment(userdata)
}

/// A rule as the kernel dumps it: its handle, then what we sent.
fn as_dumped(handle: u64, sent: Attrs) -> Vec<u8> {
    let mut dumped = Attrs::default();
    dumped.put_be64(NFTA_RULE_HANDLE, handle);
    dumped.0.extend_from_slice(&sent.0);
    dumped.0
}
