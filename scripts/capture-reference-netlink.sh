#!/bin/sh
# Captures the RTM_NEWLINK request a reference plugin (/usr/lib/cni, 1.1.1)
# sends for one config, for backend-linux/tests/reference_newlink.rs
# (fixtures in backend-linux/tests/fixtures/reference-newlink/: CONFIG.json
# beside the OUT.strace captured from it, 1.1.1 on Linux 6.18).
#
#   scripts/capture-reference-netlink.sh PLUGIN CONFIG.json > OUT.strace
#
# PLUGIN is a name in /usr/lib/cni, or a path to a plugin binary (dummy: the
# reference package has none; its fixture says how its binary was made).
#
# Makes two throw-away namespaces (never touching the machine's own): "host"
# with a veth end `lkmaster0` (the master) and "container"; runs the plugin
# inside "host" under `strace -f -e trace=sendto,sendmsg -e write=all -xx`;
# keeps only the sendto/sendmsg calls that carry an RTM_NEWLINK request, each
# as strace's decoded line followed by its hex dump (` | 00000  78 00 ...`),
# which is what the test reads. The
# kernel may answer "not supported" (no ipvlan/vlan/vrf/dummy driver here):
# the request is what is compared. Where the socket lives in another namespace
# (vrf, dummy: the plugin enters the container first) strace cannot tell its
# family and prints RTM_NEWLINK as type 0x10; those are kept too. Root only.
set -eu
plugin=$1 conf=$2
case $plugin in */*) bin=$plugin ;; *) bin=/usr/lib/cni/$plugin ;; esac
p=lkcap$$
cleanup() { ip netns del ${p}h 2>/dev/null || true; ip netns del ${p}c 2>/dev/null || true; [ -n "${KEEP_TRACE:-}" ] || rm -rf /tmp/$p; }
trap cleanup EXIT
ip netns add ${p}h
ip netns add ${p}c
ip -n ${p}h link add lkmaster0 type veth peer name lkpeer0
ip -n ${p}h link set lkmaster0 up
mkdir -p /tmp/$p
ip netns exec ${p}h env CNI_COMMAND=ADD CNI_CONTAINERID=capture CNI_NETNS=/var/run/netns/${p}c \
  CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
  strace -f -e trace=sendto,sendmsg -e write=all -xx -s 4096 -o /tmp/$p/trace "$bin" < "$conf" >/tmp/$p/out 2>&1 || true
awk '/^[0-9]+ +[+][+][+]/ { keep = 0 } /^[0-9]+ +(sendto|sendmsg)\(/ { keep = /RTM_NEWLINK|nlmsg_type=0x10 / } keep { sub(/^[0-9]+ +/, ""); print }' /tmp/$p/trace
echo "# plugin output: $(tr '\n' ' ' < /tmp/$p/out)" >&2
