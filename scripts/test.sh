#!/usr/bin/env bash
# The whole test suite. Unprivileged tests always run; tests that need real
# network namespaces run as root and say loudly when they are skipped.
# Set CNI_TEST_REQUIRE_PRIVILEGED=1 (CI does) to make a skip a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cargo-env.sh
# The real-namespace tests exec the plugin binaries: build them first.
cargo build --workspace --bins
# The installer-image test uses the shipped static binaries, where these
# scripts put them (musl, or the glibc fallback).
export CNI_RS_STATIC_BIN_DIR="${CNI_RS_STATIC_BIN_DIR:-$(static_bin_dir)}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?
# One closing line over every test binary (cargo prints one line per binary).
# (The one #[ignore]d test is not a skip: it is the child process that the
# bench's memory tests start on purpose.)
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "summary: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
