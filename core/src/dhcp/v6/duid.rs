//! The client's DUID and IAID, derived from `ClientOptions::client_id`.
//!
//! Both must stay the same for one attachment across daemon restarts (the
//! server keys its binding on them) and differ between attachments, and the
//! daemon has no per-attachment state to store them in besides the lease. So
//! they are a hash of the client id: SHA-256 over a fixed label and the id.
//! The DUID is a DUID-UUID (RFC 6355, type 4) whose UUID is the first 16
//! bytes of the hash, marked as an RFC 9562 version 8 ("custom") UUID; the
//! IAID is the next 4 bytes. Changing any of this changes every client's
//! identity: don't.

use sha2::{Digest, Sha256};

const LABEL: &[u8] = b"cni-rs dhcpv6 client\0";
const DUID_UUID: u16 = 4;

/// The DUID (18 bytes: type 4, UUID) and the IAID for `client_id`.
pub(crate) fn derive(client_id: &[u8]) -> (Vec<u8>, u32) {
    let digest = Sha256::new()
        .chain_update(LABEL)
        .chain_update(client_id)
        .finalize();
    let mut uuid = [0u8; 16];
    uuid.copy_from_slice(&digest[..16]);
    uuid[6] = (uuid[6] & 0x0f) | 0x80; // version 8
    uuid[8] = (uuid[8] & 0x3f) | 0x80; // RFC 9562 variant
    let mut duid = DUID_UUID.to_be_bytes().to_vec();
    duid.extend_from_slice(&uuid);
    let iaid = u32::from_be_bytes([digest[16], digest[17], digest[18], digest[19]]);
    (duid, iaid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhcp_v6_duid_is_a_stable_uuid_duid() {
        let (duid, iaid) = derive(b"container-1/net/eth0");
        assert_eq!(duid.len(), 18);
        assert_eq!(&duid[..2], &[0, 4]);
        assert_eq!(duid[8] >> 4, 8);
        assert_eq!(duid[10] >> 6, 0b10);
        assert_eq!(derive(b"container-1/net/eth0"), (duid.clone(), iaid));
        // Pinned: a change here changes every attachment's identity at the server.
        let hex: String = duid.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "00042016fe81f91987098cfd91dfbf03ac7c");
        assert_eq!(iaid, 0xd678_87ad);
        let (other, other_iaid) = derive(b"container-2/net/eth0");
        assert_ne!(other, duid);
        assert_ne!(other_iaid, iaid);
    }
}
