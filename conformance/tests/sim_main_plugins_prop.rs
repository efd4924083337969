//! Random ADD/DEL sequences of a few containers on one bridge network, with a
//! backend fault (sometimes two: the second may hit a failed ADD's undo)
//! injected now and then. Whatever happened, once every
//! container is DELed no lease and no veth is left and the host is exactly
//! as it was when the bridge had first appeared (the bridge stays), and each
//! container holds only `lo`.

use cni_conformance::sim_scenarios::{Attachment, SimWorld};
use cni_core::net::{LinkKind, NetErrorKind};
use proptest::prelude::*;
use serde_json::{json, Value};

const CONTAINERS: usize = 3;

#[derive(Debug, Clone, Copy)]
enum Verb {
    Add,
    Del,
}

/// One runtime call; each of `faults` fails that backend operation of the
/// call (a second one may hit a failed ADD's undo).
#[derive(Debug, Clone)]
struct Step {
    verb: Verb,
    container: usize,
    faults: Vec<u64>,
}

/// What the runner knows of a container: a DEL that failed midway, or an ADD
/// whose undo failed too, leaves it unknown until the next successful ADD or
/// DEL.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Known {
    Detached,
    Attached,
    Unknown,
}

fn step() -> impl Strategy<Value = Step> {
    let verb = prop_oneof![Just(Verb::Add), Just(Verb::Del)];
    let faults = prop_oneof![
        8 => Just(Vec::new()),
        2 => prop::collection::vec(1u64..32, 1),
        1 => prop::collection::vec(1u64..32, 2),
    ];
    (verb, 0..CONTAINERS, faults).prop_map(|(verb, container, faults)| Step {
        verb,
        container,
        faults,
    })
}

fn network() -> Value {
    json!({"cniVersion": "1.0.0", "name": "br-prop", "type": "bridge", "bridge": "cni0",
        "isGateway": true, "isDefaultGateway": true, "ipMasq": true,
        "ipam": {"type": "host-local", "subnet": "10.50.0.0/24"}})
}

struct Run {
    world: SimWorld,
    conf: Value,
    containers: Vec<Attachment>,
    known: Vec<Known>,
}

impl Run {
    /// The bridge made by a first ADD and DEL of a container of its own.
    fn with_bridge() -> Self {
        let world = SimWorld::new();
        let conf = world.netconf(&network(), "1.0.0");
        let first = Attachment::new("first");
        world.add_container(&first);
        world.call("ADD", &conf, &first).unwrap();
        world.call("DEL", &conf, &first).unwrap();
        let containers: Vec<_> = (0..CONTAINERS)
            .map(|i| Attachment::new(&format!("ctr{i}")))
            .collect();
        for c in &containers {
            world.add_container(c);
        }
        Run {
            world,
            conf,
            containers,
            known: vec![Known::Detached; CONTAINERS],
        }
    }

    fn apply(&mut self, step: Step) {
        let att = &self.containers[step.container];
        let before = self.world.faults.op_count();
        for &n in &step.faults {
            self.world.faults.fail_nth(n, NetErrorKind::Other);
        }
        let verb = match step.verb {
            Verb::Add => "ADD",
            Verb::Del => "DEL",
        };
        let outcome = self.world.call(verb, &self.conf, att);
        let fired = self.world.faults.ops()[before as usize..]
            .iter()
            .filter(|o| o.injected)
            .count();
        // A fault past the end of this call must not hit the next one.
        self.world.faults.clear_faults();
        assert!(
            !(fired > 0 && outcome.is_ok()),
            "{step:?}: succeeded though its fault fired"
        );
        let known = &mut self.known[step.container];
        *known = match (step.verb, &outcome, *known) {
            (Verb::Add, Ok(_), Known::Attached) => panic!("{step:?}: duplicate ADD accepted"),
            (Verb::Add, Ok(_), _) => Known::Attached,
            // A failed ADD is undone; a refused duplicate leaves the first.
            (Verb::Add, Err(_), Known::Attached) => Known::Attached,
            (Verb::Add, Err(_), Known::Detached) if fired <= 1 => Known::Detached,
            (Verb::Add, Err(_), Known::Detached) => Known::Unknown,
            (Verb::Add, Err(_), Known::Unknown) => Known::Unknown,
            (Verb::Del, Ok(_), _) => Known::Detached,
            (Verb::Del, Err(e), _) if fired == 0 => panic!("{step:?}: DEL failed: {e}"),
            (Verb::Del, Err(_), _) => Known::Unknown,
        };
        if self.known.iter().all(|k| *k != Known::Unknown) {
            let attached = self.known.iter().filter(|k| **k == Known::Attached).count();
            assert_eq!(
                self.world.leases().len(),
                attached,
                "after {step:?}: leases vs attached containers {:?}",
                self.known
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn add_del_sequences_with_faults_leak_nothing(steps in prop::collection::vec(step(), 1..24)) {
        let mut run = Run::with_bridge();
        let bridge_alone = run.world.kernel.snapshot_ns(&cni_core::net::NsRef::Current).unwrap();
        for s in steps {
            run.apply(s);
        }
        for att in &run.containers {
            prop_assert_eq!(run.world.call("DEL", &run.conf, att), Ok(Value::Null));
        }
        prop_assert!(run.world.leases().is_empty(), "leases left: {:?}", run.world.leases());
        let veths: Vec<_> = run.world.host().links().unwrap().into_iter()
            .filter(|l| l.kind == LinkKind::Veth).collect();
        prop_assert!(veths.is_empty(), "veths left: {:?}", veths);
        for att in &run.containers {
            let links: Vec<_> = run.world.container(att).links().unwrap().into_iter()
                .map(|l| l.name).collect();
            prop_assert_eq!(links, vec!["lo".to_string()], "{}", att.container_id);
        }
        prop_assert_eq!(
            run.world.kernel.snapshot_ns(&cni_core::net::NsRef::Current).unwrap(),
            bridge_alone
        );
    }
}
