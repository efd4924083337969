//! The fault sweep of `sim_main_plugins_faults.rs` on the real kernel: the
//! plugins in process over `FaultyBackend<LinuxBackend>`, inside namespaces
//! the test made (one playing the host). For each operation N of a
//! successful ADD, on fresh namespaces: fail N, and the host, the container
//! and host-local's `dataDir` must be as before the ADD; after the DEL a
//! runtime sends next, too; then an ADD without faults succeeds and its DEL
//! leaves what a fault-free ADD and DEL leave. "As before" is exact on a warm
//! host (another container's ADD and DEL already made the network's shared
//! objects); on a cold host the shared objects a failed ADD made (bridge,
//! gateway addresses, forwarding) stay, and only they. Needs root.
//!
//! The chained plugins (portmap, firewall, tuning, bandwidth, sbr) are swept
//! the same way after the bridge's ADD, which runs unfaulted first: only the
//! chained plugin's operations fail. Their state adds what they change
//! (`plugin_state::chained_state`: port mappings and forwarding rules by
//! attachment, qdiscs, policy rules and other tables' routes, container
//! MACs and the sysctls they set, tuning's saved state) and, where the host
//! is compared whole, the host's nftables ruleset as `nft` prints it.

use cni_conformance::backend_suite::settles;
use cni_conformance::in_process::{add_uplink, Attachment};
use cni_conformance::kernel_world::KernelWorld;
use cni_conformance::plugin_corpus::{ChainedCase, Scenario, CHAINED_FAULT_CASES, FAULT_CASES};
use cni_core::net::NetErrorKind;
use cni_core::testsupport::privileged;
use serde_json::Value;

/// Whether the network's shared host objects exist before the ADD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    Cold,
    Warm,
}

/// What a sweep fails: a main plugin's ADD, or a chained plugin's ADD
/// after its main plugin's.
#[derive(Clone, Copy)]
struct Case {
    main: &'static Scenario,
    chained: Option<&'static ChainedCase>,
}

impl Case {
    fn main(slug: &str) -> Case {
        let main = FAULT_CASES.iter().find(|c| c.slug == slug).unwrap();
        Case {
            main,
            chained: None,
        }
    }

    fn chained(slug: &str) -> Case {
        let chained = CHAINED_FAULT_CASES.iter().find(|c| c.slug == slug).unwrap();
        Case {
            main: chained.main_case(),
            chained: Some(chained),
        }
    }

    fn slug(&self) -> &'static str {
        self.chained.map_or(self.main.slug, |c| c.slug)
    }

    fn min_ops(&self) -> u64 {
        self.chained.map_or(4, |c| c.min_ops)
    }
}

/// Fresh namespaces (host, `ctr1` and `warm`) and the main plugin's config.
fn fresh(case: Case) -> (KernelWorld, Attachment, Value, Attachment) {
    let mut world = KernelWorld::new();
    let att = world.add_container("ctr1");
    let warm = world.add_container("warm");
    let conf = world.netconf(&(case.main.conf)(), case.main.versions[0]);
    (world, att, conf, warm)
}

fn add_ok(world: &KernelWorld, conf: &Value, att: &Attachment, what: &str) -> Value {
    world
        .call("ADD", conf, att)
        .unwrap_or_else(|e| panic!("{what}: ADD: {e}"))
}

fn del_ok(world: &KernelWorld, conf: &Value, att: &Attachment, what: &str) {
    assert_eq!(world.call("DEL", conf, att), Ok(Value::Null), "{what}: DEL");
}

/// The chained plugin's config after `main`'s ADD printed `prev`, as the
/// runtime hands it over.
fn chained_conf(world: &KernelWorld, chained: &ChainedCase, main: &Value, prev: &Value) -> Value {
    let version = main["cniVersion"].as_str().expect("cniVersion");
    world.netconf(&chained.netconf(main, prev), version)
}

/// Runs in the host namespace: the uplink macvlan needs and, on a warm
/// host, another container's ADD and DEL (of the whole chain); for a
/// chained case, the main plugin's ADD of `att`. Returns the config whose
/// ADD the sweep fails.
fn prepare(
    world: &KernelWorld,
    case: Case,
    main: &Value,
    att: &Attachment,
    warm: &Attachment,
    host: Host,
) -> Value {
    let slug = case.slug();
    if case.main.needs_uplink {
        add_uplink(&*world.host(), "uplink0", "uplink1");
    }
    if host == Host::Warm {
        let what = format!("{slug}: warm-up");
        let prev = add_ok(world, main, warm, &what);
        if let Some(chained) = case.chained {
            let conf = chained_conf(world, chained, main, &prev);
            add_ok(world, &conf, warm, &what);
            del_ok(world, &conf, warm, &what);
        }
        del_ok(world, main, warm, &what);
    }
    match case.chained {
        None => main.clone(),
        Some(chained) => {
            let prev = add_ok(world, main, att, &format!("{slug}: the main plugin"));
            settle_link_local(att);
            world.netconf(
                &chained.netconf(main, &prev),
                main["cniVersion"].as_str().unwrap(),
            )
        }
    }
}

/// Waits (up to 2 s, `settles`) for the container interface's IPv6
/// link-local route. The kernel adds it when it sees carrier, which linkwatch
/// reports up to a second after the main plugin's ADD; a chained plugin that
/// moves the interface's routes (sbr) runs one more operation once it is
/// there, so without the wait the clean run and a faulty one could count
/// differently. Without the route by then the sweep goes on (a count that
/// still differs fails it, naming the operation).
fn settle_link_local(att: &Attachment) {
    let _in_time = settles(|| {
        let routes = std::process::Command::new("nsenter")
            .arg(format!("--net={}", att.netns))
            .args(["ip", "-6", "route", "show", "dev", &att.ifname])
            .output();
        routes.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("fe80::/64"))
    });
}

/// A fault-free ADD on fresh namespaces: how many operations it ran, and
/// the state its DEL leaves (the bridge, forwarding, loopback's address
/// stay: shared objects are not one attachment's to undo).
struct Clean {
    start: String,
    add_ops: u64,
    after_del: String,
}

/// The state without carrier: it follows from the links present (compared
/// anyway), and a real kernel reports its loss up to a second late
/// (linkwatch), which would make the sweep wait that long at every step.
fn state(world: &KernelWorld, att: &Attachment, case: Case, host: Host) -> String {
    match host {
        Host::Warm => whole_state(world, att, case),
        Host::Cold => {
            let owned = without_carrier(world.attachment_owned(&[att]));
            match case.chained {
                None => owned,
                Some(chained) => format!("{owned}\n{}", world.chained_state(&[att], chained)),
            }
        }
    }
}

fn whole_state(world: &KernelWorld, att: &Attachment, case: Case) -> String {
    let whole = without_carrier(world.state(&[att]));
    match case.chained {
        None => whole,
        Some(chained) => format!(
            "{whole}\n{}\n== host ruleset\n{}",
            world.chained_state(&[att], chained),
            world.host_ruleset()
        ),
    }
}

fn without_carrier(text: String) -> String {
    text.replace(",LOWER_UP", "").replace(",NO-CARRIER", "")
}

fn clean_run(case: Case, host: Host) -> Clean {
    let (world, att, main, warm) = fresh(case);
    world.in_host(|| {
        let conf = prepare(&world, case, &main, &att, &warm, host);
        let start = state(&world, &att, case, host);
        let before = world.faults.op_count();
        add_ok(
            &world,
            &conf,
            &att,
            &format!("{}: without faults", case.slug()),
        );
        let add_ops = world.faults.op_count() - before;
        // The state compared sees what the ADD did: a step left undone
        // would show.
        assert_ne!(
            state(&world, &att, case, host),
            start,
            "{}: the compared state misses the ADD",
            case.slug()
        );
        del_ok(
            &world,
            &conf,
            &att,
            &format!("{}: without faults", case.slug()),
        );
        Clean {
            start,
            add_ops,
            after_del: whole_state(&world, &att, case),
        }
    })
}

fn fail_one(case: Case, n: u64, clean: &Clean, host: Host) {
    let slug = case.slug();
    let (world, att, main, warm) = fresh(case);
    world.in_host(|| {
        let conf = prepare(&world, case, &main, &att, &warm, host);
        let start = &clean.start;
        let (outcome, failed_op) = world
            .faults
            .with_nth_failing(n, NetErrorKind::Other, || world.call("ADD", &conf, &att));
        let failed_op =
            failed_op.unwrap_or_else(|| panic!("{slug}: ADD stopped before operation #{n}"));
        let label = format!(
            "{slug}: {host:?} ADD with #{n} ({:?}) failing",
            failed_op.op
        );
        assert!(failed_op.injected, "{label}: not the fault: {failed_op:?}");
        let err = outcome
            .err()
            .unwrap_or_else(|| panic!("{label}: ADD succeeded"));
        assert!(
            format!("{} {}", err.msg, err.details).contains("injected fault"),
            "{label}: the error does not carry the fault: {err}"
        );
        let as_at_start = |after: &str| {
            let what = format!("{label}{after}");
            assert_eq!(state(&world, &att, case, host), *start, "{what}");
        };
        as_at_start(": not undone");
        del_ok(&world, &conf, &att, &format!("{label}, then DEL"));
        as_at_start(", then DEL");

        let add = world.call("ADD", &conf, &att);
        assert!(add.is_ok(), "{label}, then ADD without faults: {add:?}");
        del_ok(&world, &conf, &att, &format!("{label}, then ADD"));
        let label = format!("{label}, then ADD and DEL");
        assert_eq!(whole_state(&world, &att, case), clean.after_del, "{label}");
    });
}

/// A main plugin whose link kind needs a driver this kernel lacks (see
/// [`Scenario::kernel_driver`]): its ADD refuses naming the module, which
/// `sim_vs_kernel_plugins.rs` checks; there is nothing to sweep.
/// A chained plugin needing one (vrf) is tried after its main plugin's ADD.
fn kernel_lacks_driver(case: Case) -> bool {
    let module = match case.chained {
        Some(chained) => chained.kernel_driver(),
        None => case.main.kernel_driver(),
    };
    let Some(module) = module else {
        return false;
    };
    let (world, att, main, _) = fresh(case);
    world.in_host(|| {
        add_uplink(&*world.host(), "uplink0", "uplink1");
        let add = match case.chained {
            None => world.call("ADD", &main, &att),
            Some(chained) => {
                let prev = add_ok(&world, &main, &att, case.slug());
                let conf = chained_conf(&world, chained, &main, &prev);
                let add = world.call("ADD", &conf, &att);
                if add.is_ok() {
                    del_ok(&world, &conf, &att, case.slug());
                }
                del_ok(&world, &main, &att, case.slug());
                add
            }
        };
        match add {
            Err(e) if e.msg.contains(&format!("driver (modprobe {module})")) => {
                eprintln!(
                    "{}: SKIPPED (the kernel has no {module} driver)",
                    case.slug()
                );
                true
            }
            _ => false,
        }
    })
}

fn fail_each_operation_in_turn(test: &str, case: Case) {
    if !privileged(test) || kernel_lacks_driver(case) {
        return;
    }
    let slug = case.slug();
    for host in [Host::Warm, Host::Cold] {
        let clean = clean_run(case, host);
        let total = clean.add_ops;
        assert!(
            total >= case.min_ops(),
            "{slug}: a successful ADD ran only {total} operations"
        );
        for n in 1..=total {
            fail_one(case, n, &clean, host);
        }
    }
}

/// One test per case: `name: case;`, the test named by its function.
macro_rules! sweeps {
    ($($name:ident: $case:expr;)*) => {$(
        #[test]
        fn $name() {
            fail_each_operation_in_turn(stringify!($name), $case);
        }
    )*};
}

sweeps! {
    bridge_on_the_kernel_undoes_every_failed_step: Case::main("bridge");
    ptp_on_the_kernel_undoes_every_failed_step: Case::main("ptp");
    macvlan_on_the_kernel_undoes_every_failed_step: Case::main("macvlan");
    loopback_on_the_kernel_undoes_every_failed_step: Case::main("loopback");
    host_device_on_the_kernel_undoes_every_failed_step: Case::main("host-device");
    ipvlan_on_the_kernel_undoes_every_failed_step: Case::main("ipvlan");
    vlan_on_the_kernel_undoes_every_failed_step: Case::main("vlan");
    tap_on_the_kernel_undoes_every_failed_step: Case::main("tap");
    dummy_on_the_kernel_undoes_every_failed_step: Case::main("dummy");
    chained_portmap_on_the_kernel_undoes_every_failed_step: Case::chained("portmap");
    chained_firewall_on_the_kernel_undoes_every_failed_step: Case::chained("firewall");
    chained_tuning_on_the_kernel_undoes_every_failed_step: Case::chained("tuning");
    chained_bandwidth_on_the_kernel_undoes_every_failed_step: Case::chained("bandwidth");
    chained_sbr_on_the_kernel_undoes_every_failed_step: Case::chained("sbr");
    chained_vrf_on_the_kernel_undoes_every_failed_step: Case::chained("vrf");
}
