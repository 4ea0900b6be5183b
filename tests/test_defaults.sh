# What a spec with no logging keys costs and writes (issue "Daily use"):
# counted in evaluations and samples touched (summary.json), never in
# seconds. Minibatch runs: the per-row loss is the mean step loss (no
# evaluation of its own), the full-data loss only where run.full_loss_every
# asks and at the last row; full-batch runs reuse the step's evaluation;
# about 1000 rows by default; automatic checkpoints make a SIGKILLed run
# resumable; `resume --set run.epochs=N` extends a finished run to the same
# bits as a run of N epochs; numbers in their shortest form; files with
# the user's umask; `eval` on networks and lifted runs.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1

# ---- minibatch: n = 256, batch 32 → 8 steps an epoch ------------------------
cat >mb.ini <<'EOF'
[data]
n = 256
d = 8
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 0.01
batch = 32
[run]
epochs = 3
EOF
run mb train mb.ini --out mb --quiet
expect_rc 0 "$RC" "minibatch run with the default logging keys"
# training touches 3·256 samples; the last row's full-data loss (reused by
# summary.json) 256 more; nothing else
expect_eq 1024 "$(json mb/summary.json evaluations.samples)" "default minibatch run: samples touched = 3 epochs + one loss pass"
expect_eq 1 "$(json mb/summary.json evaluations.loss)" "default minibatch run: one loss-only evaluation (the last row)"
expect_eq 24 "$(json mb/summary.json evaluations.grad)" "default minibatch run: one gradient per step"
expect_eq "iter,epoch,seconds,loss,lr,batch_loss,full_loss" "$(head -1 mb/trace.csv)" "minibatch trace header"
# a step of 32 samples × 8 parameters is far cheaper than a row: rows at
# least 40000/(32·8) = 157 steps apart, so only step 0 and the last
expect_eq "0 24" "$(csv_col mb/trace.csv iter | tr '\n' ' ' | sed 's/ $//')" "tiny steps: rows spaced to cost ≤ 5% (steps 0 and 24)"
check "full_loss only on the last row" awk -F, 'NR > 1 { n += ($7 != "") } END { exit !(n == 1 && $7 != "") }' mb/trace.csv
run mb1 train mb.ini --out mb1 --quiet --set run.log_every=1
expect_eq 25 "$(rows mb1/trace.csv)" "log_every = 1: a row every step"
cmp -s mb/params.npy mb1/params.npy && ok || bad "log_every changes no parameter"
# log_every = 1: the mean step loss of one step is that step's loss
check "log_every 1: loss = batch_loss on every row after step 0" awk -F, 'NR > 2 && $4 != $6 { bad = 1 } END { exit bad }' mb1/trace.csv
expect_eq "$(json mb/summary.json final_loss)" "$(awk -F, 'END { printf "%.17g\n", $7 }' mb/trace.csv)" \
  "summary final_loss = the last row's full_loss"

# the mean over the steps between rows: a row every 4 steps averages the
# four batch losses of the log_every = 1 run (same trajectory)
run mb4 train mb.ini --out mb4 --quiet --set run.log_every=4
expect_rc 0 "$RC" "log_every = 4"
cmp -s mb/params.npy mb4/params.npy && ok || bad "log_every 4 changes no parameter"
check "loss of a row = mean of the 4 step losses since the previous row" awk -F, '
  FNR == 1 { next }
  NR == FNR { bl[$1] = $6; next }
  $1 > 0 { m = (bl[$1 - 3] + bl[$1 - 2] + bl[$1 - 1] + bl[$1]) / 4
           if ((($4 - m) > 1e-12 * (m < 0 ? -m : m)) || ((m - $4) > 1e-12 * (m < 0 ? -m : m))) { print "  row " $1 ": " $4 " vs " m > "/dev/stderr"; bad = 1 } }
  END { exit bad }' mb1/trace.csv mb4/trace.csv

# full_loss_every = epoch: step 0 and every epoch boundary, one loss pass each
run mbe train mb.ini --out mbe --quiet --set run.full_loss_every=epoch
expect_rc 0 "$RC" "full_loss_every = epoch"
expect_eq 1792 "$(json mbe/summary.json evaluations.samples)" "full_loss_every = epoch: 3 epochs + 4 loss passes (steps 0, 8, 16, 24)"
expect_eq "0 8 16 24" "$(awk -F, 'NR > 1 && $7 != "" { printf "%s%s", s, $1; s = " " } END { print "" }' mbe/trace.csv)" \
  "full_loss at step 0 and the epoch boundaries"
cmp -s mb/params.npy mbe/params.npy && ok || bad "full_loss_every changes no parameter"
# a stopping rule on the loss needs the full loss at every row
run mbt train mb.ini --out mbt --quiet --set run.target_loss=-1 --set run.log_every=1
expect_eq 25 "$(json mbt/summary.json evaluations.loss)" "target_loss: the full-data loss at every row"

# ---- full batch -------------------------------------------------------------
cat >fb.ini <<'EOF'
[data]
n = 400
d = 100
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 0.001
[run]
iterations = 5000
EOF
run fb train fb.ini --out fb --quiet
expect_rc 0 "$RC" "full-batch GD with the default logging keys"
expect_eq 1001 "$(rows fb/trace.csv)" "5000 steps of 400 × 100: a row every 5 steps (about 1000 rows)"
expect_eq 5001 "$(json fb/summary.json evaluations.grad)" "full-batch GD: the rows reuse the step's evaluation (5000 + the last point)"
expect_eq 0 "$(json fb/summary.json evaluations.loss)" "full-batch GD: no loss-only evaluation"
expect_eq "iter,epoch,seconds,loss,lr,batch_loss" "$(head -1 fb/trace.csv)" "full-batch trace header (no full_loss column)"
# a method whose step does not evaluate at x_t: rows ≥ 20 steps apart
run fba train fb.ini --out fba --quiet --set optimizer.type=accelegrad --set run.iterations=100 --set optimizer.diameter=10 --set optimizer.G=10
expect_rc 0 "$RC" "accelegrad, default logging"
expect_eq "0 20 40 60 80 100" "$(csv_col fba/trace.csv iter | tr '\n' ' ' | sed 's/ $//')" "accelegrad: a row every 20 steps"
expect_eq 5 "$(json fba/summary.json evaluations.loss)" "accelegrad: one loss evaluation per row (rows 0 … 80)"
expect_eq 101 "$(json fba/summary.json evaluations.grad)" "accelegrad: 100 steps + the last row's gradient (summary.json)"

# ---- numbers in their shortest form -------------------------------------------
expect_eq 0.001 "$(csv_col fb/trace.csv lr | head -1)" "trace: lr 0.001 as written"
check "summary.json: no 17-digit renderings of short numbers" bash -c '! grep -Eq "[0-9]\.[0-9]*0000000000[0-9]" fb/summary.json'
check "trace.csv: epoch 0.125, not 0.12500000000000000" grep -q '^1,0.125,' mb1/trace.csv

# ---- umask ------------------------------------------------------------------
(umask 077 && "$N" train fb.ini --out um --quiet --set run.iterations=10) || bad "umask 077 run"
expect_eq "600 600 600 600" "$(stat -c %a um/trace.csv um/summary.json um/params.npy um/loss.png | tr '\n' ' ' | sed 's/ $//')" "umask 077: files 0600"
(umask 022 && "$N" train fb.ini --out um2 --quiet --set run.iterations=10) || bad "umask 022 run"
expect_eq "644 644 644 644 644" "$(stat -c %a um2/trace.csv um2/summary.json um2/params.npy um2/loss.png um2/checkpoint.bin | tr '\n' ' ' | sed 's/ $//')" \
  "umask 022: files 0644"

# ---- resume extends a finished run ---------------------------------------------
run e2 train mb.ini --out e2 --quiet --set run.epochs=2
run e2r resume e2 --quiet --set run.epochs=3
expect_rc 0 "$RC" "resume --set run.epochs=3 of a finished 2-epoch run"
expect_eq 24 "$(json e2/summary.json iterations)" "extended run: 24 steps"
cmp -s mb/params.npy e2/params.npy && ok || bad "2 epochs + extension to 3 = 3 epochs, bit for bit"
check "extended run: spec.ini says epochs = 3" grep -q '^epochs = 3$' e2/spec.ini
run e2x resume e2 --quiet --set optimizer.lr=0.5
expect_rc 2 "$RC" "resume --set of a key that changes the experiment"
check "resume --set optimizer.lr: one clear line" bash -c "[ \$(wc -l <e2x.err) = 1 ] && grep -q '^--set:1: optimizer.lr: resume can change only run.iterations' e2x.err"
run e2s resume e2 --quiet --set run.epochs=1
expect_rc 2 "$RC" "resume --set run.epochs shorter than the run"
check "shorter: says where the run is" grep -q "already at step 24" e2s.err

# ---- automatic checkpoints: a SIGKILLed run resumes to the same bits -----------
cat >ck.ini <<'EOF'
[data]
n = 2000
d = 50
[problem]
type = glm
activation = sigmoid
[optimizer]
type = adam
lr = 0.001
batch = 10
[run]
epochs = 40
seed = 3
EOF
"$N" train ck.ini --out ckref --quiet --set run.log_every=1 || bad "checkpoint reference run"
# checkpoint_seconds = 0: as often as 50× a checkpoint's own duration allows
start_bg train ck.ini --out ck --quiet --set run.log_every=1 --set run.checkpoint_seconds=0
if wait_rows ck/trace.csv 300; then
  t0=$SECONDS
  until [ -f ck/checkpoint.bin ] || [ $((SECONDS - t0)) -gt 20 ]; do sleep 0.01; done
  kill -9 "$PID"
  wait "$PID" 2>/dev/null
  check "auto checkpoint: a checkpoint exists when killed" test -f ck/checkpoint.bin
  check "auto checkpoint: killed before it finished" bash -c '! test -f ck/summary.json'
  run ckr resume ck --quiet
  expect_rc 0 "$RC" "resume after SIGKILL"
  check "SIGKILL + resume = uninterrupted (trace and params)" same_run ckref ck
else
  bad "auto checkpoint: the run ended before 300 rows (make it longer)"
fi

# ---- eval: networks report accuracy; a lifted run needs its p ---------------------
cat >lift.ini <<'EOF'
[data]
n = 32
d = 4
[problem]
type = linear_ls
[regularizer]
type = invex
lambda = 0.5
[optimizer]
type = sgd
lr = 0.05
[run]
iterations = 50
EOF
run lf train lift.ini --out lf --quiet
run lfe eval lift.ini --params lf/params.npy
expect_rc 1 "$RC" "eval of a lifted run without --aux"
check "eval without p: says to pass --aux" grep -q "add --aux RUN/aux.npy" lfe.err
run lfa eval lift.ini --params lf/params.npy --aux lf/aux.npy
expect_rc 0 "$RC" "eval with --aux"
expect_eq "$(json lf/summary.json final_loss)" "$(awk '$1 == "loss" { printf "%.17g\n", $2 }' lfa.out)" "eval with the run's p = the run's final loss"
run lfz eval lift.ini --params lf/params.npy --aux zeros
expect_rc 0 "$RC" "eval --aux zeros"

# ---- a bool .npy of features (what np.save writes for a bool array) ---------------
# is read as 0/1 and, with data.scale = auto, not divided by 255: the run
# equals the one on the same values saved as float32
bits="1 0 1 1 0 0 1 0 1 1 1 0 0 1 0 1 0 0 0 1 1 1 0 0 1 0 1 0 0 1 1 1"
dict="{'descr': '|b1', 'fortran_order': False, 'shape': (8, 4), }"
pad=$((128 - 10 - ${#dict} - 1))
hl=$(printf '%02x' $((${#dict} + pad + 1)))
{ printf "\\x93NUMPY\\x01\\x00\\x${hl}\\x00"; printf '%s%*s\n' "$dict" "$pad" ""
  for b in $bits; do printf "\\x0$b"; done; } >Xb.npy
"$T" npy-shape Xb.npy >/dev/null || bad "bool npy written"
"$T" npy-write Xf.npy f4 "8,4" $bits || bad "f4 npy"
"$T" npy-write yb.npy f4 "8" 0 1 0 1 1 0 1 0 || bad "labels"
printf '[data]\nsource = npy\nfeatures = %s\ntargets = yb.npy\n[problem]\ntype = mlp\nwidths = 3\n[optimizer]\nlr = 0.1\n[run]\niterations = 5\n' Xb.npy >xb.ini
sed 's/Xb.npy/Xf.npy/' xb.ini >xf.ini
run xb train xb.ini --out xb --quiet
expect_rc 0 "$RC" "mlp on bool features"
run xf train xf.ini --out xf --quiet
check "bool features = the same 0/1 as float32 (not ÷ 255)" cmp -s xb/params.npy xf/params.npy
# eval of a classifier reports its accuracy; params.json maps params.npy
run xbe eval xb.ini --params xb/params.npy
expect_rc 0 "$RC" "eval of an mlp"
check "eval: accuracy of a classifier" grep -Eq "^accuracy +[0-9.]+ \(8 training samples\)$" xbe.out
expect_eq "$(json xb/summary.json parameters)" "$(json xb/params.json total)" "params.json: total = the parameters"
check "params.json: PyTorch's names and shapes (Linear(4, 3) first)" grep -q '{"name": "0.weight", "ncopt_name": "fc1.weight", "shape": \[3, 4\], "offset": 0, "length": 12}' xb/params.json

finish
