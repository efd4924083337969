//! The verbs bridge, ptp and macvlan share besides ADD: DEL, STATUS, GC and
//! the part of CHECK every attachment has. Each plugin describes its
//! attachment with an [`Attachment`] and adds to CHECK what only it has.
//!
//! IPAM runs whenever the config names a plugin. ptp's config always does
//! (`PtpConf::parse` refuses one without), bridge and macvlan may be layer 2
//! only (`ipam: {}`), with nothing to hand over.

use super::chained::container_index;
use super::{
    container_link, delegate, iface, masq, netns, CommonConf, IpamDelegate, NetContext, Verb,
};
use cni_core::net::{LinkInfo, NetBackend};
use cni_core::skel::CmdArgs;
use cni_core::CniError;

pub struct Attachment<'a> {
    pub backend: &'a dyn NetBackend,
    pub ipam: &'a dyn IpamDelegate,
    pub conf: &'a CommonConf,
    /// `ipMasq`; macvlan has none.
    pub ip_masq: bool,
    /// bridge's `macspoofchk`.
    pub spoof_check: bool,
}

/// DEL's config: the common fields and, read leniently, the flags that say
/// what there may be to remove. DEL must not fail on a setting only ADD uses
/// (a bridge name, an MTU, a mode), so nothing else is parsed; a flag that
/// cannot be read counts as set, since removing what is absent is harmless.
pub struct DelConf {
    pub common: CommonConf,
    stdin_flags: Vec<(String, bool)>,
}

impl DelConf {
    pub fn parse(stdin: &[u8], flags: &[&str]) -> Result<DelConf, CniError> {
        let common = super::conf::parse(stdin)?;
        let fields = common.fields();
        let stdin_flags = flags
            .iter()
            .map(|key| (key.to_string(), fields.flag(key).unwrap_or(true)))
            .collect();
        Ok(DelConf {
            common,
            stdin_flags,
        })
    }

    pub fn flag(&self, key: &str) -> bool {
        self.stdin_flags.iter().any(|(k, on)| k == key && *on)
    }
}

impl<'a> Attachment<'a> {
    pub fn new(
        backend: &'a dyn NetBackend,
        ipam: &'a dyn IpamDelegate,
        conf: &'a CommonConf,
        ip_masq: bool,
    ) -> Self {
        Attachment {
            backend,
            ipam,
            conf,
            ip_masq,
            spoof_check: false,
        }
    }

    /// bridge's `macspoofchk`: DEL and GC remove the attachment's check.
    pub fn with_spoof_check(mut self, on: bool) -> Self {
        self.spoof_check = on;
        self
    }

    fn ipam_if_any(&self, verb: Verb, args: &CmdArgs) -> Result<(), CniError> {
        self.ipam
            .run_if_any(verb, self.conf.ipam_type(), &args.stdin, args)
    }

    /// Takes the attachment away: the masquerade rules, the container
    /// interface (a veth's host end goes with it), then the IPAM release. An
    /// IPAM plugin that works on the interface (DHCP) is released first,
    /// while the interface can still carry its DHCPRELEASE. Everything
    /// already gone counts as done.
    ///
    /// Every step runs even when one before it failed, and the first error is
    /// reported (an IPAM error unchanged): a runtime retries DEL until it
    /// succeeds, so one stuck step must not keep the others from finishing.
    pub fn del(&self, args: &CmdArgs) -> Result<(), CniError> {
        let release_first = self
            .conf
            .ipam_type()
            .is_some_and(delegate::needs_interface_first);
        let mut outcome = FirstError::default();
        if release_first {
            outcome.note(self.ipam_if_any(Verb::Del, args));
        }
        // The masquerade first, on a host handle kept open to the end: the
        // kernel frees deleted rules after an RCU grace period and closing the
        // nftables socket waits for it; the link deletion hides that wait.
        let _host = (self.ip_masq || self.spoof_check)
            .then(|| netns::host(self.backend))
            .and_then(|host| {
                let host = outcome.keep(host)?;
                let (network, id) = (&self.conf.name, &args.container_id);
                if self.ip_masq {
                    outcome.note(masq::del(&*host, network, id));
                }
                if self.spoof_check {
                    outcome.note(
                        host.spoofcheck_del(network, id)
                            .ctx("removing MAC spoof checks"),
                    );
                }
                Some(host)
            });
        outcome.note(container_link::delete(
            self.backend,
            &args.netns,
            &args.ifname,
        ));
        if !release_first {
            outcome.note(self.ipam_if_any(Verb::Del, args));
        }
        outcome.into_result()
    }

    /// Ready for ADD when IPAM is.
    pub fn status(&self, args: &CmdArgs) -> Result<(), CniError> {
        self.ipam_if_any(Verb::Status, args)
    }

    /// Masquerade rules of attachments no longer valid, then IPAM's GC.
    pub fn gc(&self, args: &CmdArgs) -> Result<(), CniError> {
        if self.ip_masq || self.spoof_check {
            let live = masq::live_container_ids(self.conf)?;
            let host = netns::host(self.backend)?;
            if self.ip_masq {
                masq::gc(&*host, &self.conf.name, &live)?;
            }
            if self.spoof_check {
                host.spoofcheck_gc(&self.conf.name, &live)
                    .ctx("removing stale MAC spoof checks")?;
            }
        }
        self.ipam_if_any(Verb::Gc, args)
    }

    /// CHECK's shared part: IPAM's CHECK, the container interface against
    /// `prevResult` (found there by name, else at `default_index`), and with
    /// `ipMasq` the masquerade of every address. Returns the container
    /// interface for the plugin's own checks.
    pub fn check(&self, args: &CmdArgs, default_index: usize) -> Result<LinkInfo, CniError> {
        let prev = self.conf.prev_result()?;
        self.ipam_if_any(Verb::Check, args)?;
        let container = netns::container(self.backend, &args.netns)?;
        let index = container_index(&prev, &args.ifname).unwrap_or(default_index);
        let link = iface::check(&*container, &args.ifname, &prev, index)?;
        if self.ip_masq {
            let host = netns::host(self.backend)?;
            masq::check(&*host, &self.conf.name, &args.container_id, &prev.ips)?;
        }
        Ok(link)
    }
}

/// The first error of steps that all run regardless.
#[derive(Default)]
pub struct FirstError(Option<CniError>);

impl FirstError {
    pub fn note(&mut self, step: Result<(), CniError>) {
        if let Err(e) = step {
            match &self.0 {
                Some(first) => tracing::warn!("DEL goes on after {first}; then also: {e}"),
                None => self.0 = Some(e),
            }
        }
    }

    pub fn keep<T>(&mut self, step: Result<T, CniError>) -> Option<T> {
        match step {
            Ok(v) => Some(v),
            Err(e) => {
                self.note(Err(e));
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), CniError> {
        self.0.map_or(Ok(()), Err)
    }
}
