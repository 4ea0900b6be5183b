#!/usr/bin/env bash
# bench/run_defaults.sh — what the spec's default logging keys cost, as a
# user meets it: `ncopt train SPEC` with no logging keys against the same
# run with logging off (`--set run.log_every=<steps> --set
# run.full_loss_every=0 --set run.checkpoint_every=0`: one row at the start
# and one at the end), for the MLP, LeNet and zoo problems; and the
# networks' epoch against PyTorch (bench/bench_nn_torch.py, 2 threads) in
# its default environment and with OMP_WAIT_POLICY=passive.
#
# Times are summary.json's train_seconds (the loop, data loading excluded;
# the final full-data loss pass of summary.json is outside it for both);
# each case is run ROUNDS times alternating default/off, the median is
# reported. With NCO_BENCH_HOG=1 another process spins on one core for the
# whole benchmark (the "shared machine" case).
#
# Usage: bench/run_defaults.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rounds=${2:-3}
py=${PYTHON:-/usr/bin/python3}
ncopt=$build/ncopt
[ -x "$ncopt" ] || { echo "run_defaults.sh: $ncopt not found: cmake --build $build" >&2; exit 1; }
work=$(mktemp -d)
hog=
cleanup() { [ -z "$hog" ] || kill "$hog" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
if [ "${NCO_BENCH_HOG:-0}" = 1 ]; then
  sh -c 'while :; do :; done' &
  hog=$!
fi

spec() { # spec NAME: writes $work/NAME.ini
  case $1 in
    mlp) printf '[data]\nsource = fashion-mnist\n[problem]\ntype = mlp\nwidths = 256, 256\n[optimizer]\ntype = sgd\nlr = 0.05\nmomentum = 0.9\nbatch = 128\n[run]\nepochs = 1\n' ;;
    lenet) printf '[data]\nsource = fashion-mnist\n[problem]\ntype = lenet\nloss = least_squares\n[optimizer]\ntype = adam\nlr = 0.001\nbatch = 100\n[run]\nepochs = 1\n' ;;
    glm_gd) printf '[data]\nn = 4000\nd = 100\n[problem]\ntype = glm\nactivation = sigmoid\n[optimizer]\ntype = sgd\nlr = 0.0001\n[run]\niterations = 2000\n' ;;
    glm_sgd) printf '[data]\nn = 20000\nd = 100\n[problem]\ntype = glm\nactivation = sigmoid\n[optimizer]\ntype = adam\nlr = 0.001\nbatch = 64\n[run]\nepochs = 5\n' ;;
    lowrank) printf '[data]\nn = 2000\nd = 30\nrank = 3\n[problem]\ntype = lowrank\nrank = 3\n[optimizer]\ntype = sgd\nlr = 0.0001\nbatch = 32\n[run]\nepochs = 10\n' ;;
    pca) printf '[data]\nn = 300\nrank = 5\n[problem]\ntype = pca\nrank = 5\n[optimizer]\ntype = sgd\nlr = 0.001\n[run]\niterations = 3000\n' ;;
    tensor) printf '[data]\nd = 60\nk = 10\n[problem]\ntype = tensor\n[optimizer]\ntype = rgd\nlr = 0.05\n[run]\niterations = 3000\n' ;;
    matcomp) printf '[data]\nn = 300\nrank = 3\n[problem]\ntype = matcomp\nrank = 3\np = 0.3\n[optimizer]\ntype = sgd\nlr = 0.002\n[run]\niterations = 3000\n' ;;
    accelegrad) printf '[data]\nn = 4000\nd = 100\n[problem]\ntype = linear_ls\n[optimizer]\ntype = accelegrad\ndiameter = 10\nG = 100\n[run]\niterations = 2000\n' ;;
  esac >"$work/$1.ini"
}

secs() { sed -n 's/.*"train_seconds": \([0-9.e+-]*\).*/\1/p' "$1/summary.json"; }
rowsof() { echo $(($(wc -l <"$1/trace.csv") - 1)); }
off=(--set run.log_every=1000000000000 --set run.full_loss_every=0 --set run.checkpoint_every=0)

echo "openblas: $("$py" -c 'import ctypes,sys; l=ctypes.CDLL("libopenblas.so.0"); l.openblas_get_config.restype=ctypes.c_char_p; print(l.openblas_get_config().decode())' 2>/dev/null || echo unknown)" \
  "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} hog=${NCO_BENCH_HOG:-0}"
printf '%-11s %10s %10s %8s %6s %9s\n' case default_s off_s overhead rows samples/n
for c in mlp lenet glm_gd glm_sgd lowrank pca tensor matcomp accelegrad; do
  spec "$c"
  d=() o=()
  for ((r = 0; r < rounds; r++)); do
    "$ncopt" train "$work/$c.ini" --out "$work/$c.d" --quiet --force
    d+=("$(secs "$work/$c.d")")
    "$ncopt" train "$work/$c.ini" --out "$work/$c.o" --quiet --force "${off[@]}"
    o+=("$(secs "$work/$c.o")")
  done
  "$py" - "$c" "$(rowsof "$work/$c.d")" "$work/$c.d/summary.json" "${d[*]}" "${o[*]}" <<'EOF'
import json, statistics, sys
c, rows, summ, d, o = sys.argv[1:]
d = statistics.median(map(float, d.split())); o = statistics.median(map(float, o.split()))
j = json.load(open(summ)); s = j["evaluations"]["samples"] / j["samples"]
print(f"{c:11} {d:10.4f} {o:10.4f} {100 * (d / o - 1):+7.1f}% {rows:>6} {s:9.2f}")
EOF
done

echo
echo "networks: one epoch, ncopt train (defaults; train_seconds, and the whole command's wall time with data"
echo "loading and the final full-data loss pass) vs PyTorch 2 threads (its epoch; best of $rounds)"
printf '%-6s %9s %9s %9s %10s %10s %9s\n' model ncopt torch passive torch/nco pass/nco ncopt_wall
for m in mlp lenet; do
  best_n=1e9 best_t=1e9 best_p=1e9 best_w=1e9
  for ((r = 0; r < rounds; r++)); do
    t0=$(date +%s.%N)
    "$ncopt" train "$work/$m.ini" --out "$work/$m.d" --quiet --force
    w=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
    best_w=$(awk -v a="$best_w" -v b="$w" 'BEGIN { print (b < a ? b : a) }')
    best_n=$(awk -v a="$best_n" -v b="$(secs "$work/$m.d")" 'BEGIN { print (b < a ? b : a) }')
    t=$("$py" "$root/bench/bench_nn_torch.py" "$m" 1 --threads 2 | sed -n 's/.*best_epoch_seconds=\([0-9.]*\).*/\1/p')
    best_t=$(awk -v a="$best_t" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
    t=$(OMP_WAIT_POLICY=passive "$py" "$root/bench/bench_nn_torch.py" "$m" 1 --threads 2 | sed -n 's/.*best_epoch_seconds=\([0-9.]*\).*/\1/p')
    best_p=$(awk -v a="$best_p" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
  done
  awk -v m="$m" -v n="$best_n" -v t="$best_t" -v p="$best_p" -v w="$best_w" \
    'BEGIN { printf "%-6s %9.3f %9.3f %9.3f %9.2fx %9.2fx %9.3f\n", m, n, t, p, t / n, p / n, w }'
done
