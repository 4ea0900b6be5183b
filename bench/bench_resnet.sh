#!/usr/bin/env bash
# bench/bench_resnet.sh — batch-norm network training speed through the CLI:
# `ncopt train bench/resnet8.ini` (ResNet-8 on Fashion-MNIST's 60 000
# training images, one epoch, cross-entropy, SGD momentum 0.9, lr 0.05,
# batch 128, the spec's default logging) against the same model, optimiser,
# batch and step order in PyTorch (bench/bench_resnet_torch.py).
#
# The sides alternate for ROUNDS rounds (ncopt, torch in the environment as
# it is, torch with libgomp's OMP_WAIT_POLICY=passive, seconds apart) so
# that all see the same machine load; each round prints the epoch seconds
# (ncopt: summary.json's train_seconds, which includes the spec's logging
# and the final full-data loss; torch: the loop's wall time) and the ratio
# torch/ncopt with the faster of the two torch runs (> 1: ncopt faster).
#
# The spec's default keys throughout. (Until the full-data rows of a
# batch-norm network were evaluated in evaluation mode, the run's final
# full-data loss was one 60 000-sample training-mode chunk: > 24 GB.)
#
# NCO_BENCH_MODEL=vgg | unet runs bench/vgg.ini or bench/unet.ini instead
# (VGG-mini, U-Net-mini: the builders' default keys) against the same model
# in torch (bench_resnet_torch.py --model). Each round also prints both
# sides' peak resident memory (ncopt: /usr/bin/time's maximum RSS; torch:
# getrusage), data included.
#
# Usage: bench/bench_resnet.sh [BUILD_DIR] [ROUNDS] [SUBSET]
#   BUILD_DIR  a built ncopt tree (default: build)
#   SUBSET     data.subset for a short run (default: none, 60 000 images;
#              torch then stops after the same number of steps)
#   NCO_BENCH_THREADS  threads for both sides (default 2): OMP_NUM_THREADS
#              for ncopt, torch.set_num_threads
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rounds=${2:-2}
subset=${3:-}
threads=${NCO_BENCH_THREADS:-2}
py=${PYTHON:-/usr/bin/python3}
bin=$build/ncopt
[ -x "$bin" ] || { echo "bench_resnet.sh: $bin not found: cmake --build $build" >&2; exit 1; }
model=${NCO_BENCH_MODEL:-resnet8}
spec=$root/bench/$model.ini
[ -f "$spec" ] || { echo "bench_resnet.sh: no $spec (NCO_BENCH_MODEL: resnet8, vgg, unet)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sets=()
tsteps=()
if [ -n "$subset" ]; then
  sets+=(--set data.subset="$subset")
  tsteps=(--steps $(((subset + 127) / 128)))
fi

tsec() { sed -n 's/.*train_seconds=\([0-9.]*\).*/\1/p'; }
ratios=()
for ((r = 1; r <= rounds; r++)); do
  rm -rf "$work/run"
  OMP_NUM_THREADS=$threads /usr/bin/time -f %M -o "$work/rss" "$bin" train "$spec" ${sets[@]+"${sets[@]}"} \
    --out "$work/run" --force --quiet 2>"$work/err" || echo "round=$r ncopt: exit $?: $(tail -1 "$work/err")"
  steps=$(tail -1 "$work/run/trace.csv" | cut -d, -f1)
  nc=$(sed -n 's/.*"train_seconds": \([0-9.e+-]*\).*/\1/p' "$work/run/summary.json")
  "$py" "$root/bench/bench_resnet_torch.py" 1 --model "$model" --threads "$threads" ${tsteps[@]+"${tsteps[@]}"} >"$work/t1"
  OMP_WAIT_POLICY=passive "$py" "$root/bench/bench_resnet_torch.py" 1 --model "$model" --threads "$threads" \
    ${tsteps[@]+"${tsteps[@]}"} >"$work/t2"
  t1=$(tsec <"$work/t1")
  t2=$(tsec <"$work/t2")
  nrss=$(awk '{ printf "%.1f", $1 / 1024 }' "$work/rss")
  trss=$(sed -n 's/.*peak_rss_mb=\([0-9.]*\).*/\1/p' "$work/t1")
  best=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print (a < b ? a : b) }')
  ratio=$(awk -v t="$best" -v n="$nc" 'BEGIN { printf "%.3f", t / n }')
  ratios+=("$ratio")
  printf 'round=%d model=%s ncopt_steps=%s ncopt_epoch_seconds=%.3f torch_epoch_seconds=%s torch_passive_epoch_seconds=%s torch_best=%s ratio_torch_over_ncopt=%s ncopt_peak_rss_mb=%s torch_peak_rss_mb=%s\n' \
    "$r" "$model" "$steps" "$nc" "$t1" "$t2" "$best" "$ratio" "$nrss" "$trss"
done
echo "$model Fashion-MNIST ${subset:-60000} images, $threads threads, $rounds rounds; ratios: ${ratios[*]} (> 1: ncopt faster)"
