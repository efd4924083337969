//! The kernel floor's masquerade: the nftables work an `ipMasq` ADD and DEL
//! do (one rule per container in a nat postrouting chain made once; deleted
//! by handle), issued with `nft`, one process per step.

use super::step::{Probe, Step};

const NFT: &str = "/usr/sbin/nft";

/// The floor's nftables table, made when created and removed on drop.
pub(super) struct NftFloor {
    table: String,
    subnet: String,
}

impl NftFloor {
    pub fn create(table: String, subnet: String) -> Result<NftFloor, String> {
        let setup = format!(
            "add table inet {table}\nadd chain inet {table} postrouting {{ type nat hook postrouting priority srcnat; }}\n"
        );
        Step::tool(NFT, &["-f", "-"], setup).run(Probe::Timed)?;
        Ok(NftFloor { table, subnet })
    }

    /// Adds container `i`'s rule; `--echo --handle` prints the handle the DEL needs.
    pub fn add_step(&self, addr: &str, i: usize) -> Step {
        let rule = format!(
            "add rule inet {} postrouting ip saddr {addr} ip daddr != {} ip daddr != 224.0.0.0/4 masquerade comment \"floor{i}\"\n",
            self.table, self.subnet
        );
        Step::tool(NFT, &["--echo", "--handle", "-f", "-"], rule)
    }

    /// Deletes the rule whose ADD printed `added`.
    pub fn del_step(&self, added: &[u8]) -> Result<Step, String> {
        let text = String::from_utf8_lossy(added);
        let handle = text
            .lines()
            .find_map(handle_in)
            .ok_or_else(|| format!("nft printed no rule handle: {text}"))?;
        let script = format!(
            "delete rule inet {} postrouting handle {handle}\n",
            self.table
        );
        Ok(Step::tool(NFT, &["-f", "-"], script))
    }
}

/// The rule handle `nft --handle` prints at the end of a rule's line.
fn handle_in(line: &str) -> Option<u64> {
    line.rsplit_once("# handle ")?.1.trim().parse().ok()
}

impl Drop for NftFloor {
    fn drop(&mut self) {
        let _ = Step::tool(NFT, &["delete", "table", "inet", &self.table], "").run(Probe::Timed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handle_is_read_from_the_echoed_rule() {
        assert_eq!(
            handle_in("add rule inet t postrouting ip saddr 10.0.0.2 masquerade comment \"floor0\" # handle 42"),
            Some(42)
        );
        assert_eq!(handle_in("add table inet t"), None);
    }
}
