#!/usr/bin/env bash
# Runs a benchmark in the release profile and prints its numbers beside their baseline.
# Usage: scripts/bench.sh [auth]   (BENCH_SECONDS, BENCH_CLIENTS tune it)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --locked --bench "${1:-auth}"
