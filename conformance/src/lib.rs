//! Scenario corpus and runners: the backend suite, simulator and real-namespace
//! runs, differential runs against the reference plugins, the benchmark.

pub mod backend_suite;
pub mod bench;
pub mod config_diff;
pub mod dhcp_lab;
pub mod differential;
pub mod faults;
pub mod in_process;
pub mod kernel_world;
pub mod plugin_corpus;
pub mod plugin_state;
pub mod realns;
pub mod sim_scenarios;
pub mod traffic;
