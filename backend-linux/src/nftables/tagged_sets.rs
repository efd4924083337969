//! Per-attachment rule sets in a table of our own: port mappings
//! (`portmap`) and forwarding rules (`firewall`). Every rule is tagged as
//! the masquerade rules are (`cni_core::net::masq_tag`), so DEL and GC
//! remove exactly one attachment's; an ADD replaces the attachment's set in
//! one transaction (see `tagged_plan`). A kind of rule says what its table,
//! chains and expressions are ([`NftRule`]); everything else is here, once.

use super::rule::tagged_parts;
use super::tagged_plan::{self, placed_in_order, ChainDef, Found, Table};
use super::wire::{Attrs, NFPROTO_INET};
use super::{apply_planned, is_stale, NfSocket};
use crate::netns::NetnsFile;
use cni_core::net::{
    masq_tag, validate_tag_names, NetError, NetResult, ParsedMasqTag, RuleSet, TaggedRule,
};

/// What the kernel side of a kind of rule is: where its sets live and how
/// one rule is written and read back.
pub(crate) trait NftRule: TaggedRule {
    /// Our table (`table inet <TABLE>`).
    const TABLE: &'static str;
    /// Its base chains.
    const CHAINS: &'static [ChainDef];
    /// The chains (indexes into [`NftRule::CHAINS`]) the rule is installed in.
    fn chains(&self) -> &'static [usize];
    fn expressions(&self) -> Attrs;
    /// The rule a dump's expressions hold; `None` for anything else.
    fn parse_expressions(list: &[u8]) -> Option<Self>;
    /// Whether the rule goes to the head of its chain rather than the end.
    fn at_head(&self) -> bool {
        false
    }
}

/// One dumped rule of chain `chain`, when it carries our tag and reads as
/// a rule of this kind.
pub(super) fn parse_found<R: NftRule>(chain: usize, payload: &[u8]) -> Option<Found<R>> {
    let (handle, tag, exprs) = tagged_parts(payload)?;
    Some(Found {
        chain,
        handle,
        tag,
        rule: R::parse_expressions(exprs)?,
    })
}

/// One dump per chain; an empty one asks whether the chain is there at all.
fn look_up<R: NftRule>(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Table<R>> {
    let what = format!("list {}s in netns {}", R::ONE, ns.path().display());
    let mut table = Table::missing(R::CHAINS.len());
    for (i, def) in R::CHAINS.iter().enumerate() {
        let dumped = sock.dump_rules(NFPROTO_INET, R::TABLE, def.name, &what)?;
        table.present[i] =
            !dumped.is_empty() || sock.chain_exists(NFPROTO_INET, R::TABLE, def.name, &what)?;
        table
            .rules
            .extend(dumped.iter().filter_map(|r| parse_found(i, r)));
    }
    Ok(table)
}

/// Applies a plan made from a fresh look-up (again if the table changed under it).
fn apply<R: NftRule>(
    sock: &NfSocket,
    ns: &NetnsFile,
    what: &str,
    plan: impl Fn(&Table<R>) -> Vec<super::wire::NfMsg>,
) -> NetResult<()> {
    apply_planned(sock, NFPROTO_INET, what, || look_up(sock, ns), plan)
}

pub(crate) fn add<R: NftRule>(sock: &NfSocket, ns: &NetnsFile, set: &RuleSet<R>) -> NetResult<()> {
    set.validate()?;
    let tag = masq_tag(&set.network, &set.container_id);
    let what = format!(
        "add {} for {} (network {}) in netns {}",
        R::SET,
        set.container_id,
        set.network,
        ns.path().display()
    );
    apply(sock, ns, &what, |table| tagged_plan::add(table, set, &tag))
}

/// `NotFound` naming the first rule of `set` (in its order) that is not there.
pub(crate) fn check<R: NftRule>(
    sock: &NfSocket,
    ns: &NetnsFile,
    set: &RuleSet<R>,
) -> NetResult<()> {
    set.validate()?;
    let table = look_up::<R>(sock, ns)?;
    for (chain, rule) in placed_in_order(&set.rules) {
        if !table
            .rules_of(&set.network, &set.container_id)
            .any(|f| f.chain == chain && f.rule == rule)
        {
            return Err(NetError::not_found(format!(
                "{} in chain {} of table inet {} in netns {}",
                set.missing(&rule),
                R::CHAINS[chain].name,
                R::TABLE,
                ns.path().display()
            )));
        }
    }
    Ok(())
}

/// Names ADD would refuse cannot be on any rule: nothing to delete.
pub(crate) fn del<R: NftRule>(
    sock: &NfSocket,
    ns: &NetnsFile,
    network: &str,
    container_id: &str,
) -> NetResult<()> {
    if validate_tag_names(R::SET, network, container_id).is_err() {
        return Ok(());
    }
    let what = format!(
        "delete {} for {container_id} (network {network}) in netns {}",
        R::SET,
        ns.path().display()
    );
    apply::<R>(sock, ns, &what, |table| {
        tagged_plan::delete(table.rules_of(network, container_id))
    })
}

pub(crate) fn gc<R: NftRule>(
    sock: &NfSocket,
    ns: &NetnsFile,
    network: &str,
    live: &[String],
) -> NetResult<()> {
    let what = format!(
        "remove stale {} of network {network} in netns {}",
        R::SET,
        ns.path().display()
    );
    apply::<R>(sock, ns, &what, |table| {
        let stale = table
            .rules
            .iter()
            .filter(|f| is_stale(&f.tag, network, live));
        tagged_plan::delete(stale)
    })
}

/// Every attachment's set, with the names as the tag shows them; each
/// set's rules sorted and unique, the sets sorted. Grouped by the whole
/// tag, since two long names may show the same cut prefix.
pub(crate) fn list<R: NftRule>(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Vec<RuleSet<R>>> {
    let mut groups: Vec<(ParsedMasqTag, Vec<R>)> = Vec::new();
    for Found { tag, rule, .. } in look_up::<R>(sock, ns)?.rules {
        match groups.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, rules)) => rules.push(rule),
            None => groups.push((tag, vec![rule])),
        }
    }
    let mut sets: Vec<RuleSet<R>> = groups
        .into_iter()
        .map(|(tag, mut rules)| {
            rules.sort();
            rules.dedup();
            RuleSet {
                network: tag.network,
                container_id: tag.container_id,
                rules,
            }
        })
        .collect();
    sets.sort();
    Ok(sets)
}
