//! NetBackend on a real Linux kernel: netlink, network namespaces, sysctls, nftables
