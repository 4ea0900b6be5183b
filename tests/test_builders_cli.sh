# The deep-model builders through the command line against PyTorch (issue
# #12): for each case of tests/fixtures/builders (ResNet-8 with skips all /
# none, VGG-mini with BN all / first / none, U-Net-mini with 2 levels),
# `ncopt train` on the fixture's 16 samples (data.source = npy) from torch's
# initial θ (run.init = parameters_to_vector), 20 SGD-momentum steps (lr
# 0.01, momentum 0.9) on minibatches of 4 in sampling = cyclic order, one
# trace row a step. The fixture's cyc_loss / cyc_theta are torch's float64
# run on the same minibatches (scripts/make_builder_fixtures.py).
# Tolerances, stated before the first run: ncopt runs in float32, so each
# step's loss may differ by float32 rounding amplified through 20 steps of
# a non-convex map: every loss within 1e-4·max(1, |loss|) of torch's, and
# the final θ within 1e-4·(1 + max|θ|) in every entry.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1
F=$SRC/tests/fixtures/builders

# case  problem keys (the fixture script's CASES)
cases=(
  "resnet8_all|type = resnet
channels = 4, 8, 16
blocks = 1
skips = all"
  "resnet8_none|type = resnet
channels = 4, 8, 16
blocks = 1
skips = none"
  "vgg_all|type = vgg
convs = 1, 2, 2
channels = 4, 8, 8
bn = all"
  "vgg_first|type = vgg
convs = 1, 2, 2
channels = 4, 8, 8
bn = first"
  "vgg_none|type = vgg
convs = 1, 2, 2
channels = 4, 8, 8
bn = none"
  "unet2|type = unet
depth = 2
channels = 4, 8, 16
loss = least_squares
reduction = mean"
)

for c in "${cases[@]}"; do
  name=${c%%|*} keys=${c#*|}
  if [ -f "$F/bld_${name}_y.npy" ]; then
    data="targets = $F/bld_${name}_y.npy"
  else
    data="target = input"
  fi
  cat >"$name.ini" <<INI
[data]
source = npy
features = $F/bld_${name}_X.npy
$data
scale = none
[problem]
$keys
[optimizer]
type = sgd
lr = 0.01
momentum = 0.9
batch = 4
sampling = cyclic
[run]
iterations = 20
init = $F/bld_${name}_theta.npy
log_every = 1
INI
  run "$name" train "$name.ini" --out "$name" --quiet
  expect_rc 0 "$RC" "$name: ncopt train ($(tail -1 "$name.err"))"
  [ "$RC" = 0 ] || continue
  csv_col "$name/trace.csv" loss | sed -n '2,$p' >"$name.nc"
  npy_values "$F/bld_${name}_cyc_loss.npy" >"$name.ref"
  expect_eq 20 "$(wc -l <"$name.nc")" "$name: 20 step losses"
  dev=$(paste "$name.nc" "$name.ref" | awk '{ d = $1 - $2; d = d < 0 ? -d : d; m = $2 < 0 ? -$2 : $2;
    r = d / (m > 1 ? m : 1); if (r > w) w = r } END { printf "%.3g", w }')
  check "$name: 20 SGD losses = torch's (max relative deviation $dev ≤ 1e-4)" holds "$dev <= 1e-4"
  npy_values "$name/params.npy" >"$name.th"
  npy_values "$F/bld_${name}_cyc_theta.npy" >"$name.tref"
  dth=$(paste "$name.th" "$name.tref" | awk '{ d = $1 - $2; d = d < 0 ? -d : d; if (d > w) w = d;
    a = $2 < 0 ? -$2 : $2; if (a > m) m = a } END { printf "%.3g %.3g", w, m }')
  check "$name: θ after 20 steps = torch's (max |Δθ| ${dth% *}, max |θ| ${dth#* })" \
    holds "${dth% *} <= 1e-4 * (1 + ${dth#* })"
done
finish
