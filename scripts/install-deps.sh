#!/usr/bin/env bash
# System packages the tests, the demo and the differential runs need.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: run as root (apt-get)" >&2
    exit 1
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    iproute2 nftables dnsmasq-base containernetworking-plugins jq util-linux procps \
    golang-go golang-github-appc-cni-dev golang-github-containernetworking-plugins-dev \
    iputils-ping runc busybox-static file >/dev/null
# etcd-ipam: its tests and demo start Debian's etcd (etcd-server) on
# 127.0.0.1; the etcd-client crate's build compiles etcd's .proto files with
# protoc (protobuf-compiler); its TLS test makes a CA with openssl.
apt-get install -y -qq --no-install-recommends etcd-server protobuf-compiler openssl >/dev/null
# Podman for the real-runtime test, with its recommended helpers, as seen working.
apt-get install -y -qq podman >/dev/null
