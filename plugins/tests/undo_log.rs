//! The operator's log shows every step a failed ADD took back. In its own test
//! binary: tracing caches each call site's interest process-wide, and a test
//! running alongside that hits the same call site with no subscriber can cache
//! "never" just as this test installs its own (a race that failed CI once).

use cni_core::net::{NetError, NetErrorKind};
use cni_plugins::common::undo::Undo;

/// Collects every event's message (the operator's log sees the same).
struct Messages(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Messages {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Msg(String);
        impl tracing::field::Visit for Msg {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}");
                }
            }
        }
        let mut msg = Msg(String::new());
        event.record(&mut msg);
        let line = format!("{} {}", event.metadata().level(), msg.0);
        self.0.lock().unwrap().push(line);
    }
}

#[test]
fn a_failed_add_logs_every_undo_step() {
    use tracing_subscriber::layer::SubscriberExt;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let subscriber = tracing_subscriber::registry().with(Messages(seen.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let mut u = Undo::new();
        u.push("IPAM allocation", || Ok::<(), NetError>(()));
        u.push("veth veth1", || {
            Err(NetError::new(NetErrorKind::Busy, "device busy"))
        });
        u.push("address 10.0.0.2/24", || Ok::<(), NetError>(()));
    });
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "INFO failed ADD: undid address 10.0.0.2/24",
            "WARN undo veth veth1 failed: device busy",
            "INFO failed ADD: undid IPAM allocation",
        ]
    );
}
