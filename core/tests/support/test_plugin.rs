//! The echo plugin as a binary, for tests that exec a real process. Built only
//! with the `test-plugin` feature, so release builds never ship it.

#[path = "echo_plugin.rs"]
mod echo_plugin;

fn main() {
    cni_core::skel::run(&echo_plugin::EchoPlugin, echo_plugin::SUPPORTED)
}
