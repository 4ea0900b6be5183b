# Every class of spec error: one line on stderr per error, of the form
# "FILE:LINE: section.key: what is wrong", exit status 2, found before any
# work starts: no output folder is created, and a folder holding an earlier
# run is left untouched. Each case also goes through `ncopt show`. A spec
# with one error gets exactly one line; a spec with several independent
# errors gets all of them in one pass, in file order (then --set).
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1

# an earlier run whose files must survive every failed attempt
cat >good.ini <<'EOF'
[data]
n = 16
d = 3
[problem]
type = linear_ls
[optimizer]
type = sgd
lr = 0.01
[run]
iterations = 5
EOF
"$N" train good.ini --out earlier --quiet || bad "the reference run failed"
snapshot() { (cd earlier && for f in *; do printf '%s %s\n' "$f" "$(cksum <"$f")"; done); }
snapshot >earlier.sum

FORM='^[^ :][^:]*:[0-9]+: [a-z_]+(\.[A-Za-z0-9_.]+)?( = [^:]+)?: .+'
NCASE=0
# spec_error NAME 'EXPECTED LOCATION' 'EXPECTED TEXT' [ARGS...] < spec text
#   EXPECTED LOCATION is the "FILE:LINE: section.key:" prefix
spec_error() {
  local name=$1 loc=$2 text=$3
  shift 3
  NCASE=$((NCASE + 1))
  cat >"$name.ini"
  local o="fresh_$name"
  run "$name" train "$name.ini" --out "$o" "$@"
  expect_rc 2 "$RC" "$name"
  check "$name: one line on stderr" one_line "$name.err"
  check "$name: the line reads FILE:LINE: section.key[ = value]: what" grep -Eq "$FORM" "$name.err"
  check "$name: located at '$loc'" grep -qF -- "$loc" "$name.err"
  check "$name: says '$text'" grep -qF -- "$text" "$name.err"
  check "$name: nothing on stdout" test ! -s "$name.out"
  check "$name: no output folder" test ! -e "$o"
  run "${name}_over" train "$name.ini" --out earlier "$@"
  expect_rc 2 "$RC" "$name (into the earlier run's folder)"
  check "$name: the earlier run is untouched" cmp -s earlier.sum <(snapshot)
  run "${name}_show" show "$name.ini" "$@"
  if [ "$RC" = 2 ]; then ok; else
    # errors found only while building the run (batch vs data size, init
    # size) are not show's business
    case $text in *"larger than the number of samples"* | *"holds"*) ok ;; *) bad "$name: show exit status $RC" ;; esac
  fi
  # if [ -n "${VERBOSE:-}" ]; then cat "$name.err"; fi
}

# spec_errors NAME 'LOC1' 'TEXT1' 'LOC2' 'TEXT2' ... [-- ARGS...] < spec text
#   every error of the spec, one line each, in this order
spec_errors() {
  local name=$1
  shift
  local locs=() texts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do locs+=("$1") texts+=("$2"); shift 2; done
  [ "${1:-}" = -- ] && shift
  NCASE=$((NCASE + 1))
  cat >"$name.ini"
  run "$name" train "$name.ini" --out "fresh_$name" "$@"
  expect_rc 2 "$RC" "$name"
  expect_eq "${#locs[@]}" "$(wc -l <"$name.err" | tr -d ' ')" "$name: one line per error"
  local i=0
  while IFS= read -r line; do
    check "$name: line $((i + 1)) reads FILE:LINE: section.key: what" bash -c 'grep -Eq "$1" <<<"$2"' _ "$FORM" "$line"
    check "$name: line $((i + 1)) located at '${locs[$i]:-}'" bash -c '[[ "$2" == *"$1"* ]]' _ "${locs[$i]:-}" "$line"
    check "$name: line $((i + 1)) says '${texts[$i]:-}'" bash -c '[[ "$2" == *"$1"* ]]' _ "${texts[$i]:-}" "$line"
    i=$((i + 1))
  done <"$name.err"
  check "$name: no output folder" test ! -e "fresh_$name"
  run "${name}_show" show "$name.ini" "$@"
  expect_rc 2 "$RC" "$name: show"
  check "$name: show reports the same errors" cmp -s "$name.err" "${name}_show.err"
}

spec_error unknown_section "unknown_section.ini:4: optimzer.lr:" "unknown section [optimzer] (did you mean [optimizer]?)" <<'EOF'
[run]
iterations = 5
[optimzer]
lr = 0.1
EOF
spec_error unknown_key "unknown_key.ini:5: optimizer.lrr:" "unknown key (did you mean 'lr'?)" <<'EOF'
[run]
iterations = 5

[optimizer]
lrr = 0.1
EOF
spec_error unknown_key_far "unknown_key_far.ini:2: run.colour:" "unknown key" <<'EOF'
[run]
colour = blue
iterations = 5
EOF
check "no silly suggestion for a far-off key" bash -c '! grep -q "did you mean" unknown_key_far.err'
spec_error missing_iterations "missing_iterations.ini:3: run.iterations:" "missing: set run.iterations or run.epochs" <<'EOF'
[optimizer]
lr = 0.1
[run]
seed = 4
EOF
spec_error missing_run_section "missing_run_section.ini:2: run.iterations:" "missing" <<'EOF'
[optimizer]
lr = 0.1
EOF
spec_error both_lengths "both_lengths.ini:3: run.epochs:" "either run.iterations or run.epochs" <<'EOF'
[run]
iterations = 5
epochs = 2
EOF
spec_error wrong_type_int "wrong_type_int.ini:2: run.iterations:" "'ten' is not a non-negative integer" <<'EOF'
[run]
iterations = ten
EOF
spec_error wrong_type_num "wrong_type_num.ini:4: optimizer.lr:" "'fast' is not a number" <<'EOF'
[run]
iterations = 5
[optimizer]
lr = fast
EOF
spec_error wrong_type_bool "wrong_type_bool.ini:5: optimizer.nesterov:" "'maybe' is not true or false" <<'EOF'
[run]
iterations = 5
[optimizer]
momentum = 0.9
nesterov = maybe
EOF
spec_error wrong_choice "wrong_choice.ini:4: optimizer.sampling:" "did you mean 'reshuffle'?" <<'EOF'
[run]
iterations = 5
[optimizer]
sampling = reshufle
EOF
spec_error unknown_problem "unknown_problem.ini:2: problem.type:" "unknown value 'glmm' (did you mean 'glm'?)" <<'EOF'
[problem]
type = glmm
[run]
iterations = 5
EOF
spec_error unknown_optimizer "unknown_optimizer.ini:2: optimizer.type:" "unknown value 'adamm' (did you mean 'adam'?)" <<'EOF'
[optimizer]
type = adamm
[run]
iterations = 5
EOF
spec_error out_of_range "out_of_range.ini:4: optimizer.lr" "= -1: must be in (0, inf)" <<'EOF'
[run]
iterations = 5
[optimizer]
lr = -1
EOF
spec_error out_of_range_int "out_of_range_int.ini:2: data.n" "= 0: must be in [1, 1000000000]" <<'EOF'
[data]
n = 0
[run]
iterations = 5
EOF
spec_error out_of_range_momentum "out_of_range_momentum.ini:4: optimizer.momentum" "must be in [0, 1)" <<'EOF'
[run]
iterations = 5
[optimizer]
momentum = 1.5
EOF
spec_error method_validation "method_validation.ini:5: optimizer.nesterov:" "needs momentum > 0" <<'EOF'
[run]
iterations = 5
[optimizer]
type = sgd
nesterov = true
EOF
# the key table's range is the method's own: lr = 0 reads like lr = -1
spec_error zero_lr "zero_lr.ini:4: optimizer.lr" "= 0: must be in (0, inf)" <<'EOF'
[run]
iterations = 5
[optimizer]
lr = 0
EOF
spec_error not_applicable "not_applicable.ini:5: optimizer.momentum:" "does not apply here (used by: sgd rmsprop)" <<'EOF'
[run]
iterations = 5
[optimizer]
type = adam
momentum = 0.9
EOF
spec_error not_applicable_data "not_applicable_data.ini:5: data.gap:" "does not apply here" <<'EOF'
[problem]
type = glm
[data]
n = 10
gap = 2
[run]
iterations = 5
EOF
spec_error not_applicable_schedule "not_applicable_schedule.ini:5: schedule.gamma:" "does not apply to this schedule" <<'EOF'
[run]
iterations = 5
[schedule]
type = cosine
gamma = 0.5
EOF
spec_error schedule_range "schedule_range.ini:5: schedule.gamma" "must be in" <<'EOF'
[run]
iterations = 5
[schedule]
type = step
gamma = 2
EOF
spec_error invex_on_tensor "invex_on_tensor.ini:4: regularizer.type:" "tensor has no residuals" <<'EOF'
[problem]
type = tensor
[regularizer]
type = invex
lambda = 1
[run]
iterations = 5
EOF
spec_error rgd_euclidean "rgd_euclidean.ini:4: optimizer.type:" "rgd needs a problem on a manifold" <<'EOF'
[problem]
type = glm
[optimizer]
type = rgd
[run]
iterations = 5
EOF
spec_error lm_on_tensor "lm_on_tensor.ini:4: optimizer.type:" "lm needs a least-squares problem" <<'EOF'
[problem]
type = tensor
[optimizer]
type = lm
[run]
iterations = 5
EOF
spec_error invex_lambda_zero "invex_lambda_zero.ini:3: regularizer.lambda:" "needs lambda > 0 (got 0)" <<'EOF'
[regularizer]
type = invex
lambda = 0
[run]
iterations = 5
EOF
spec_error invex_lambda_default "invex_lambda_default.ini:2: regularizer.lambda:" "needs lambda > 0" <<'EOF'
[regularizer]
type = invex
[run]
iterations = 5
EOF
spec_error invex_lambda_negative "invex_lambda_negative.ini:3: regularizer.lambda" "must be in [0, inf]" <<'EOF'
[regularizer]
type = invex
lambda = -0.5
[run]
iterations = 5
EOF
spec_error duplicate_key "duplicate_key.ini:4: run.iterations:" "duplicate key (first set at line 2)" <<'EOF'
[run]
iterations = 5
seed = 1
iterations = 6
EOF
spec_error unparsable "unparsable.ini:3: run:" "cannot parse 'seed 4'" <<'EOF'
[run]
iterations = 5
seed 4
EOF
spec_error indented "indented.ini:3: run.iterations:" "indented line" <<'EOF'
[run]
iterations = 5
  seed = 4
EOF
spec_error outside_section "outside_section.ini:1: iterations:" "key outside any [section]" <<'EOF'
iterations = 5
[run]
seed = 1
EOF
spec_error long_line "long_line.ini:2: run:" "line longer than" <<EOF
[run]
init = $(printf 'x%.0s' $(seq 300)).npy
iterations = 5
EOF
spec_error probe_value "probe_value.ini:4: probes.grad_norm:" "not true, false or a step count" <<'EOF'
[run]
iterations = 5
[probes]
grad_norm = often
EOF
spec_error probe_unknown "probe_unknown.ini:4: probes.grad_nrm:" "did you mean 'grad_norm'?" <<'EOF'
[run]
iterations = 5
[probes]
grad_nrm = true
EOF
spec_error npy_missing_key "npy_missing_key.ini:2: data.features:" "source = npy needs data.features" <<'EOF'
[data]
source = npy
targets = b.npy
[run]
iterations = 5
EOF
spec_error npy_missing_file "npy_missing_file.ini:3: data.features:" "No such file or directory" <<'EOF'
[data]
source = npy
features = nowhere.npy
targets = good.ini
[run]
iterations = 5
EOF
check "a missing data file is named with its absolute path" grep -qF "$TMP/nowhere.npy" npy_missing_file.err
spec_error batch_full_method "batch_full_method.ini:5: optimizer.batch:" "lbfgs is a full-batch method" <<'EOF'
[run]
iterations = 5
[optimizer]
type = lbfgs
batch = 4
EOF
spec_error batch_too_large "batch_too_large.ini:6: optimizer.batch:" "32 is larger than the number of samples n = 16" <<'EOF'
[data]
n = 16
d = 3
[optimizer]
lr = 0.01
batch = 32
[run]
iterations = 5
EOF
npy_write init3.npy f4 3 1 2 3
spec_error init_size "init_size.ini:6: run.init:" "holds 3 values, the problem has 5 parameters" <<'EOF'
[data]
n = 16
d = 5
[run]
iterations = 5
init = init3.npy
EOF

# --set: FILE:LINE is "--set:K", K-th override
spec_error set_syntax "--set:2: lr:" "expected --set section.key=value" --set run.seed=1 --set lr=0.1 <<'EOF'
[run]
iterations = 5
EOF
spec_error set_no_value "--set:1: optimizer.lr:" "expected --set section.key=value" --set optimizer.lr <<'EOF'
[run]
iterations = 5
EOF
spec_error set_unknown_key "--set:1: optimizer.lrr:" "did you mean 'lr'?" --set optimizer.lrr=0.1 <<'EOF'
[run]
iterations = 5
EOF
spec_error set_bad_value "--set:1: optimizer.lr:" "'abc' is not a number" --set optimizer.lr=abc <<'EOF'
[run]
iterations = 5
EOF
spec_error set_overrides_file "--set:1: run.iterations:" "'x' is not a non-negative integer" --set run.iterations=x <<'EOF'
[run]
iterations = 5
EOF

# sweeps: every point is resolved (and built) before the first runs
spec_error zip_mismatch "zip_mismatch.ini:6: sweep.run.seed:" "zip needs lists of equal length (3 vs 2)" <<'EOF'
[run]
iterations = 5
[sweep]
zip = true
optimizer.lr = 0.1, 0.2
run.seed = 1, 2, 3
EOF
spec_error sweep_no_section "sweep_no_section.ini:4: sweep.lr:" "a sweep key names section.key" <<'EOF'
[run]
iterations = 5
[sweep]
lr = 0.1, 0.2
EOF
spec_error sweep_no_values "sweep_no_values.ini:4: sweep.optimizer.lr:" "no values" <<'EOF'
[run]
iterations = 5
[sweep]
optimizer.lr = , ,
EOF
spec_error sweep_bad_point "sweep_bad_point.ini:6: optimizer.lr" "= -1: must be in (0, inf)" <<'EOF'
[run]
iterations = 5
[optimizer]
lr = 0.1
[sweep]
optimizer.lr = 0.1, -1
EOF
spec_error sweep_unknown_key "sweep_unknown_key.ini:4: optimizer.lrr:" "did you mean 'lr'?" <<'EOF'
[run]
iterations = 5
[sweep]
optimizer.lrr = 0.1, 0.2
EOF
spec_error sweep_batch "sweep_batch.ini:8: optimizer.batch:" "larger than the number of samples" <<'EOF'
[data]
n = 16
d = 3
[run]
iterations = 5
[sweep]
zip = false
optimizer.batch = 4, 64
EOF
spec_error sweep_zip_value "sweep_zip_value.ini:4: sweep.zip:" "not true or false" <<'EOF'
[run]
iterations = 5
[sweep]
zip = perhaps
optimizer.lr = 0.1
EOF

# torch.optim's names: aliases, and the no-op arguments
spec_error betas_and_beta1 "betas_and_beta1.ini:6: optimizer.beta1:" "set either betas or beta1, not both" <<'EOF'
[run]
iterations = 5
[optimizer]
type = adam
betas = 0.9, 0.99
beta1 = 0.8
EOF
spec_error betas_range "betas_range.ini:5: optimizer.beta2" "= 1: must be in [0, 1)" <<'EOF'
[run]
iterations = 5
[optimizer]
type = adam
betas = (0.9, 1)
EOF
spec_error betas_one "betas_one.ini:5: optimizer.betas:" "is not two numbers" <<'EOF'
[run]
iterations = 5
[optimizer]
type = adam
betas = 0.9
EOF
spec_error batch_and_batch_size "batch_and_batch_size.ini:5: optimizer.batch_size:" "set either batch or batch_size, not both" <<'EOF'
[run]
iterations = 5
[optimizer]
batch = 4
batch_size = 8
EOF
spec_error fused_true "fused_true.ini:5: optimizer.fused:" "'True' is not accepted" <<'EOF'
[run]
iterations = 5
[optimizer]
type = adam
fused = True
EOF
spec_error differentiable_true "differentiable_true.ini:4: optimizer.differentiable:" "True refused" <<'EOF'
[run]
iterations = 5
[optimizer]
differentiable = true
EOF
spec_error sweep_applies_nowhere "sweep_applies_nowhere.ini:7: sweep.optimizer.amsgrad:" "does not apply to any point of the sweep" <<'EOF'
[data]
n = 16
[run]
iterations = 5
[sweep]
optimizer.type = sgd, rmsprop
optimizer.amsgrad = true, false
EOF
spec_error base_applies_nowhere "base_applies_nowhere.ini:4: optimizer.betas:" "does not apply to any point of the sweep" <<'EOF'
[run]
iterations = 5
[optimizer]
betas = 0.5, 0.9
[sweep]
optimizer.type = sgd, rmsprop
EOF

# several independent errors: all of them, one line each, in file order,
# the --set overrides last
spec_errors multi_errors \
  "multi_errors.ini:3: data.nn:" "unknown key" \
  "multi_errors.ini:6: optimizer.lr" "= -1: must be in (0, inf)" \
  "multi_errors.ini:7: optimizer.momentum:" "does not apply here (used by: sgd rmsprop)" \
  "multi_errors.ini:8: optimizer.betas:" "'fast' is not a number" \
  "multi_errors.ini:10: run.iterations:" "'ten' is not a non-negative integer" \
  "multi_errors.ini:12: probes.grad_norm:" "not true, false or a step count" \
  "--set:1: optimizer.eps" "= 0: must be in (0, inf)" \
  -- --set optimizer.eps=0 <<'EOF'
[data]
n = 16
nn = 3
[optimizer]
type = adam
lr = -1
momentum = 0.9
betas = fast, 0.999
[run]
iterations = ten
[probes]
grad_norm = often
EOF
spec_errors multi_missing_length \
  "multi_missing_length.ini:2: optimizer.lrr:" "did you mean 'lr'?" \
  "multi_missing_length.ini:3: run.iterations:" "missing: set run.iterations or run.epochs" <<'EOF'
[optimizer]
lrr = 0.1
[run]
seed = 1
EOF
spec_errors multi_files \
  "multi_files.ini:3: data.features:" "No such file or directory" \
  "multi_files.ini:4: data.targets:" "No such file or directory" <<'EOF'
[data]
source = npy
features = nowhere.npy
targets = nowhere_either.npy
[run]
iterations = 5
EOF
spec_errors multi_sections \
  "multi_sections.ini:2: optimzer.lr:" "unknown section [optimzer] (did you mean [optimizer]?)" \
  "multi_sections.ini:4: run.colour:" "unknown key" <<'EOF'
[optimzer]
lr = 0.1
[run]
colour = blue
iterations = 5
EOF

# files that are not specs
run nofile train nowhere.ini --out nf
expect_rc 2 "$RC" "a spec file that does not exist"
check "missing spec: one line FILE:1: ..." bash -c "[ \$(wc -l <nofile.err) = 1 ] && grep -q '^nowhere.ini:1: ' nofile.err"
check "missing spec: no folder" test ! -e nf
printf '[run]\niterations = 5\n\0\n' >nul.ini
run nul train nul.ini --out nf
expect_rc 2 "$RC" "a spec with a NUL byte"
check "binary spec: one line" one_line nul.err

# combinations that cannot work (found by the coverage report: untested)
spec_error rgd_regularized "rgd_regularized.ini:4: regularizer.type:" "rgd needs the bare sphere problem" <<'EOF'
[problem]
type = tensor
[regularizer]
type = l2
lambda = 0.1
[optimizer]
type = rgd
[run]
iterations = 2
EOF
printf 'a,b,label\n1,2,0\n3,4,1\n' >flat.csv
spec_error lenet_csv "lenet_csv.ini:2: data.source:" "lenet needs images; a CSV file has flat rows" <<'EOF'
[data]
source = csv
path = flat.csv
[problem]
type = lenet
[run]
iterations = 2
EOF
spec_error init_sigma_alone "init_sigma_alone.ini:6: problem.init_sigma:" "applies only with problem.init = normal" <<'EOF'
[data]
source = csv
path = flat.csv
[problem]
type = mlp
init_sigma = 0.1
[run]
iterations = 2
EOF
spec_error own_test_fraction "own_test_fraction.ini:5: data.test_fraction:" "this source has its own test set" <<'EOF'
[data]
source = csv
path = flat.csv
test_path = flat.csv
test_fraction = 0.1
[problem]
type = mlp
[run]
iterations = 2
EOF

echo "($NCASE spec error cases)"
finish
