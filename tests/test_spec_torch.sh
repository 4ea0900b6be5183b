# PyTorch's names and conventions in specs: torch.optim argument names,
# Python booleans, aliases written once under the canonical name, sweeps
# over the optimizer type (keys apply where they apply), blank sweep
# entries (the default), the sweep table, run.init = zeros, T = auto.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1

cat >torch.ini <<'EOF'
[data]
n = 16
d = 3
[problem]
type = linear_ls
[optimizer]
type = adam
lr = 0.01
betas = (0.8, 0.99)
eps = 1e-08
weight_decay = 0
amsgrad = True
maximize = False
foreach = None
fused = False
capturable = False
differentiable = False
batch_size = 4
[schedule]
type = cosine
[run]
iterations = 8
init = zeros
EOF
run show show torch.ini
expect_rc 0 "$RC" "a spec in torch's names"
for line in "betas = 0.8, 0.99" "amsgrad = true" "maximize = false" "batch = 4" "T = auto" "unit = step" "init = zeros"; do
  check "show writes '$line'" grep -qxF "$line" show.out
done
for k in beta1 beta2 batch_size foreach fused capturable differentiable; do
  check "show writes no '$k' (alias or no-op)" bash -c "! grep -q '^$k = ' show.out"
done
cp show.out shown.ini
run show2 show shown.ini
check "the shown spec reads back to itself" cmp -s show.out show2.out

# the aliases: beta1/beta2 are betas' components, written as betas
printf '[optimizer]\ntype = adamw\nbeta1 = 0.5\n[run]\niterations = 1\n' >alias.ini
run alias show alias.ini
expect_rc 0 "$RC" "beta1 alone"
check "beta1 = 0.5 is betas = 0.5, 0.999" grep -qxF "betas = 0.5, 0.999" alias.out
printf '[optimizer]\ntype = sgd\nmomentum = 0.9\nnesterov = True\ndampening = 0\n[lanczos]\nreorth = False\n[run]\niterations = 1\n' >sgd.ini
run sgd show sgd.ini
check "Python's True and False are booleans" bash -c "grep -qxF 'nesterov = true' sgd.out && grep -qxF 'reorth = false' sgd.out"

# a sweep over the type: momentum applies to sgd and rmsprop, not adam;
# a blank entry is the default
cat >sweep.ini <<'EOF'
[data]
n = 16
d = 3
[problem]
type = linear_ls
[optimizer]
momentum = 0.9
[run]
iterations = 5
[sweep]
optimizer.type = sgd, adam, rmsprop
optimizer.lr = , 0.01
EOF
run sweep train sweep.ini --out sw --quiet
expect_rc 0 "$RC" "a sweep over optimizer.type with momentum in the base spec"
check "sgd gets the momentum" grep -qxF "momentum = 0.9" "sw/type=sgd,lr=default/spec.ini"
check "rmsprop gets the momentum" grep -qxF "momentum = 0.9" "sw/type=rmsprop,lr=0.01/spec.ini"
check "adam has none" bash -c '! grep -q "^momentum" "sw/type=adam,lr=0.01/spec.ini"'
check "a blank entry is the method's default lr (sgd: 0.001)" grep -qxF "lr = 0.001" "sw/type=sgd,lr=default/spec.ini"
check "a blank entry is the method's default lr (rmsprop: 0.01)" grep -qxF "lr = 0.01" "sw/type=rmsprop,lr=default/spec.ini"
check "the sweep writes sweep.csv" test -s sw/sweep.csv
expect_eq "point,type,lr,final_loss,seconds,stop" "$(head -1 sw/sweep.csv)" "sweep.csv header"
expect_eq 7 "$(wc -l <sw/sweep.csv | tr -d ' ')" "sweep.csv: a header and one row per point"
check "sweep.csv rows: the point's values, a final loss, the stop reason" \
  grep -Eq '^"type=adam,lr=0.01",adam,0.01,[0-9.e+-]+,[0-9.e+-]+,max_iter$' sw/sweep.csv
finish
