# The command as a PyTorch user meets it (issue "Daily use"): a --set of
# a type drops the old type's keys with a note, eval / probe / certify need
# no run length, a cosine schedule's horizon is the run's length, a sweep
# over methods with different keys ends with its table (printed and
# sweep.csv), and the progress line names the sweep's point.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1

cat >adam.ini <<'EOF'
[data]
n = 64
d = 8
[problem]
type = linear_ls
[optimizer]
type = adam
lr = 0.01
betas = 0.9, 0.99
amsgrad = True
[run]
iterations = 40
EOF
run ta train adam.ini --out ta --set optimizer.type=sgd
expect_rc 0 "$RC" "--set optimizer.type=sgd on an Adam spec"
check "... notes the keys it dropped" grep -q "^ncopt: note: ignored (does not apply to the new type): optimizer.betas, optimizer.amsgrad" ta.err
check "... and runs sgd" grep -qx "type = sgd" ta/spec.ini
check "... whose spec.ini has no Adam key" bash -c '! grep -Eq "^(betas|amsgrad) =" ta/spec.ini'
run ta2 train adam.ini --out ta2 --quiet --set optimizer.type=sgd --set optimizer.betas=0.5,0.5
expect_rc 2 "$RC" "a --set key that does not apply to the --set type stays an error"

# eval, probe hessian and certify look at a point: no run length
grep -v '^iterations' adam.ini >nolen.ini
run ev eval nolen.ini --params ta/params.npy --set optimizer.type=sgd
expect_rc 0 "$RC" "eval of a spec without run.iterations"
run pr probe hessian nolen.ini --params ta/params.npy
expect_rc 0 "$RC" "probe hessian of a spec without run.iterations"
run ce certify nolen.ini
expect_rc 0 "$RC" "certify of a spec without run.iterations"
run tr train nolen.ini --out tr --quiet
expect_rc 2 "$RC" "train still needs a length"

# cosine: the horizon is the run's planned steps (PyTorch's CosineAnnealingLR
# with T_max = the run): the last step's lr is lr_min
printf '[schedule]\ntype = cosine\nlr_min = 0.001\n' | cat adam.ini - >cos.ini
run cs train cos.ini --out cs --quiet --set run.log_every=1
expect_rc 0 "$RC" "cosine schedule, default horizon"
expect_eq 0.001 "$(csv_col cs/trace.csv lr | tail -1)" "cosine: lr at the last step (40) = lr_min"
expect_eq 0.01 "$(csv_col cs/trace.csv lr | head -1)" "cosine: lr at step 0 = lr"
# cos(π/2) = 6e-17 in double: 1e-15 relative
check "cosine: halfway (step 20) at the mean of lr and lr_min" holds "($(csv_col cs/trace.csv lr | sed -n 21p) - 0.0055)^2 < (1e-15 * 0.0055)^2"

# a sweep over methods whose keys differ
cat >sw.ini <<'EOF'
[data]
n = 64
d = 8
[problem]
type = linear_ls
[optimizer]
lr = 0.01
momentum = 0.9
batch = 16
[run]
epochs = 2
[sweep]
optimizer.type = sgd, adam, adagrad
EOF
run sw train sw.ini --out sw
expect_rc 0 "$RC" "sweep over sgd, adam, adagrad with momentum in the base spec"
check "momentum applies where it applies (sgd)" grep -qx "momentum = 0.9" sw/type=sgd/spec.ini
check "... and not to adam" bash -c '! grep -q "^momentum" sw/type=adam/spec.ini'
check "sweep.csv: a row per point" bash -c '[ $(wc -l <sw/sweep.csv) = 4 ]'
check "sweep.csv: header" grep -q "^point,type,final_loss,seconds,stop$" sw/sweep.csv
check "sweep.csv: the adam row" grep -Eq "^type=adam,adam,[0-9.e+-]+,[0-9.e+-]+,max_iter$" sw/sweep.csv
check "the table is printed on stdout" grep -Eq "^adagrad +[0-9.e+-]+ +[0-9.e+-]+ +max_iter" sw.out

# a point that diverges: the table shows '-' for its loss, the others run
cat >swd.ini <<'EOF'
[data]
n = 64
d = 8
[problem]
type = linear_ls
[optimizer]
type = sgd
batch = 16
[run]
epochs = 2
log_every = 1
[sweep]
optimizer.lr = 0.001, 1e30
EOF
run swd train swd.ini --out swd
expect_rc 3 "$RC" "a sweep with a diverging point"
check "diverged point: the table says - for its final loss" grep -Eq "^1e30 +- " swd.out
check "diverged point: sweep.csv leaves its loss empty" grep -q "^lr=1e30,1e30,,.*,non_finite$" swd/sweep.csv
check "diverged point: the other point's row has its loss" grep -Eq "^0.001 +[0-9.e+-]+ " swd.out
# resuming a finished sweep prints its table again
run swr resume sw
expect_rc 0 "$RC" "resume of a finished sweep"
check "resume of a finished sweep: the table" grep -Eq "^adagrad +[0-9.e+-]+ " swr.out
# keys whose names extend each other (lr, lr_decay) are told apart
cat >swl.ini <<'EOF'
[data]
n = 64
d = 8
[problem]
type = linear_ls
[optimizer]
type = adagrad
batch = 16
[run]
epochs = 1
[sweep]
optimizer.lr_decay = 0, 0.1
optimizer.lr = 0.01, 0.02
EOF
run swl train swl.ini --out swl --quiet
expect_rc 0 "$RC" "a sweep over lr and lr_decay"
check "lr and lr_decay: four points named by both" bash -c '[ $(wc -l <swl/points.txt) = 4 ] && grep -q "lr_decay=0.1,lr=0.02" swl/points.txt'

# the progress line names the point (on a terminal)
if script -qec true /dev/null >/dev/null 2>&1; then
  script -qec "$N train sw.ini --out swt --set run.epochs=100000" /dev/null >swt.txt 2>&1
  check "sweep progress: [k/3 point] step ..." grep -q '\[2/3 type=adam\] step' swt.txt
  check "minibatch progress: the current loss, steps/s, ETA" grep -Eq 'step [0-9]+/[0-9]+  epoch [0-9]+  loss [0-9.e+-]+  [0-9.e+]+ steps/s  ETA' swt.txt
else
  echo "(no script(1): progress-line checks skipped)"
fi

finish
