#!/usr/bin/env bash
# The GPU check: everything that only a GPU machine can show, in one go, in under 8 minutes.
#
#   bash benchmarks/gpu_check.sh OUTDIR
#
# Needs: an NVIDIA GPU, Python with NumPy, CuPy (cupy-cuda13x or cupy-cuda12x), PyTorch with
# CUDA, pytest and hypothesis. Installs nothing and needs no network. Run from anywhere; the
# python is $PYTHON, else python3. The data set comes from data/fashion-mnist/ in the working tree
# (benchmarks/prepare_gpu_data.sh puts it there, on a machine that has it), else from
# $FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist.
#
# Steps, each with its own time limit, each run even when an earlier one failed:
#   1. environment     nvidia-smi, the Python packages, what tinygrad_sm sees
#   2. cuda tests      pytest tests/test_cuda.py (the GPU-only tests)
#   3. softmax job     python models/softmax_fashion.py --device cuda (its defaults: 10 epochs)
#   4. MLP job         python models/mlp_fashion.py --device cuda (its defaults: 10 epochs)
#   5. bench_gpu       python benchmarks/bench_gpu.py: ours against PyTorch CUDA, PASS/MISS
#   6. test suite      the rest of the suite (the op, engine and tensor tests run on "cuda"
#                      too), in the time that is left
# Writes into OUTDIR: one log per step, bench_gpu.md, the jobs' plots, and summary.md (a table
# of every step's status, time and result). Exits with status 0 when every step passed.
set -u
if [ $# -ne 1 ]; then
    echo "usage: bash benchmarks/gpu_check.sh OUTDIR" >&2
    exit 2
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1" || exit 2
OUT="$(cd "$1" && pwd)"
PYTHON="${PYTHON:-python3}"
BUDGET="${GPU_CHECK_BUDGET:-420}"  # seconds for all steps: each is cut to what is left
SUITE_MIN=45                       # seconds kept for the test suite, the last step
START=$(date +%s)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT" || exit 2
export PYTHON ROOT
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# The data set: the copy that travelled with the working tree, else the usual places.
if [ -d "$ROOT/data/fashion-mnist" ]; then
    export FASHION_MNIST_DIR="$ROOT/data/fashion-mnist"
elif [ -z "${FASHION_MNIST_DIR:-}" ] && [ -d /usr/share/datasets/fashion-mnist ]; then
    export FASHION_MNIST_DIR=/usr/share/datasets/fashion-mnist
fi
export TINYGRAD_SM_REQUIRE_DATA=1  # a real-data test fails rather than skips when it is missing

SUMMARY_ROWS="$WORK/rows"
: > "$SUMMARY_ROWS"
FAILED=0

# step NAME LIMIT LOG COMMAND...: run COMMAND with a time limit (SIGINT first, so pytest and the
# scripts print what they have), its output into OUTDIR/LOG, and add a row to the summary. The
# limit is cut so that the steps after it keep their share of the budget.
step() {
    local name="$1" limit="$2" log="$3"
    shift 3
    local t0 t1 rc status left
    left=$((BUDGET - ($(date +%s) - START)))
    [ "$name" != "test suite" ] && left=$((left - SUITE_MIN))
    [ "$left" -lt "$limit" ] && limit=$left
    [ "$limit" -lt 10 ] && limit=10
    echo "== $name (limit ${limit} s): $*"
    t0=$(date +%s)
    timeout -s INT -k 20 "$limit" "$@" > "$OUT/$log" 2>&1
    rc=$?
    t1=$(date +%s)
    case $rc in
        0) status="ok" ;;
        124|137) status="TIMEOUT after ${limit} s"; FAILED=1 ;;
        *) status="FAILED (exit $rc)"; FAILED=1 ;;
    esac
    echo "   $status in $((t1 - t0)) s -> $log"
    printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$((t1 - t0))" "$log" >> "$SUMMARY_ROWS"
}

# What a log says in one line, for the summary (pipes would break the markdown table).
result_of() {
    local log="$OUT/$2" text=""
    case "$1" in
        environment) text=$(grep -E "^(GPU|cuda_available)" "$log" | tr '\n' ';') ;;
        "cuda tests"|"test suite") text=$(grep -E "[0-9]+ (passed|failed|error)" "$log" | tail -1) ;;
        "softmax job"|"MLP job") text=$(grep -E "^test accuracy|^error:" "$log" | tail -1) ;;
        bench_gpu) text=$(grep -E -- "-> (PASS|MISS)|skipped" "$log" | sed 's/ (fastest epochs).*->/ ->/' | tr '\n' ';') ;;
    esac
    [ -z "$text" ] && text=$(grep -v '^\s*$' "$log" | tail -1 | cut -c1-200)
    echo "$text" | tr '|' '/' | tr -s ' '
}

environment() {
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) $(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l) changed files"
    echo "FASHION_MNIST_DIR=${FASHION_MNIST_DIR:-(unset)}"
    if command -v nvidia-smi > /dev/null; then
        nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/GPU: /'
        nvidia-smi 2>&1 | grep -m1 "CUDA Version" | sed 's/^/nvidia-smi: /'
    else
        echo "GPU: none found (no nvidia-smi on this machine)"
    fi
    "$PYTHON" - <<'EOF'
import platform
import tinygrad_sm as tg
print(f"python {platform.python_version()}")
for name in ("numpy", "cupy", "torch", "pytest", "hypothesis", "matplotlib", "tqdm"):
    try:
        module = __import__(name)
        print(f"{name} {module.__version__}")
    except Exception as e:  # a missing package is information, not a failure
        print(f"{name}: not importable ({type(e).__name__}: {e})")
print(f"cuda_available {tg.cuda_available()}")
if tg.cuda_available():
    import cupy
    import torch
    print(f"GPU name (CuPy) {tg.cuda.get_device_name()}; CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}")
    print(f"torch.cuda.is_available {torch.cuda.is_available()}, torch CUDA {torch.version.cuda}")
EOF
}

export -f environment
step "environment" 60 environment.txt bash -c environment
step "cuda tests" 150 cuda_tests.log "$PYTHON" -m pytest -q -rfEsx -p no:cacheprovider tests/test_cuda.py
step "softmax job" 120 softmax_job.log "$PYTHON" models/softmax_fashion.py --device cuda --quiet \
    --no-download --out "$OUT/softmax_fashion" --checkpoint "$WORK/softmax.npz"
step "MLP job" 120 mlp_job.log "$PYTHON" models/mlp_fashion.py --device cuda --quiet \
    --no-download --out "$OUT/mlp_fashion" --checkpoint "$WORK/mlp.npz"
step "bench_gpu" 180 bench_gpu.log "$PYTHON" benchmarks/bench_gpu.py --out "$OUT/bench_gpu.md"
step "test suite" "$BUDGET" test_suite.log "$PYTHON" -m pytest -q -rfE -p no:cacheprovider \
    --durations=15 --ignore=tests/test_cuda.py tests

{
    echo "# GPU check, $(date -u '+%Y-%m-%d %H:%M') UTC"
    echo
    echo "Machine: $(grep -E '^GPU:' "$OUT/environment.txt" | head -1 | sed 's/^GPU: //'); $(grep -E '^(python|cupy|torch) ' "$OUT/environment.txt" | tr '\n' ' ')"
    echo
    echo "| step | status | seconds | result | log |"
    echo "|---|---|---:|---|---|"
    while IFS=$'\t' read -r name status seconds log; do
        echo "| $name | $status | $seconds | $(result_of "$name" "$log") | $log |"
    done < "$SUMMARY_ROWS"
    echo
    echo "Total: $(($(date +%s) - START)) s."
    if [ -s "$OUT/bench_gpu.md" ]; then
        echo
        echo "## bench_gpu"
        echo
        cat "$OUT/bench_gpu.md"
    fi
    for log in cuda_tests.log test_suite.log; do
        if grep -qE "^(FAILED|ERROR) " "$OUT/$log" 2>/dev/null; then
            echo
            echo "## Failures in $log"
            echo
            grep -E "^(FAILED|ERROR) " "$OUT/$log" | head -40 | sed 's/^/    /'
        fi
    done
} > "$OUT/summary.md"
echo "summary: $OUT/summary.md"
cat "$OUT/summary.md"
exit $FAILED
