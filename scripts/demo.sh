#!/usr/bin/env bash
# The main job in one command: install what is needed, build every plugin, then
# run a demo network — two containers on a bridge with host-local addresses,
# attached with cnitool, pinging each other, checked and detached again.
#
# Everything happens inside namespaces this script makes (one plays the host);
# the machine's own network namespace is never touched, and they are removed at
# the end, also on failure. Set SKIP_DEPS=1 to skip the apt-get step.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cargo-env.sh
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: needs root (network namespaces); run: sudo $0" >&2
    exit 1
fi
[ "${SKIP_DEPS:-0}" = 1 ] || scripts/install-deps.sh

echo "== building (release, static) =="
build_static
BIN=$(static_bin_dir)
echo "plugins in $BIN: $(cd "$BIN" && ls bridge ptp macvlan loopback host-local cnitool 2>/dev/null | tr '\n' ' ')"

P="cnidemo$$"
HOST="$P-host"
WORK=$(mktemp -d)
cleanup() {
    for ns in "$P-c2" "$P-c1" "$HOST"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

for ns in "$HOST" "$P-c1" "$P-c2"; do "$BIN/cnitool" netns add "$ns" >/dev/null; done

mkdir -p "$WORK/net.d"
cat >"$WORK/net.d/10-demo.conflist" <<EOF
{
  "cniVersion": "1.1.0",
  "name": "demo",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "demo0",
      "isGateway": true,
      "ipMasq": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "10.200.0.0/24" }], [{ "subnet": "fd00:200::/64" }]],
        "dataDir": "$WORK/ipam"
      }
    }
  ]
}
EOF
echo "== network config =="
cat "$WORK/net.d/10-demo.conflist"

# cnitool runs inside the namespace that plays the host.
cni() {
    ip netns exec "$HOST" env NETCONFPATH="$WORK/net.d" CNI_PATH="$BIN" \
        CNI_CACHE_DIR="$WORK/cache" "$BIN/cnitool" "$@"
}

for c in c1 c2; do
    echo
    echo "== cnitool add demo /var/run/netns/$P-$c =="
    cni add demo "/var/run/netns/$P-$c"
    echo
done

addr_of() { ip -n "$P-$1" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1; }
C1=$(addr_of c1)
C2=$(addr_of c2)
echo "== container c1: $C1, container c2: $C2 =="
ip -n "$P-c1" addr show dev eth0
ip -n "$P-c1" route
echo "== host side =="
ip -n "$HOST" -br link
ip -n "$HOST" -br addr show dev demo0

echo "== ping c1 -> c2 ($C2) and c1 -> gateway =="
ip netns exec "$P-c1" ping -c 2 -W 2 "$C2"
ip netns exec "$P-c1" ping -c 1 -W 2 10.200.0.1

echo "== cnitool check / del =="
for c in c1 c2; do
    cni check demo "/var/run/netns/$P-$c" && echo "check $c: ok"
    cni del demo "/var/run/netns/$P-$c" && echo "del $c: ok"
done
echo "leases left: $(find "$WORK/ipam/demo" -name '10.*' -o -name 'fd00*' | wc -l)"
echo "== demo finished: all namespaces are removed on exit =="
