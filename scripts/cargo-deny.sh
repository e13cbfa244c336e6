#!/usr/bin/env bash
# Installs cargo-deny from crates.io (once, pinned) and prints its path. The folder is
# $JOBPORTAL_TOOLS_DIR (default ~/.cache/jobportal); the build uses a target directory of its
# own, not the project's.
set -euo pipefail
version=0.20.2
dir="${JOBPORTAL_TOOLS_DIR:-$HOME/.cache/jobportal}/cargo-deny-$version"
if [ ! -x "$dir/bin/cargo-deny" ]; then
    mkdir -p "$(dirname "$dir")"
    exec 9>"$dir.lock"
    flock 9
    if [ ! -x "$dir/bin/cargo-deny" ]; then
        env -u CARGO_TARGET_DIR cargo install --quiet --locked --root "$dir" \
            "cargo-deny@$version" >&2
    fi
fi
echo "$dir/bin/cargo-deny"
