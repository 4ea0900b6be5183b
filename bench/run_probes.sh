#!/usr/bin/env bash
# bench/run_probes.sh — the cost of the trajectory probes (issue 6: "a probe
# costs only its own work", target ≤ 5%): the same run with and without
# misfit, distance, path_length and dist_init, a trace row at every step,
# best of REPS `train_seconds` (the loop only) each, for
#   mlp  784-256-256-10 ReLU, least squares, full-batch GD on 1 000
#        Fashion-MNIST images (per-layer distance columns included)
#   glm  the invex paper's 64×8 sigmoid GLM, GD (a step costs ~3 µs: here
#        the cost of formatting a CSV column shows)
# Usage: bench/run_probes.sh [BUILD_DIR] [REPS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
reps=${2:-5}
N=$build/ncopt
[ -x "$N" ] || { echo "run_probes.sh: $N not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/mlp.ini" <<'INI'
[data]
source = fashion-mnist
subset = 1000
[problem]
type = mlp
widths = 256, 256
loss = least_squares
reduction = mean
[optimizer]
type = sgd
lr = 0.1
[run]
iterations = 60
log_every = 1
INI
cat >"$tmp/glm.ini" <<'INI'
[data]
n = 64
d = 8
binary = true
[problem]
type = glm
[optimizer]
type = sgd
lr = 0.1
[run]
iterations = 20000
log_every = 1
INI

best() { # SPEC [--set ...]: best train_seconds over reps
  local b=1e30 t
  for ((i = 0; i < reps; i++)); do
    "$N" train "$@" --out "$tmp/out" --quiet || { echo "run_probes.sh: ncopt train $* failed" >&2; exit 1; }
    t=$(sed -n 's/.*"train_seconds": \([0-9.e+-]*\).*/\1/p' "$tmp/out/summary.json")
    b=$(awk -v a="$b" -v t="$t" 'BEGIN { print (t < a) ? t : a }')
  done
  echo "$b"
}
probes=(--set probes.misfit=true --set probes.distance=true --set probes.path_length=true --set probes.dist_init=true)
printf '%-5s %12s %12s %9s\n' model "off (s)" "on (s)" overhead
for m in mlp glm; do
  off=$(best "$tmp/$m.ini")
  on=$(best "$tmp/$m.ini" "${probes[@]}")
  awk -v m="$m" -v a="$off" -v b="$on" 'BEGIN { printf "%-5s %12.4f %12.4f %8.1f%%\n", m, a, b, 100 * (b / a - 1) }'
done
