//! Per-attachment rule sets in a table of our own: port mappings
//! (`portmap`) and forwarding rules (`firewall`). Every rule is tagged as
//! the masquerade rules are (`cni_core::net::masq_tag`), so DEL and GC
//! remove exactly one attachment's; an ADD replaces the attachment's set in
//! one transaction (see `tagged_plan`). A kind of set says what its table,
//! chains and rules are ([`TaggedSet`]); everything else is here, once.

use super::rule::tagged_parts;
use super::tagged_plan::{self, placed_in_order, ChainDef, Found, Table};
use super::wire::{Attrs, NFPROTO_INET};
use super::{apply_planned, group_by_tag, is_stale, validate_tag_names, NfSocket};
use crate::netns::NetnsFile;
use cni_core::net::{masq_tag, NetError, NetResult};
use std::fmt::Display;

/// What a kind of rule set is: where its rules live and how one is written
/// and read back.
pub(crate) trait TaggedSet: Sized {
    type Rule: Clone + Ord + Display;
    /// For messages: "port mappings", "forwarding rules".
    const WHAT: &'static str;
    /// One rule, for messages: "port-mapping rule", "forwarding rule".
    const RULE: &'static str;
    /// Our table (`table inet <TABLE>`).
    const TABLE: &'static str;
    /// Its base chains.
    const CHAINS: &'static [ChainDef];

    fn network(&self) -> &str;
    fn container_id(&self) -> &str;
    fn rules(&self) -> &[Self::Rule];
    /// The set of one attachment as a listing shows it.
    fn from_parts(network: String, container_id: String, rules: Vec<Self::Rule>) -> Self;

    fn validate_rule(rule: &Self::Rule) -> Result<(), String>;
    /// The chains (indexes into [`TaggedSet::CHAINS`]) a rule is installed in.
    fn chains_for(rule: &Self::Rule) -> &'static [usize];
    fn expressions(rule: &Self::Rule) -> Attrs;
    /// The rule a dump's expressions hold; `None` for anything else.
    fn parse_expressions(list: &[u8]) -> Option<Self::Rule>;
    /// Whether the rule goes to the head of its chain rather than the end.
    fn at_head(_rule: &Self::Rule) -> bool {
        false
    }
    /// CHECK's words for a rule that is not there.
    fn describe(rule: &Self::Rule) -> String {
        format!("{} {rule}", Self::RULE)
    }
}

/// One dumped rule of chain `chain`, when it carries our tag and reads as
/// a rule of this kind.
pub(super) fn parse_found<S: TaggedSet>(chain: usize, payload: &[u8]) -> Option<Found<S::Rule>> {
    let (handle, tag, exprs) = tagged_parts(payload)?;
    Some(Found {
        chain,
        handle,
        tag,
        rule: S::parse_expressions(exprs)?,
    })
}

/// One dump per chain; an empty one asks whether the chain is there at all.
fn look_up<S: TaggedSet>(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Table<S::Rule>> {
    let what = format!("list {}s in netns {}", S::RULE, ns.path().display());
    let mut table = Table::missing(S::CHAINS.len());
    for (i, def) in S::CHAINS.iter().enumerate() {
        let dumped = sock.dump_rules(NFPROTO_INET, S::TABLE, def.name, &what)?;
        table.present[i] =
            !dumped.is_empty() || sock.chain_exists(NFPROTO_INET, S::TABLE, def.name, &what)?;
        table
            .rules
            .extend(dumped.iter().filter_map(|r| parse_found::<S>(i, r)));
    }
    Ok(table)
}

fn validate<S: TaggedSet>(set: &S) -> NetResult<()> {
    validate_tag_names(S::WHAT, set.network(), set.container_id())?;
    if set.rules().is_empty() {
        return Err(NetError::invalid(format!(
            "{} of container {:?}: no rules",
            S::WHAT,
            set.container_id()
        )));
    }
    set.rules()
        .iter()
        .try_for_each(|r| S::validate_rule(r).map_err(NetError::invalid))
}

/// Applies a plan made from a fresh look-up (again if the table changed under it).
fn apply<S: TaggedSet>(
    sock: &NfSocket,
    ns: &NetnsFile,
    what: &str,
    plan: impl Fn(&Table<S::Rule>) -> Vec<super::wire::NfMsg>,
) -> NetResult<()> {
    apply_planned(sock, NFPROTO_INET, what, || look_up::<S>(sock, ns), plan)
}

pub(crate) fn add<S: TaggedSet>(sock: &NfSocket, ns: &NetnsFile, set: &S) -> NetResult<()> {
    validate(set)?;
    let tag = masq_tag(set.network(), set.container_id());
    let what = format!(
        "add {} for {} (network {}) in netns {}",
        S::WHAT,
        set.container_id(),
        set.network(),
        ns.path().display()
    );
    apply::<S>(sock, ns, &what, |table| tagged_plan::add(table, set, &tag))
}

/// `NotFound` naming the first rule of `set` (in its order) that is not there.
pub(crate) fn check<S: TaggedSet>(sock: &NfSocket, ns: &NetnsFile, set: &S) -> NetResult<()> {
    validate(set)?;
    let table = look_up::<S>(sock, ns)?;
    let (network, container_id) = (set.network(), set.container_id());
    for (chain, rule) in placed_in_order::<S>(set.rules()) {
        if !table
            .rules_of(network, container_id)
            .any(|f| f.chain == chain && f.rule == rule)
        {
            return Err(NetError::not_found(format!(
                "{} of container {container_id} (network {network}) not found in chain {} of table inet {} in netns {}",
                S::describe(&rule),
                S::CHAINS[chain].name,
                S::TABLE,
                ns.path().display()
            )));
        }
    }
    Ok(())
}

/// Names ADD would refuse cannot be on any rule: nothing to delete.
pub(crate) fn del<S: TaggedSet>(
    sock: &NfSocket,
    ns: &NetnsFile,
    network: &str,
    container_id: &str,
) -> NetResult<()> {
    if validate_tag_names(S::WHAT, network, container_id).is_err() {
        return Ok(());
    }
    let what = format!(
        "delete {} for {container_id} (network {network}) in netns {}",
        S::WHAT,
        ns.path().display()
    );
    apply::<S>(sock, ns, &what, |table| {
        tagged_plan::delete::<S>(table.rules_of(network, container_id))
    })
}

pub(crate) fn gc<S: TaggedSet>(
    sock: &NfSocket,
    ns: &NetnsFile,
    network: &str,
    live: &[String],
) -> NetResult<()> {
    let what = format!(
        "remove stale {} of network {network} in netns {}",
        S::WHAT,
        ns.path().display()
    );
    apply::<S>(sock, ns, &what, |table| {
        let stale = table
            .rules
            .iter()
            .filter(|f| is_stale(&f.tag, network, live));
        tagged_plan::delete::<S>(stale)
    })
}

/// Every attachment's set, with the names as the tag shows them.
pub(crate) fn list<S: TaggedSet + Ord>(sock: &NfSocket, ns: &NetnsFile) -> NetResult<Vec<S>>
where
    S::Rule: Ord,
{
    let found = look_up::<S>(sock, ns)?
        .rules
        .into_iter()
        .map(|f| (f.tag, f.rule));
    Ok(group_by_tag(found, |tag, rules| {
        S::from_parts(tag.network.clone(), tag.container_id.clone(), rules)
    }))
}

/// For the kinds' own tests: what an ADD of `set` installs.
#[cfg(test)]
pub(super) fn installed<S: TaggedSet>(set: &S) -> Table<S::Rule> {
    let tag = cni_core::net::ParsedMasqTag::parse(&masq_tag(set.network(), set.container_id()))
        .expect("our own tag parses");
    Table {
        present: vec![true; S::CHAINS.len()],
        rules: tagged_plan::placed::<S>(set.rules())
            .into_iter()
            .enumerate()
            .map(|(i, (chain, rule))| Found {
                chain,
                handle: i as u64 + 1,
                tag: tag.clone(),
                rule,
            })
            .collect(),
    }
}
