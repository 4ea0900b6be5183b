#!/usr/bin/env bash
# bench/run_nn.sh — network training speed, ncopt (bench/bench_nn.c) against
# PyTorch (bench/bench_nn_torch.py), issue 5's two settings on Fashion-MNIST
# (60 000 training images, data in memory before the clock starts):
#   mlp    784-256-256-10, ReLU, cross-entropy, SGD momentum 0.9, lr 0.05, batch 128
#   lenet  LeNet-5, least squares on one-hot targets, Adam lr 1e-3, batch 100
# and the dense layers' GFLOP/s against cblas_sgemm.
#
# The two sides alternate model by model for ROUNDS rounds (ncopt, then
# torch, on the same model, seconds apart) so that both see the same machine
# load; the summary gives each side's best epoch time over all rounds, the
# median over rounds of the per-round ratio torch/ncopt (> 1: ncopt faster),
# the peak RSS and the test accuracy after training.
#
# Usage: bench/run_nn.sh [BUILD_DIR] [ROUNDS] [MLP_EPOCHS] [LENET_EPOCHS]
#   BUILD_DIR  a configured and built ncopt tree (default: build) with
#              bench_nn (cmake --build BUILD_DIR --target bench_nn)
#   NCO_BENCH_THREADS  threads for both sides (default 2): OMP_NUM_THREADS
#              and OPENBLAS_NUM_THREADS for ncopt, torch.set_num_threads
#   NCO_BENCH_WAIT     OpenMP wait policy for both sides (libgomp's
#              OMP_WAIT_POLICY; default passive: on a loaded machine
#              libgomp's default spinning costs both sides up to 10x; set
#              "active" or "default" to compare)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rounds=${2:-2}
mlp_epochs=${3:-2}
lenet_epochs=${4:-1}
threads=${NCO_BENCH_THREADS:-2}
wait_policy=${NCO_BENCH_WAIT:-passive}
py=${PYTHON:-/usr/bin/python3}

bin=$build/bench_nn
[ -x "$bin" ] || { echo "run_nn.sh: $bin not found: cmake --build $build --target bench_nn" >&2; exit 1; }
envs=(OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads")
[ "$wait_policy" = default ] || envs+=(OMP_WAIT_POLICY="$wait_policy")

out=$(mktemp)
trap 'rm -f "$out"' EXIT
env "${envs[@]}" "$bin" dense | sed "s/^/round=0 /" | tee -a "$out"
for ((r = 1; r <= rounds; r++)); do
  for m in mlp lenet; do
    ep=$mlp_epochs
    [ "$m" = lenet ] && ep=$lenet_epochs
    env "${envs[@]}" "$bin" "$m" "$ep" | sed "s/^/round=$r /" | tee -a "$out"
    env "${envs[@]}" "$py" "$root/bench/bench_nn_torch.py" "$m" "$ep" --threads "$threads" |
      sed "s/^/round=$r /" | tee -a "$out"
  done
done

echo
echo "Fashion-MNIST 60000 images/epoch, $threads threads, OMP_WAIT_POLICY=$wait_policy, $rounds rounds" \
  "(best epoch; ratio = median over rounds of torch/ncopt best epoch in that round)"
"$py" - "$out" <<'EOF'
import re, statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split() if "=" in kv) for line in open(sys.argv[1])]
for r in rows:
    if "gflops" in r:
        print(f"dense layers fwd+bwd, batch {r['batch']}: {r['gflops']} GFLOP/s = {float(r['frac_of_1024']):.0%} of "
              f"sgemm 1024^3 ({r['sgemm_1024_gflops']} GFLOP/s), {float(r['frac_of_shapes']):.0%} of sgemm on the "
              f"same shapes ({r['sgemm_same_shapes_gflops']} GFLOP/s)")
print(f"{'model':6} {'ncopt s':>8} {'torch s':>8} {'torch/ncopt':>11} {'ncopt RSS':>10} {'torch RSS':>10} "
      f"{'ncopt acc':>9} {'torch acc':>9}")
for m in ("mlp", "lenet"):
    s = [r for r in rows if r.get("model") == m and "best_epoch_seconds" in r]
    by = {}
    for r in s:
        by.setdefault(r["round"], {})[r["impl"]] = r
    ratios = [float(v["torch"]["best_epoch_seconds"]) / float(v["ncopt"]["best_epoch_seconds"])
              for v in by.values() if "torch" in v and "ncopt" in v]
    if not ratios:
        continue
    best = lambda impl, key: min(float(v[impl][key]) for v in by.values() if impl in v)
    last = lambda impl, key: [v[impl][key] for v in by.values() if impl in v][-1]
    print(f"{m:6} {best('ncopt', 'best_epoch_seconds'):8.3f} {best('torch', 'best_epoch_seconds'):8.3f} "
          f"{statistics.median(ratios):10.2f}x {float(last('ncopt', 'peak_rss_mb')):8.0f}MB "
          f"{float(last('torch', 'peak_rss_mb')):8.0f}MB {last('ncopt', 'test_acc'):>9} {last('torch', 'test_acc'):>9}")
EOF
