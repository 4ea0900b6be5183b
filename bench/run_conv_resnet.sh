#!/usr/bin/env bash
# bench/run_conv_resnet.sh — ResNet-8's conv shapes (batch 128, 2 threads):
# ncopt's float32 kernels as built (oneDNN when found), ncopt forced to
# im2col + OpenBLAS, the equivalent sgemm, and PyTorch (default environment
# and OMP_WAIT_POLICY=passive), one after the other in one run.
# Usage: bench/run_conv_resnet.sh [BUILD_DIR] [N] [REPS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
n=${2:-128}
reps=${3:-20}
py=${PYTHON:-/usr/bin/python3}
echo "== ncopt (as built)"
"$build/bench_conv_resnet" "$n" "$reps" 2
echo "== ncopt, NCO_CONV_BACKEND=im2col"
NCO_CONV_BACKEND=im2col "$build/bench_conv_resnet" "$n" "$reps" 2
echo "== torch"
"$py" "$root/bench/bench_conv_resnet_torch.py" "$n" "$reps" 2
echo "== torch, OMP_WAIT_POLICY=passive"
OMP_WAIT_POLICY=passive "$py" "$root/bench/bench_conv_resnet_torch.py" "$n" "$reps" 2
