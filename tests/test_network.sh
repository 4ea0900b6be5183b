# problem.type = network: a [network] section, one node a line, builds the
# same graph as the builders: written like `problem.type = mlp` it gives the
# byte-identical run (issue "Architecture step" acceptance); `ncopt show`
# prints the graph's summary as comments; errors name FILE:LINE; resume
# rebuilds the graph from spec.ini.
. "$(dirname "$0")/cli_lib.sh" || exit 1
cd "$TMP" || exit 1
"$T" npy-write X.npy f4 "12,6" $(seq 1 72 | awk '{ printf "%s ", sin($1) }') || bad "npy X"
"$T" npy-write y.npy f4 12 0 1 2 0 1 2 0 1 2 0 1 2 || bad "npy y"
common='[data]
source = npy
features = X.npy
targets = y.npy
[optimizer]
type = sgd
lr = 0.1
momentum = 0.9
batch = 4
[run]
epochs = 3
seed = 5
log_every = 1
checkpoint_every = 3'
printf '%s\n[problem]\ntype = mlp\nwidths = 5, 4\ndropout = 0\n' "$common" >mlp.ini
printf '%s\n[problem]\ntype = network\n[network]\ninput = input(6)\nfc1 = linear(input, out_features=5)\nr1 = relu(fc1)\nfc2 = linear(r1, out_features=4)\nr2 = relu(fc2)\nfc3 = linear(r2, out_features=3)\noutput = fc3\n' "$common" >net.ini
run m train mlp.ini --out m --quiet
expect_rc 0 "$RC" "problem.type = mlp"
run n train net.ini --out n --quiet
expect_rc 0 "$RC" "problem.type = network"
check "[network] = mlp: trace and params.npy byte-identical" same_run m n
check "[network] = mlp: summary.json identical but for timing" cmp -s <(grep -v -e seconds -e versions m/summary.json) <(grep -v -e seconds -e versions n/summary.json)
check "spec.ini keeps the [network] section" grep -q '^fc2 = linear(r1, out_features=4)$' n/spec.ini
run ns show net.ini
check "show: the summary as comments" grep -q '^; fc3 .*linear .*r2 .*\[-1, 3\] .*15  (output)$' ns.out
check "show: the total (6·5+5 + 5·4+4 + 4·3+3)" grep -q '^; Total params: 74$' ns.out
grep -v '^;' ns.out >shown.ini
run ns2 show shown.ini
check "show of the shown spec: the same spec" cmp -s <(grep -v '^;' ns2.out) shown.ini
# resume rebuilds the graph from the checkpointed spec
run nr resume n --quiet --set run.epochs=5
expect_rc 0 "$RC" "resume of a [network] run"
run m5 train mlp.ini --out m5 --quiet --set run.epochs=5
cmp -s m5/params.npy n/params.npy && ok || bad "[network] run extended by resume = mlp run of 5 epochs"
# errors, located
sed 's/^r1 = relu(fc1)$/r1 = rellu(fc1)/' net.ini >typo.ini
run ty train typo.ini --out ty --quiet
expect_rc 2 "$RC" "an unknown op"
check "unknown op: located, did you mean" grep -q "^typo.ini:[0-9]*: .*rellu.*relu" ty.err
sed 's/out_features=3)/out_features=4)/' net.ini >wide.ini
run wd train wide.ini --out wd --quiet
expect_rc 2 "$RC" "a network with 4 outputs for 3 classes"
check "outputs vs classes: says both" grep -q "has 4 values per sample; the data have 3 classes" wd.err
sed 's/^type = network$/type = mlp/' net.ini >wrongtype.ini
run wt train wrongtype.ini --out wt --quiet
expect_rc 2 "$RC" "[network] with problem.type = mlp"
check "[network] needs type = network: located" grep -q "^wrongtype.ini:[0-9]*: network.input: a \[network\] section needs problem.type = network" wt.err
sed 's/input(6)/input(7)/' net.ini >shape.ini
run sh train shape.ini --out sh --quiet
expect_rc 2 "$RC" "input shape that is not the data's"
check "input shape: located at the input line" grep -q "^shape.ini:[0-9]*: " sh.err
# a residual network trains: full-batch GD with a small step decreases the
# loss at every step (descent lemma); minibatch SGD resumes bit for bit
printf '%s\n[problem]\ntype = network\n[network]\ninput = input(6)\nfc1 = linear(input, out_features=6)\nt1 = tanh(fc1)\nres = add(t1, input)\ncat = concat(res, t1)\nfc2 = linear(cat, out_features=3)\noutput = fc2\n' "$common" >res.ini
run rg train res.ini --out rg --quiet --set optimizer.batch=0 --set optimizer.momentum=0 --set optimizer.lr=0.5 --set run.epochs=0 --set run.iterations=300
expect_rc 0 "$RC" "a residual network with a concat"
check "residual network: GD decreases the loss at each of 300 steps" sh -c '"$1" csv-col rg/trace.csv loss | awk "NR > 1 && \$1 >= p { bad++ } { p = \$1 } END { exit !(NR == 301 && bad == 0) }"' _ "$T"
run rs train res.ini --out rs --quiet --set run.epochs=20
run rs10 train res.ini --out rs10 --quiet --set run.epochs=10
run rsr resume rs10 --quiet --set run.epochs=20
cmp -s rs/params.npy rs10/params.npy && ok || bad "residual network: resumed = uninterrupted"
# batch norm in a run: its running statistics are the problem's state —
# checkpointed (format 5), restored on resume (the held-out set, evaluated
# with them, gives the same test_loss after a resume), restarted and
# compared by the regularity replay (minibatch and fused full-batch runs)
printf '%s\n[problem]\ntype = network\n[network]\ninput = input(6)\nfc1 = linear(input, out_features=5)\nbn = batchnorm(fc1)\nr = relu(bn)\nfc2 = linear(r, out_features=3)\noutput = fc2\n' "$common" |
  sed -e '/^\[data\]$/a test_fraction = 0.25' -e '/^\[run\]$/a eval_every = 3' -e 's/^batch = 4$/batch = 3/' >bn2.ini
run bn train bn2.ini --out bn --quiet --set run.epochs=6
expect_rc 0 "$RC" "a batch-norm network with a held-out set"
check "checkpoint format 5 (with the state)" sh -c '[ "$(od -A n -t u4 -j 8 -N 4 bn/checkpoint.bin | tr -d " ")" = 5 ]'
run bn3 train bn2.ini --out bn3 --quiet --set run.epochs=3
run bn3r resume bn3 --quiet --set run.epochs=6
check "batch norm: resumed = uninterrupted (params.npy)" cmp -s bn/params.npy bn3/params.npy
check "batch norm: the same test_loss after the resume" cmp -s <(csv_col bn/trace.csv test_loss | tail -3) <(csv_col bn3/trace.csv test_loss | tail -3)
run bnr train bn2.ini --out bnr --quiet --set run.epochs=6 --set probes.regularity=true
expect_eq "true" "$(json bnr/summary.json regularity.replay_identical)" "batch norm: the replay reproduces parameters and statistics"
run bnf train bn2.ini --out bnf --quiet --set optimizer.batch=0 --set run.epochs=0 --set run.iterations=20 --set probes.regularity=true
expect_eq "true" "$(json bnf/summary.json regularity.replay_identical)" "batch norm, full batch (fused): the replay"
cp -r bn bnx
"$T" ckpt-set bnx/checkpoint.bin tail8 nan
run bnx resume bnx --quiet --set run.epochs=7
check "a damaged statistic is refused" grep -q "non-finite running statistics" bnx.err
# image targets: the input itself (an autoencoder) and a denoising one
printf '%s\n[problem]\ntype = mlp\nwidths = 4\nloss = least_squares\ndropout = 0\n' "$common" |
  sed -e '/^\[data\]$/a target = noisy_input' -e '/^\[data\]$/a target_noise = 0.2' >ae.ini
run ae train ae.ini --out ae --quiet --set run.epochs=60 --set optimizer.type=adam --set optimizer.lr=0.01
expect_rc 0 "$RC" "a denoising autoencoder (target = noisy_input)"
expect_eq "58" "$(json ae/summary.json parameters)" "6 → 4 → 6 outputs: one per input feature"
a0=$(csv_col ae/trace.csv loss | sed -n 2p) a1=$(csv_col ae/trace.csv loss | tail -1)
check "the reconstruction loss falls ($a0 → $a1)" holds "$a1 < 0.2 * $a0"
run ae2 train ae.ini --out ae2 --quiet --set run.epochs=60 --set optimizer.type=adam --set optimizer.lr=0.01 --set data.target_noise=0.5
check "the noise is part of the data (another σ, another run)" sh -c '! cmp -s ae/params.npy ae2/params.npy'
finish
