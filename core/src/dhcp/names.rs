//! Domain name lists: DHCPv4 option 119 (RFC 3397) and DHCPv6 option 24
//! (RFC 3646), both RFC 1035 wire names one after the other; v4's may use
//! compression pointers into the option's own data. hickory's name decoder
//! (through dhcproto) reads both and refuses pointer loops.

use dhcproto::Decoder;

/// The names in `data`, without the trailing root dot, as a search list wants
/// them. Decoding stops at the first malformed name: what came before it is
/// kept, as a server's list is ordered by preference.
pub(crate) fn decode_domain_list(data: &[u8]) -> Vec<String> {
    let Ok(names) = Decoder::new(data).read_domains(data.len()) else {
        return Vec::new();
    };
    names
        .iter()
        .filter(|n| !n.is_root())
        .map(|n| n.to_ascii().trim_end_matches('.').to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dhcp_domain_list_reads_plain_and_compressed_names() {
        // "example.com", then "sub" + pointer to offset 0 ("example.com").
        let mut data = vec![7];
        data.extend(b"example");
        data.push(3);
        data.extend(b"com");
        data.push(0);
        data.push(3);
        data.extend(b"sub");
        data.extend([0xc0, 0x00]);
        assert_eq!(
            decode_domain_list(&data),
            ["example.com", "sub.example.com"]
        );
    }

    #[test]
    fn dhcp_domain_list_survives_garbage() {
        assert!(decode_domain_list(&[]).is_empty());
        // A pointer to itself: a loop, refused.
        assert!(decode_domain_list(&[0xc0, 0x00]).is_empty());
        // A label running past the end keeps what came before.
        assert_eq!(decode_domain_list(&[1, b'a', 0, 9, b'x']), ["a"]);
    }
}
