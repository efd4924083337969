#!/usr/bin/env bash
# Builds the shipped binaries (`cargo build-static`) and fails unless every
# one of them is statically linked: they are copied onto nodes as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cargo-env.sh
build_static
BIN=$(static_bin_dir)
status=0
. scripts/shipped-plugins.sh
for name in $SHIPPED_PLUGINS cnitool cni-install; do
    kind=$(file -b "$BIN/$name")
    linkage=$(ldd "$BIN/$name" 2>&1 || true)
    case "$kind" in
        *"statically linked"* | *"static-pie linked"*) ;;
        *) echo "check-static: $name is not static: $kind" >&2; status=1 ;;
    esac
    case "$linkage" in
        *"not a dynamic executable"* | *"statically linked"*) ;;
        *) echo "check-static: ldd lists libraries for $name: $linkage" >&2; status=1 ;;
    esac
done
[ "$status" = 0 ] && echo "check-static: every plugin, cnitool and cni-install in $BIN is statically linked"
exit "$status"
