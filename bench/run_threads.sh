#!/usr/bin/env bash
# bench/run_threads.sh — an MLP epoch on a shared machine: `ncopt train`
# with its defaults (no OMP_* or GOMP_* variables: ncopt re-runs itself with
# GOMP_SPINCOUNT=10000, see include/ncopt/threads.h) on a quiet machine and
# with a CPU hog (a busy shell loop, unpinned, and pinned with taskset to
# core 0 and to core 1), against PyTorch (bench/bench_nn_torch.py, 2
# threads) in its default environment and with OMP_WAIT_POLICY=passive.
# Fashion-MNIST 60 000 images, MLP 784-256-256-10, batch 128, SGD momentum
# 0.9 (ncopt: the spec below; its train_seconds is the epoch plus the final
# full-data loss; torch: bench_nn_torch.py mlp 1's epoch). Not a test: the
# numbers depend on the machine, and on what else it runs (repeat: ROUNDS).
#
# Usage: bench/run_threads.sh [BUILD_DIR] [ROUNDS]
#   BUILD_DIR  a built ncopt tree (default: build); ROUNDS default 3
#   NCO_BENCH_TORCH=0 skips PyTorch; PYTHON picks the interpreter
# Prints one line per run, then per setting the median over rounds of the
# seconds, each side's slow-down (hog / quiet) and torch/ncopt (> 1: ncopt
# faster), and the OpenBLAS kernel that ran (OPENBLAS_CORETYPE as found).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rounds=${2:-3}
py=${PYTHON:-/usr/bin/python3}
bin=$build/ncopt
[ -x "$bin" ] || { echo "run_threads.sh: $bin not found: cmake --build $build" >&2; exit 1; }
torch=${NCO_BENCH_TORCH:-1}
if [ "$torch" = 1 ] && ! "$py" -c 'import torch' 2>/dev/null; then
  echo "run_threads.sh: no PyTorch for $py: ncopt only" >&2
  torch=0
fi
work=$(mktemp -d)
hog=
cleanup() {
  [ -n "$hog" ] && kill "$hog" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/mlp.ini" <<'SPEC'
[data]
source = fashion-mnist

[problem]
type = mlp
widths = 256, 256

[optimizer]
type = sgd
lr = 0.1
momentum = 0.9
batch = 128

[run]
epochs = 1
log_every = 100000
SPEC
# ncopt's defaults: none of the variables that change its threads
clean=(env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS)
out=$work/rows
start_hog() { # start_hog unpinned|0|1
  if [ "$1" = unpinned ]; then
    sh -c 'while :; do :; done' &
  else
    taskset -c "$1" sh -c 'while :; do :; done' &
  fi
  hog=$!
  sleep 0.3
}
stop_hog() {
  [ -n "$hog" ] && kill "$hog" && wait "$hog" 2>/dev/null || true
  hog=
}
one() { # one ROUND LOAD
  local r=$1 load=$2 s
  rm -rf "$work/run"
  "${clean[@]}" "$bin" train "$work/mlp.ini" --out "$work/run" --quiet >/dev/null
  s=$(grep -o '"train_seconds": [0-9.eE+-]*' "$work/run/summary.json" | awk '{print $2}')
  echo "round=$r load=$load impl=ncopt seconds=$s" | tee -a "$out"
  grep -o '"openblas": "[^"]*"' "$work/run/summary.json" | head -1 >"$work/openblas"
  [ "$torch" = 1 ] || return 0
  s=$("${clean[@]}" "$py" "$root/bench/bench_nn_torch.py" mlp 1 --threads 2 | sed -n 's/.*best_epoch_seconds=\([0-9.]*\).*/\1/p')
  echo "round=$r load=$load impl=torch seconds=$s" | tee -a "$out"
  s=$("${clean[@]}" OMP_WAIT_POLICY=passive "$py" "$root/bench/bench_nn_torch.py" mlp 1 --threads 2 |
    sed -n 's/.*best_epoch_seconds=\([0-9.]*\).*/\1/p')
  echo "round=$r load=$load impl=torch_passive seconds=$s" | tee -a "$out"
}
for ((r = 1; r <= rounds; r++)); do
  one "$r" quiet
  for h in unpinned 0 1; do
    start_hog "$h"
    one "$r" "hog_$h"
    stop_hog
  done
done

echo
echo "MLP 784-256-256-10 epoch on Fashion-MNIST, 2 cores ($(nproc) online), median of $rounds rounds;" \
  "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, kernel: $(sed 's/"openblas": //' "$work/openblas")"
"$py" - "$out" <<'EOF2'
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1])]
med = {}
for impl in ("ncopt", "torch", "torch_passive"):
    for load in ("quiet", "hog_unpinned", "hog_0", "hog_1"):
        v = [float(r["seconds"]) for r in rows if r["impl"] == impl and r["load"] == load]
        if v:
            med[impl, load] = statistics.median(v)
impls = [i for i in ("ncopt", "torch", "torch_passive") if (i, "quiet") in med]
print(f"{'load':13}" + "".join(f"{i + ' s':>16}{'x quiet':>8}" for i in impls) +
      "".join(f"{i + '/ncopt':>20}" for i in impls[1:]))
for load in ("quiet", "hog_unpinned", "hog_0", "hog_1"):
    line = f"{load:13}"
    for i in impls:
        line += f"{med[i, load]:16.3f}{med[i, load] / med[i, 'quiet']:7.2f}x"
    for i in impls[1:]:
        line += f"{med[i, load] / med['ncopt', load]:19.2f}x"
    print(line)
EOF2
