# Sourced by the scripts: every plugin binary the project ships, one list for
# the static check, the installer, the image and the package test. (The
# package's own asset list is in plugins/Cargo.toml, [package.metadata.deb].)
SHIPPED_PLUGINS="bridge ptp veth macvlan ipvlan vlan tap host-device loopback host-local static dhcp etcd-ipam portmap firewall tuning bandwidth sbr dummy vrf"
