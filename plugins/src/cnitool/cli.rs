//! cnitool's command line, as the reference's: `cnitool <verb> <net> <netns>`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Environment:
  NETCONFPATH  directory of network configurations (.conflist, .conf, .json)
               [default: /etc/cni/net.d]
  CNI_PATH     plugin directories, separated by ':'
  CNI_IFNAME   interface name inside the container [default: eth0; -i overrides]
  CNI_ARGS     extra arguments for the plugins: 'K1=V1;K2=V2'
  CAP_ARGS     capability arguments as a JSON object, e.g.
               '{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"}]}'

TRACEPARENT and TRACESTATE (W3C trace context) reach every plugin.

The container ID is 'cnitool-' followed by a hash of the absolute namespace
path, so add, check and del of one path refer to the same attachment.
The result of add is cached in <cache-dir>/results/<net>-<containerID>-<ifname>.

A network, e.g. /etc/cni/net.d/10-mynet.conflist:
  {\"cniVersion\": \"1.0.0\", \"name\": \"mynet\", \"plugins\": [
    {\"type\": \"bridge\", \"bridge\": \"cni0\", \"isGateway\": true, \"ipMasq\": true,
     \"ipam\": {\"type\": \"host-local\", \"subnet\": \"10.22.0.0/16\"}}]}

Examples:
  cnitool netns add demo
  CNI_PATH=/usr/lib/cni cnitool add mynet /var/run/netns/demo
  CNI_PATH=/usr/lib/cni cnitool check mynet /var/run/netns/demo
  CNI_PATH=/usr/lib/cni cnitool del mynet /var/run/netns/demo
  CNI_PATH=/usr/lib/cni cnitool status mynet
  NETCONFPATH=./net.d CNI_PATH=/usr/lib/cni cnitool -i net1 add mynet /var/run/netns/demo
  CNI_PATH=/usr/lib/cni cnitool gc mynet --keep-netns /var/run/netns/demo
  CNI_PATH=/usr/lib/cni cnitool gc --all --keep 0123abcd:eth0
  cnitool netns del demo

Exit status: 0 on success, 1 on any error (the error is printed on stderr).";

/// Add, check or remove network interfaces of a network namespace, or ask a
/// network for its status or to garbage-collect, using CNI plugins.
#[derive(Debug, Parser)]
#[command(name = "cnitool", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Where results are cached (the reference's libcni cache layout).
    #[arg(
        long,
        global = true,
        env = "CNI_CACHE_DIR",
        default_value = "/var/lib/cni"
    )]
    pub cache_dir: PathBuf,

    /// Interface name inside the container; overrides CNI_IFNAME.
    #[arg(short = 'i', long, global = true)]
    pub ifname: Option<String>,

    #[command(subcommand)]
    pub command: Verb,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Attach the namespace to the network (ADD) and print the result.
    Add {
        /// Network name (the `name` in a configuration under NETCONFPATH).
        network: String,
        /// Path of the network namespace, e.g. /var/run/netns/demo.
        netns: PathBuf,
    },
    /// Verify an attachment made by `add` (CHECK; spec 0.4.0 and later).
    Check { network: String, netns: PathBuf },
    /// Detach the namespace from the network (DEL).
    Del { network: String, netns: PathBuf },
    /// Remove every cached attachment of the network that is not kept and
    /// tell its plugins to release everything else (GC; spec 1.1.0).
    Gc {
        /// Network name; omitted with --all.
        #[arg(required_unless_present = "all")]
        network: Option<String>,
        /// Accepted and ignored, for the reference's 3-argument form.
        netns: Option<PathBuf>,
        /// Every network under NETCONFPATH, in one pass (each plugin's
        /// distinct GC request sent once).
        #[arg(long, conflicts_with = "network")]
        all: bool,
        /// An attachment to keep: CONTAINERID, or CONTAINERID:IFNAME
        /// (the interface defaults to --ifname / CNI_IFNAME). Repeatable.
        #[arg(long, value_name = "CONTAINERID[:IFNAME]")]
        keep: Vec<String>,
        /// Keep the attachment `cnitool add` made for this namespace path
        /// (the container ID derives from it). Repeatable.
        #[arg(long, value_name = "NETNS")]
        keep_netns: Vec<PathBuf>,
    },
    /// Ask whether the network is ready for `add` (STATUS; spec 1.1.0).
    Status {
        network: String,
        /// Accepted and ignored, for the reference's 3-argument form.
        netns: Option<PathBuf>,
    },
    /// Manage persistent network namespaces under /var/run/netns (like
    /// `ip netns`), so a network can be tried without other tools.
    #[command(subcommand)]
    Netns(NetnsVerb),
}

#[derive(Debug, Subcommand)]
pub enum NetnsVerb {
    /// Create /var/run/netns/NAME and print its path.
    Add { name: String },
    /// Remove /var/run/netns/NAME (its interfaces go with it).
    Del { name: String },
    /// List the namespaces under /var/run/netns.
    List,
}
