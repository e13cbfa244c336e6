#!/usr/bin/env bash
# Installs the test peers from PyPI into one virtualenv (once) and prints its python:
# schemathesis (the contract test) and aiosmtpd (a real SMTP server for the email tests).
# The folder is $JOBPORTAL_TOOLS_DIR (default ~/.cache/jobportal); the versions are pinned.
set -euo pipefail
dir="${JOBPORTAL_TOOLS_DIR:-$HOME/.cache/jobportal}/tools-1"
if [ ! -f "$dir/ready" ]; then
    mkdir -p "$(dirname "$dir")"
    exec 9>"$dir.lock"
    flock 9
    if [ ! -f "$dir/ready" ]; then
        rm -rf "$dir"
        python3 -m venv "$dir" >&2
        "$dir/bin/pip" install --quiet --disable-pip-version-check \
            "schemathesis==4.32.5" "aiosmtpd==1.4.6" >&2
        touch "$dir/ready"
    fi
fi
echo "$dir/bin/python"
