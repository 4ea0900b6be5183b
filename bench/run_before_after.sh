#!/usr/bin/env bash
# bench/run_before_after.sh — the same benchmarks on two builds of ncopt,
# alternating build by build within each round (so both see the same
# machine load), for a refactoring that must not cost speed (issue
# "Architecture step": within 5 % of before):
#   bench_nn mlp / lenet   one Fashion-MNIST epoch (best epoch seconds)
#   bench_hessian          20 Lanczos iterations on the MLP (seconds)
#   bench_optim            one step on 10⁷ parameters, sgd_momentum and adam (ns/param)
# Prints per benchmark the median over rounds of new/old (< 1: faster now).
#
# Usage: bench/run_before_after.sh OLD_BUILD NEW_BUILD [ROUNDS]
#   each a configured tree with bench_nn, bench_hessian, bench_optim built
#   NCO_BENCH_THREADS  threads (default 2)
set -euo pipefail
old=$(cd "$1" && pwd) new=$(cd "$2" && pwd) rounds=${3:-5}
threads=${NCO_BENCH_THREADS:-2}
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
out=$(mktemp)
trap 'rm -f "$out"' EXIT
val() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | tail -1; }
for ((r = 1; r <= rounds; r++)); do
  for b in old new; do
    dir=$old
    [ $b = new ] && dir=$new
    echo "round=$r build=$b mlp $("$dir/bench_nn" mlp 1 | grep summary | val best_epoch_seconds)" >>"$out"
    echo "round=$r build=$b lenet $("$dir/bench_nn" lenet 1 | grep summary | val best_epoch_seconds)" >>"$out"
    echo "round=$r build=$b hessian $("$dir/bench_hessian" 20 3 | val '[^_]seconds')" >>"$out"
    for m in sgd_momentum adam; do
      echo "round=$r build=$b $m $("$dir/bench_optim" 10000000 20 "$m" | grep "^ncopt $m" | val ns_per_param)" >>"$out"
    done
  done
  tail -10 "$out"
done
echo
echo "$threads threads, $rounds rounds; median over rounds of new/old (< 1: the new build is faster)"
awk '{ split($1, a, "="); split($2, b, "="); v[a[2], b[2], $3] = $4; n[$3] = 1; R = a[2] > R ? a[2] : R }
     END {
       for (m in n) {
         k = 0
         for (r = 1; r <= R; r++) if (v[r, "old", m] > 0) q[++k] = v[r, "new", m] / v[r, "old", m]
         # insertion sort for the median
         for (i = 2; i <= k; i++) { x = q[i]; j = i - 1; while (j > 0 && q[j] > x) { q[j + 1] = q[j]; j-- } q[j + 1] = x }
         med = k % 2 ? q[(k + 1) / 2] : (q[k / 2] + q[k / 2 + 1]) / 2
         printf "%-13s new/old %.3f  (%d rounds)\n", m, med, k
       }
     }' "$out"
