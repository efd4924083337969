#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each (default 45): config and
# result parsing, CNI_ARGS, the skel dispatcher, host-local's config and the
# IPAM allocator. cargo-fuzz wants a nightly compiler for its sanitizer flags;
# RUSTC_BOOTSTRAP=1 lets the stable toolchain here accept them.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-45}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
export RUSTC_BOOTSTRAP=1
for target in $(cargo fuzz list); do
    echo "== $target (${seconds}s)"
    cargo fuzz run -O "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 2>&1 |
        grep -E "^Done|SUMMARY|panicked|crash-" || true
done
