#!/usr/bin/env bash
# bench/run_optim.sh — one optimiser step on 10⁷ float32 parameters, ncopt
# (bench/bench_optim.c) against torch.optim (bench/bench_optim_torch.py,
# foreach=True), sgd-momentum, adam, adamw; prints ns/param, GB/s and the
# ratio torch/ncopt (> 1: ncopt faster).
#
# The two sides alternate method by method for ROUNDS rounds (ncopt, then
# torch, on the same method, seconds apart), so that both see the same
# machine load: on a shared or virtual machine the absolute numbers drift
# by 2x from minute to minute, the ratio of adjacent runs much less. The
# summary gives each side's best time over all rounds and the median over
# rounds of the per-round ratio torch/ncopt.
#
# Usage: bench/run_optim.sh [BUILD_DIR] [N] [REPS] [ROUNDS]
#   BUILD_DIR  a configured and built ncopt tree (default: build); its
#              bench_optim target is built if missing or stale (failing
#              that, bench_optim.c is compiled by hand against libncopt.a,
#              with -fopenmp if the library uses OpenMP)
#   NCO_BENCH_THREADS  threads for both sides (default 2)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
n=${2:-10000000}
reps=${3:-20}
rounds=${4:-3}
threads=${NCO_BENCH_THREADS:-2}
py=${PYTHON:-/usr/bin/python3}

lib=$build/libncopt.a
[ -f "$lib" ] || { echo "run_optim.sh: $lib not found: build ncopt first" >&2; exit 1; }
bin=$build/bench_optim
if [ ! -x "$bin" ] || [ "$root/bench/bench_optim.c" -nt "$bin" ] || [ "$lib" -nt "$bin" ]; then
  # the CMake target (bench/*.c are programs of the build), else by hand
  cmake --build "$build" --target bench_optim >/dev/null 2>&1 || true
fi
if [ ! -x "$bin" ] || [ "$root/bench/bench_optim.c" -nt "$bin" ] || [ "$lib" -nt "$bin" ]; then
  omp=()
  if nm "$lib" 2>/dev/null | grep 'GOMP_parallel' >/dev/null; then omp=(-fopenmp); fi
  cc -std=c11 -O2 -Wall -Wextra -ffp-contract=off -D_POSIX_C_SOURCE=200809L "${omp[@]}" \
    -I"$root/include" -I"$build/generated" "$root/bench/bench_optim.c" "$lib" \
    $(pkg-config --libs openblas) -lz -lm -o "$bin"
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= rounds; r++)); do
  for m in sgd_momentum adam adamw; do
    OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=1 "$bin" "$n" "$reps" "$m" | sed "s/^/round=$r /" | tee -a "$out"
    "$py" "$root/bench/bench_optim_torch.py" "$n" "$reps" --threads "$threads" --method "$m" |
      sed "s/^/round=$r /" | tee -a "$out"
  done
done

echo
echo "n = $n, $threads threads, $rounds rounds x $reps steps (best time; ratio = median over rounds of torch/ncopt)"
awk '
  function med(arr, k,   i, j, t, n) { n = 0; for (i in arr) if (index(i, k SUBSEP) == 1) v[++n] = arr[i]
    for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
  $2 ~ /^#/ { next }
  { split($1, rr, "="); r = rr[2]; side = $2; m = $3; split($4, a, "="); split($6, b, "=")
    k = side " " m; if (!(k in best) || a[2] < best[k]) { best[k] = a[2]; gb[k] = b[2] }
    t[side, m, r] = a[2]
    if ($0 ~ /bitwise_1_vs_[0-9]+=NO/) bad = 1
    if (!(m in seen)) { seen[m] = 1; order[++nm] = m }
    if (r > nr) nr = r }
  END {
    printf "%-14s %12s %12s %10s %10s %8s\n", "method", "ncopt ns/p", "torch ns/p", "ncopt GB/s", "torch GB/s", "ratio"
    for (i = 1; i <= nm; i++) { m = order[i]; delete ratio
      for (r = 1; r <= nr; r++) if (((("ncopt") SUBSEP m SUBSEP r) in t) && ((("torch") SUBSEP m SUBSEP r) in t))
        ratio[m SUBSEP r] = t["torch", m, r] / t["ncopt", m, r]
      printf "%-14s %12.4f %12.4f %10.1f %10.1f %7.2fx\n", m, best["ncopt " m], best["torch " m],
             gb["ncopt " m], gb["torch " m], med(ratio, m) }
    if (bad) { print "ncopt results differ between 1 and N threads"; exit 1 }
  }' "$out"
