#!/usr/bin/env bash
# Builds the Debian package cni-rs-plugins with cargo-deb (installed with cargo
# when missing) from the static binaries (`cargo build-static`):
#
#   scripts/package-deb.sh [--no-build]   # prints the .deb's path last
#
#   --no-build  use the static binaries already in target/<triple>/release
#
# Plugins -> /opt/cni/bin, cnitool -> /usr/bin ([package.metadata.deb] in
# plugins/Cargo.toml); Debian's containernetworking-plugins in /usr/lib/cni is
# not touched. The package lands in target/debian/.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cargo-env.sh
build=1
case "${1:-}" in
    --no-build) build=0 ;;
    "") ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked
[ "$build" = 1 ] && build_static
triple=$(static_target)
out="${CARGO_TARGET_DIR:-$PWD/target}/debian"
mkdir -p "$out"
# Already stripped (profile.release), and static: no strip, no shlibdeps.
cargo deb -p cni-plugins --no-build --no-strip --target "$triple" --output "$out" >&2
ls -t "$out"/cni-rs-plugins_*.deb | head -n 1
