# Parameter groups through the CLI ([group.NAME], docs/SPEC.md): a network's
# layers in two groups with their own methods; the trace's per-group columns
# (lr.<group>, grad_norm.<group>); the resolved spec.ini lists the groups in
# full and `ncopt show` of it is the same run; resume continues bit for bit
# (each group's optimiser state in the checkpoint); the regularity replay
# reproduces the run and reports γ per group; --set group.NAME.KEY; and the
# errors, located at their line. The rounds' arithmetic is checked against a
# hand-written loop in tests/test_groups.c.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1
npy_write X.npy f4 "12,6" $(seq 1 72 | awk '{ printf "%s ", sin($1) }') || bad "npy X"
npy_write y.npy f4 12 0 1 2 0 1 2 0 1 2 0 1 2 || bad "npy y"
cat >g.ini <<'INI'
[data]
source = npy
features = X.npy
targets = y.npy
[problem]
type = mlp
widths = 5, 4
dropout = 0
[optimizer]
type = sgd
lr = 0.1
momentum = 0.9
batch = 4
[run]
epochs = 6
seed = 5
log_every = 1
checkpoint_every = 3
[probes]
grad_norm = 3
[group.body]
params = fc1, fc2
[group.head]
params = fc3
type = adam
lr = 0.01
INI
run a train g.ini --out a --quiet
expect_rc 0 "$RC" "an MLP in two groups (sgd with momentum, adam)"
check "trace: per-group step sizes and gradient norms" grep -q '^iter,epoch,seconds,loss,lr,batch_loss,full_loss,grad_norm,grad_norm.body,grad_norm.head,lr.body,lr.head$' a/trace.csv
expect_eq "0.01" "$(csv_col a/trace.csv lr.head | tail -1)" "lr.head"
# the groups' gradient norms make up the whole: ‖g‖² = ‖g_body‖² + ‖g_head‖² (row 0)
paste -d' ' <(csv_col a/trace.csv grad_norm) <(csv_col a/trace.csv grad_norm.body) <(csv_col a/trace.csv grad_norm.head) | head -1 >gn.txt
check "grad_norm² = Σ of the groups' (row 0)" awk '{ d = $1*$1 - $2*$2 - $3*$3; exit !(d < 1e-9 * $1*$1 && d > -1e-9 * $1*$1) }' gn.txt
check "summary.json lists the groups" grep -qF '"groups": [{"name": "body", "offset": 0, "length": 59, "optimizer": "sgd", "steps": 1, "lr": 0.1}, {"name": "head", "offset": 59, "length": 15, "optimizer": "adam", "steps": 1, "lr": 0.01}]' a/summary.json
check "spec.ini: the head group in full" sh -c 'grep -A4 "^\[group.head\]" a/spec.ini | grep -q "^type = adam$" && grep -A12 "^\[group.head\]" a/spec.ini | grep -q "^betas = 0.9, 0.999$"'
run s show a/spec.ini
grep -v '^;' s.out >shown.ini
run b train shown.ini --out b --quiet
check "show of the resolved spec: the same run" same_run a b
# resume: 3 epochs, then 3 more, is the 6-epoch run (each group's optimiser state checkpointed)
run c train g.ini --out c --quiet --set run.epochs=3
run cr resume c --quiet --set run.epochs=6
expect_rc 0 "$RC" "resume of a grouped run"
check "resumed = uninterrupted (params.npy)" cmp -s a/params.npy c/params.npy
# the regularity replay runs the groups again and must end at the run's θ
run r train g.ini --out r --quiet --set probes.regularity=true
expect_rc 0 "$RC" "regularity with groups"
expect_eq "true" "$(json r/summary.json regularity.replay_identical)" "the replay reproduced the run"
check "regularity.csv: γ per group" grep -q '^iter,gamma.body,gamma.head$' r/regularity.csv
json r/summary.json regularity.groups.head.gamma >/dev/null && ok || bad "summary.json: γ of the head group"
# --set reaches a group's key; a group in --set only
run st train g.ini --out st --quiet --set group.head.lr=0.5
check "--set group.head.lr" sh -c 'grep -A3 "^\[group.head\]" st/spec.ini >/dev/null && grep -q "^lr = 0.5$" st/spec.ini'
# a sweep over a group's key
{ cat g.ini; printf '[sweep]\ngroup.head.lr = 0.01, 0.02\n'; } >sw.ini
run sw train sw.ini --out sw --quiet
expect_rc 0 "$RC" "a sweep over group.head.lr"
expect_eq "3" "$(wc -l <sw/sweep.csv | tr -d ' ')" "sweep.csv: a header and two points"
check "the swept value reached the group" grep -q '^lr = 0.02$' "sw/lr=0.02/spec.ini"
# frozen: a group of the head only leaves fc1 and fc2 at θ_0
sed '/^\[group.body\]/,/^params = fc1, fc2/d' g.ini >frozen.ini
run f train frozen.ini --out f --quiet
"$T" npy-values f/params.npy | head -59 >f.txt
"$T" npy-values a/params.npy | head -59 >a59.txt
run z train g.ini --out z --quiet --set run.epochs=0 --set run.iterations=1 --set group.body.lr=1e-300 --set group.head.lr=1e-300
"$T" npy-values z/params.npy | head -59 >z.txt
check "frozen layers stay at θ_0" cmp -s f.txt z.txt
check "and train when in a group" sh -c '! cmp -s a59.txt z.txt'
# errors at their line
err() { # NAME SED-EXPR NEEDLE
  sed "$2" g.ini >"$1.ini"
  run "$1" train "$1.ini" --out "$1" --quiet
  expect_rc 2 "$RC" "$1: a spec error"
  check "$1: $3" grep -qF -- "$3" "$1.err"
}
err name 's/params = fc3/params = fc9/' "group.head.params: 'fc9' is neither a slice of this problem (all, fc1, fc2, fc3)"
err gap 's/params = fc1, fc2/params = fc1, fc3/' "group.body.params: the slices [0, 35) and [59, 74) leave a gap"
err overlap 's/params = fc3/params = fc2, fc3/' "overlaps group body's [0, 59)"
err range 's/^lr = 0.01/lr = -1/' "group.head.lr = -1: must be in (0, inf)"
err unknown 's/^lr = 0.01/momentm = 0.5/' "group.head.momentm: unknown key"
err applies 's/^lr = 0.01/momentum = 0.5/' "group.head.momentum: does not apply to adam"
err fullbatch 's/^type = adam/type = lbfgs/' "group.head.type: lbfgs is a full-batch method"
err method 's/^type = adam/type = adamm/' "group.head.type: unknown value 'adamm' (did you mean 'adam'?)"
err noparams '/^params = fc3/d' "group.head.params: missing"
err steps 's/^lr = 0.01/steps = 0/' "group.head.steps: '0' is not a step count"
check "errors name the file and line" grep -q '^name.ini:[0-9]*: group.head.params' name.err
finish
