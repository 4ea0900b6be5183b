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

start_bg train at.ini --out k --quiet
wait_rows k/trace.csv 3 || bad "the first run ended before its first checkpoint"
kill -9 "$PID"
wait "$PID" 2>/dev/null
kills=1 finished=0
for i in $(seq 1 25); do
  check "kill $kills: the trace holds only complete rows" complete_rows k/trace.csv
  start_bg resume k --quiet
  sleep "0.0$(printf %02d $((RANDOM % 40)))"
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
echo "($kills kills)"
if [ "$finished" = 0 ]; then
  run last resume k --quiet
  expect_rc 0 "$RC" "the last resume"
fi
check "killed $kills times at random instants and resumed = uninterrupted" same_run ref k
check "no temporary files left" bash -c '! ls k | grep -q "\.tmp\."'
check "the trace holds only complete rows" complete_rows k/trace.csv
check "at least 10 kills landed before the run finished" test "$kills" -ge 10

finish
