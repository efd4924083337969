//! The `sbr` chained plugin (source-based routing): in the container, each
//! address of the interface in `prevResult` gets a rule `from <address>
//! lookup <table>` and, unless `table` is configured, a table of its own
//! holding the interface's routes, moved out of the main table. ADD hands
//! `prevResult` on unchanged, at the config's version.

mod add;
mod config;
mod plan;
mod verify;

pub use config::{parse as parse_config, SbrConf, StaticGateways};
pub use plan::{follows, ip_configs, next_free_table, FIRST_TABLE};

use crate::common::{netns, AbsentOk, NetContext, Undo};
use cni_core::net::{NetBackend, Netns, RuleInfo, TABLE_MAIN};
use cni_core::skel::{CmdArgs, Plugin};
use cni_core::{CniError, CniResult};

pub struct Sbr<'a> {
    pub backend: &'a dyn NetBackend,
}

impl Plugin for Sbr<'_> {
    fn add(&self, args: &CmdArgs) -> Result<CniResult, CniError> {
        let conf = config::parse(&args.stdin)?;
        let mut prev = conf.common.previous_result()?.ok_or_else(|| {
            CniError::invalid_config("prevResult: required; sbr must be called as a chained plugin")
        })?;
        if prev.ips.is_empty() {
            return Err(CniError::invalid_config(format!(
                "prevResult.ips: no IP addresses for interface {:?}",
                args.ifname
            )));
        }
        let ips = plan::ip_configs(&prev, &args.ifname);
        let ns = netns::container(self.backend, &args.netns)?;
        let ns = &*ns;
        let mut undo = Undo::new();
        match conf.table {
            Some(table) => add::rules_only(ns, &ips, table, &mut undo)?,
            None => add::tables_per_address(ns, &conf, &args.ifname, &ips, &mut undo)?,
        }
        undo.commit();
        prev.cni_version = conf.common.cni_version.clone();
        Ok(prev)
    }

    /// Reads `table` leniently: nothing only ADD refuses makes DEL fail.
    fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let table = config::parse(&args.stdin).ok().and_then(|c| c.table);
        let Some(ns) = netns::container_if_present(self.backend, &args.netns)? else {
            return Ok(());
        };
        tidy(&*ns, &args.ifname, table)
    }

    fn check(&self, args: &CmdArgs) -> Result<(), CniError> {
        let conf = config::parse(&args.stdin)?;
        let prev = conf.common.prev_result()?;
        let ns = netns::container(self.backend, &args.netns)?;
        verify::check(
            &*ns,
            &conf,
            &args.ifname,
            &plan::ip_configs(&prev, &args.ifname),
        )
    }

    fn about(&self) -> String {
        cni_core::skel::about_text("sbr plugin")
    }
}

/// As the reference: the rules whose source is an address of the interface
/// (of `table` only, when configured) go; and, ours only, the routes of the
/// interface in the tables those rules chose. Every step runs; the first
/// error is reported. No interface: nothing of this attachment is left.
fn tidy(ns: &dyn Netns, ifname: &str, table: Option<u32>) -> Result<(), CniError> {
    let Some(link) = ns
        .link_by_name(ifname)
        .absent_ok(&format!("looking up interface {ifname:?}"))?
    else {
        return Ok(());
    };
    let addrs = ns.addresses(Some(link.index)).ctx("listing addresses")?;
    let ours: Vec<RuleInfo> = ns
        .rules()
        .ctx("listing rules")?
        .into_iter()
        .filter(|r| table.is_none_or(|t| r.table == t))
        .filter(|r| {
            r.src
                .is_some_and(|s| addrs.iter().any(|a| a.addr.addr() == s.addr()))
        })
        .collect();
    let mut first_error = None;
    for spec in ours.iter().filter_map(RuleInfo::to_spec) {
        let removed = ns
            .del_rule(&spec)
            .absent_ok(&format!("removing rule {spec}"));
        first_error = first_error.or(removed.err());
    }
    if table.is_none() {
        let removed = remove_table_routes(ns, link.index, &ours);
        first_error = first_error.or(removed.err());
    }
    first_error.map_or(Ok(()), Err)
}

/// The kernel's own tables (253-255) are never ours to empty.
fn remove_table_routes(ns: &dyn Netns, oif: u32, rules: &[RuleInfo]) -> Result<(), CniError> {
    let ours = |t: u32| !(TABLE_MAIN - 1..=TABLE_MAIN + 1).contains(&t);
    let tables: Vec<u32> = rules.iter().map(|r| r.table).filter(|t| ours(*t)).collect();
    let mut first_error = None;
    for route in ns.routes().ctx("listing routes")? {
        if tables.contains(&route.table) && route.oif == Some(oif) {
            let spec = route.to_spec_in(route.table);
            let step = format!("removing route {} from table {}", route.dst, route.table);
            first_error = first_error.or(ns.del_route(&spec).absent_ok(&step).err());
        }
    }
    first_error.map_or(Ok(()), Err)
}
