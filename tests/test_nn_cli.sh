# Networks and real data through the command line (issue 5): mlp and lenet
# specs on IDX, CSV and .npy files written here, on Fashion-MNIST and MNIST
# when installed (the tests that need them say "skipped" otherwise), the
# test_loss / test_acc columns, per-layer distances, the fast variants of
# the experiments oymak_lenet, chen_activations and invex_mlp, a network
# with dropout interrupted and resumed, and the spec errors of the data
# keys (a missing data set: one line, exit status 2).
. "$(dirname "$0")/cli_lib.sh" || exit 1
# JSON, CSV columns and .npy through the test tool (nothing but bash, awk,
# coreutils and gzip at test time)
: "${NCO_TOOL:?set NCO_TOOL to the nco_testtool binary}"
export NCO_TOOL
col() { "$NCO_TOOL" csv-col "$1" "$2"; }
cd "$TMP" || exit 1
# one thread: bit-for-bit comparisons are promised at a fixed thread count
export OMP_NUM_THREADS=1

FASHION=0
[ -r /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz ] && FASHION=1
MNIST=0
"$N" show /dev/stdin >/dev/null 2>&1 <<'EOF' && MNIST=1
[data]
source = mnist
[problem]
type = mlp
[run]
iterations = 1
EOF
skip() { echo "skipped: $*"; }

# ---- lists ----------------------------------------------------------------------
run lp list problems
for p in mlp lenet; do check "list problems names $p" grep -Eq "^  $p " lp.out; done
check "list problems: mlp's keys" grep -Eq "^  mlp .*widths, loss, init" lp.out
run ls list sources
expect_rc 0 "$RC" "ncopt list sources"
for s in synthetic npy idx csv fashion-mnist mnist; do check "list sources names $s" grep -Eq "^  $s " ls.out; done
run la list
check "ncopt list has sources:" grep -q "^sources:" la.out

# ---- small data files -----------------------------------------------------------
# 3 classes of 8×8 "images": a bright row (2·class + 1) per class plus noise
# in 0..59. Deterministic: a Park–Miller generator in awk (products < 2^46,
# exact in awk's doubles). One line per image: label, then 64 pixels.
images() { # N SEED
  awk -v n="$1" -v s="$2" 'function nx() { s = (s * 16807) % 2147483647; return s }
    BEGIN { for (i = 0; i < n; i++) { y = nx() % 3; l = y
      for (r = 0; r < 8; r++) for (c = 0; c < 8; c++) { v = nx() % 60; l = l " " (r == 2 * y + 1 ? 230 : v) }
      print l } }'
}
images 120 7 >train.txt
images 40 11 >test.txt
# IDX: big-endian magic 0 0 8(ubyte) ndim, then one 4-byte size per axis
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
pix() { printf '%b' "$(awk '{ for (i = 2; i <= NF; i++) printf "\\0%03o", $i }' "$1")"; }
lab() { printf '%b' "$(awk '{ printf "\\0%03o", $1 }' "$1")"; }
{ printf "\\x00\\x00\\x08\\x03$(be32 120)$(be32 8)$(be32 8)"; pix train.txt; } | gzip -n >train-images.gz
{ printf "\\x00\\x00\\x08\\x01$(be32 120)"; lab train.txt; } | gzip -n >train-labels.gz
{ printf "\\x00\\x00\\x08\\x03$(be32 40)$(be32 8)$(be32 8)"; pix test.txt; } >test-images
{ printf "\\x00\\x00\\x08\\x01$(be32 40)"; lab test.txt; } >test-labels
"$NCO_TOOL" npy-write X.npy f4 120,64 $(awk '{ for (i = 2; i <= NF; i++) printf "%.9g\n", $i / 255 }' train.txt)
"$NCO_TOOL" npy-write T.npy f4 120,3 $(awk '{ for (k = 0; k < 3; k++) print ($1 == k) }' train.txt)
{ awk 'BEGIN { for (j = 0; j < 64; j++) printf "p%d,", j; print "label" }'
  awk '{ for (i = 2; i <= NF; i++) printf "%d,", $i; print $1 }' train.txt; } >d.csv
# an MLP 64-8-3 starting point (dims: fc1 64·8 + 8, fc2 8·3 + 3): uniform
# on ±0.1·√3 (standard deviation 0.1)
"$NCO_TOOL" npy-write init.npy f4 $((64 * 8 + 8 + 8 * 3 + 3)) $(awk -v n=$((64 * 8 + 8 + 8 * 3 + 3)) 'BEGIN { s = 12345
  for (i = 0; i < n; i++) { s = (s * 16807) % 2147483647; printf "%.9g\n", (2 * s / 2147483647 - 1) * 0.1 * sqrt(3) } }')
check "IDX/CSV/npy inputs written" test -s train-images.gz -a -s test-labels -a -s X.npy -a -s T.npy -a -s init.npy

cat >idx.ini <<'EOF'
[data]
source = idx
images = train-images.gz
labels = train-labels.gz
test_images = test-images
test_labels = test-labels
[problem]
type = mlp
widths = 8
[optimizer]
type = sgd
lr = 0.5
batch = 20
[run]
epochs = 10
log_every = 6
eval_every = 12
init = init.npy
[probes]
distance = true
EOF
run idx train idx.ini --out idxr --quiet
expect_rc 0 "$RC" "mlp on IDX files"
expect_eq "iter,epoch,seconds,loss,lr,batch_loss,full_loss,distance,distance.fc1,distance.fc2,test_loss,test_acc" "$(head -1 idxr/trace.csv)" \
  "trace header: per-layer distances, test metrics"
P=$("$NCO_TOOL" json idxr/summary.json parameters)
expect_eq 3 "$(awk -v p="$P" 'BEGIN { if (p != "") print p - 64 * 8 - 8 - 8 * 3 }')" \
  "classes inferred from the labels (3 outputs)"
# every row: test_acc present iff iter % 12 == 0 (and there are rows)
eval_rows() {
  paste -d' ' <(col idxr/trace.csv iter) <(col idxr/trace.csv test_acc) |
    awk '{ n++; if (($2 != "") != ($1 % 12 == 0)) { print "  iter " $1 ": test_acc \"" $2 "\"" >"/dev/stderr"; bad = 1 } }
         END { exit bad || n == 0 }'
}
check "test metrics every 12 steps only, and at step 0" eval_rows
# the classes are separable (one bright row each): a trained MLP gets them
# at_least FILE KEY MIN: a number in a JSON file is ≥ MIN
at_least() {
  local v
  v=$("$NCO_TOOL" json "$1" "$2") || return 1
  awk -v v="$v" -v m="$3" 'BEGIN { if (v == "" || v + 0 < m + 0) { print "  " v " < " m >"/dev/stderr"; exit 1 } }'
}
check "IDX mlp: final test accuracy ≥ 0.9 (the classes differ by a bright row)" at_least idxr/summary.json final_test_acc 0.9
# per-layer distance = ‖θ_l − θ_l,0‖/‖θ_l,0‖ of the slices (fc1: weight and bias)
# in double from the float32 values (printed exactly, %.17g), relative 1e-6
layer_dist() { # NAME FROM TO (0-based, TO exclusive; TO empty = to the end)
  local got
  got=$(col idxr/trace.csv "distance.$1" | tail -1)
  paste -d' ' <("$NCO_TOOL" npy-values idxr/params.npy) <("$NCO_TOOL" npy-values init.npy) |
    awk -v a="$2" -v b="$3" -v got="$got" -v name="$1" '
      { i = NR - 1; if (i >= a && (b == "" || i < b)) { d += ($1 - $2) ^ 2; z += $2 ^ 2 } n++ }
      END { if (n != 64 * 8 + 8 + 8 * 3 + 3 || z == 0 || got == "") exit 1
            want = sqrt(d) / sqrt(z); e = got - want; if (e < 0) e = -e
            if (e > 1e-6 * want) { print "  " name ": " got " vs " want >"/dev/stderr"; exit 1 } }'
}
check "distance.fc1 from params.npy and init.npy" layer_dist fc1 0 $((64 * 8 + 8))
check "distance.fc2 from params.npy and init.npy" layer_dist fc2 $((64 * 8 + 8)) ""
for f in layers.png test.png; do check "plot $f" test -s "idxr/$f"; done

cat >csv.ini <<'EOF'
[data]
source = csv
path = d.csv
label = label
test_fraction = 0.25
scale = standardize
[problem]
type = mlp
widths = 8
loss = least_squares
[optimizer]
type = adam
lr = 0.01
[run]
iterations = 60
log_every = 20
eval_every = 20
[probes]
misfit = true
EOF
run csv train csv.ini --out csvr --quiet
expect_rc 0 "$RC" "mlp (least squares) on a CSV file, standardised, 25% held out"
expect_eq 30 "$(json csvr/summary.json test_samples)" "test_fraction 0.25 of 120"
expect_eq 90 "$(json csvr/summary.json samples)" "training samples: the rest"
expect_eq "sum" "$(grep '^reduction' csvr/spec.ini | cut -d' ' -f3)" "least squares: reduction sum by default"
# first_last FILE COLUMN AWK-CONDITION on f (first row) and l (last row)
first_last() {
  local v
  v=$(col "$1" "$2") || return 1
  awk -v f="$(head -1 <<<"$v")" -v l="$(tail -1 <<<"$v")" "BEGIN { exit !(f != \"\" && l != \"\" && ($3)) }"
}
check "csv: misfit decreases (first row 1, last < 0.5)" first_last csvr/trace.csv misfit "f == 1 && l < 0.5"
cat >npy.ini <<'EOF'
[data]
source = npy
features = X.npy
targets = T.npy
subset = 100
subset_order = first
[problem]
type = mlp
widths = 8
loss = least_squares
[optimizer]
type = sgd
lr = 0.05
[run]
iterations = 20
EOF
run npy train npy.ini --out npyr --quiet
expect_rc 0 "$RC" "mlp on .npy features and one-hot target rows"
expect_eq 100 "$(json npyr/summary.json samples)" "subset = 100"
run npyce train npy.ini --out npyce --quiet --set problem.loss=cross_entropy
expect_rc 0 "$RC" "cross-entropy on soft target rows"
expect_eq "mean" "$(grep '^reduction' npyce/spec.ini | cut -d' ' -f3)" "cross-entropy: reduction mean by default"
run nst train npy.ini --out nst --quiet --set data.downsample=4
expect_rc 2 "$RC" "downsample of flat features"
check "downsample of flat features: located" grep -q "^--set:1: data.downsample: needs images" nst.err
run nss train npy.ini --out nss --quiet --set data.subset=500
expect_rc 2 "$RC" "subset larger than the data"
check "subset larger than the data: located, one line" bash -c "[ \$(wc -l <nss.err) = 1 ] && grep -q '^--set:1: data.subset: 500 is more than the 120 samples' nss.err"
grep -v -e '^widths' -e '^init' idx.ini >lenet.ini
run ln train lenet.ini --out lnr --quiet --set problem.type=lenet --set data.downsample=16 --set run.epochs=1
expect_rc 0 "$RC" "lenet on 8×8 IDX images upsampled to 16×16"
expect_eq "distance,distance.conv1,distance.conv2,distance.fc1,distance.fc2,distance.fc3,test_loss,test_acc" \
  "$(head -1 lnr/trace.csv | cut -d, -f8-)" "lenet: five layers with parameters"
run ln8 train lenet.ini --out ln8 --quiet --set problem.type=lenet
expect_rc 2 "$RC" "lenet on 8×8 images (too small for its second convolution)"
check "lenet on 8×8 images: located at problem.type" grep -q "^--set:1: problem.type: lenet does not fit the inputs (120, 8, 8)" ln8.err

# ---- dropout: interrupted and resumed = uninterrupted --------------------------
cat >drop.ini <<'EOF'
[data]
source = idx
images = train-images.gz
labels = train-labels.gz
[problem]
type = mlp
widths = 16, 16
dropout = 0.3
[optimizer]
type = sgd
lr = 0.2
momentum = 0.9
batch = 10
[run]
iterations = 4000
log_every = 20
checkpoint_every = 50
[probes]
grad_norm = 40
EOF
run dref train drop.ini --out dref --quiet
expect_rc 0 "$RC" "mlp with dropout"
if kill_at_row dk 30 INT train drop.ini --out dk; then
  expect_rc 130 "$RC" "SIGINT a network with dropout"
  run dkr resume dk --quiet
  expect_rc 0 "$RC" "resume a network with dropout"
  check "dropout network: resumed = uninterrupted (trace minus timing, params)" same_run dref dk
fi

# ---- spec errors of the data keys --------------------------------------------------
printf '[problem]\ntype = mlp\n[data]\nsource = fashion-mnist\n[run]\niterations = 3\n' >fm.ini
NCOPT_DATA_DIR=$TMP/none run miss train fm.ini --out miss
expect_rc 2 "$RC" "a data set that is not installed"
check "not installed: one line at data.source saying where to put it" bash -c "[ \$(wc -l <miss.err) = 1 ] && grep -q '^fm.ini:4: data.source: fashion-mnist: .*not found' miss.err"
check "not installed: no output folder" test ! -e miss
printf '[problem]\ntype = mlp\n[data]\nsource = mnist\n[run]\niterations = 3\n' >mn.ini
NCOPT_DATA_DIR=$TMP/none run missm train mn.ini --out missm
expect_rc 2 "$RC" "mnist not installed"
check "mnist not installed: the message names labels.npy" grep -q "data.source: mnist: .*labels.npy not found" missm.err
printf '[problem]\ntype = mlp\n[run]\niterations = 3\n' >syn.ini
run syn show syn.ini
expect_rc 2 "$RC" "a network on synthetic data"
check "a network on synthetic data: message" grep -q "^syn.ini:4: data.source: mlp needs real data" syn.err
run wd train idx.ini --out wd --set problem.widths=8,0
expect_rc 2 "$RC" "a zero width"
check "a zero width: located at --set" grep -q "^--set:1: problem.widths: '0' is not a width" wd.err
run ev train npy.ini --out ev --set run.eval_every=5
expect_rc 2 "$RC" "eval_every without a held-out set"
check "eval_every without a held-out set: message" grep -q "run.eval_every: no held-out set" ev.err
run ti train idx.ini --out ti --set data.test_labels=
expect_rc 2 "$RC" "test_images without test_labels"
run ce train idx.ini --out ce --set regularizer.type=invex --set regularizer.lambda=1
expect_rc 2 "$RC" "invex on a cross-entropy network"
check "invex on a cross-entropy network: message" grep -q "invex needs a least-squares problem; a network with loss = cross_entropy" ce.err
run ksrc show idx.ini --set data.n=5
expect_rc 2 "$RC" "a synthetic key with source = idx"
check "a synthetic key with source = idx: message" grep -q "data.n: does not apply to data.source = idx" ksrc.err

# ---- real data: Fashion-MNIST and MNIST ------------------------------------------
if [ "$FASHION" = 1 ]; then
  cat >fm.ini <<'EOF'
[data]
source = fashion-mnist
subset = 2000
test_subset = 1000
[problem]
type = mlp
widths = 64
[optimizer]
type = sgd
lr = 0.1
momentum = 0.9
batch = 100
[run]
epochs = 3
log_every = 20
eval_every = 20
EOF
  run fm train fm.ini --out fmr --quiet
  expect_rc 0 "$RC" "mlp on a Fashion-MNIST subset"
  # measured 0.79 (2000 images, 3 epochs, 1000 test images); a broken
  # pipeline (labels shuffled against images, unscaled pixels) stays near 0.1
  check "Fashion-MNIST mlp: test accuracy ≥ 0.7 after 3 epochs on 2000 images" at_least fmr/summary.json final_test_acc 0.7
  expect_eq 1000 "$(json fmr/summary.json test_samples)" "test_subset"
  run chen reproduce chen_activations --out chen --quiet --set data.subset=512 --set data.test_subset=200 --set run.epochs=2 \
    --set run.log_every=8 --set run.eval_every=8
  expect_rc 0 "$RC" "chen_activations (fast variant)"
  for a in sigmoid tanh relu leaky_relu; do
    expect_eq true "$("$NCO_TOOL" json "chen/activation=$a/summary.json" regularity.replay_identical)" "chen_activations $a: replay identical"
    check "chen_activations $a: regularity.csv" test -s "chen/activation=$a/regularity.csv"
  done
else
  skip "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
fi
if [ "$MNIST" = 1 ]; then
  run oy reproduce oymak_lenet --out oy --quiet --set run.iterations=40 --set run.log_every=5 --set run.eval_every=20 \
    --set data.test_subset=200
  expect_rc 0 "$RC" "oymak_lenet (fast variant)"
  expect_eq "iter,epoch,seconds,loss,lr,batch_loss,full_loss,misfit,distance,distance.conv1,distance.conv2,distance.fc1,distance.fc2,distance.fc3,test_loss,test_acc" \
    "$(head -1 oy/trace.csv)" "oymak_lenet: misfit, distances per layer, test metrics"
  # first row misfit 1, last < 0.9; every distance* column > 0 in the last row
  oy_check() {
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "misfit") m = i; if ($i ~ /^distance/) d[i] = 1 }; next }
             NR == 2 { first = $m } { last = $0 }
             END { if (!m || NR < 2 || first != 1) exit 1
                   split(last, f, ","); if (f[m] == "" || f[m] >= 0.9) exit 1
                   for (i in d) if (f[i] == "" || f[i] <= 0) exit 1 }' oy/trace.csv
  }
  check "oymak_lenet: misfit falls, distances grow" oy_check
  check "oymak_lenet: misfit_distance plot" test -s oy/misfit_distance.png
  run im reproduce invex_mlp --out im --quiet --set run.iterations=300 --set run.eval_every=100 --set data.test_subset=200
  expect_rc 0 "$RC" "invex_mlp (fast variant)"
  # Crane & Roosta Theorem 2(ii) on a network's residuals; 1e-5 relative
  # slack for the float32 gradient (as test_diag_cli)
  for p in "invex,lambda=1:1" "invex,lambda=0.1:0.01"; do
    d=${p%%:*} l2=${p##*:}
    # pl_ratio ≥ L2·(1 − 1e-5) at each of the 16 rows
    pl_rows() {
      col "im/type=$d/trace.csv" pl_ratio | awk -v l2="$l2" '{ n++; if ($1 == "" || $1 < l2 * (1 - 1e-5)) bad = 1 } END { exit bad || n != 16 }'
    }
    check "invex_mlp $d: pl_ratio ≥ λ² = $l2 at every row" pl_rows
  done
  expect_eq "none,lambda=0 l2,lambda=0.01 l2,lambda=0.001 invex,lambda=1 invex,lambda=0.1" "$(cut -f1 im/points.txt | sed 's/^type=//' | tr '\n' ' ' | sed 's/ $//')" \
    "invex_mlp: the five points"
else
  skip "MNIST is not installed (scripts/install-deps)"
fi

finish
