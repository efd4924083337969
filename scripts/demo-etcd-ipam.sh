#!/usr/bin/env bash
# etcd-ipam across two "hosts": two namespaces play the hosts, an underlay veth
# between them carries etcd (run inside the first), and a second veth joins
# their bridges into one L2 segment. Each host attaches two containers with our
# `bridge` + `etcd-ipam` on the same 10.222.0.0/24; all four must get distinct
# addresses, and containers on one host must reach those on the other.
#
# Everything happens in namespaces this script makes; the machine's own
# network namespace is never touched, and all is removed at the end, also on
# failure. BIN=dir to use built binaries (default: build release into target/).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
    echo "demo-etcd-ipam: needs root (network namespaces); run: sudo $0" >&2
    exit 1
fi
command -v etcd >/dev/null || { echo "demo-etcd-ipam: needs etcd (apt-get install etcd-server)" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
    cargo build --release -p cni-etcd-ipam -p cni-plugins --bin etcd-ipam --bin bridge
    BIN=$PWD/target/release
fi

P="etcdemo$$"
HA="$P-ha"
HB="$P-hb"
WORK=$(mktemp -d)
ETCD_PID=
cleanup() {
    [ -n "$ETCD_PID" ] && kill "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null || true
    for ns in "$P-a1" "$P-a2" "$P-b1" "$P-b2" "$HA" "$HB"; do ip netns del "$ns" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

for ns in "$HA" "$HB" "$P-a1" "$P-a2" "$P-b1" "$P-b2"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done

echo "== underlay ha 10.99.0.1 <-> hb 10.99.0.2; etcd in ha =="
ip link add ua netns "$HA" type veth peer ub netns "$HB"
ip -n "$HA" addr add 10.99.0.1/30 dev ua
ip -n "$HB" addr add 10.99.0.2/30 dev ub
ip -n "$HA" link set ua up
ip -n "$HB" link set ub up
ip netns exec "$HA" etcd --name demo --data-dir "$WORK/etcd" \
    --listen-client-urls http://10.99.0.1:2379 --advertise-client-urls http://10.99.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster demo=http://127.0.0.1:2380 >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!

conf() { # $1 node name
    cat <<JSON
{"cniVersion": "1.1.0", "name": "shared", "type": "bridge", "bridge": "shared0",
 "isGateway": false,
 "ipam": {"type": "etcd-ipam", "endpoints": ["http://10.99.0.1:2379"], "nodeName": "$1",
          "subnet": "10.222.0.0/24", "quarantineSeconds": 30}}
JSON
}
plugin() { # $1 host ns, $2 node, $3 command, $4 container
    conf "$2" | ip netns exec "$1" env CNI_COMMAND="$3" CNI_CONTAINERID="$4" \
        CNI_NETNS="/var/run/netns/$P-$4" CNI_IFNAME=eth0 CNI_PATH="$BIN" "$BIN/bridge"
}

# Wait for etcd: STATUS answers once it has a leader.
for _ in $(seq 1 100); do
    conf host-a | ip netns exec "$HA" env CNI_COMMAND=STATUS CNI_PATH="$BIN" "$BIN/etcd-ipam" >/dev/null 2>&1 && break
    sleep 0.1
done

# All four ADDs at once, two per host.
for c in a1 a2; do plugin "$HA" host-a ADD "$c" >"$WORK/$c.json" & done
for c in b1 b2; do plugin "$HB" host-b ADD "$c" >"$WORK/$c.json" & done
wait %2 %3 %4 %5
for c in a1 a2 b1 b2; do
    echo "== ADD $c: $(tr -d '\n ' <"$WORK/$c.json")"
done

addr_of() { ip -n "$P-$1" -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1; }
ADDRS="$(for c in a1 a2 b1 b2; do addr_of "$c"; done)"
echo "== addresses: $(echo $ADDRS)"
[ "$(echo "$ADDRS" | sort -u | wc -l)" = 4 ] || { echo "FAIL: addresses not distinct" >&2; exit 1; }

echo "== one L2 segment: a veth joins ha's shared0 and hb's shared0 =="
ip link add la netns "$HA" type veth peer lb netns "$HB"
ip -n "$HA" link set la master shared0 up
ip -n "$HB" link set lb master shared0 up

for from in a1 a2; do
    for to in b1 b2; do
        echo "== ping $from -> $to ($(addr_of $to))"
        ip netns exec "$P-$from" ping -c 1 -W 2 "$(addr_of $to)" | tail -2
    done
done
echo "== ping b2 -> a1 ($(addr_of a1))"
ip netns exec "$P-b2" ping -c 1 -W 2 "$(addr_of a1)" | tail -2

echo "== host-b dies: release-node frees what it held =="
conf host-a | ip netns exec "$HA" "$BIN/etcd-ipam" release-node host-b
echo "== DEL a1, a2 =="
for c in a1 a2; do plugin "$HA" host-a DEL "$c"; done
echo "demo-etcd-ipam: OK"
