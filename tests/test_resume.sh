# Kill and resume: a run killed with SIGKILL at an arbitrary step and
# continued with `ncopt resume` ends with trace.csv (minus the seconds
# column) and params.npy identical byte for byte to an uninterrupted run —
# full-batch SGD (its step reuses the logged evaluation), Adam on reshuffled
# minibatches, SGLD (the method's own noise), sampling with replacement,
# AcceleGrad (queries away from its iterate). SIGINT/SIGTERM: exit
# 130/143 with a checkpoint; damaged checkpoints fall back to the previous
# one; resume from another folder with relative data paths; sweeps.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1

cat >base.ini <<'EOF'
[data]
n = 64
d = 8
seed = 2
[problem]
type = glm
[run]
seed = 5
log_every = 3
checkpoint_every = 25
[probes]
grad_norm = 5
dist_init = true
path_length = true
EOF
spec() { # spec NAME OPTIMIZER-LINES...: base.ini plus an [optimizer] section
  local name=$1
  shift
  { cat base.ini; echo "[optimizer]"; printf '%s\n' "$@"; } >"$name.ini"
}
spec sgd "type = sgd" "lr = 0.05" "momentum = 0.9"
spec adam "type = adam" "lr = 0.01" "batch = 8"
spec sgld "type = sgld" "lr = 0.001" "batch = 16" "inv_temp = 100"
spec repl "type = sgd" "lr = 0.01" "batch = 5" "sampling = replacement"
spec accel "type = accelegrad" "lr = 0.5"

# interrupted NAME SIGNAL WANT_RC: runs NAME.ini into k_NAME and sends SIGNAL
# after about a twelfth of the rows. If the run ended (or nearly) before
# the signal could land mid-run (a fast disk makes the checkpoints cheap),
# it is made 8 times longer and tried again. Sets ITERS.
interrupted() {
  local name=$1 sig=$2 want=$3 k
  ITERS=300
  for try in 1 2 3 4; do
    rm -rf "k_$name"
    k=$((ITERS / 12))
    start_bg train "$name.ini" --out "k_$name" --quiet --set run.iterations=$ITERS
    if wait_rows "k_$name/trace.csv" "$k" && [ "$(rows "k_$name/trace.csv")" -le $((2 * k)) ]; then
      kill "-$sig" "$PID"
      wait "$PID" 2>/dev/null
      RC=$?
      expect_rc "$want" "$RC" "$name: SIG$sig"
      return 0
    fi
    kill -9 "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    ITERS=$((ITERS * 8))
  done
  bad "$name: the run always finished before the signal"
  return 1
}
reference() { # reference NAME: the uninterrupted run, ITERS steps
  "$N" train "$1.ini" --out "f_$1" --quiet --force --set run.iterations=$ITERS || bad "$1: reference run failed"
}

for name in sgd adam sgld repl accel; do
  interrupted "$name" KILL 137 || continue
  check "$name: killed mid-run (no summary yet)" test ! -e "k_$name/summary.json"
  before=$(rows "k_$name/trace.csv")
  run "res_$name" resume "k_$name" --quiet
  expect_rc 0 "$RC" "$name: resume after SIGKILL"
  reference "$name"
  check "$name: killed at row $before and resumed = uninterrupted (trace minus seconds, params)" same_run "f_$name" "k_$name"
  check "$name: the summaries agree (timing aside)" cmp -s <(grep -v seconds "f_$name/summary.json") <(grep -v seconds "k_$name/summary.json")
  check "$name: no temporary files left" bash -c "! ls k_$name | grep -q '\.tmp\.'"
done

# resuming a finished run changes nothing
cp f_sgd/trace.csv sgd_trace_before.csv
run fin resume f_sgd --quiet
expect_rc 0 "$RC" "resume of a finished run"
check "resume of a finished run: no rows added" cmp -s sgd_trace_before.csv f_sgd/trace.csv

# ---- SIGINT and SIGTERM: finish the step, checkpoint, outputs, 130/143 ----
interrupted adam INT 130
check "SIGINT: a checkpoint" test -s k_adam/checkpoint.bin
check "SIGINT: a summary with stop = cancelled" bash -c "[ \"\$(grep -o '\"stop\": \"[a-z_]*\"' k_adam/summary.json)\" = '\"stop\": \"cancelled\"' ]"
check "SIGINT: params.npy written" test -s k_adam/params.npy
check "SIGINT: the trace has only complete rows" complete_rows k_adam/trace.csv
cp -r k_adam k_adam_copy1
cp -r k_adam k_adam_copy2
cp -r k_adam k_adam_copy3
run resint resume k_adam --quiet
expect_rc 0 "$RC" "resume after SIGINT"
reference adam
check "SIGINT + resume = uninterrupted" same_run f_adam k_adam
ITERS_ADAM=$ITERS

interrupted sgd TERM 143
run resterm resume k_sgd --quiet
expect_rc 0 "$RC" "resume after SIGTERM"
reference sgd
check "SIGTERM + resume = uninterrupted" same_run f_sgd k_sgd

# ---- damaged checkpoints ------------------------------------------------------
flip_byte() { # flip_byte FILE: corrupts a byte in the middle
  local f=$1 size
  size=$(stat -c %s "$f")
  printf '\xff' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
}
flip_byte k_adam_copy1/checkpoint.bin
run corrupt resume k_adam_copy1 --quiet
expect_rc 0 "$RC" "resume with a corrupted checkpoint.bin"
check "corrupted: a note says why and that the previous one is used" bash -c "grep -q 'checksum mismatch' corrupt.err && grep -q 'checkpoint.prev.bin' corrupt.err"
check "corrupted: the run from checkpoint.prev.bin = uninterrupted" same_run f_adam k_adam_copy1
truncate -s 100 k_adam_copy2/checkpoint.bin
run trunc resume k_adam_copy2 --quiet
expect_rc 0 "$RC" "resume with a truncated checkpoint.bin"
check "truncated: the note says so" grep -q "truncated" trunc.err
check "truncated: the run from checkpoint.prev.bin = uninterrupted" same_run f_adam k_adam_copy2
flip_byte k_adam_copy3/checkpoint.bin
echo "not a checkpoint" >k_adam_copy3/checkpoint.prev.bin
run both resume k_adam_copy3 --quiet
expect_rc 1 "$RC" "resume with both checkpoints damaged"
check "both damaged: one line" one_line both.err
check "both damaged: it names both problems" bash -c "grep -q '^ncopt: .*no usable checkpoint: .*checksum mismatch.*bad magic number' both.err"
mkdir empty
run nock resume empty
expect_rc 1 "$RC" "resume of a folder without checkpoints"
check "no checkpoint: one line" one_line nock.err
run nodir resume does/not/exist
expect_rc 1 "$RC" "resume of a missing folder"
check "missing folder: one line" one_line nodir.err

# ---- relative data paths: resume works from any folder ----------------------------
mkdir -p proj/data work other
# 60 × 4 features, uniform with unit variance from a 32-bit LCG (exact in
# awk's doubles), targets A·(1, 2, 3, 4) + noise of scale 0.1
n=60 d=4
awk -v n=$n -v d=$d 'BEGIN {
  x = 1
  for (i = 0; i < n; i++) {
    s = 0
    for (j = 0; j < d; j++) {
      x = (x * 69069 + 1) % 4294967296
      a = (x / 4294967296 * 2 - 1) * sqrt(3)
      printf "%.9g ", a > "A.txt"
      s += a * (j + 1)
    }
    x = (x * 69069 + 1) % 4294967296
    printf "%.9g ", s + 0.1 * (x / 4294967296 * 2 - 1) * sqrt(3) > "b.txt"
  }
}'
# shellcheck disable=SC2046 # the values are words
npy_write proj/data/A.npy f4 "$n,$d" $(cat A.txt) || bad "writing A.npy"
# shellcheck disable=SC2046
npy_write proj/data/b.npy f4 "$n" $(cat b.txt) || bad "writing b.npy"
check "A.npy written" test "$(npy_shape proj/data/A.npy)" = "<f4 (60, 4)"
cat >proj/rel.ini <<'EOF'
[data]
source = npy
features = data/A.npy
targets = data/b.npy
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 0.002
batch = 6
[run]
log_every = 2
checkpoint_every = 25
EOF
cd work
ITERS=300
for try in 1 2 3 4; do
  rm -rf run_rel
  start_bg train ../proj/rel.ini --out run_rel --quiet --set run.iterations=$ITERS
  if wait_rows run_rel/trace.csv $((ITERS / 16)) && [ "$(rows run_rel/trace.csv)" -le $((ITERS / 8)) ]; then
    kill -INT "$PID"
    wait "$PID" 2>/dev/null
    RC=$?
    break
  fi
  kill -9 "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
  ITERS=$((ITERS * 8))
done
expect_rc 130 "$RC" "SIGINT (relative data paths)"
cd ../other
run ../resrel resume "$TMP/work/run_rel" --quiet
expect_rc 0 "$RC" "resume from another folder (relative data paths in the spec)"
cd ..
"$N" train proj/rel.ini --out f_rel --quiet --set run.iterations=$ITERS
check "relative data paths: interrupted + resumed elsewhere = uninterrupted" same_run f_rel work/run_rel

# ---- a sweep interrupted and resumed -------------------------------------------------
cat >sweep.ini <<'EOF'
[data]
n = 32
d = 4
[problem]
type = glm
[optimizer]
type = sgd
[run]
log_every = 2
checkpoint_every = 25
[sweep]
optimizer.lr = 0.05, 0.1
regularizer.type = none, l2
EOF
ITERS=200
for try in 1 2 3 4; do
  rm -rf k_sweep
  start_bg train sweep.ini --out k_sweep --quiet --set run.iterations=$ITERS
  # in the middle of the second point
  second="k_sweep/lr=0.1,type=none/trace.csv"
  if wait_rows "$second" $((ITERS / 16)) && [ "$(rows "$second")" -le $((ITERS / 4)) ]; then
    kill -INT "$PID"
    wait "$PID" 2>/dev/null
    RC=$?
    break
  fi
  kill -9 "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
  ITERS=$((ITERS * 8))
done
expect_rc 130 "$RC" "SIGINT during a sweep"
check "the interrupted sweep says how to continue it" grep -q "ncopt resume k_sweep$" "$TMP/bg.err"
run swres resume k_sweep --quiet
expect_rc 0 "$RC" "resume of a sweep folder"
"$N" train sweep.ini --out f_sweep --quiet --set run.iterations=$ITERS
for p in "lr=0.05,type=none" "lr=0.1,type=none" "lr=0.05,type=l2" "lr=0.1,type=l2"; do
  check "sweep point $p: interrupted + resumed = uninterrupted" same_run "f_sweep/$p" "k_sweep/$p"
done
check "the resumed sweep redraws its overlay" test -s k_sweep/sweep_loss.png

finish
