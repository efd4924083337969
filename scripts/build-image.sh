#!/usr/bin/env bash
# Builds the node-installer image (packaging/Containerfile) with Podman, from
# scratch plus the static binaries; no registry is needed:
#
#   scripts/build-image.sh [--from DIR] [--tag TAG]
#
#   --from DIR  take the static binaries from DIR instead of running
#               `cargo build-static` (they must be static: the image has no libc)
#   --tag TAG   default: localhost/cni-rs-installer:<version>
#
# PODMAN overrides the podman command (e.g. "nsenter --net=/var/run/netns/X podman").
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/shipped-plugins.sh
PLUGINS="$SHIPPED_PLUGINS"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
from=""
tag="localhost/cni-rs-installer:$version"
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --from) from="${2:?}"; shift 2 ;;
        --tag) tag="${2:?}"; shift 2 ;;
        -h | --help) usage ;;
        *) echo "build-image: unknown argument $1" >&2; usage ;;
    esac
done
if [ -z "$from" ]; then
    . scripts/cargo-env.sh
    build_static
    from=$(static_bin_dir)
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
mkdir "$ctx/bin" "$ctx/net.d"
for name in $PLUGINS cni-install; do
    [ -f "$from/$name" ] || { echo "build-image: $from/$name is missing (cargo build-static)" >&2; exit 1; }
    case "$(file -b "$from/$name")" in
        *"statically linked"* | *"static-pie linked"*) ;;
        *) echo "build-image: $from/$name is not static; the image has no libc" >&2; exit 1 ;;
    esac
done
for name in $PLUGINS; do cp "$from/$name" "$ctx/bin/"; done
cp "$from/cni-install" "$ctx/"
cp packaging/10-cni-rs.conflist "$ctx/net.d/"
cp packaging/Containerfile "$ctx/"
${PODMAN:-podman} build -q -f "$ctx/Containerfile" -t "$tag" \
    --label org.opencontainers.image.version="$version" "$ctx" >&2
echo "$tag"
