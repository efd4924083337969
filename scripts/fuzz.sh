#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each (default 60). Each starts
# from its committed seeds (fuzz/corpus/<target>, replayed by ordinary tests)
# but grows a scratch corpus, so a run leaves the committed seeds as they
# were; crashes land in fuzz/artifacts/<target>/. cargo-fuzz wants a nightly
# compiler for its sanitizer flags; RUSTC_BOOTSTRAP=1 lets stable accept them.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
export RUSTC_BOOTSTRAP=1
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in $(cargo fuzz list); do
    echo "== $target (${seconds}s)"
    mkdir -p "corpus/$target" "$scratch/$target"
    cargo fuzz run -O "$target" "$scratch/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 2>&1 |
        grep -E "^Done|SUMMARY|panicked|crash-" || true
done
