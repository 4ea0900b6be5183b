# Atomic writes: a run checkpointing at every step is killed with SIGKILL
# at random instants, ~20 times, each time resumed. After every kill the
# trace holds only complete rows and checkpoint.bin or checkpoint.prev.bin
# loads (the next resume starts); at the end the run equals an
# uninterrupted one byte for byte (trace minus seconds, params).
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1
RANDOM=4242 # reproducible kill times

cat >at.ini <<'EOF'
[data]
n = 64
d = 8
[problem]
type = glm
[regularizer]
type = invex
lambda = 0.1
[optimizer]
type = adam
lr = 0.01
batch = 8
[run]
iterations = 120
log_every = 1
checkpoint_every = 1
[probes]
grad_norm = true
path_length = true
loss_unreg = 7
EOF
"$N" train at.ini --out ref --quiet --set run.checkpoint_every=0 || bad "reference run failed"

# kill delays scaled to this machine: the process start-up plus up to four
# steps (each step fsyncs a checkpoint: from well under a millisecond to
# ~10 ms depending on the disk), so that every resume makes little progress
ms() { "$PY" -c "import sys; print(int(1000 * (float(sys.argv[2]) - float(sys.argv[1]))))" "$@"; }
t0=$EPOCHREALTIME
"$N" --version >/dev/null
t1=$EPOCHREALTIME
"$N" train at.ini --out calib --quiet --set run.iterations=40 --set run.log_every=40
t2=$EPOCHREALTIME
START_MS=$(ms "$t0" "$t1")
STEP_MS=$(($(ms "$t1" "$t2") / 40 + 1))
echo "(start-up ${START_MS} ms, ~${STEP_MS} ms a step)"
delay() { local d=$((START_MS + RANDOM % (4 * STEP_MS + 1))); printf '%d.%03d' $((d / 1000)) $((d % 1000)); }

start_bg train at.ini --out k --quiet
wait_rows k/trace.csv 3 || bad "the first run ended before its first checkpoint"
kill -9 "$PID"
wait "$PID" 2>/dev/null
kills=1 finished=0 grew=0 last=0
for i in $(seq 1 25); do
  check "kill $kills: the trace holds only complete rows" complete_rows k/trace.csv
  r=$(rows k/trace.csv)
  [ "$r" -gt "$last" ] && grew=$((grew + 1))
  last=$r
  start_bg resume k --quiet
  sleep "$(delay)"
  if kill -9 "$PID" 2>/dev/null; then
    wait "$PID" 2>/dev/null
    RC=$?
    kills=$((kills + 1))
  else
    wait "$PID" 2>/dev/null
    RC=$?
  fi
  case $RC in
    137) ok ;; # killed while running: it had loaded a checkpoint (or was starting)
    0)
      finished=1
      ok
      break
      ;;
    *) bad "resume after kill $kills: exit status $RC: $(cat "$TMP/bg.err")" ;;
  esac
done
echo "($kills kills; the trace grew between $grew of them)"
check "the resumed runs made progress between kills" test "$grew" -ge 5
if [ "$finished" = 0 ]; then
  run last resume k --quiet
  expect_rc 0 "$RC" "the last resume"
fi
check "killed $kills times at random instants and resumed = uninterrupted" same_run ref k
check "no temporary files left" bash -c '! ls k | grep -q "\.tmp\."'
check "the trace holds only complete rows" complete_rows k/trace.csv
check "at least 10 kills landed before the run finished" test "$kills" -ge 10

finish
