# A run whose loss becomes non-finite (a step size far too large) stops with
# exit status 3 and one line naming the step, keeps the last good
# checkpoint, writes a summary saying why, and its trace holds only finite
# rows. Full-batch (the step's own evaluation finds it) and minibatch (the
# optimiser refuses the step), inside a sweep (the other points still run),
# and a non-finite starting point.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1

cat >div.ini <<'EOF'
[data]
n = 20
d = 4
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 10
[run]
iterations = 1000
checkpoint_every = 4
log_every = 1
EOF

# stop_step FILE: the step named in "step N: non-finite ..."
stop_step() { sed -n 's/^ncopt: step \([0-9]*\): non-finite .*/\1/p' "$1"; }
diverges() { # diverges NAME ARGS...: checks the non-finite stop of one run
  local name=$1
  shift
  run "$name" train "$@" --out "$name" --quiet
  expect_rc 3 "$RC" "$name: exit status"
  check "$name: one line on stderr" one_line "$name.err"
  check "$name: the line names the step" grep -Eq '^ncopt: step [0-9]+: non-finite loss or gradient' "$name.err"
  check "$name: ... and the checkpoint kept" grep -q "the last good checkpoint (step [0-9]*) is kept" "$name.err"
  STEP=$(stop_step "$name.err")
  KEPT=$(sed -n 's/.*the last good checkpoint (step \([0-9]*\)) is kept.*/\1/p' "$name.err")
  check "$name: the kept checkpoint is not after the bad step" test "$KEPT" -le "$STEP"
  check "$name: checkpoint.bin kept" test -s "$name/checkpoint.bin"
  expect_eq non_finite "$(json "$name/summary.json" stop)" "$name: summary stop"
  expect_eq "$STEP" "$(json "$name/summary.json" iterations)" "$name: summary iterations = the bad step"
  check "$name: the summary's message names the step" grep -q "step $STEP: non-finite" "$name/summary.json"
  # every loss is a finite decimal number (not nan/inf/empty, no overflow),
  # there is at least one row, and the last row is not after the bad step
  check "$name: every trace row is complete and finite" awk -F, -v step="$STEP" -v minibatch="$(head -1 "$name/trace.csv" | grep -c full_loss)" '
    NR > 1 {
      n++
      if ($4 == "" && $1 == 0 && minibatch) { it = 0; next } # no step yet: no mean step loss
      if ($4 !~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/) { print "  row " NR ": " $0 > "/dev/stderr"; bad = 1 }
      v = $4 + 0
      if (!(v == v && v - v == 0)) { print "  row " NR ": " $0 > "/dev/stderr"; bad = 1 }
      it = $1
    }
    END { if (n == 0) print "  no rows" > "/dev/stderr"; exit !(n > 0 && !bad && step != "" && it + 0 <= step + 0) }' <"$name/trace.csv"
  check "$name: the loss plot is drawn" test -s "$name/loss.png"
}

diverges full div.ini
# resuming goes back to the last good checkpoint and diverges again, at the same step
run full_res resume full --quiet
expect_rc 3 "$RC" "resume of a diverged run"
expect_eq "$(stop_step full.err)" "$(stop_step full_res.err)" "the resumed run diverges at the same step"

diverges minibatch div.ini --set optimizer.batch=5 --set optimizer.lr=30
check "minibatch: the optimiser's batch evaluation found it" grep -q "(optimizer sgd: step $STEP: " minibatch.err

# a diverging sweep point does not stop the others
cat >divsweep.ini <<'EOF'
[data]
n = 20
d = 4
[problem]
type = linear_ls
[optimizer]
type = sgd
[run]
iterations = 200
[sweep]
optimizer.lr = 0.001, 10, 0.002
EOF
run sw train divsweep.ini --out sw --quiet
expect_rc 3 "$RC" "a sweep with a diverging point"
check "sweep: one line naming the diverged point" bash -c "[ \$(wc -l <sw.err) = 1 ] && grep -q 'ncopt: 1 of 3 sweep points diverged (non-finite loss): lr=10' sw.err"
expect_eq max_iter "$(json sw/lr=0.002/summary.json stop)" "sweep: the point after the diverged one ran"
expect_eq non_finite "$(json sw/lr=10/summary.json stop)" "sweep: the diverged point's summary"
check "sweep: the overlay is drawn" test -s sw/sweep_loss.png

# a non-finite starting point
npy_write nan.npy f4 4 1 nan 0 0
run nanini train div.ini --out nanini --quiet --set run.init="$TMP/nan.npy"
expect_rc 3 "$RC" "a non-finite init"
check "non-finite init: one line naming it" bash -c "[ \$(wc -l <nanini.err) = 1 ] && grep -q 'run.init: parameter 1 is not finite' nanini.err"
check "non-finite init: no folder" test ! -e nanini

finish
