//! Names of host-side interfaces we create.

/// The host end of a container's veth: `veth` + 8 hex digits derived from the
/// container ID and interface name, so DEL and CHECK can find it again and two
/// attachments of one container never collide. `salt` > 0 picks another name
/// when the first is taken by an unrelated link.
pub fn host_veth_name(container_id: &str, ifname: &str, salt: u32) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in container_id
        .bytes()
        .chain([0u8])
        .chain(ifname.bytes())
        .chain(salt.to_be_bytes())
    {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    format!("veth{h:08x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_veth_name_is_stable_short_and_distinct_per_attachment() {
        let a = host_veth_name("c1", "eth0", 0);
        assert_eq!(a, host_veth_name("c1", "eth0", 0));
        assert_eq!(a.len(), 12);
        assert_ne!(a, host_veth_name("c1", "eth1", 0));
        assert_ne!(a, host_veth_name("c2", "eth0", 0));
        assert_ne!(a, host_veth_name("c1", "eth0", 1));
    }
}
