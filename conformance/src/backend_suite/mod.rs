//! The backend conformance suite: kernel rules every `NetBackend` must follow,
//! one function per rule, generic over the backend.
//!
//! It runs on the simulator and on the real kernel, so it asserts only what
//! both share. It never opens `NsRef::Current`: on a real kernel the "host" is
//! a namespace the test made. `oper_up` is read as carrier (IFF_LOWER_UP), which
//! a real kernel may report a moment late, hence [`eventually`].
//!
//! To run it on a backend, implement [`SuiteEnv`] (namespaces with a unique
//! prefix, removed on drop) and write `cni_conformance::backend_suite_tests!(MyEnv::new());`
//! in a test file: one `#[test]` per rule. Every rule except the masquerade
//! ones was checked against Linux 6.18 with a throwaway `ip(8)`-driven backend;
//! a failure on the real kernel means the rule (and the simulator) is wrong.

mod envs;
mod firewall;
mod l3;
mod l3mdev;
mod links;
mod misc;
mod port_guards;
mod portmap;
mod rules;
mod shaping;
mod taps;
mod view;

pub use envs::{KernelEnv, SimEnv};
pub use firewall::*;
pub use l3::*;
pub use l3mdev::*;
pub use links::*;
pub use misc::*;
pub use port_guards::*;
pub use portmap::*;
pub use rules::*;
pub use shaping::*;
pub use taps::*;
pub use view::*;

use cni_core::net::{LinkInfo, NetBackend, NetErrorKind, NetResult, Netns, NsRef};
use std::time::{Duration, Instant};

/// Where the suite runs: a backend and namespaces it may create at will.
pub trait SuiteEnv {
    fn backend(&self) -> &dyn NetBackend;
    /// The namespace playing the host; always an `NsRef::Path`.
    fn host(&self) -> NsRef;
    /// A fresh namespace (an `NsRef::Path`), removed when the env is dropped.
    fn new_netns(&mut self) -> NsRef;
    /// A namespace path that does not exist.
    fn absent_netns(&self) -> NsRef;
}

/// Calls `$callback!` with every rule's name; the single list of rules.
#[macro_export]
macro_rules! backend_suite_rules {
    ([$($callback:tt)*] ($($args:tt)*)) => {
        $($callback)*!(($($args)*);
            new_netns_has_only_loopback,
            open_absent_netns_is_not_found,
            link_names_are_unique_per_namespace,
            same_name_allowed_in_other_namespace,
            link_name_longer_than_15_bytes_is_invalid,
            link_name_with_slash_or_space_is_invalid,
            ifindex_is_not_reused_after_delete,
            veth_peer_is_created_in_peer_namespace,
            veth_has_kernel_defaults,
            veth_spec_fields_are_applied,
            deleting_veth_end_deletes_peer,
            veth_carrier_needs_both_ends_up,
            failed_veth_create_changes_nothing,
            bridge_has_kernel_defaults,
            bridge_mtu_follows_ports_unless_set,
            bridge_port_gets_master_and_bridge_gets_carrier,
            bridge_without_own_mac_takes_port_mac,
            set_master_to_non_bridge_fails,
            port_moves_between_bridges_in_one_call,
            hairpin_requires_bridge_port,
            promisc_flag_round_trips,
            allmulti_flag_round_trips_apart_from_promisc,
            mtu_out_of_range_is_invalid,
            txqueuelen_is_kept_as_set,
            macvlan_is_created_in_target_namespace,
            macvlan_inherits_parent_mtu_and_default_qlen,
            macvlan_with_missing_parent_is_not_found,
            ipvlan_is_created_in_target_namespace_with_parent_mac,
            vlan_is_created_in_target_namespace_and_ids_are_unique_per_parent,
            tap_is_persistent_with_its_flags_owner_and_group,
            tap_name_taken_is_exists_and_bad_specs_leave_nothing,
            dummy_is_created_here_with_kernel_defaults,
            vrf_binds_its_ports_connected_routes_to_its_table,
            move_to_drops_addresses_and_keeps_name,
            rename_to_existing_name_is_exists,
            rename_makes_link_findable_by_new_name,
            alias_is_kept_across_rename_and_move,
            ipv4_prefix_route_exists_only_while_link_up,
            ipv6_prefix_route_has_metric_256,
            slash_32_address_adds_no_prefix_route,
            duplicate_address_is_exists,
            deleting_absent_address_is_not_found,
            unreachable_gateway_is_rejected,
            gateway_route_resolves_output_link,
            duplicate_route_is_exists,
            deleting_absent_route_is_not_found,
            link_down_drops_its_routes,
            deleting_link_removes_its_addresses_and_routes,
            sysctls_have_kernel_defaults,
            sysctl_set_round_trips,
            unknown_sysctl_is_not_found,
            non_numeric_value_for_a_numeric_sysctl_fails,
            masquerade_add_is_idempotent_and_del_removes,
            masquerade_check_names_missing_rule,
            portmap_sets_are_replaced_listed_checked_and_removed_by_tag,
            firewall_sets_are_replaced_listed_checked_and_removed_by_tag,
            rules_get_default_priorities_and_are_removed_exactly,
            tbf_and_ingress_redirect_round_trip_and_go_with_the_ifb,
            bridge_topology_view_matches_reference,
            port_isolation_needs_a_port_and_ends_with_it,
            macvlan_keeps_its_broadcast_queue_length,
            spoofcheck_add_is_idempotent_del_and_gc_remove_only_theirs,
        );
    };
}

macro_rules! rule_table {
    ((); $($rule:ident),* $(,)?) => {
        /// Every rule by name, for runners that are not `#[test]` functions.
        pub const RULES: &[(&str, fn(&mut dyn SuiteEnv))] = &[
            $((stringify!($rule), $rule as fn(&mut dyn SuiteEnv)),)*
        ];
    };
}
backend_suite_rules!([rule_table]());

/// Generates one `#[test]` per rule; `$make_env` builds a fresh env each time.
#[macro_export]
macro_rules! backend_suite_tests {
    ((@each $make_env:expr); $($rule:ident),* $(,)?) => {
        $(
            #[test]
            fn $rule() {
                let mut env = $make_env;
                $crate::backend_suite::$rule(&mut env);
            }
        )*
    };
    ($make_env:expr) => {
        $crate::backend_suite_rules!([$crate::backend_suite_tests] (@each $make_env));
    };
}

/// Runs every rule, each on a fresh env; panics naming the first that fails.
pub fn run_all<E: SuiteEnv>(mut make_env: impl FnMut() -> E) {
    for (name, rule) in RULES {
        let mut env = make_env();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rule(&mut env)));
        if let Err(cause) = outcome {
            eprintln!("backend rule failed: {name}");
            std::panic::resume_unwind(cause);
        }
    }
}

// ---- helpers shared by the rules ----

pub(crate) fn open(env: &dyn SuiteEnv, ns: &NsRef) -> Box<dyn Netns> {
    assert!(
        matches!(ns, NsRef::Path(_)),
        "the suite must only use path namespaces, got {ns}"
    );
    env.backend()
        .open(ns)
        .unwrap_or_else(|e| panic!("open {ns}: {e}"))
}

/// The host and one fresh namespace, opened.
pub(crate) fn two(env: &mut dyn SuiteEnv) -> (Box<dyn Netns>, Box<dyn Netns>, NsRef) {
    let other = env.new_netns();
    let host = env.host();
    (open(env, &host), open(env, &other), other)
}

pub(crate) fn expect_kind<T: std::fmt::Debug>(r: NetResult<T>, kind: NetErrorKind, what: &str) {
    match r {
        Err(e) => assert_eq!(e.kind, kind, "{what}: wrong error kind: {e}"),
        Ok(v) => panic!("{what}: expected {kind:?}, got Ok({v:?})"),
    }
}

pub(crate) fn link(ns: &dyn Netns, name: &str) -> LinkInfo {
    ns.link_by_name(name)
        .unwrap_or_else(|e| panic!("link {name}: {e}"))
}

/// Polls `check` for up to two seconds: a real kernel reports carrier changes
/// through linkwatch, a little after the call that causes them.
pub fn eventually(what: &str, check: impl FnMut() -> bool) {
    assert!(settles(check), "not reached in 2s: {what}");
}

/// Whether `check` becomes true within two seconds.
pub fn settles(mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while !check() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}
