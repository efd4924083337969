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
# The shipped static build targets musl (.cargo/config.toml says why): rustup's
# standard library for it, and Debian's musl-gcc for the one C dependency
# (ring). Without them the scripts build static glibc binaries instead, loudly.
apt-get install -y -qq --no-install-recommends musl-tools >/dev/null
cd "$(dirname "$0")/.."
. scripts/cargo-env.sh
if command -v rustup >/dev/null 2>&1; then
    rustup target add x86_64-unknown-linux-musl >/dev/null ||
        echo "install-deps: WARNING: rustup could not add x86_64-unknown-linux-musl; static builds fall back to glibc" >&2
else
    echo "install-deps: WARNING: no rustup; static builds fall back to glibc (crt-static)" >&2
fi
