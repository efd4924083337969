//! Scenario corpus and runners: the backend suite, simulator and real-namespace
//! runs, differential runs against the reference plugins, the benchmark.

pub mod backend_suite;
pub mod bench;
pub mod config_diff;
pub mod differential;
pub mod realns;
pub mod sim_scenarios;
