#!/usr/bin/env bash
# Builds jobportal and serves it on the embedded defaults: data in ./data (or
# $JOBPORTAL_DATA_DIR), listening on 127.0.0.1:8080 (or $JOBPORTAL_ADDR). Extra arguments go to
# `jobportal serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --bin jobportal
bin="${CARGO_TARGET_DIR:-target}/debug/jobportal"

echo "jobportal: serving on http://${JOBPORTAL_ADDR:-127.0.0.1:8080} (API docs at /docs); ctrl-c stops it"
exec "$bin" serve "$@"
