//! cnitool: see `cnitool --help`.
fn main() {
    std::process::exit(cni_plugins::cnitool::main_from_env());
}
