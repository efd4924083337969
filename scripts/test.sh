#!/usr/bin/env bash
# The whole test suite. Unprivileged tests always run; tests that need real
# network namespaces run as root and say loudly when they are skipped.
# Set CNI_TEST_REQUIRE_PRIVILEGED=1 (CI does) to make a skip a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --workspace --bins
cargo test --workspace --no-fail-fast "$@"
