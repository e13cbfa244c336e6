#!/usr/bin/env bash
# Builds the SurrealDB 3.3.5 server (`surreal`) once, in release, from the Cargo project in
# scripts/surreal-server/ (its Cargo.lock pinned, built with --locked), into a cache outside the
# clone, and prints the binary's path. Later runs print the cached binary at once.
#
#   scripts/surreal-server.sh            build when needed, print the path of `surreal`
#   scripts/surreal-server.sh --cached   print the path when it is built already; else exit 1
#   scripts/surreal-server.sh start [ADDR] [DIR]
#                                        build when needed, then run the server in the foreground
#                                        on ADDR (127.0.0.1:8000) with user root, password root,
#                                        storing to DIR (./surreal-data) with SurrealKV
#
# JOBPORTAL_SURREAL_OPT_LEVEL (1 unless set) is the optimisation level it is built at. The tests
# send it a few hundred queries: level 1 builds in about half the CPU time of level 3, which
# matters on a fresh machine, where this is the longest build. The load benchmark, which
# measures a cluster, builds it at 3. Each level is a binary and a target directory of its own.
#
# The cache is ${JOBPORTAL_CACHE:-$HOME/.cache/jobportal}/surreal-server-3.3.5/: src/ (a copy of
# scripts/surreal-server/), target-oLEVEL/ (cargo's target directory, kept for the next build),
# and bin/surreal-oLEVEL with its .stamp (the sha256 of the sources it was built from, and the
# level). A cold build at level 3 takes about 48 CPU-minutes, 4 GB of memory at its peak and
# 2 GB of target directory; it runs under `nice -n ${JOBPORTAL_SURREAL_NICE:-19}` so that other
# builds on a shared machine go first.
# A lock (flock on the cache's `lock` file) keeps two callers from building at the same time:
# the second waits and then finds the binary. The binary is copied to a temporary name and
# renamed into place, so a caller never sees a half-written one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
project="$here/surreal-server"
cache="${JOBPORTAL_CACHE:-$HOME/.cache/jobportal}/surreal-server-3.3.5"
level="${JOBPORTAL_SURREAL_OPT_LEVEL:-1}"
case "$level" in
    0 | 1 | 2 | 3) ;;
    *) echo "surreal-server.sh: JOBPORTAL_SURREAL_OPT_LEVEL must be 0, 1, 2 or 3, not $level" >&2; exit 2 ;;
esac
bin="$cache/bin/surreal-o$level"

# What the binary is built from: the manifest, main.rs and the pinned Cargo.lock, at this level.
stamp="$(cd "$project" && cat Cargo.toml Cargo.lock src/main.rs | sha256sum | cut -d' ' -f1)-o$level"
fresh() { [ -x "$bin" ] && [ "$(cat "$bin.stamp" 2>/dev/null)" = "$stamp" ]; }

mode="${1:-build}"
case "$mode" in
    build | --cached | start) ;;
    *) echo "usage: scripts/surreal-server.sh [--cached | start [ADDR] [DIR]]" >&2; exit 2 ;;
esac
if [ "$mode" = start ]; then
    binary=$("$0")
    addr="${2:-127.0.0.1:8000}"
    dir="$(realpath -m "${3:-surreal-data}")"
    echo "surreal-server.sh: ws://$addr (user root, password root), data in $dir" >&2
    exec "$binary" start --no-banner --bind "$addr" --user root --pass root "surrealkv://$dir"
fi
if fresh; then
    echo "$bin"
    exit 0
fi
if [ "$mode" = --cached ]; then
    exit 1
fi

command -v cargo >/dev/null || { echo "surreal-server.sh: cargo is not installed" >&2; exit 1; }
mkdir -p "$cache/bin"
exec 9>"$cache/lock"
if ! flock -n 9; then
    echo "surreal-server.sh: another build of the SurrealDB server is running; waiting for it" >&2
    flock 9
fi
if fresh; then
    echo "$bin"
    exit 0
fi

echo "surreal-server.sh: building the SurrealDB 3.3.5 server at opt-level $level into $cache (tens of minutes on a cold cache)" >&2
started=$(date +%s)
rm -rf "$cache/src.tmp"
mkdir -p "$cache/src.tmp/src"
cp -p "$project/Cargo.toml" "$project/Cargo.lock" "$cache/src.tmp/"
cp -p "$project/src/main.rs" "$cache/src.tmp/src/"
rm -rf "$cache/src"
mv "$cache/src.tmp" "$cache/src"
# Its own target directory and flags: not the caller's (CI exports CARGO_TARGET_DIR, and a
# checkout's .cargo/config.toml does not apply out here anyway).
(
    cd "$cache/src"
    env -u RUSTFLAGS CARGO_TARGET_DIR="$cache/target-o$level" CARGO_PROFILE_RELEASE_OPT_LEVEL="$level" \
        nice -n "${JOBPORTAL_SURREAL_NICE:-19}" cargo build --release --locked >&2
)
cp "$cache/target-o$level/release/surreal" "$bin.tmp.$$"
echo "$stamp" > "$bin.stamp.tmp.$$"
mv -f "$bin.tmp.$$" "$bin"
mv -f "$bin.stamp.tmp.$$" "$bin.stamp"
echo "surreal-server.sh: built in $(( $(date +%s) - started )) s" >&2
echo "$bin"
