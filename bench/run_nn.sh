#!/usr/bin/env bash
# bench/run_nn.sh — network training speed, ncopt (bench/bench_nn.c) against
# PyTorch (bench/bench_nn_torch.py), issue 5's two settings on Fashion-MNIST
# (60 000 training images, data in memory before the clock starts):
#   mlp    784-256-256-10, ReLU, cross-entropy, SGD momentum 0.9, lr 0.05, batch 128
#   lenet  LeNet-5, least squares on one-hot targets, Adam lr 1e-3, batch 100
# and the dense layers' GFLOP/s against cblas_sgemm.
#
# The sides alternate model by model for ROUNDS rounds (ncopt, then torch
# in the same environment, then torch with libgomp's OMP_WAIT_POLICY=passive,
# on the same model, seconds apart) so that all see the same machine load.
# Why twice for torch: torch mixes its OpenMP pool with OpenBLAS's pthreads,
# and libgomp's default spin-waiting then fights OpenBLAS for the cores (on
# 2 busy cores torch's MLP epoch took 2-15 s by default, ~1 s passive);
# ncopt runs everything in one OpenMP team and is fastest with the default
# policy. The summary gives each side's best epoch over all rounds, the
# median over rounds of the per-round ratios torch/ncopt and
# torch_passive/ncopt (> 1: ncopt faster), the peak RSS and the test
# accuracy after training.
#
# Usage: bench/run_nn.sh [BUILD_DIR] [ROUNDS] [MLP_EPOCHS] [LENET_EPOCHS]
#   BUILD_DIR  a configured and built ncopt tree (default: build) with
#              bench_nn (cmake --build BUILD_DIR --target bench_nn)
#   NCO_BENCH_THREADS  threads for both sides (default 2): OMP_NUM_THREADS
#              and OPENBLAS_NUM_THREADS for ncopt, torch.set_num_threads
#   NCO_BENCH_WAIT     OMP_WAIT_POLICY for ncopt and the first torch run
#              ("default": leave the environment alone, the default)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rounds=${2:-2}
mlp_epochs=${3:-2}
lenet_epochs=${4:-1}
threads=${NCO_BENCH_THREADS:-2}
wait_policy=${NCO_BENCH_WAIT:-default}
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
    env "${envs[@]}" OMP_WAIT_POLICY=passive "$py" "$root/bench/bench_nn_torch.py" "$m" "$ep" \
      --threads "$threads" | sed "s/^/round=$r /; s/impl=torch/impl=torch_passive/" | tee -a "$out"
  done
done

echo
echo "Fashion-MNIST 60000 images/epoch, $threads threads, OMP_WAIT_POLICY=$wait_policy, $rounds rounds" \
  "(best epoch; ratios = median over rounds of torch/ncopt best epochs in that round)"
"$py" - "$out" <<'EOF'
import re, statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split() if "=" in kv) for line in open(sys.argv[1])]
for r in rows:
    if "gflops" in r:
        print(f"dense layers fwd+bwd, batch {r['batch']}: {r['gflops']} GFLOP/s = {float(r['frac_of_1024']):.0%} of "
              f"sgemm 1024^3 ({r['sgemm_1024_gflops']} GFLOP/s), {float(r['frac_of_shapes']):.0%} of sgemm on the "
              f"same shapes ({r['sgemm_same_shapes_gflops']} GFLOP/s)")
print(f"{'model':6} {'ncopt s':>8} {'torch s':>8} {'passive':>8} {'torch/nco':>9} {'pass/nco':>9} "
      f"{'ncopt RSS':>10} {'torch RSS':>10} {'ncopt acc':>9} {'torch acc':>9}")
for m in ("mlp", "lenet"):
    by = {}
    for r in rows:
        if r.get("model") == m and "best_epoch_seconds" in r:
            by.setdefault(r["round"], {})[r["impl"]] = r
    sec = lambda v, impl: float(v[impl]["best_epoch_seconds"])
    rat = lambda impl: [sec(v, impl) / sec(v, "ncopt") for v in by.values() if impl in v and "ncopt" in v]
    if not rat("torch"):
        continue
    best = lambda impl: min(sec(v, impl) for v in by.values() if impl in v)
    last = lambda impl, key: [v[impl][key] for v in by.values() if impl in v][-1]
    print(f"{m:6} {best('ncopt'):8.3f} {best('torch'):8.3f} {best('torch_passive'):8.3f} "
          f"{statistics.median(rat('torch')):8.2f}x {statistics.median(rat('torch_passive')):8.2f}x "
          f"{float(last('ncopt', 'peak_rss_mb')):8.0f}MB {float(last('torch', 'peak_rss_mb')):8.0f}MB "
          f"{last('ncopt', 'test_acc'):>9} {last('torch', 'test_acc'):>9}")
EOF
