#!/usr/bin/env bash
# Runs every test. Uses cargo-nextest when it is installed (each test in its own process, in
# parallel), `cargo test` otherwise. Arguments are passed on, e.g. a test name filter.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
cargo build --locked --all-targets
built=$(date +%s)
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --no-fail-fast "$@"
else
    cargo test --locked --no-fail-fast "$@"
fi
done_at=$(date +%s)
echo "test.sh: build $((built - start)) s, tests $((done_at - built)) s"
