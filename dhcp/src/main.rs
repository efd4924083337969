//! `dhcp`: the CNI plugin, or with `daemon` as first argument the daemon.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("daemon") {
        init_daemon_logging();
        if let Err(e) = cni_dhcp::daemon::main(&args[1..]) {
            eprintln!("dhcp daemon: {e}");
            std::process::exit(1);
        }
        return;
    }
    cni_plugins::binary::run(&cni_dhcp::plugin::DhcpPlugin)
}

/// The daemon logs to stderr (journald or the operator's redirect), at
/// `info` unless `CNI_LOG_LEVEL`/`RUST_LOG`-style filtering says otherwise.
fn init_daemon_logging() {
    let level = std::env::var("CNI_DHCP_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
}
