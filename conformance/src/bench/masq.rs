//! The kernel floor's masquerade: the nftables work an `ipMasq` ADD and DEL
//! do (one rule per container in a nat postrouting chain made once; deleted
//! by handle), issued with `nft`, one process per step.

use super::measure::{run_timed, run_timed_with_output, Sample};
use super::memory::{run_traced, PeakRss};
use std::path::Path;

const NFT: &str = "/usr/sbin/nft";
const TABLE: &str = "cni_rs_floor";

/// The floor's nftables table, made when created and removed on drop.
pub(super) struct NftFloor {
    subnet: &'static str,
}

impl NftFloor {
    pub fn create(subnet: &'static str) -> Result<NftFloor, String> {
        let setup = format!(
            "add table inet {TABLE}\nadd chain inet {TABLE} postrouting {{ type nat hook postrouting priority srcnat; }}\n"
        );
        run_timed(Path::new(NFT), &["-f", "-"], &[], setup.as_bytes())?;
        Ok(NftFloor { subnet })
    }

    fn add_rule(&self, addr: &str, i: usize) -> String {
        format!(
            "add rule inet {TABLE} postrouting ip saddr {addr} ip daddr != {} ip daddr != 224.0.0.0/4 masquerade comment \"floor{i}\"\n",
            self.subnet
        )
    }

    /// Adds container `i`'s rule; its handle comes back for the DEL.
    pub fn add(&self, addr: &str, i: usize) -> Result<(Sample, u64), String> {
        let (sample, out) = run_timed_with_output(
            Path::new(NFT),
            &["--echo", "--handle", "-f", "-"],
            &[],
            self.add_rule(addr, i).as_bytes(),
        )?;
        let text = String::from_utf8_lossy(&out);
        let handle = text
            .lines()
            .find_map(handle_in)
            .ok_or_else(|| format!("nft printed no rule handle: {text}"))?;
        Ok((sample, handle))
    }

    pub fn add_traced(&self, addr: &str, i: usize) -> Result<PeakRss, String> {
        run_traced(
            Path::new(NFT),
            &["-f", "-"],
            &[],
            self.add_rule(addr, i).as_bytes(),
        )
    }

    fn del_rule(handle: u64) -> String {
        format!("delete rule inet {TABLE} postrouting handle {handle}\n")
    }

    pub fn del(&self, handle: u64) -> Result<Sample, String> {
        run_timed(
            Path::new(NFT),
            &["-f", "-"],
            &[],
            Self::del_rule(handle).as_bytes(),
        )
    }

    /// Deletes every rule left (the traced ones, whose handles were not kept), traced.
    pub fn del_rest_traced(&self) -> Result<PeakRss, String> {
        let (_, out) = run_timed_with_output(
            Path::new(NFT),
            &["--handle", "list", "chain", "inet", TABLE, "postrouting"],
            &[],
            b"",
        )?;
        let text = String::from_utf8_lossy(&out);
        let mut peak = PeakRss::default();
        for handle in text
            .lines()
            .filter(|l| l.contains("masquerade"))
            .filter_map(handle_in)
        {
            let script = Self::del_rule(handle);
            peak = peak.max(run_traced(
                Path::new(NFT),
                &["-f", "-"],
                &[],
                script.as_bytes(),
            )?);
        }
        Ok(peak)
    }
}

/// The rule handle `nft --handle` prints at the end of a rule's line.
fn handle_in(line: &str) -> Option<u64> {
    line.rsplit_once("# handle ")?.1.trim().parse().ok()
}

impl Drop for NftFloor {
    fn drop(&mut self) {
        let _ = run_timed(
            Path::new(NFT),
            &["delete", "table", "inet", TABLE],
            &[],
            b"",
        );
    }
}
